"""Benchmark: cold `kg query` and `kg build` against the naive pipeline, measured in the same run.

The naive pipeline is what a one-shot script does for every question: parse the inputs, compute the OWL RL
closure with owlrl, validate with pyshacl, run one query, all in a fresh process. `kg query` instead reads
the cached build. Every figure is the median wall time of whole processes (start-up included) and is printed
as a ratio against the naive pipeline; nothing here asserts a time.

Run: python bench/bench_pipeline.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# One process doing everything from scratch with the libraries' stock calls, as a script without the cache
# would: the same inputs and the same validation (asserted data, ontology as ont_graph, no inference).
NAIVE = """
import rdflib, owlrl, pyshacl
from kg.namespaces import ID
root = {root!r}
ontology = rdflib.Graph().parse(root + "/ontology/defence-kg.ttl")
data = rdflib.Graph().parse(root + "/data/statements.ttl")
text = open(root + "/data/sources/canada-us-defence-factsheet.txt", encoding="utf-8").read()
data.add((ID.factsheet, rdflib.URIRef("https://schema.org/text"), rdflib.Literal(text)))
shapes = rdflib.Graph().parse(root + "/ontology/shapes.ttl")
conforms, _, _ = pyshacl.validate(data, shacl_graph=shapes, ont_graph=ontology, inference="none")
data += ontology
owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(data)
query = open(root + "/queries/operations-with.rq", encoding="utf-8").read()
rows = list(data.query(query, initBindings={{"partner": ID.UnitedStates}}))
print(conforms, len(rows))
"""


def timed(command: list[str], env: dict[str, str]) -> float:
    """Wall time of one process, which must succeed."""
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_of(runs: int, command: list[str], env: dict[str, str], before=lambda: None) -> float:
    """Median wall time over `runs` processes; `before` runs (untimed) ahead of each."""
    samples = []
    for _ in range(runs):
        before()
        samples.append(timed(command, env))
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="processes per measurement (median reported)")
    args = parser.parse_args()

    kg = shutil.which("kg", path=str(Path(sys.executable).parent)) or shutil.which("kg")
    if kg is None:
        sys.exit("bench: the `kg` command is not installed (pip install -e .)")
    with tempfile.TemporaryDirectory(prefix="kg-bench-") as scratch:
        cache = Path(scratch) / "cache"
        env = {**os.environ, "KG_CACHE_DIR": str(cache)}
        build_cmd = [kg, "build", "--out", str(Path(scratch) / "dist")]
        query_cmd = [kg, "query", "operations-with", "--format", "json"]

        naive = median_of(args.runs, [sys.executable, "-c", NAIVE.format(root=str(ROOT))], env)
        build = median_of(args.runs, build_cmd, env, before=lambda: shutil.rmtree(cache, ignore_errors=True))
        subprocess.run(build_cmd, env=env, check=True, capture_output=True)  # warm the cache once
        query = median_of(args.runs, query_cmd, env)

    print(f"runs per figure: {args.runs} (median wall time of whole processes, start-up included)")
    print(f"naive pipeline (parse + pyshacl + owlrl + 1 query): {naive:6.2f} s")
    print(f"kg build (no cache, reason || validate, all exports): {build:6.2f} s   = {build / naive:.2f} x naive")
    print(f"kg query operations-with (cold process, cached build): {query:6.2f} s   = {query / naive:.2f} x naive")
    print(f"ratio: cold kg query is {naive / query:.1f}x faster than the naive pipeline; "
          f"kg build takes {build / naive:.2f}x its time")


if __name__ == "__main__":
    main()
