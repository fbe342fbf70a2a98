"""Scale benchmark: load, reason, validate and the whole catalogue at growing sizes, against peers in the same run.

For each size, bench/generate.py writes a synthetic project (the project's data plus generated documents),
then every step runs in its own process, so that its peak memory (ru_maxrss) is its own:

- oxigraph in memory (`kg --store oxigraph build --reasoner rules --validator sparql`, the fast path): one
  process builds as kg does (kg.instore: load the files, then reason with kg.rules' compiled evaluation while
  a second thread validates with the shapes as SPARQL and the quality checks) and answers every catalogue
  query (kg.query.run_query, as `kg query` does: rdflib parses each query first); its peak memory is the
  whole pipeline's, its end to end the build's wall time and the catalogue. The same process then reasons
  again with the rules as SPARQL updates (the peer of the compiled evaluation; what a server store gets);
- oxigraph on disk (`--store oxigraph:PATH`, persistent): the same build, which then writes the built store to
  disk in one bulk write (`persist`), in a process of its own; the catalogue in another, reading that store;
  then `kg serve`'s web pages on that store (an entity page and the home page, through Starlette's test
  client), the data read through `Store.view()` as kg serve reads it (in place), and, as the peer, through a
  copy of the data (`Store.dataset()`, as kg serve read it before; up to --rdflib-cap triples); then `kg ask`
  on that store (`kg --store oxigraph:PATH ask`: the data read through `Store.view()`, the queries and quotes on
  the store's engine), its first answer (which makes the entity index and the vocabulary) and the warm answers
  to ASK_QUESTIONS, each against the peer `query-why`: the chosen query and the quotes of all its rows, as
  `kg query NAME --why` gives them; and the `kg ask` command twice, whole processes with a new build cache: the
  first makes the index and saves it there, the second (against the first) reads it;
- a SPARQL server (`--virtuoso`: `kg --store sparql:URL build --reasoner rules --validator sparql`): the same
  in-store build on a fresh private Virtuoso for each size (`scripts/virtuoso run`), validation first and then
  the rules as SPARQL updates, then its catalogue, up to --sparql-cap triples; its peak memory is the worker's
  (the server's own is not counted);
- rdflib (the reference, the memory store): rdflib parses, owlrl reasons, pyshacl validates, rdflib answers the
  catalogue. owlrl and pyshacl only run up to --reference-cap triples (they grow as size^1.35 and worse), and
  every step stops at --timeout;
- Jena 4.5 (Debian's libapache-jena-java): `riot --validate` parses the statements, `shacl validate` checks the
  same data as the others (ontology + statements + source texts, dumped from Oxigraph as N-Triples).

Times are the step's own work, measured inside the process (imports and the untimed set-up excluded), except
Jena's, which are whole processes (JVM start-up, about 1 s, included). Catalogue figures are the median of
--runs runs of each query. Figures are printed as ratios against the peers measured in the same run, with the
growth exponent of each step (the slope of log time against log triples between consecutive sizes). The
markdown table goes to --out.

Debian's Jena needs two fixes, done in a temporary directory, never in the system: its xerces classes were
renamed to the package `xerces.*` but look for their message bundles (`xerces/impl/msg/*.properties`,
`xerces/impl/xpath/regex/message.properties`) where the jar keeps them under `org/apache/jena/ext/xerces/`, so
the bundles are copied to a `shim` directory put first on the class path; and /usr/share/java holds both
log4j-over-slf4j and slf4j-log4j12, which refuse to load together, so the class path lists every jar but those.

Run: python bench/bench_scale.py [--sizes 20000 200000 2000000] [--runs 3] [--virtuoso] [--out dist/bench-scale.md]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from kg.export import FORMATS

ROOT = Path(__file__).resolve().parent.parent
JAVA_DIR = Path("/usr/share/java")
JENA_JAR = JAVA_DIR / "jena-core.jar"
CLASHING_JARS = ("log4j-over-slf4j", "slf4j-log4j12")


# ---------------------------------------------------------------------------------------------------------
# Workers: one step in this process, its result printed as JSON
# ---------------------------------------------------------------------------------------------------------


# Values for the parameters that have no default (the README's examples).
REQUIRED = {"name": "US", "fact": "id:NORADFounding"}
SPARQL_URL_ENV = "KG_TEST_SPARQL_URL"
TARGET_QUERY_SECONDS = 0.1  # issue 5: every catalogue query ≤ 100 ms median (end to end ≤ 60 s)


def _catalogue_times(store: object, project: object, runs: int) -> dict[str, float]:
    """Median seconds of each catalogue query (default parameters, else REQUIRED) on `store`, as `kg query
    --allow-service` runs them (the federated one answers from the enrichment cache, which the generated project
    lacks: it answers nothing)."""
    from kg.query import load_catalogue, run_query

    medians = {}
    for name, query in load_catalogue(project.queries).items():
        given = {p.name: REQUIRED[p.name] for p in query.params if p.required}
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            run_query(store, query, given, allow_service=True)  # SERVICE answered from the (absent) cache
            samples.append(time.perf_counter() - start)
        medians[name] = statistics.median(samples)
    return medians


def _engine_alone(store: object, project: object, names: list[str], runs: int) -> dict[str, dict]:
    """For the named queries, Oxigraph's own time: the median seconds to evaluate the query as kg sends it (its
    parameters bound, on the union of the dataset's graphs) and iterate its solutions, with no rdflib parse and
    no conversion of terms; with the rows. The floor under `kg query` on this store."""
    from kg.query import bind_params, load_catalogue
    from kg.store import bind_values, with_prefixes

    catalogue = load_catalogue(project.queries)
    floors = {}
    for name in names:
        query = catalogue[name]
        given = {p.name: REQUIRED[p.name] for p in query.params if p.required}
        text = with_prefixes(bind_values(query.text, bind_params(store, query, given)))
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            rows = sum(1 for _ in store._store.query(text, use_default_graph_as_union=True))  # noqa: SLF001
            samples.append(time.perf_counter() - start)
        floors[name] = {"seconds": statistics.median(samples), "rows": rows}
    return floors


def _catalogue(store: object, project: object, runs: int, oxigraph: bool) -> dict:
    """The catalogue's medians and their sum; on Oxigraph, the engine's own time for each query over target."""
    queries = _catalogue_times(store, project, runs)
    over = [name for name, median in queries.items() if median > TARGET_QUERY_SECONDS]
    engine = _engine_alone(store, project, over, runs) if oxigraph else {}
    return {"queries": queries, "engine": engine, "seconds": sum(queries.values())}


# (the generated projects hold the project's own data too)
# the home page first: its first request waits for the entity index kg serve computes at start-up, and the pages
# after it are measured with the server settled
PAGES = {"home": "/", "entity": "/page/NORAD", "document": "/document", "group": "/entities?group=kg:Activity"}


def _pages(store: object, project: object, runs: int, read: str) -> dict:
    """kg serve's pages on `store`, its data read as `read` says ("view": Store.view(); "copy": Store.dataset()):
    the seconds until the data is ready at start-up, and the median seconds of each of PAGES and of its first
    request (the first of the home page computes the entity index the others reuse)."""
    from starlette.testclient import TestClient

    from kg.build import Built
    from kg.serve import Settings, create_app

    start = time.perf_counter()
    dataset = store.view() if read == "view" else store.dataset()
    parts = {f"pages-{read}-ready": {"seconds": time.perf_counter() - start}}
    app = create_app(Built(dataset, report=None), Settings(project=project, workers=1, max_workers=1), lambda: store)
    with TestClient(app) as client:
        for name, path in PAGES.items():
            samples = []
            for _ in range(runs):
                start = time.perf_counter()
                response = client.get(path)
                samples.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise SystemExit(f"{path} answered {response.status_code}")
            parts[f"pages-{read}-{name}"] = {"seconds": statistics.median(samples), "bytes": len(response.content)}
            parts[f"pages-{read}-{name}-first"] = {"seconds": samples[0]}  # (the index is computed by the first)
    return {"parts": parts}


# kg ask's questions: two listings of the fact sheet (one in French) and a question about a name
ASK_QUESTIONS = {
    "countries": "Which countries does the fact sheet mention?",
    "operations-fr": "Quelles opérations le Canada mène-t-il avec les États-Unis ?",
    "iraq": "What does Canada do in Iraq?",
}


def _ask(store: object, project: object, runs: int) -> dict:
    """kg ask on `store` as `kg --store ... ask` reads it: the seconds of the first answer (it makes the Asker), then
    the median seconds of each of ASK_QUESTIONS answered warm, and of its peer: the query the answer ran, with
    the quotes of all its rows (kg.query.run_query and kg.query.why, as `kg query NAME --why`)."""
    from kg.ask import answer
    from kg.build import Built
    from kg.query import load_catalogue, run_query, why

    # the commands first, while this process is small: Linux counts in a child's peak memory the image it replaced,
    # this process's as it was at the fork
    parts = _ask_commands(store, project)
    built, catalogue = Built(store.view(), report=None), load_catalogue(project.queries)
    start = time.perf_counter()
    answer(built, next(iter(ASK_QUESTIONS.values())), None, project.queries)
    parts["ask-first"] = {"seconds": time.perf_counter() - start}
    for name, question in ASK_QUESTIONS.items():
        samples, peer = [], []
        for _ in range(runs):
            start = time.perf_counter()
            got = answer(built, question, None, project.queries)
            samples.append(time.perf_counter() - start)
            query = catalogue[got.query]
            start = time.perf_counter()
            why(store, run_query(store, query, got.params), query, got.params)
            peer.append(time.perf_counter() - start)
        parts[f"ask-{name}"] = {"seconds": statistics.median(samples), "rows": len(got.terms)}
        parts[f"query-why-{name}"] = {"seconds": statistics.median(peer)}
    return {"parts": parts}


def _ask_commands(store: object, project: object) -> dict:
    """`kg --store ... ask` as a user runs it, whole processes (start-up and imports included), with a new build
    cache: "ask-command-first" makes the Asker and saves it in the cache; "ask-command-saved", the same command
    again, reads it from there. Each with its own peak memory (the command's, not this worker's)."""
    question = next(iter(ASK_QUESTIONS.values()))
    command = [str(Path(sys.executable).with_name("kg")), "--root", str(project.root), "--store", store.spec, "ask",
               question]
    parts = {}
    with tempfile.TemporaryDirectory() as cache:
        for name in ("ask-command-first", "ask-command-saved"):
            start = time.perf_counter()
            process = subprocess.Popen(command, env={**os.environ, "KG_CACHE_DIR": cache}, stdout=subprocess.DEVNULL)
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            if process.returncode != 0:
                raise SystemExit(f"{' '.join(command)} exited with {process.returncode}")
            parts[name] = {"seconds": time.perf_counter() - start, "mb": usage.ru_maxrss / 1024}
    return parts


def _export(store: object, project: object, step: str) -> dict:
    """`kg export --inferred` of the store on disk in one format: as kg does it ("export-FMT"), or from a copy of
    the dataset in rdflib ("export-FMT-copy", how kg exported before Oxigraph wrote the format itself)."""
    from kg.export import serialize, serialize_store

    fmt = step.removeprefix("export-").removesuffix("-copy")
    start = time.perf_counter()
    if step.endswith("-copy"):
        data = serialize(store.dataset(), fmt, project.context, inferred=True, stable=False)
    else:
        data = serialize_store(store, fmt, project.context, inferred=True)
    return {"seconds": time.perf_counter() - start, "bytes": len(data)}


def _asserted(store: object) -> int:
    from kg.shacl_sparql import DATA_GRAPHS

    graphs = " ".join(f"<{graph}>" for graph in DATA_GRAPHS)
    count = f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?s ?p ?o }} }}"
    return int(next(iter(store.query(count)))[0])


def _reason_with_sparql_updates(store: object) -> dict:
    """The compiled evaluation's peer: the same rules, their instance strata as SPARQL updates."""
    from kg.rules import inferred_count, materialise

    start = time.perf_counter()
    rounds = materialise(store, engine="sparql")
    return {"rounds": rounds, "inferred": inferred_count(store), "seconds": time.perf_counter() - start}


