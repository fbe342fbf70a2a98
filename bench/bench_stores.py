"""Benchmark: the same queries on each store, measured in the same run, memory (rdflib) as the peer.

Two figures per store: a cold `kg query` (a whole process, start-up included: what a user waits for) and the
whole catalogue run in one process (what a server or a script pays per question). The oxigraph store is built
into a temporary directory first; the SPARQL store is measured when $KG_TEST_SPARQL_URL names a server (with
the KG_SPARQL_* variables that `scripts/virtuoso run` sets), which is then loaded with the project. Medians;
nothing here asserts a time.

Run: python bench/bench_stores.py [--runs 7]   (or: scripts/virtuoso run .venv/bin/python bench/bench_stores.py)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kg.build import cache_key, load_built
from kg.load import Project
from kg.query import load_catalogue, run_query
from kg.store import create_store, open_store

COLD = ("query", "operations-with", "--param", "partner=NATO", "--format", "csv")
# the catalogue's required parameters (every other query runs with its defaults)
PARAMS = {"find-entity": {"name": "NATO"}, "provenance": {"fact": "id:NORADFounding"}}


def cold(spec: str, runs: int) -> float:
    """Median wall time of a whole `kg --store SPEC query ...` process."""
    command = [sys.executable, "-c", "from kg.cli import main; main()", "--store", spec, *COLD]
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def catalogue(spec: str, runs: int) -> float:
    """Median time of the whole catalogue in one process (the store opened, and queries parsed, beforehand)."""
    project = Project()
    store = open_store(spec, lambda: load_built(project).dataset, lambda: cache_key(project))
    queries = load_catalogue(Project().queries).values()
    for query in queries:  # warm: the parse cache, and the first request's connection
        run_query(store, query, PARAMS.get(query.name, {}), allow_service=True)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        for query in queries:  # the federated one as `kg query --allow-service` runs it: from the cache, offline
            run_query(store, query, PARAMS.get(query.name, {}), allow_service=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    built = load_built()
    with tempfile.TemporaryDirectory(prefix="kg-bench-") as directory:
        specs = ["memory", f"oxigraph:{Path(directory) / 'store'}"]
        if os.environ.get("KG_TEST_SPARQL_URL"):
            specs.append(f"sparql:{os.environ['KG_TEST_SPARQL_URL']}")
        for spec in specs[1:]:
            store = create_store(spec)
            store.load(built.dataset)
            store.set_build_key(cache_key(Project()))
            del store  # an oxigraph writer holds the directory's lock
        figures = {spec: (cold(spec, runs), catalogue(spec, runs)) for spec in specs}
    peer_cold, peer_catalogue = figures["memory"]
    count = len(load_catalogue(Project().queries))
    print(f"{'store':<10} {'cold kg query':>14} {'ratio':>6} {f'catalogue ({count} queries)':>24} {'ratio':>6}")
    for spec, (cold_time, catalogue_time) in figures.items():
        print(f"{spec.split(':')[0]:<10} {cold_time * 1000:>11.0f} ms {cold_time / peer_cold:>5.2f}x "
              f"{catalogue_time * 1000:>21.0f} ms {catalogue_time / peer_catalogue:>5.2f}x")


if __name__ == "__main__":
    main()
