"""Shared fixtures: a small pipeline project (tests/fixtures/pipeline/project) copied per test, its build, and the
project's build loaded into each store (the SPARQL one from $KG_TEST_SPARQL_URL).

The copy gets the project's own ontology/context.jsonld (the context is an input of the export, not a fixture)
and its own cache directory, so a test may edit its inputs freely.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from rdflib import Dataset, Graph

from kg.build import CACHE_ENV, Built, build
from kg.load import Project, new_dataset
from kg.namespaces import PROJECT_ROOT
from kg.store import STORE_ENV, Store, create_store

PIPELINE = Path(__file__).parent / "fixtures" / "pipeline"


# The pipeline fixture with one link (id:Canada) and one entity listed unverified (id:NORAD, line 2).
FIXTURE_LINKS = """# curie_map:
#   id: https://w3id.org/defence-kg/id/
#   wikidata: http://www.wikidata.org/entity/
#   skos: http://www.w3.org/2004/02/skos/core#
#   semapv: https://w3id.org/semapv/vocab/
# mapping_set_id: https://w3id.org/defence-kg/links.sssom.tsv
# license: https://creativecommons.org/licenses/by/4.0/
subject_id\tsubject_label\tpredicate_id\tobject_id\tobject_label\tmapping_justification\tcomment
id:Canada\tCanada\tskos:exactMatch\twikidata:Q16\tCanada\tsemapv:ManualMappingCuration\tthe item Q16 is Canada
"""
FIXTURE_UNVERIFIED = "subject_id\tsubject_label\treason\nid:NORAD\tNORAD\tno item verified\n"


def copy_project(target: Path) -> Project:
    """A fresh copy of the pipeline fixture project at `target`, with the real JSON-LD context."""
    shutil.copytree(PIPELINE / "project", target)
    shutil.copy(PROJECT_ROOT / "ontology" / "context.jsonld", target / "ontology" / "context.jsonld")
    return Project(target)


@pytest.fixture(autouse=True)
def _no_cache_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each project uses its own `.kg-cache/` and the memory store, whatever the environment says."""
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.delenv("KG_ROOT", raising=False)
    monkeypatch.delenv(STORE_ENV, raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A writable copy of the pipeline fixture project."""
    return copy_project(tmp_path / "project")


@pytest.fixture(scope="session")
def built_fixture(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The fixture project built once (read-only: do not mutate its dataset)."""
    return build(copy_project(tmp_path_factory.mktemp("built") / "project"))


@pytest.fixture(scope="session")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The project's own data built once per session (read-only: do not mutate its dataset).

    Built afresh, with its cache in a temporary directory, so the run neither trusts nor touches `.kg-cache/`.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("project-cache")))
        return build(Project())


@pytest.fixture(scope="session", params=["fixture", "project"])
def any_built(request: pytest.FixtureRequest) -> Built:
    """The fixture project's build, then the project's own."""
    return request.getfixturevalue(f"built_{request.param}")


# --- a running `kg serve` -------------------------------------------------------------------------------------
# Fixture `kg_server` (session-scoped): the project's own data served by `kg serve --port 0` in a subprocess;
# use `kg_server.url` (e.g. http://127.0.0.1:PORT, no trailing slash). `start_server(tmp_dir, *args)` starts
# another one (a context manager yielding the same kind of object), stopped by pid on exit.


@dataclass(frozen=True)
class ServerProcess:
    """A `kg serve` subprocess: its base URL (no trailing slash), pid and log file."""

    url: str
    pid: int
    log: Path


@contextlib.contextmanager
def start_server(
    directory: Path, *args: str, options: Sequence[str] = (), ready_within: float = 120.0
) -> Iterator[ServerProcess]:
    """Run `kg OPTIONS serve --port 0 ARGS` (project cache in `directory`), wait for its "listening on" line, stop it
    by pid."""
    log = directory / "kg-serve.log"
    environment = {**os.environ, CACHE_ENV: str(directory / "cache")}
    with log.open("wb") as errors:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("kg")), *options, "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=errors,
            env=environment,
            cwd=PROJECT_ROOT,
        )
    try:
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=ready_within):
            raise RuntimeError(f"kg serve did not start within {ready_within} s; log: {log.read_text()}")
        line = process.stdout.readline().decode()
        match = re.search(r"listening on (http://\S+?)/? ", line)
        if match is None:
            raise RuntimeError(f"kg serve did not start: {line!r}; log: {log.read_text()}")
        yield ServerProcess(match.group(1), process.pid, log)
    finally:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        process.stdout.close()


@pytest.fixture(scope="session")
def kg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`kg serve` on the project's own data, on a free port of 127.0.0.1, for the whole session."""
    with start_server(tmp_path_factory.mktemp("kg-serve")) as server:
        yield server