def worker(step: str, project_root: Path, store_path: Path, runs: int) -> dict:
    """Run one step and return its measurements (seconds of work, plus what the step reports)."""
    from kg.load import Project
    from kg.namespaces import INFERRED_GRAPH
    from kg.shacl_sparql import DATA_GRAPHS
    from kg.store import OxigraphStore, create_store

    project = Project(project_root)
    if step in ("memory", "disk"):  # the in-store build as `kg --store oxigraph[:PATH] build` runs it
        from kg.instore import build_in_store

        prefix = "memory" if step == "memory" else "oxigraph"
        store = create_store("oxigraph" if step == "memory" else f"oxigraph:{store_path}")
        took = build_in_store(store, project).seconds
        parts = {f"{prefix}-{name}": {"seconds": seconds} for name, seconds in took.items()}
        parts[f"{prefix}-load"]["triples"] = _asserted(store)
        if step == "disk":  # the data the peers read, then the catalogue in a process of its own
            from kg.build import cache_key

            store.set_build_key(cache_key(project))  # as kg build records it, for the `kg ask` commands
            _dump(store, DATA_GRAPHS, store_path.parent / "asserted.nt")
            _dump(store, (INFERRED_GRAPH,), store_path.parent / "inferred.nt")
            return {"parts": parts}
        parts["memory-catalogue"] = _catalogue(store, project, runs, oxigraph=True)
        parts["memory-reason-sparql"] = _reason_with_sparql_updates(store)
        return {"parts": parts}
    if step == "sparql":  # the in-store build on the private Virtuoso, as `kg --store sparql:URL build` runs it
        from kg.instore import build_in_store

        store = create_store(f"sparql:{os.environ[SPARQL_URL_ENV]}")
        parts = {f"sparql-{name}": {"seconds": seconds} for name, seconds in build_in_store(store, project).seconds.items()}
        parts["sparql-load"]["triples"] = _asserted(store)
        parts["sparql-catalogue"] = _catalogue(store, project, runs, oxigraph=False)
        return {"parts": parts}
    if step == "oxigraph-catalogue":
        return _catalogue(OxigraphStore(store_path, create=False), project, runs, oxigraph=True)
    if step in ("pages-view", "pages-copy"):
        return _pages(OxigraphStore(store_path, create=False), project, runs, step.removeprefix("pages-"))
    if step == "ask":
        return _ask(OxigraphStore(store_path, create=False), project, runs)
    if step.startswith("export-"):
        return _export(OxigraphStore(store_path, create=False), project, step)
    # rdflib steps: parse first (timed only for rdflib-load)
    from kg.build import load_dataset

    start = time.perf_counter()
    dataset = load_dataset(project)
    parsed = time.perf_counter()
    result: dict = {}
    if step == "rdflib-load":
        seconds = parsed - start
    elif step == "rdflib-reason":
        from kg.reason import infer

        result["inferred"] = len(infer(dataset))
        seconds = time.perf_counter() - parsed
    elif step == "rdflib-validate":
        from kg.load import load_shapes
        from kg.validate import validate

        result["findings"] = len(validate(dataset, load_shapes(project), project.qc).findings)
        seconds = time.perf_counter() - parsed
    elif step == "rdflib-catalogue":
        from kg.store import MemoryStore

        # the catalogue reads asserted + inferred: the inferred graph Oxigraph's rules made (owlrl's, as
        # test_rules proves), since owlrl itself cannot finish the larger sizes
        dataset.graph(INFERRED_GRAPH).parse(store_path.parent / "inferred.nt", format="nt")
        result = _catalogue(MemoryStore(dataset), project, runs, oxigraph=False)
        seconds = result["seconds"]
    else:
        raise SystemExit(f"unknown step {step}")
    result["seconds"] = seconds
    return result


