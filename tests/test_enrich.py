"""`kg enrich` against real HTTP servers on 127.0.0.1 (free ports): an Oxigraph SPARQL server serving the
Wikidata-shaped fixture (tests/fixtures/wikidata/items.ttl), and a small fault-injecting server for a timeout,
429 with Retry-After and 500. After every failure the previous cache is byte-identical.
"""

from __future__ import annotations

import http.server
import json
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pycountry
import pytest
from click.testing import CliRunner
from rdflib import Dataset, Graph, Literal
from rdflib.compare import isomorphic
from rdflib.namespace import PROV, RDF, XSD

from kg.cli import app
from kg.enrich import USER_AGENT, Etiquette, batch_query, disagreements, enrich, keep_facts, load_cache
from kg.errors import EndpointError, InputError
from kg.link import linked_items, mappings
from kg.build import load_dataset
from kg.load import Project, curie, new_dataset
from kg.namespaces import ID, KG, OWL, PROJECT_ROOT, RDFS, WD, WDT, WIKIDATA_GRAPH
from kg.offline import country_matches

FIXTURE = PROJECT_ROOT / "tests" / "fixtures" / "wikidata" / "items.ttl"
PREVIOUS = b"# the previous cache, which a failed enrichment must leave byte for byte\n"
FAST = Etiquette(batch_size=50, timeout=5.0, attempts=3, backoff=0.01, max_wait=5.0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def oxigraph_endpoint(tmp_path_factory: pytest.TempPathFactory):
    """An Oxigraph server (read-only) over the fixture, on a free port; stopped by its pid afterwards."""
    binary = Path(sys.executable).parent / "oxigraph"
    store = tmp_path_factory.mktemp("oxigraph")
    subprocess.run([binary, "load", "--location", store, "--file", FIXTURE], check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [binary, "serve-read-only", "--location", store, "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/query"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{url}?query=ASK%7B%7D", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the Oxigraph server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


class FaultServer:
    """An HTTP server on a free port answering POSTs by a script of behaviours, one per request (the last
    repeats): 'ok' (the fixture as Turtle), 'junk' (200 with a body that is not Turtle), 'sleep' (longer than the
    client waits), or a status code, sent
    with `Retry-After: 1` for 429. It records each request's time and User-Agent."""

    def __init__(self, script: list[str]) -> None:
        self.script = script
        self.requests: list[tuple[float, str]] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                owner.requests.append((time.monotonic(), self.headers.get("User-Agent", "")))
                action = owner.script[min(len(owner.requests), len(owner.script)) - 1]
                if action == "sleep":
                    time.sleep(1.5)
                    action = "ok"
                try:
                    if action in ("ok", "junk"):
                        body = FIXTURE.read_bytes() if action == "ok" else b"<html>not Turtle"
                        self.send_response(200)
                        self.send_header("Content-Type", "text/turtle")
                    else:
                        body = f"error {action}\n".encode()
                        self.send_response(int(action))
                        if action == "429":
                            self.send_header("Retry-After", "1")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout case)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sparql"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fault_server():
    servers: list[FaultServer] = []

    def start(*script: str) -> FaultServer:
        servers.append(FaultServer(list(script)))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def cache_project(tmp_path: Path) -> Project:
    """A project root holding the enrichment query and a previous cache file."""
    project = Project(tmp_path)
    project.enrich_query.parent.mkdir(parents=True)
    shutil.copy(Project().enrich_query, project.enrich_query)
    project.wikidata_cache.parent.mkdir(parents=True)
    project.wikidata_cache.write_bytes(PREVIOUS)
    return project


# --- the fixture itself only holds verified facts --------------------------------------------------------------


def test_fixture_items_and_labels_are_those_of_the_sssom_table(built_project) -> None:
    fixture = Graph().parse(FIXTURE)
    table = {row.object: row.object_label for row in mappings(built_project.dataset)}
    for item, name in fixture.subject_objects(RDFS.label):
        assert table.get(item) == str(name), f"{curie(item)}: label {name!r} is not the table's"


def test_fixture_iso_codes_are_pycountry_s() -> None:
    fixture = Graph().parse(FIXTURE)
    items = {subject: item for item, subject in linked_items(_links_only()).items()}
    for state, (_, alpha_3, _) in country_matches().items():
        country = pycountry.countries.get(alpha_3=alpha_3)
        assert fixture.value(items[state], WDT.P298) == Literal(country.alpha_3)
        assert fixture.value(items[state], WDT.P297) == Literal(country.alpha_2)


def _links_only() -> Dataset:
    return load_dataset()  # the asserted graphs, links included


# --- success against Oxigraph -----------------------------------------------------------------------------------


def test_enrich_from_oxigraph_stores_the_facts_with_provenance(built_project, cache_project, oxigraph_endpoint) -> None:
    etiquette = Etiquette(batch_size=5, timeout=10.0)
    done = enrich(built_project.dataset, cache_project, oxigraph_endpoint, etiquette)
    items = _all_items()
    assert done.items == len(items) == 30  # 26 exact matches and 4 close ones, each to its own item
    assert done.requests == -(-len(items) // 5)  # batches of five
    cache = Dataset()
    cache.parse(cache_project.wikidata_cache, format="trig")
    graph = cache.graph(WIKIDATA_GRAPH)
    facts = Graph()
    for triple in graph:
        if triple[0] in items:
            facts.add(triple)
    assert isomorphic(facts, Graph().parse(FIXTURE))  # every fixture fact, nothing else
    # 12 states x (label, P297, P298), Canada P463 NATO, and the label of each of the 18 other items
    assert done.triples == len(facts) == 55
    assert (WD.Q98, RDFS.label, Literal("Pacific Ocean", lang="en")) in facts  # the Pacific's closeMatch item
    retrieval = graph.value(WIKIDATA_GRAPH, PROV.wasGeneratedBy)
    used = set(graph.objects(retrieval, PROV.used))
    assert Literal(oxigraph_endpoint) not in used and any(str(u) == oxigraph_endpoint for u in used)
    assert graph.value(retrieval, PROV.endedAtTime).datatype == XSD.dateTime
    plans = [u for u in used if (u, RDF.type, PROV.Plan) in graph]
    assert [str(graph.value(plan, PROV.value)) for plan in plans] == [cache_project.enrich_query.read_text()]
    assert done.disagreements == []  # the fixture agrees with the document (Canada in NATO; no inception)
    assert done.problems == []  # every item answers, with the table's object_label


def test_enrich_sends_the_user_agent_and_batches(built_project, cache_project, fault_server) -> None:
    server = fault_server("ok")
    etiquette = Etiquette(batch_size=10, timeout=5.0)
    done = enrich(built_project.dataset, cache_project, server.url, etiquette)
    assert len(server.requests) == done.requests == -(-len(_all_items()) // 10)
    assert {agent for _, agent in server.requests} == {USER_AGENT}
    assert USER_AGENT.startswith("defence-kg/") and "https://w3id.org/defence-kg/" in USER_AGENT


# --- failures leave the cache intact --------------------------------------------------------------------------


def test_timeout_fails_clearly_and_keeps_the_cache(built_project, cache_project, fault_server) -> None:
    server = fault_server("sleep")
    with pytest.raises(EndpointError, match=rf"{server.url}: no answer within 0.3 s \(timeout\)"):
        enrich(built_project.dataset, cache_project, server.url, Etiquette(timeout=0.3, attempts=2))
    assert cache_project.wikidata_cache.read_bytes() == PREVIOUS


def test_429_then_success_waits_retry_after(built_project, cache_project, fault_server) -> None:
    server = fault_server("429", "ok")
    done = enrich(built_project.dataset, cache_project, server.url, FAST)
    (first, _), (second, _) = server.requests
    assert second - first >= 1.0  # Retry-After: 1 honoured (FAST's own backoff is 0.01 s)
    assert done.triples == 55 and cache_project.wikidata_cache.read_bytes() != PREVIOUS


def test_always_429_fails_and_keeps_the_cache(built_project, cache_project, fault_server) -> None:
    server = fault_server("429")
    waits: list[float] = []
    with pytest.raises(EndpointError, match=rf"{server.url}: HTTP 429 after 3 attempt\(s\): error 429"):
        enrich(built_project.dataset, cache_project, server.url, FAST, sleep=waits.append)
    assert waits == [1.0, 1.0] and len(server.requests) == 3
    assert cache_project.wikidata_cache.read_bytes() == PREVIOUS


def test_500_retries_with_backoff_then_fails_and_keeps_the_cache(built_project, cache_project, fault_server) -> None:
    server = fault_server("500")
    waits: list[float] = []
    with pytest.raises(EndpointError, match=rf"{server.url}: HTTP 500 after 3 attempt\(s\)"):
        enrich(built_project.dataset, cache_project, server.url, FAST, sleep=waits.append)
    assert waits == [0.01, 0.02] and len(server.requests) == 3
    assert cache_project.wikidata_cache.read_bytes() == PREVIOUS


def test_an_answer_that_is_not_turtle_fails_and_keeps_the_cache(built_project, cache_project, fault_server) -> None:
    server = fault_server("junk")
    with pytest.raises(EndpointError, match=rf"{server.url}: the answer is not Turtle"):
        enrich(built_project.dataset, cache_project, server.url, FAST)
    assert cache_project.wikidata_cache.read_bytes() == PREVIOUS


def test_unreachable_endpoint_fails_clearly(built_project, cache_project) -> None:
    url = f"http://127.0.0.1:{free_port()}/sparql"
    with pytest.raises(EndpointError, match=rf"{url}: request failed"):
        enrich(built_project.dataset, cache_project, url, FAST)
    assert cache_project.wikidata_cache.read_bytes() == PREVIOUS


# --- units: the query, the filter, the disagreements ------------------------------------------------------------


class _Answer:
    def __init__(self, retry_after: str | None) -> None:
        self.headers = {"Retry-After": retry_after} if retry_after is not None else {}


@pytest.mark.parametrize(
    ("header", "attempt", "expected"),
    [
        ("1", 0, 1.0),  # seconds, as given
        ("3600", 0, 5.0),  # capped at max_wait
        (None, 0, 0.01),  # no header: exponential backoff from FAST's 0.01 s
        (None, 2, 0.04),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0, 0.0),  # a date in the past: no wait
        ("soon", 1, 0.02),  # unreadable: as if absent
    ],
)
def test_retry_delay(header, attempt, expected) -> None:
    from kg.enrich import retry_delay

    assert retry_delay(_Answer(header), attempt, FAST) == pytest.approx(expected)


def test_batch_query_fills_the_values_block() -> None:
    text = batch_query(Project().enrich_query.read_text(), [WD.Q16, WD.Q30])
    assert "VALUES ?item { <http://www.wikidata.org/entity/Q16> <http://www.wikidata.org/entity/Q30> }" in text
    with pytest.raises(InputError, match=re.escape("exactly one empty 'VALUES ?item {}'")):
        batch_query("CONSTRUCT WHERE { ?item ?p ?o }", [WD.Q16])


def test_only_expected_facts_about_requested_items_are_kept() -> None:
    fetched = Graph()
    fetched.add((WD.Q16, WDT.P297, Literal("CA")))
    fetched.add((WD.Q16, RDFS.label, Literal("Canada", lang="fr")))
    fetched.add((WD.Q16, RDFS.label, Literal("Kanada", lang="de")))  # not a wanted language
    fetched.add((WD.Q16, OWL.sameAs, WD.Q1))  # not a wanted property
    fetched.add((ID.Canada, KG.isoAlpha2Code, Literal("XX")))  # never about the document's own nodes
    fetched.add((WD.Q30, WDT.P297, Literal("US")))  # not requested
    kept, dropped = keep_facts(fetched, {WD.Q16})
    assert set(kept) == {(WD.Q16, WDT.P297, Literal("CA")), (WD.Q16, RDFS.label, Literal("Canada", lang="fr"))}
    assert dropped == 4


def test_disagreements_are_reported_not_resolved(built_project) -> None:
    """Counterfactual facts (not Wikidata's): NATO's inception in 1950 against the stated 1949 (C06), and
    Canada listing no NATO membership against C04."""
    facts = Graph()
    facts.add((WD.Q7184, WDT.P571, Literal("1950-04-04T00:00:00Z")))
    facts.add((WD.Q16, WDT.P463, WD.Q1065))
    found = {(curie(d.subject), d.document, d.external) for d in disagreements(built_project.dataset, facts)}
    assert found == {
        ("id:NATOFounding", "1949 (stated)", "inception (P571) of wd:Q7184: 1950"),
        ("id:CanadaNATOMembership", "stated", "wd:Q16 has no member of (P463) wd:Q7184"),
    }
    agreeing = Graph().parse(FIXTURE)
    agreeing.add((WD.Q7184, WDT.P571, Literal("1949-04-04T00:00:00Z")))
    assert disagreements(built_project.dataset, agreeing) == []


# --- the command line ----------------------------------------------------------------------------------------


def test_cli_enrich_prints_what_it_did_and_the_build_includes_it(project_copy, oxigraph_endpoint) -> None:
    runner = CliRunner()
    root = ["--root", str(project_copy.root)]
    result = runner.invoke(app, [*root, "enrich", "--endpoint", oxigraph_endpoint, "--timeout", "10"])
    assert result.exit_code == 0, result.output
    assert f"fetched 55 triples about {len(_all_items())} items from {oxigraph_endpoint}" in result.output
    assert "disagreements between the document and Wikidata: 0" in result.output
    as_json = runner.invoke(app, [*root, "enrich", "--endpoint", oxigraph_endpoint, "--format", "json"])
    report = json.loads(as_json.stdout)
    assert (report["endpoint"], report["triples"], report["disagreements"]) == (oxigraph_endpoint, 55, [])
    assert report["problems"] == []
    codes = runner.invoke(
        app, [*root, "sparql", "SELECT ?c WHERE { GRAPH <https://w3id.org/defence-kg/graph/external/wikidata> "
              "{ wd:Q16 wdt:P298 ?c } }", "--format", "csv"]
    )
    assert codes.stdout.splitlines() == ["c", "CAN"]


def test_cli_enrich_replaces_a_cache_that_no_longer_parses(project_copy, oxigraph_endpoint) -> None:
    project_copy.wikidata_cache.parent.mkdir(parents=True, exist_ok=True)
    project_copy.wikidata_cache.write_text("garbage\n", encoding="utf-8")
    root = ["--root", str(project_copy.root)]
    result = CliRunner().invoke(app, [*root, "enrich", "--endpoint", oxigraph_endpoint, "--timeout", "10"])
    assert result.exit_code == 0, result.output
    assert f"fetched 55 triples about {len(_all_items())} items" in result.output
    load_cache(new_dataset(), project_copy)  # (raises if what it wrote does not load)


def test_cli_enrich_failure_exits_2_naming_endpoint_and_cause(project_copy, fault_server) -> None:
    server = fault_server("sleep")
    before = project_copy.wikidata_cache.read_bytes() if project_copy.wikidata_cache.exists() else None
    result = CliRunner().invoke(
        app, ["--root", str(project_copy.root), "enrich", "--endpoint", server.url, "--timeout", "0.3"]
    )
    assert result.exit_code == 2
    assert f"error: {server.url}: no answer within 0.3 s (timeout)" in result.output
    after = project_copy.wikidata_cache.read_bytes() if project_copy.wikidata_cache.exists() else None
    assert after == before


def _all_items() -> set:
    """Every Wikidata item of the table, linked by skos:exactMatch or skos:closeMatch (each row's object)."""
    return {row.object for row in mappings(_links_only())}


def test_cli_enrich_reports_a_label_that_is_not_the_table_s_and_exits_1(project_copy, oxigraph_endpoint) -> None:
    """The fixture calls wd:Q16 'Canada'; a table whose object_label for it says otherwise is in doubt."""
    path = project_copy.links
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original.replace("\twikidata:Q16\tCanada\t", "\twikidata:Q16\tAlexander Blok\t", 1),
                        encoding="utf-8")
        result = CliRunner().invoke(app, ["--root", str(project_copy.root), "enrich", "--endpoint", oxigraph_endpoint])
        assert result.exit_code == 1, result.output
        assert ("link problem: wd:Q16 (linked from id:Canada): Wikidata's English label 'Canada' is not the "
                "object_label 'Alexander Blok' of data/links.sssom.tsv") in result.stderr
    finally:
        path.write_text(original, encoding="utf-8")


def test_link_problems_names_items_that_answered_nothing_or_another_label(built_project) -> None:
    from kg.enrich import link_problems

    facts = Graph()
    facts.add((WD.Q16, RDFS.label, Literal("Alexander Blok", lang="en")))
    facts.add((WD.Q30, RDFS.label, Literal("united states of america", lang="en")))  # case aside, the same
    facts.add((WD.Q30, RDFS.label, Literal("Amerika", lang="de")))
    rows = [row for row in mappings(built_project.dataset) if row.object in (WD.Q16, WD.Q30, WD.Q7184)]
    assert link_problems(rows, facts, "links.sssom.tsv") == [
        "wd:Q16 (linked from id:Canada): Wikidata's English label 'Alexander Blok' is not the object_label "
        "'Canada' of links.sssom.tsv",
        "wd:Q7184 (linked from id:NATO): nothing came back about it (a deleted or redirected item?)",
    ]


def test_a_missing_enrich_query_is_named(built_project, cache_project) -> None:
    cache_project.enrich_query.unlink()
    with pytest.raises(InputError, match=r"^queries/enrich/wikidata.rq: cannot read \(No such file or directory\)$"):
        enrich(built_project.dataset, cache_project, "http://127.0.0.1:9/sparql", FAST)
    assert cache_project.wikidata_cache.read_bytes() == PREVIOUS


@pytest.mark.parametrize(
    ("statement", "shown"),
    [
        ("<https://w3id.org/defence-kg/id/Canada> <http://www.w3.org/ns/org#memberOf> "
         "<https://w3id.org/defence-kg/id/Russia> .", "id:Canada org:memberOf id:Russia"),
        ("<https://w3id.org/defence-kg/id/Canada> <http://www.w3.org/2004/02/skos/core#exactMatch> wd:Q30 .",
         "id:Canada skos:exactMatch wd:Q30"),
        ("wd:Q16 <http://www.w3.org/2002/07/owl#sameAs> wd:Q30 .", "wd:Q16 owl:sameAs wd:Q30"),
    ],
)
def test_a_cache_holding_what_enrich_does_not_write_is_refused(tmp_path: Path, statement: str, shown: str) -> None:
    """A statement about the document's own nodes, a link, or a property enrich never keeps: the whole cache is
    refused, naming the file and the statement."""
    project = Project(tmp_path)
    project.wikidata_cache.parent.mkdir(parents=True)
    text = (FIXTURE.parent / "cache.trig").read_text(encoding="utf-8")
    at = text.index("{") + 1
    project.wikidata_cache.write_text(text[:at] + "\n    " + statement + text[at:], encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(f"data/external/wikidata.trig: 1 statement(s) kg enrich does "
                                                   f"not write, such as {shown}")):
        load_cache(load_dataset(), project)


def test_the_cache_enrich_wrote_loads_whole(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.wikidata_cache.parent.mkdir(parents=True)
    shutil.copy(FIXTURE.parent / "cache.trig", project.wikidata_cache)
    cache = Dataset()
    cache.parse(project.wikidata_cache, format="trig")
    dataset = load_dataset()
    load_cache(dataset, project)
    assert isomorphic(dataset.graph(WIKIDATA_GRAPH), cache.graph(WIKIDATA_GRAPH))


def test_an_enriched_dataset_exports_and_reparses(built_project, tmp_path: Path) -> None:
    """The cache's graph (blank PROV nodes, literals of every kind) survives the JSON-LD and TriG exports."""
    from kg.export import export_graph, serialize
    from kg.load import new_dataset

    project = Project(tmp_path)
    project.wikidata_cache.parent.mkdir(parents=True)
    shutil.copy(FIXTURE.parent / "cache.trig", project.wikidata_cache)
    dataset = new_dataset()
    for graph in built_project.dataset.graphs():
        target = dataset.graph(graph.identifier)
        target += graph
    load_cache(dataset, project)
    assert len(dataset.graph(WIKIDATA_GRAPH)) > 38
    jsonld = Graph().parse(data=serialize(dataset, "jsonld", Project().context), format="json-ld")
    assert isomorphic(jsonld, export_graph(dataset, "jsonld"))
    trig = Dataset()
    trig.parse(data=serialize(dataset, "trig", Project().context), format="trig")
    assert isomorphic(trig.graph(WIKIDATA_GRAPH), dataset.graph(WIKIDATA_GRAPH))