@pytest.fixture(scope="session")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A writable copy of the project's own inputs (without any enrichment cache), with its own build cache,
    shared by the command-line tests of links and enrichment (a test that edits a file restores it)."""
    root = tmp_path_factory.mktemp("project-copy") / "project"
    for folder in ("ontology", "queries"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder)
    shutil.copytree(PROJECT_ROOT / "data", root / "data", ignore=shutil.ignore_patterns("external"))
    return Project(root)


def copy_of(dataset: Dataset) -> Dataset:
    """A new dataset holding each graph of `dataset`, for a test to change without touching a shared build."""
    copy = new_dataset()
    for graph in dataset.graphs():
        target = copy.graph(graph.identifier)
        target += graph
    return copy


@pytest.fixture(scope="session")
def enriched_built(built_project: Built, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The project's build with the fixture enrichment cache (tests/fixtures/wikidata/cache.trig, what `kg enrich`
    wrote from the Oxigraph fixture server) loaded as `kg build` loads data/external/wikidata.trig. Queries
    over it run with SERVICE to Wikidata allowed (answered from that cache): the CLI needs --allow-service."""
    from kg.enrich import load_cache

    project = Project(tmp_path_factory.mktemp("enriched"))
    project.wikidata_cache.parent.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "tests" / "fixtures" / "wikidata" / "cache.trig", project.wikidata_cache)
    dataset = copy_of(built_project.dataset)
    load_cache(dataset, project)
    return replace(built_project, dataset=dataset)


SPARQL_URL_ENV = "KG_TEST_SPARQL_URL"
REQUIRE_SPARQL_ENV = "KG_REQUIRE_SPARQL_STORE"
STORE_KINDS = ("memory", "oxigraph", "sparql")


def sparql_test_url() -> str:
    """The SPARQL server tests load and query ($KG_TEST_SPARQL_URL); skip without one, unless one is required."""
    url = os.environ.get(SPARQL_URL_ENV)
    if url:
        return url
    if os.environ.get(REQUIRE_SPARQL_ENV):
        pytest.fail(f"{REQUIRE_SPARQL_ENV} is set but {SPARQL_URL_ENV} is not: no SPARQL server to test against")
    pytest.skip(f"no SPARQL server: set {SPARQL_URL_ENV} (see README, Testing against Virtuoso)")


def store_spec(kind: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store spec of `kind`: oxigraph in a fresh temporary directory, sparql at the test server."""
    if kind == "oxigraph":
        return f"oxigraph:{tmp_path_factory.mktemp('oxigraph') / 'store'}"
    return f"sparql:{sparql_test_url()}" if kind == "sparql" else "memory"


@pytest.fixture(scope="session", params=STORE_KINDS)
def project_store(request: pytest.FixtureRequest, enriched_built: Built, tmp_path_factory: pytest.TempPathFactory):
    """The project's build, with the fixture enrichment cache, in each store (memory, oxigraph, sparql), loaded
    once per session (read-only)."""
    store = create_store(store_spec(request.param, tmp_path_factory))
    store.load(enriched_built.dataset)
    return store


@pytest.fixture(scope="module")
def sparql_server(enriched_built: Built) -> Iterator[Store]:
    """The test SPARQL server as a store, for a module's tests to load their own data into: the session's
    project store (`project_store`) is put back afterwards."""
    store = create_store(f"sparql:{sparql_test_url()}")
    try:
        yield store
    finally:
        store.load(enriched_built.dataset)


_OXIGRAPH_FORMATS = {"turtle": "TURTLE", "jsonld": "JSON_LD", "nt": "N_TRIPLES", "trig": "TRIG", "xml": "RDF_XML"}


def strictly_read(data: bytes, fmt: str) -> Graph:
    """The triples of a document in kg.export format `fmt` as Oxigraph's parser reads them (stricter than
    rdflib's: a blank node label no format allows is an error), graph names dropped."""
    import pyoxigraph as ox

    from kg.store import from_oxigraph

    graph = Graph()
    for quad in ox.parse(data, format=getattr(ox.RdfFormat, _OXIGRAPH_FORMATS[fmt]), base_iri="https://w3id.org/defence-kg/"):
        graph.add((from_oxigraph(quad.subject), from_oxigraph(quad.predicate), from_oxigraph(quad.object)))
    return graph


def virtuoso_error_page(code: str, message: str) -> str:
    """An error page as Virtuoso 7.2's Graph Store writes it: the status line, its error code, its message in
    <xmp> (where an IRI's <...> stays as it is)."""
    return f"""<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">
<html>
  <head>
    <title>SPARQL Graph Protocol request failed</title>
  </head>
  <body>
    <h1>HTTP/1.1 500 Request Failed</h1>
    <h3>Error {code}</h3>
<xmp>{message}</xmp></body></html>"""