def _dump(store: object, graphs: tuple, target: Path) -> None:
    """Named graphs of an Oxigraph store as one N-Triples file (for Jena, and for rdflib's catalogue)."""
    import pyoxigraph as ox

    with target.open("wb") as out:
        for graph in graphs:
            store._store.dump(out, format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))  # noqa: SLF001


# ---------------------------------------------------------------------------------------------------------
# The run: every step in its own process, peak memory from wait4
# ---------------------------------------------------------------------------------------------------------


def measured(command: list[str], timeout: float) -> tuple[dict, float, float]:
    """(the JSON the process printed, or {"failed": why} when it failed or timed out, wall seconds, peak RSS in
    MB); why is the last line the process wrote to stderr (its error)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as output, tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdout=output, stderr=errors)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                _, status, usage = os.wait4(process.pid, 0)
                return {"failed": f"> {timeout:.0f} s"}, time.perf_counter() - start, usage.ru_maxrss / 1024
            time.sleep(0.02)
        wall = time.perf_counter() - start
        output.seek(0)
        errors.seek(0)
        text, complaint = output.read().decode(), errors.read().decode("utf-8", "replace").strip()
    lines = [line for line in text.splitlines() if line.startswith("{")]
    if os.waitstatus_to_exitcode(status) == 0 and lines:
        return json.loads(lines[-1]), wall, usage.ru_maxrss / 1024
    return {"failed": "failed: " + (complaint.splitlines() or ["no output"])[-1][:200]}, wall, usage.ru_maxrss / 1024


def jena_classpath(shim: Path) -> str:
    """The class path for Debian's Jena, with the xerces message bundles copied into `shim` (see the docstring)."""
    prefix = "org/apache/jena/ext/xerces/"
    with zipfile.ZipFile(JENA_JAR) as jar:
        for name in jar.namelist():
            if name.startswith(prefix) and name.endswith(".properties"):
                target = shim / "xerces" / name[len(prefix):]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(jar.read(name))
    jars = sorted(str(p) for p in JAVA_DIR.glob("*.jar") if not p.name.startswith(CLASHING_JARS))
    return os.pathsep.join([str(shim), *jars])


