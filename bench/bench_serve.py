"""Benchmark: `kg serve` against Oxigraph's server (`oxigraph serve-read-only`) under the same load, in one run.

Both servers hold the same data: the built dataset (asserted + inferred named graphs) exported as N-Quads and
loaded into an Oxigraph store, served with `--union-default-graph` (kg serve's default graph is the union of
its named graphs too). N concurrent clients (default 50) send, for a fixed time each, the catalogue queries
that need no value (their defaults bound by a VALUES clause) and no SERVICE, in turn, as SPARQL JSON over POST;
every non-200 answer or
transport error counts as an error. Before the load, each query's answer is compared between the servers
(row counts), so the two do the same work. Printed: requests, throughput, p50 and p99 latency, errors, and
kg serve's figures as ratios of Oxigraph's. kg serve runs twice: without its answer cache (every request
evaluated by rdflib) and with it (the default: a repeated query is answered from memory). Nothing here asserts
a time.

Run: python bench/bench_serve.py [--clients 50] [--seconds 10]   (needs the bench extra: pip install -e '.[bench]')
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.build import load_built  # noqa: E402
from kg.load import Project  # noqa: E402
from kg.errors import QueryError  # noqa: E402
from kg.query import bind_params, load_catalogue  # noqa: E402
from kg.sparql import check_offline, prepare  # noqa: E402
from kg.store import bind_values  # noqa: E402


@dataclass
class Load:
    """What one server did under the load."""

    name: str
    latencies: list[float]
    errors: int
    seconds: float

    def row(self) -> list[str]:
        ordered = sorted(self.latencies) or [float("nan")]
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return [self.name, str(len(self.latencies)), f"{self.throughput:.1f}",
                f"{statistics.median(ordered) * 1000:.1f}", f"{p99 * 1000:.1f}", str(self.errors)]

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_kg(cache: Path, *options: str) -> tuple[subprocess.Popen, str]:
    kg = Path(sys.executable).with_name("kg")
    process = subprocess.Popen([str(kg), "serve", "--port", "0", *options], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env={**os.environ, "KG_CACHE_DIR": str(cache)}, cwd=ROOT)
    match = re.search(r"listening on (http://\S+?)/? ", process.stdout.readline().decode())
    if match is None:
        process.kill()
        raise SystemExit("kg serve did not start")
    return process, f"{match.group(1)}/sparql"


def start_oxigraph(store: Path, data: Path) -> tuple[subprocess.Popen, str]:
    oxigraph = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    if oxigraph is None:
        raise SystemExit("the oxigraph command is missing: pip install -e '.[bench]'")
    subprocess.run([oxigraph, "load", "--location", str(store), "--file", str(data)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = free_port()
    process = subprocess.Popen([oxigraph, "serve-read-only", "--location", str(store), "--bind", f"127.0.0.1:{port}",
                                "--union-default-graph"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/query"
    for _ in range(100):
        try:
            httpx.get(url, params={"query": "ASK {}"}, timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("oxigraph did not start")


def answer_size(url: str, query: str) -> int:
    """Rows of a SELECT (or the boolean of an ASK, as 0/1) answered by the server at `url`."""
    response = httpx.post(url, data={"query": query}, headers={"Accept": "application/sparql-results+json"},
                          timeout=60)
    response.raise_for_status()
    document = response.json()
    return int(document["boolean"]) if "boolean" in document else len(document["results"]["bindings"])


async def load(name: str, url: str, queries: list[str], clients: int, seconds: float) -> Load:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        deadline = time.perf_counter() + seconds

        async def one_client(offset: int) -> None:
            nonlocal errors
            turn = offset
            while time.perf_counter() < deadline:
                query = queries[turn % len(queries)]
                turn += 1
                started = time.perf_counter()
                try:
                    response = await client.post(url, data={"query": query},
                                                 headers={"Accept": "application/sparql-results+json"})
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(one_client(index) for index in range(clients)))
        elapsed = time.perf_counter() - began
    return Load(name, latencies, errors, elapsed)


def served(text: str) -> bool:
    """Whether a server answers `text`: not a federated query (kg serve refuses SERVICE, as Oxigraph would fetch)."""
    try:
        check_offline(prepare(text), (), "bench")
    except QueryError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    options = parser.parse_args()

    project = Project()
    built = load_built(project)
    # each query that needs no value, with its defaults bound as a VALUES clause (as the /query page writes them)
    queries = [bind_values(query.text, bind_params(built.dataset, query, {}))
               for query in load_catalogue(project.queries).values()
               if not any(param.required for param in query.params) and served(query.text)]
    with tempfile.TemporaryDirectory(prefix="kg-bench-serve-") as scratch:
        directory = Path(scratch)
        data = directory / "dataset.nq"
        data.write_bytes(built.dataset.serialize(format="nquads", encoding="utf-8"))
        servers = {
            "kg serve": start_kg(directory / "cache", "--cache", "0"),
            "kg serve, cache": start_kg(directory / "cache"),
            "oxigraph": start_oxigraph(directory / "store", data),
        }
        try:
            urls = {name: url for name, (_, url) in servers.items()}
            mismatched = [index for index, query in enumerate(queries)
                          if answer_size(urls["kg serve"], query) != answer_size(urls["oxigraph"], query)]
            results = [asyncio.run(load(name, url, queries, options.clients, options.seconds))
                       for name, url in urls.items()]
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait(timeout=10)
    print(f"{len(queries)} catalogue queries, {options.clients} clients, {options.seconds:g} s per server; "
          f"answers differing in size between the servers: {len(mismatched)}")
    header = ["server", "requests", "req/s", "p50 ms", "p99 ms", "errors"]
    table = [header] + [result.row() for result in results]
    widths = [max(len(row[column]) for row in table) for column in range(len(header))]
    for row in table:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths)))
    theirs = results[-1]
    for ours in results[:-1]:
        print(f"{ours.name} / oxigraph: throughput {ours.throughput / theirs.throughput:.2f}x, "
              f"p50 latency {statistics.median(ours.latencies) / statistics.median(theirs.latencies):.1f}x, "
              f"p99 latency {ours.percentile(0.99) / theirs.percentile(0.99):.1f}x")


if __name__ == "__main__":
    main()
