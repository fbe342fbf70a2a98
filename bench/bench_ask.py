"""Benchmark: `kg ask` against running the chosen catalogue query directly with kg.query, measured in the same run.

Warm: in one process, after one warm-up answer per question, the median time of `kg.ask.answer` (recognise
entities, score every catalogue query, run the best one, collect the quotes) against the median time of
`kg.query.run_query` + `kg.query.why` with the same query and parameters (the peer: the same answer and quotes,
without the language layer). Cold: whole processes, `kg ask QUESTION` against `kg query NAME --why`, over a
warm build cache. Figures are printed with their ratios; nothing here asserts a time.

Run: python bench/bench_ask.py [--runs 20] [--processes 5]
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

QUESTIONS = [
    "Which operations does Canada conduct with the US?",
    "Quelles opérations le Canada mène-t-il avec les États-Unis ?",
    "What does Canada do in Iraq?",
    "Quels engagements financiers le Canada a-t-il pris depuis 2020 ?",
    "Which activities use tanks?",
    "Does Canada have nuclear weapons?",
]


def medians_ms(works: list, runs: int) -> list[float]:
    """Median wall time of each of `works`, run in turns so that all of them see the same machine load."""
    samples: list[list[float]] = [[] for _ in works]
    for _ in range(runs):
        for work, times in zip(works, samples):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
    return [statistics.median(times) * 1000 for times in samples]


def warm(runs: int) -> None:
    from kg.ask import answer
    from kg.build import load_built
    from kg.query import load_catalogue, run_query, why
    from kg.namespaces import PROJECT_ROOT

    built = load_built()
    catalogue = load_catalogue(PROJECT_ROOT / "queries")
    print(f"warm, in-process (median of {runs} after one warm-up each):")
    print(f"  {'question':66} {'ask':>8} {'query':>8} {'ratio':>6}")
    for question in QUESTIONS:
        first = answer(built, question)  # warm-up: builds the index once, prepares rdflib's parser
        if not first.query:  # nothing is run: the answer is an honest failure
            (ask_ms,) = medians_ms([lambda: answer(built, question)], runs)
            print(f"  {question[:66]:66} {ask_ms:6.1f}ms {'(none)':>8} {'':>6}  [{first.status}]")
            continue
        query = catalogue[first.query]

        def direct() -> None:
            why(built.dataset, run_query(built.dataset, query, first.params))

        direct()
        ask_ms, query_ms = medians_ms([lambda: answer(built, question), direct], runs)
        print(f"  {question[:66]:66} {ask_ms:6.1f}ms {query_ms:6.1f}ms {ask_ms / query_ms:5.2f}x  [{first.status}]")


def cold(processes: int) -> None:
    kg = shutil.which("kg", path=str(Path(sys.executable).parent)) or shutil.which("kg")
    if kg is None:
        sys.exit("bench: the `kg` command is not installed (pip install -e .)")
    with tempfile.TemporaryDirectory(prefix="kg-bench-") as scratch:
        env = {**os.environ, "KG_CACHE_DIR": scratch}
        subprocess.run([kg, "validate"], env=env, check=True, capture_output=True)  # builds the cache once

        def process(*args: str) -> float:
            start = time.perf_counter()
            subprocess.run([kg, *args], env=env, check=False, capture_output=True)
            return time.perf_counter() - start

        ask_times, query_times = [], []
        for _ in range(processes):  # in turns, so that both see the same machine load
            ask_times.append(process("ask", QUESTIONS[0]))
            query_times.append(process("query", "operations-with", "--why", "--format", "json"))
        ask, query = statistics.median(ask_times) * 1000, statistics.median(query_times) * 1000
    print(f"cold, whole processes over a warm build cache (median of {processes}):")
    print(f"  kg ask {QUESTIONS[0]!r}: {ask:.0f} ms")
    print(f"  kg query operations-with --why --format json: {query:.0f} ms")
    print(f"  kg ask takes {ask / query:.2f}x the time of kg query")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="in-process repetitions per question (median)")
    parser.add_argument("--processes", type=int, default=5, help="processes per cold figure (median)")
    args = parser.parse_args()
    warm(args.runs)
    cold(args.processes)


if __name__ == "__main__":
    main()