def _rows_of(step: str) -> list[str]:
    """The rows of the report a step that reports several parts fills: a pipeline's steps, the pages' figures."""
    if step in PIPELINE_PREFIX:
        return [f"{PIPELINE_PREFIX[step]}-{part}" for part in PIPELINE_PARTS]
    if step.startswith("pages-"):
        return [f"{step}-{suffix}" for _, suffix in PAGE_ROWS]
    return []


def run_size(size: int, work: Path, args: argparse.Namespace, classpath: str | None) -> dict:
    """Every step at one size: {step: {"seconds", "wall", "mb", ...}}."""
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import generate

    project = work / f"project-{size}"
    generate(project, size, args.seed)
    store = work / f"store-{size}"
    me = [sys.executable, str(Path(__file__).resolve()), "--worker"]
    results: dict[str, dict] = {}

    def step(name: str, limit: float | None = None) -> None:
        if limit is not None and size > limit:
            skipped = {"skipped": f"above {limit:,.0f} triples"}
            results.update({part: skipped for part in (name, *_rows_of(name))})  # each of its rows says so
            return
        command = [*me, name, "--project", str(project), "--store", str(store), "--runs", str(args.runs)]
        if name == "sparql":  # a fresh Virtuoso for each size (one reloaded with the previous size slows down)
            command = [str(ROOT / "scripts" / "virtuoso"), "run", *command]
        data, wall, mb = measured(command, args.timeout)
        parts = data.get("parts") or {name: data}  # a pipeline reports its steps
        if "failed" in data:  # each of its rows says so
            parts.update({part: data for part in _rows_of(name)})
        for part, result in parts.items():
            results[part] = {"wall": wall, "mb": mb, **result}  # (a part may measure its own process's memory)
            print(f"  {size:>9,} {part:<20} {result.get('seconds', float('nan')):8.2f} s {results[part]['mb']:8.0f} MB",
                  flush=True)

    for name in ("memory", "disk", "oxigraph-catalogue", "pages-view", "ask"):
        step(name)
    step("pages-copy", args.rdflib_cap)
    for fmt in EXPORT_FORMATS:
        step(f"export-{fmt}")
        step(f"export-{fmt}-copy", args.rdflib_cap)
    if args.virtuoso:
        step("sparql", args.sparql_cap)
    step("rdflib-load", args.rdflib_cap)
    step("rdflib-reason", args.reference_cap)
    step("rdflib-validate", args.reference_cap)
    step("rdflib-catalogue", args.rdflib_cap)
    if classpath:
        java = ["java", "-Xmx4g", "-cp", classpath]
        for name, command in (
            ("jena-parse", [*java, "riotcmd.riot", "--validate", str(project / "data" / "statements.ttl")]),
            ("jena-shacl", [*java, "shacl.shacl", "validate", "--shapes", str(project / "ontology" / "shapes.ttl"),
                            "--data", str(work / "asserted.nt")]),
        ):
            start = time.perf_counter()
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - start
            ok = os.waitstatus_to_exitcode(status) == 0
            results[name] = {"seconds": wall, "wall": wall, "mb": usage.ru_maxrss / 1024} if ok else {"failed": "failed"}
            print(f"  {size:>9,} {name:<20} {wall:8.2f} s {usage.ru_maxrss / 1024:8.0f} MB", flush=True)
    shutil.rmtree(project, ignore_errors=True)
    shutil.rmtree(store, ignore_errors=True)
    results["triples"] = results["memory-load"].get("triples", size)
    return results


# ---------------------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------------------

PIPELINES = (  # (heading, prefix of its steps' names): the rows of each are load, reason, validate, catalogue, end to end
    ("Oxigraph in memory (`--store oxigraph`)", "memory"),
    ("Oxigraph on disk (`--store oxigraph:PATH`)", "oxigraph"),
    ("SPARQL server (`--store sparql:URL`)", "sparql"),
)
PIPELINE_PREFIX = {"memory": "memory", "disk": "oxigraph", "sparql": "sparql"}  # worker step -> its steps' prefix
PIPELINE_PARTS = ("load", "reason", "validate", "catalogue")
STEPS = (  # (label, step suffix, [(peer label, peer step)])
    ("load", "load", [("rdflib", "rdflib-load"), ("Jena riot", "jena-parse")]),
    ("reason", "reason", [("SPARQL rules", "memory-reason-sparql"), ("owlrl", "rdflib-reason")]),
    ("validate", "validate", [("pyshacl", "rdflib-validate"), ("Jena SHACL", "jena-shacl")]),
    ("persist (write the built store to disk)", "persist", []),
    ("catalogue (sum of medians)", "catalogue", [("rdflib", "rdflib-catalogue")]),
)

PAGE_ROWS = (("data ready at start-up", "ready"), (f"entity page {PAGES['entity']} (median)", "entity"),
             ("home page, first request (computes the entity index)", "home-first"), ("home page (median)", "home"),
             (f"document page {PAGES['document']} (median)", "document"),
             (f"a group's entities {PAGES['group']} (median)", "group"))
EXPORT_FORMATS = tuple(FORMATS)
SIDE_BY_SIDE = {"reason": " (beside validation)", "validate": " (beside reasoning)"}  # on Oxigraph
SERIAL = {"reason": " (after validation)", "validate": " (first)"}  # on a server (kg.instore)


def seconds(results: dict, step: str) -> float | None:
    return results.get(step, {}).get("seconds")


def cell(results: dict, ours: str, peers: list[tuple[str, str]]) -> str:
    mine = seconds(results, ours)
    if mine is None:
        info = results.get(ours, {})
        return info.get("skipped") or info.get("failed", "—")
    parts = [f"{mine:.2f} s, {results[ours]['mb']:.0f} MB"]
    for label, step in peers:
        theirs = seconds(results, step)
        if theirs:
            parts.append(f"{mine / theirs:.2g}× {label}")
        elif step in results:
            parts.append(f"{label}: {results[step].get('skipped') or results[step].get('failed')}")
    return "; ".join(parts)


def exponent(runs: list[dict], step: str) -> str:
    """Log-log slopes of the step's time between consecutive sizes."""
    slopes = []
    for small, large in zip(runs, runs[1:]):
        a, b = seconds(small, step), seconds(large, step)
        if a and b:
            slopes.append(f"{math.log(b / a) / math.log(large['triples'] / small['triples']):.2f}")
    return ", ".join(slopes) or "—"


def end_to_end(results: dict, prefix: str) -> float | None:
    """The build (its wall time where reasoning and validation ran side by side, else the sum of the steps)
    and the catalogue."""
    build = seconds(results, f"{prefix}-build")
    steps = ("catalogue",) if build else ("load", "reason", "validate", "catalogue")
    times = [seconds(results, f"{prefix}-{suffix}") for suffix in steps]
    return (build or 0) + sum(times) if all(times) else None


def report(runs: list[dict], load: str) -> str:
    sizes = [f"{r['triples']:,} triples" for r in runs]
    lines = [f"Machine load during the run: {load}.", ""]
    for heading, prefix in PIPELINES:
        lines += [
            f"| {heading}: rules + SPARQL shapes | " + " | ".join(sizes) + " | growth exponent |",
            "|---" * (len(runs) + 2) + "|",
        ]
        for label, suffix, peers in STEPS:
            ours = f"{prefix}-{suffix}"
            if not any(ours in r for r in runs):  # (only the store on disk is persisted)
                continue
            label += (SERIAL if prefix == "sparql" else SIDE_BY_SIDE).get(suffix, "")
            same_store = [(name, step) for name, step in peers if prefix == "memory" or not step.startswith("memory-")]
            lines.append(f"| {label} | " + " | ".join(cell(r, ours, same_store) for r in runs) + f" | {exponent(runs, ours)} |")
        totals = [end_to_end(r, prefix) for r in runs]
        lines += ["| **end to end** | " + " | ".join(f"{t:.1f} s" if t else "—" for t in totals) + " | |", ""]
    lines += ["| kg serve's pages, Oxigraph on disk: data read in place | " + " | ".join(sizes) + " | growth exponent |",
              "|---" * (len(runs) + 2) + "|"]
    for label, suffix in PAGE_ROWS:
        ours = f"pages-view-{suffix}"
        lines.append(f"| {label} | " + " | ".join(cell(r, ours, [("a copy", f"pages-copy-{suffix}")]) for r in runs)
                     + f" | {exponent(runs, ours)} |")
    lines.append("")
    lines += ["| kg ask, Oxigraph on disk: data read in place, queries on the store | " + " | ".join(sizes)
              + " | growth exponent |", "|---" * (len(runs) + 2) + "|"]
    lines.append("| first answer (makes the entity index and vocabulary) | "
                 + " | ".join(cell(r, "ask-first", []) for r in runs) + f" | {exponent(runs, 'ask-first')} |")
    lines.append("| `kg ask` command, index saved by an earlier command (whole process) | "
                 + " | ".join(cell(r, "ask-command-saved", [("making it", "ask-command-first")]) for r in runs)
                 + f" | {exponent(runs, 'ask-command-saved')} |")
    for name, question in ASK_QUESTIONS.items():
        rows = ", ".join(f"{r.get('ask-' + name, {}).get('rows', 0):,}" for r in runs)
        label = f"“{question}” (median; rows: {rows})"
        lines.append(f"| {label} | " + " | ".join(cell(r, f"ask-{name}", [("kg query --why", f"query-why-{name}")])
                                                   for r in runs) + f" | {exponent(runs, f'ask-{name}')} |")
    lines.append("")
    lines += ["| kg export --inferred, Oxigraph on disk | " + " | ".join(sizes) + " | growth exponent |",
              "|---" * (len(runs) + 2) + "|"]
    for fmt in EXPORT_FORMATS:
        lines.append(f"| {fmt} | " + " | ".join(cell(r, f"export-{fmt}", [("a copy", f"export-{fmt}-copy")]) for r in runs)
                     + f" | {exponent(runs, f'export-{fmt}')} |")
    lines.append("")
    peer_steps = sorted({step for _, _, peers in STEPS for _, step in peers} | {f"pages-copy-{s}" for _, s in PAGE_ROWS}
                        | {f"export-{fmt}-copy" for fmt in EXPORT_FORMATS} | {f"query-why-{n}" for n in ASK_QUESTIONS})
    lines += ["| peer | " + " | ".join(sizes) + " | growth exponent |", "|---" * (len(runs) + 2) + "|"]
    for step in peer_steps:
        cells = []
        for r in runs:
            value = seconds(r, step)
            info = r.get(step, {})
            cells.append(f"{value:.2f} s, {info['mb']:.0f} MB" if value else info.get("skipped") or info.get("failed", "—"))
        lines.append(f"| {step} | " + " | ".join(cells) + f" | {exponent(runs, step)} |")
    lines += ["", "Targets (Oxigraph): end to end ≤ 60 s; every catalogue query ≤ 100 ms median.", ""]
    for r in runs:
        for heading, prefix in PIPELINES:
            catalogue = r.get(f"{prefix}-catalogue", {})
            queries, engine = catalogue.get("queries", {}), catalogue.get("engine", {})
            if not queries:
                lines.append(f"- {r['triples']:,} triples, {heading.split(' (')[0]}: {cell(r, f'{prefix}-catalogue', [])}.")
                continue
            slowest = max(queries.items(), key=lambda item: item[1], default=("—", 0))
            over = sorted((n for n, median in queries.items() if median > TARGET_QUERY_SECONDS), key=lambda n: -queries[n])
            total = end_to_end(r, prefix)

            def slow(name: str) -> str:
                floor = engine.get(name)
                alone = f" (Oxigraph alone {floor['seconds'] * 1000:.0f} ms, {floor['rows']:,} rows)" if floor else ""
                return f"{name} {queries[name] * 1000:.0f} ms{alone}"

            lines.append(
                f"- {r['triples']:,} triples, {heading.split(' (')[0]}: end to end "
                f"{f'{total:.1f} s' if total else '—'}; slowest catalogue query {slowest[0]} {slowest[1] * 1000:.0f} ms "
                f"median; {len(over)} of {len(queries)} queries over 100 ms"
                + (f": {'; '.join(slow(n) for n in over)}" if over else "") + "."
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--runs", type=int, default=3, help="runs of each catalogue query (median)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before a step is stopped")
    parser.add_argument("--reference-cap", type=int, default=20_000, help="largest size for owlrl and pyshacl")
    parser.add_argument("--rdflib-cap", type=int, default=200_000, help="largest size for rdflib parse/queries")
    parser.add_argument(
        "--virtuoso",
        action="store_true",
        help="also build in and query a SPARQL server: a fresh private Virtuoso for each size (scripts/virtuoso "
        "run; Debian's virtuoso-opensource), up to --sparql-cap triples",
    )
    parser.add_argument("--sparql-cap", type=int, default=200_000, help="largest size for the SPARQL server")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "bench-scale.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--project", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.project, args.store, args.runs)))
        return
    load = "load average {:.1f} {:.1f} {:.1f} at the start".format(*os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="kg-bench-scale-") as temporary:
        work = Path(temporary)
        classpath = None
        if JENA_JAR.exists() and shutil.which("java"):
            (work / "shim").mkdir()
            classpath = jena_classpath(work / "shim")
        else:
            print("Jena not found (apt-get install libapache-jena-java): no Jena peer", file=sys.stderr)
        runs = [run_size(size, work, args, classpath) for size in args.sizes]
    load += ", {:.1f} {:.1f} {:.1f} at the end".format(*os.getloadavg())
    text = report(runs, load)
    print("\n" + text)
    from kg.files import write_atomic

    write_atomic(args.out, text.encode())
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
