"""The stores behind `--store`: specs, parameter binding outside rdflib, offline checks on every store, freshness,
and the same exports and descriptions from oxigraph as from memory. (The catalogue's answers on every store are
tested in test_catalogue.py.)"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from rdflib import BNode, Dataset, Graph, Literal, URIRef, Variable
from rdflib.compare import isomorphic
from test_cli import kg

from conftest import copy_of, sparql_test_url, virtuoso_error_page
from kg.errors import QueryError, StoreError, UsageError
from kg.load import Project, new_dataset
from kg.namespaces import CLAIM, ID, KG, ONTOLOGY_GRAPH, RDFS, SKOS, STATEMENTS_GRAPH, XSD
from kg.query import resolve_entity, serialize_result, why
from kg.sparql import prepare
from kg.store import MemoryStore, bind_values, create_store, parse_spec, with_limit

# --- specs ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("memory", ("memory", "")), ("oxigraph:/tmp/x y", ("oxigraph", "/tmp/x y")), ("oxigraph", ("oxigraph", "")),
     ("sparql:http://127.0.0.1:8890/sparql", ("sparql", "http://127.0.0.1:8890/sparql"))],
)
def test_specs_parse(spec: str, expected: tuple[str, str]) -> None:
    assert parse_spec(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("postgres:db", "unknown store spec 'postgres:db'; use one of memory, oxigraph:PATH, oxigraph, sparql:URL"),
        ("memory:x", "unknown store spec 'memory:x'"),
        ("oxigraph:", "store spec 'oxigraph:' lacks its PATH"),
        ("sparql:ftp://host/sparql", "store spec 'sparql:ftp://host/sparql' lacks its http(s) URL"),
    ],
)
def test_a_bad_spec_is_a_usage_error_exit_2(project: Project, spec: str, message: str) -> None:
    result = kg(project, "--store", spec, "query", "partner-activities")
    assert result.exit_code == 2
    assert result.stderr == f"error: {message}\n" if spec == "postgres:db" else message in result.stderr


def test_a_store_is_not_created_among_other_files(project: Project, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n", encoding="utf-8")
    result = kg(project, "--store", f"oxigraph:{folder}", "build")
    assert result.exit_code == 2
    assert f"{folder} holds files but no oxigraph store: give an empty or new directory" in result.stderr
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_an_in_memory_oxigraph_cannot_be_queried_after_its_build(project: Project) -> None:
    result = kg(project, "--store", "oxigraph", "query", "partner-activities")
    assert result.exit_code == 2
    assert "an in-memory oxigraph store lives for one command" in result.stderr and "oxigraph:PATH" in result.stderr


def test_the_spec_comes_from_kg_store_too(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KG_STORE", "nonsense")
    result = kg(project, "query", "partner-activities")
    assert result.exit_code == 2 and "unknown store spec 'nonsense'" in result.stderr


def test_closing_a_server_store_closes_its_http_client() -> None:
    store = create_store("sparql:http://127.0.0.1:9/sparql")  # (no request is sent)
    store.close()
    assert store._http.is_closed  # noqa: SLF001


def test_an_unreachable_server_is_named(project: Project) -> None:
    with socket.socket() as probe:  # a free port, closed again: nothing listens there
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/sparql"
    result = kg(project, "--store", f"sparql:{url}", "query", "partner-activities")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot reach the SPARQL server {url}: ")
    assert "Traceback" not in result.stderr


# --- parameters as VALUES ---------------------------------------------------------------------------------------


def test_values_go_first_in_the_where_group_and_a_hostile_value_stays_a_literal(tmp_path: Path) -> None:
    hostile = 'x" } } DROP ALL ; SELECT * { "'
    text = 'SELECT ?s WHERE { # a comment with { braces }\n ?s rdfs:comment ?name FILTER(?s != "a { b") }'
    bindings = {Variable("name"): Literal(hostile)}
    assert bind_values(text, bindings).startswith(f"SELECT ?s WHERE {{ VALUES (?name) {{ ({Literal(hostile).n3()}) }} #")
    store = create_store(f"oxigraph:{tmp_path / 'store'}")  # binds by VALUES (rdflib would use initBindings)
    store.update(f"INSERT DATA {{ GRAPH <{STATEMENTS_GRAPH}> {{ id:Canada rdfs:comment {Literal(hostile).n3()} }} }}")
    assert store.query(text, bindings).bindings == [{Variable("s"): ID.Canada}]


def test_values_skip_a_construct_template() -> None:
    bound = bind_values("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", {Variable("s"): URIRef(ID.Canada)})
    assert bound == f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES (?s) {{ (<{ID.Canada}>) }} ?s ?p ?o }}"


def test_several_parameters_go_in_one_values_clause() -> None:
    """One clause for all the bindings (see bind_values: Oxigraph joined separate clauses in their order)."""
    bound = bind_values("SELECT * WHERE { ?s ?p ?o }", {Variable("s"): URIRef(ID.Canada), Variable("o"): Literal(2)})
    assert bound == f'SELECT * WHERE {{ VALUES (?s ?o) {{ (<{ID.Canada}> "2"^^<{XSD.integer}>) }} ?s ?p ?o }}'


def test_an_iri_that_would_break_out_is_refused() -> None:
    with pytest.raises(UsageError, match="parameter s cannot be bound"):
        bind_values("SELECT * { ?s ?p ?o }", {Variable("s"): URIRef("http://x/> } DROP ALL { <y")})


def test_a_query_without_a_where_group_cannot_take_values() -> None:
    with pytest.raises(QueryError, match="no WHERE group"):
        bind_values("DESCRIBE <http://x/a>", {Variable("s"): URIRef("http://x/b")})


@pytest.mark.parametrize(
    ("text", "limited"),
    [
        ("SELECT * WHERE { ?s ?p ?o } ORDER BY ?s # the end", True),
        ("SELECT ?s (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s HAVING (COUNT(*) > 1)", True),
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 5", False),  # its own limit stands
        ("SELECT * WHERE { ?s ?p ?o } OFFSET 5", False),  # already sliced: left as it is
        ("SELECT * WHERE { ?s ?p ?o } VALUES ?s { id:Canada }", False),  # LIMIT after VALUES: a syntax error
        ("ASK { ?s ?p ?o }", False),
    ],
)
def test_a_server_gets_the_row_limit_only_where_it_means_the_same_query_sliced(text: str, limited: bool) -> None:
    assert with_limit(text, prepare(text), 10) == (f"{text}\nLIMIT 10" if limited else text)


def test_every_store_stops_at_the_row_limit(project_store) -> None:
    everything = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    assert len(project_store.query(everything).bindings) > 3
    assert len(project_store.query(everything, limit=3).bindings) == 3


# --- every store: offline, parameters, updates ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", "SERVICE is not allowed"),
        ("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", "FROM <file:///etc/passwd> is not a graph"),
        ("INSERT DATA { id:Canada kg:memberOf id:Narnia }", "SPARQL Update is not supported"),
    ],
)
def test_every_store_refuses_what_leaves_the_dataset_before_sending_it(project_store, query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        project_store.query(query)


def test_every_store_leaves_out_of_a_construct_what_is_not_rdf(project_store) -> None:
    # SPARQL 1.1, 16.2 (rdflib alone keeps a literal subject or predicate, and makes an IRI of any string)
    text = """CONSTRUCT { ?literal <urn:x:p> <urn:x:o> . <urn:x:s> ?literal <urn:x:o> . ?notIri <urn:x:p> 1 .
                         <urn:x:s> ?relative 1 . <urn:x:s> <urn:x:p> ?iri }
              WHERE { BIND("lit" AS ?literal) BIND(IRI("a b>") AS ?notIri) BIND(IRI("1") AS ?relative)
                      BIND(IRI("urn:x:kept") AS ?iri) }"""
    if project_store.spec.startswith("sparql:"):  # Virtuoso refuses the whole query instead (500)
        with pytest.raises(StoreError, match="is not a valid predicate"):
            project_store.query(text)
        return
    assert set(project_store.query(text).graph) == {(URIRef("urn:x:s"), URIRef("urn:x:p"), URIRef("urn:x:kept"))}


def test_every_store_gives_select_all_s_columns_in_order_of_appearance(project_store) -> None:
    text = "SELECT * WHERE { ?claim a kg:Claim ; dcterms:identifier ?id . OPTIONAL { ?node kg:supportedBy ?claim } } LIMIT 1"
    assert project_store.query(text).vars == [Variable("claim"), Variable("id"), Variable("node")]


def test_every_store_makes_no_group_of_no_solutions(project_store) -> None:
    """GROUP BY over no solutions is no row (rdflib alone made one, every column unbound); without GROUP BY the
    aggregate is one row (its one group is empty)."""
    nothing = "?claim a kg:Claim ; dcterms:identifier \"C99\""
    grouped = project_store.query(f"SELECT ?claim (MIN(?claim) AS ?first) WHERE {{ {nothing} }} GROUP BY ?claim")
    assert grouped.bindings == []
    counted = project_store.query(f"SELECT (COUNT(?claim) AS ?n) WHERE {{ {nothing} }}")
    assert [row[Variable("n")].toPython() for row in counted.bindings] == [0]


def test_every_store_binds_parameters_and_answers_ask(project_store) -> None:
    text = 'ASK { ?entity rdfs:label "Canada"@en }'
    assert project_store.query(text, {Variable("entity"): URIRef(ID.Canada)}).askAnswer is True
    assert project_store.query(text, {Variable("entity"): URIRef(ID.NATO)}).askAnswer is False


def test_every_store_gives_the_names_containing_a_part(project_store) -> None:
    """The store filters the names (lower case contains the part) as Python would filter them all."""
    some = set(project_store.names("aerospace"))
    assert (ID.NORAD, Literal("North American Aerospace Defence Command", lang="en")) in some  # its skos:altLabel
    assert some == {(node, name) for node, name in project_store.names() if "aerospace" in name.lower()}


def test_a_name_that_case_folding_changes_is_still_found() -> None:
    """The store is asked first for the names containing "strasse" (none: the name is written with ß), then for
    all of them, which case folding matches."""
    dataset = new_dataset()
    dataset.graph(STATEMENTS_GRAPH).add((ID.Strasse, RDFS.label, Literal("Straße", lang="de")))
    assert resolve_entity(MemoryStore(dataset), "STRASSE") == ID.Strasse


def test_every_store_keeps_its_graphs_apart(project_store) -> None:
    project_store.set_build_key("a key")  # bookkeeping, in its own graph (a no-op in memory)
    assert STATEMENTS_GRAPH in project_store.graphs()
    text = "SELECT * WHERE { GRAPH <https://w3id.org/defence-kg/graph/build> { ?s ?p ?o } }"
    assert project_store.query(text).bindings == []  # bookkeeping is not data


# Oxigraph (0.5.13) stores a literal of any type derived from xsd:integer as an xsd:integer: the value is kept,
# the datatype lost. The project's data uses none (NORAD's 65th anniversary is kg:ordinal 65, an xsd:integer).
OXIGRAPH_INTEGERS = {XSD[name] for name in (
    "nonPositiveInteger", "negativeInteger", "long", "int", "short", "byte", "nonNegativeInteger",
    "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte", "positiveInteger")}


@pytest.mark.parametrize("read", ["dataset", "view"])
def test_every_store_gives_back_the_dataset_it_was_loaded_with(project_store, enriched_built, read: str) -> None:
    """What exports and `kg describe` read (`dataset`), and `kg serve`'s pages (`view`): the same named graphs,
    isomorphic (blank nodes included, every literal with its datatype: the data has none that Oxigraph drops)."""
    given, returned = enriched_built.dataset, getattr(project_store, read)()
    names = sorted(g.identifier for g in given.graphs() if isinstance(g.identifier, URIRef) and len(g))
    assert sorted(g.identifier for g in returned.graphs() if len(g)) == names
    for name in names:
        assert isomorphic(given.graph(name), returned.graph(name)), name
    derived = [(s, p, o) for s, p, o in given.triples((None, None, None)) if isinstance(o, Literal) and o.datatype in OXIGRAPH_INTEGERS]
    assert derived == []


def test_an_oxigraph_view_reads_in_place_each_triple_of_the_union_once() -> None:
    """kg.view: what the store holds now (a copy would miss the later label), a triple held by two graphs once
    with both graphs, and the simple literal rdflib's parser makes, not the xsd:string Oxigraph gives back."""
    first, second = URIRef("urn:x:first"), URIRef("urn:x:second")
    triple = (ID.NORAD, RDFS.label, Literal("NORAD"))
    given = new_dataset()
    given.graph(first).add(triple)
    given.graph(second).add(triple)
    store = create_store("oxigraph")
    store.load(given)
    view = store.view()
    assert [(t, sorted(g.identifier for g in graphs)) for t, graphs in view.store.triples((None, None, None))] == [
        (triple, [first, second])
    ]
    assert list(view.triples((None, None, None))) == [triple]
    assert set(view.graph(second)) == {triple}
    store.update(f'INSERT DATA {{ GRAPH <{second}> {{ id:NORAD rdfs:label "later" }} }}')
    assert (ID.NORAD, RDFS.label, Literal("later")) in view


def test_every_store_answers_construct_as_memory_does(project_store, built_project) -> None:
    text = "CONSTRUCT { ?claim dcterms:identifier ?id } WHERE { ?claim a kg:Claim ; dcterms:identifier ?id }"
    result = project_store.query(text)
    assert isomorphic(result.graph, MemoryStore(built_project.dataset).query(text).graph)
    assert len(result.graph) == 52  # C01-C52
    assert 'claim:C07 dcterms:identifier "C07" .' in serialize_result(result, "table")  # the project's prefixes


@pytest.mark.parametrize("kind", ["memory", "oxigraph"])
def test_updates_change_the_store(kind: str, tmp_path: Path) -> None:
    store = create_store("memory" if kind == "memory" else f"oxigraph:{tmp_path / 'store'}")
    store.update(f"INSERT DATA {{ GRAPH <{STATEMENTS_GRAPH}> {{ id:Canada kg:memberOf id:NATO }} }}")
    assert store.graphs() == [STATEMENTS_GRAPH]
    assert store.query("ASK { id:Canada kg:memberOf id:NATO }").askAnswer is True


# --- oxigraph on disk: freshness, exports, describe -------------------------------------------------------------


def test_oxigraph_needs_a_build_and_detects_a_stale_one(project: Project, tmp_path: Path) -> None:
    spec = f"oxigraph:{tmp_path / 'store'}"
    missing = kg(project, "--store", spec, "query", "partner-activities")
    assert missing.exit_code == 2 and f"no oxigraph store at {tmp_path / 'store'}" in missing.stderr
    assert kg(project, "--store", spec, "build", "--out", str(tmp_path / "dist")).exit_code == 0
    fresh = kg(project, "--store", spec, "query", "partner-activities", "-f", "csv")
    assert fresh.exit_code == 0, fresh.stderr
    assert fresh.stdout == kg(project, "query", "partner-activities", "-f", "csv").stdout
    project.statements.write_text(project.statements.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    stale = kg(project, "--store", spec, "query", "partner-activities")
    assert stale.exit_code == 2
    assert f"store {spec} is stale" in stale.stderr and f"kg --store {spec} build" in stale.stderr


@pytest.fixture(scope="module")
def oxigraph_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, str]:
    """The fixture project, built into its cache (memory) and into an oxigraph store."""
    from conftest import copy_project

    base = tmp_path_factory.mktemp("oxigraph-project")
    project = copy_project(base / "project")
    spec = f"oxigraph:{base / 'store'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("KG_CACHE_DIR", raising=False)
        patch.delenv("KG_STORE", raising=False)
        result = kg(project, "--store", spec, "build", "--out", str(base / "dist"))
    assert result.exit_code == 0, result.stderr
    return project, spec


@pytest.mark.parametrize("fmt", ["trig", "turtle", "nt", "jsonld", "xml"])
def test_oxigraph_exports_the_same_graphs_as_memory(oxigraph_project: tuple[Project, str], fmt: str) -> None:
    project, spec = oxigraph_project
    exports = []
    for store in ("memory", spec):
        result = kg(project, "--store", store, "export", "-f", fmt, "--inferred")
        assert result.exit_code == 0, result.stderr
        exports.append(result.stdout)
    if fmt == "trig":
        memory, oxigraph = (Dataset().parse(data=text, format="trig") for text in exports)
        assert sorted(g.identifier for g in memory.graphs()) == sorted(g.identifier for g in oxigraph.graphs())
        for graph in memory.graphs():
            assert isomorphic(graph, oxigraph.graph(graph.identifier)), graph.identifier
    else:
        memory, oxigraph = (Graph().parse(data=text, format={"jsonld": "json-ld"}.get(fmt, fmt)) for text in exports)
        assert len(memory) > 100 and isomorphic(memory, oxigraph)


def test_oxigraph_describes_as_memory_does(oxigraph_project: tuple[Project, str]) -> None:
    project, spec = oxigraph_project
    memory, oxigraph = (kg(project, "--store", store, "describe", "OTAN") for store in ("memory", spec))
    assert oxigraph.exit_code == 0, oxigraph.stderr
    assert "“Canada is a founding member of NATO”" in oxigraph.stdout
    assert oxigraph.stdout == memory.stdout


def test_why_on_oxigraph_is_the_same_as_on_memory(oxigraph_project: tuple[Project, str]) -> None:
    project, spec = oxigraph_project
    answers = [kg(project, "--store", s, "query", "partner-activities", "--why", "-f", "json") for s in ("memory", spec)]
    assert answers[1].exit_code == 0, answers[1].stderr
    memory, oxigraph = (json.loads(answer.stdout) for answer in answers)
    assert oxigraph["why"] == memory["why"] and memory["why"]


def test_loading_a_server_needs_its_graph_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KG_SPARQL_GRAPH_STORE_URL", raising=False)
    store = create_store("sparql:http://127.0.0.1:9/sparql")
    with pytest.raises(StoreError, match=r"needs its Graph Store Protocol endpoint in \$KG_SPARQL_GRAPH_STORE_URL"):
        store.load(Dataset())


class _BasicOnlyServer(BaseHTTPRequestHandler):
    """A SPARQL server that wants HTTP Basic credentials (user u, password p): it answers 401 without reading the
    body, as Virtuoso does. It records every request: (method, whether it had the credentials, body length)."""

    seen: list[tuple[str, bool, int]] = []
    uploads: list[tuple[str, bytes]] = []  # (method, body) of each authorised Graph Store request

    def _answer(self) -> None:
        authorised = self.headers.get("Authorization") == "Basic " + base64.b64encode(b"u:p").decode()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if authorised else b""
        self.seen.append((self.command, authorised, len(body)))
        if authorised and self.headers.get("Content-Type") == "application/n-triples":
            self.uploads.append((self.command, body))
        if not authorised:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="sparql"')
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            return
        answer = b"" if self.command != "POST" else json.dumps(
            {"head": {}, "boolean": True} if b"ASK" in body else {"head": {"vars": ["g"]}, "results": {"bindings": []}}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_HEAD = do_POST = do_PUT = _answer

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def basic_only_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The URL of a _BasicOnlyServer (query, update and Graph Store), with its credentials in the environment."""
    server = HTTPServer(("127.0.0.1", 0), _BasicOnlyServer)
    _BasicOnlyServer.seen = []
    _BasicOnlyServer.uploads = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/sparql"
    for name, value in (("USER", "u"), ("PASSWORD", "p"), ("GRAPH_STORE_URL", url), ("UPDATE_URL", url)):
        monkeypatch.setenv(f"KG_SPARQL_{name}", value)
    yield url
    server.shutdown()
    server.server_close()


def _numbered(count: int) -> Dataset:
    """A statements graph of `count` triples (20 k: about 2 MB of N-Triples, more than a socket's buffers)."""
    dataset = Dataset()
    graph = dataset.graph(STATEMENTS_GRAPH)
    for n in range(count):
        graph.add((URIRef(f"{ID}thing{n}"), KG.ordinal, Literal(n)))
    return dataset


def test_credentials_go_as_the_server_asks_and_a_large_upload_goes_once(basic_only_server: str) -> None:
    store = create_store(f"sparql:{basic_only_server}")
    store.load(_numbered(20_000))
    assert store.query("ASK {}").askAnswer is True
    # one request without credentials, the first (small), which learns the scheme; then every request has them
    seen = _BasicOnlyServer.seen
    assert [authorised for _, authorised, _ in seen] == [False] + [True] * (len(seen) - 1)
    assert [size > 2_000_000 for method, _, size in seen if method == "PUT"] == [True]


def test_a_large_body_first_is_preceded_by_a_head_that_learns_the_scheme(basic_only_server: str) -> None:
    store = create_store(f"sparql:{basic_only_server}")
    store.update("INSERT DATA { " + _numbered(20_000).serialize(format="nt") + " }")
    seen = [(method, authorised) for method, authorised, _ in _BasicOnlyServer.seen]
    assert seen == [("HEAD", False), ("HEAD", True), ("POST", True)]  # (the HEAD answered 401 is sent again, with them)
    assert _BasicOnlyServer.seen[2][2] > 2_000_000


def test_a_graph_goes_in_bounded_requests_the_first_replacing_it(basic_only_server: str, monkeypatch) -> None:
    """Virtuoso inserts a large body in parallel batches that deadlock at random (500 "SR172: Transaction
    deadlocked"): a graph goes in requests of at most _LOAD_BATCH triples, a PUT and then POSTs."""
    monkeypatch.setattr("kg.store._LOAD_BATCH", 1_000)
    store = create_store(f"sparql:{basic_only_server}")
    dataset = _numbered(2_500)
    store.load(dataset)
    uploads = _BasicOnlyServer.uploads
    assert [method for method, _ in uploads] == ["PUT", "POST", "POST"]
    parts = [Graph().parse(data=body.decode(), format="nt") for _, body in uploads]
    assert [len(part) for part in parts] == [1_000, 1_000, 500]
    assert set().union(*parts) == set(dataset.graph(STATEMENTS_GRAPH))


LINKED_BLANK_NODES = """
@prefix ex: <https://example.org/> .
ex:a ex:p 1, 2, 3 ; ex:list (ex:x ex:y ex:z) ; ex:q [ ex:r [ ex:s 4 ] ] .
[] ex:t 5, 6 .
"""


def test_blank_nodes_stay_themselves_across_the_requests_of_a_graph(sparql_server, monkeypatch) -> None:
    """A blank node label names one node only within its request: the triples of linked blank nodes (a list, a
    nested description) go in one request, and the graph comes back as it went in."""
    monkeypatch.setattr("kg.store._LOAD_BATCH", 2)
    dataset = Dataset()
    dataset.graph(STATEMENTS_GRAPH).parse(data=LINKED_BLANK_NODES, format="turtle")
    sparql_server.load(dataset)
    assert isomorphic(sparql_server.dataset().graph(STATEMENTS_GRAPH), dataset.graph(STATEMENTS_GRAPH))


VIRTUOSO_DEADLOCK_PAGE = virtuoso_error_page("40001", "SR172: Transaction deadlocked").encode()


class _DeadlockedGraphStore(BaseHTTPRequestHandler):
    """A server whose Graph Store answers every upload as Virtuoso's does when its loader deadlocks (queries and
    updates succeed: no graphs)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = json.dumps({"head": {"vars": ["g"]}, "results": {"bindings": []}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(500, "Request Failed")
        self.send_header("Content-Type", "text/html; charset=UTF-8")
        self.send_header("Content-Length", str(len(VIRTUOSO_DEADLOCK_PAGE)))
        self.end_headers()
        self.wfile.write(VIRTUOSO_DEADLOCK_PAGE)

    def log_message(self, *args: object) -> None:
        """Quiet."""


def test_a_refusal_in_an_html_page_gives_the_servers_own_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """Virtuoso's Graph Store explains a 500 in an HTML page: the error keeps its text, not its first line
    (the doctype)."""
    server = HTTPServer(("127.0.0.1", 0), _DeadlockedGraphStore)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/sparql"
    monkeypatch.setenv("KG_SPARQL_GRAPH_STORE_URL", url)
    try:
        with pytest.raises(StoreError) as refused:
            create_store(f"sparql:{url}").load(_numbered(3))
    finally:
        server.shutdown()
        server.server_close()
    assert str(refused.value).endswith("answered 500 Request Failed: Error 40001 SR172: Transaction deadlocked")


def test_a_large_graph_loads_into_the_server(enriched_built) -> None:
    """Virtuoso answers a PUT without credentials by 401 before reading it: a body larger than the socket's
    buffers must go once, authenticated. The server holds the session's project store, put back afterwards."""
    store = create_store(f"sparql:{sparql_test_url()}")
    try:
        store.load(_numbered(30_000))
        count = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{STATEMENTS_GRAPH}> {{ ?s ?p ?o }} }}")
    finally:
        store.load(enriched_built.dataset)
    assert int(next(iter(count))[0]) == 30_000


@pytest.mark.parametrize("kind", ["oxigraph", "sparql"])
def test_the_cli_reads_a_fresh_store_as_it_reads_memory(kind: str, built_project, tmp_path_factory) -> None:
    """`kg --store SPEC query --why` and `kg describe` on the project's data in oxigraph and the SPARQL server,
    loaded as `kg build` loads them (the writer closed before the readers open: an oxigraph reader must not
    open a directory a writer still holds)."""
    from click.testing import CliRunner
    from conftest import store_spec

    from kg.build import cache_key
    from kg.cli import app
    from kg.query import load_catalogue, run_query, why

    spec = store_spec(kind, tmp_path_factory)
    writer = create_store(spec)
    writer.load(built_project.dataset)
    writer.set_build_key(cache_key(Project()))
    del writer
    runner = CliRunner()
    args = ["query", "operations-with", "--param", "partner=NATO", "--why", "-f", "json"]
    answer = runner.invoke(app, ["--store", spec, *args])
    assert answer.exit_code == 0, answer.stderr
    query = load_catalogue(Project().queries)["operations-with"]
    reference = run_query(built_project.dataset, query, {"partner": "NATO"})
    expected = serialize_result(reference, "json", why(built_project.dataset, reference))
    assert json.loads(answer.stdout) == json.loads(expected)
    described = runner.invoke(app, ["--store", spec, "describe", "NORAD"], env={"COLUMNS": "250"})
    assert described.exit_code == 0, described.stderr
    assert "North American Aerospace Defense Command" in described.stdout
    assert "“we work together in NORAD”" in described.stdout


def test_stores_can_be_queried_from_several_threads() -> None:
    """The in-store build validates in a thread while it reasons: rdflib's SPARQL parser, which every
    Store.query goes through, fails on valid queries when two threads parse at once unless kg.query serialises
    it. Distinct texts, so that no parse comes from the cache."""
    store = create_store("oxigraph")
    texts = [f"SELECT ?s WHERE {{ ?s ?p {n} FILTER (?p != <urn:p{n}>) }}" for n in range(200)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda text: len(store.query(text, where=text)), texts))
    assert answers == [0] * len(texts)


WIDE_NUMBERS = """
@prefix ex: <https://example.org/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:a ex:n 9700000000, -2147483649, 2147483647 .
ex:b ex:n "9700000000"^^xsd:decimal, "2"^^xsd:decimal .
[] ex:n 5 .
"""


def test_a_server_keeps_the_datatype_of_an_integer_beyond_32_bits(sparql_server) -> None:
    """Virtuoso's Graph Store makes 9700000000 an xsd:decimal (a sh:datatype xsd:decimal would then pass it):
    such a triple is loaded by SPARQL Update instead, and each number comes back as it went in."""
    dataset = Dataset()
    dataset.graph(STATEMENTS_GRAPH).parse(data=WIDE_NUMBERS, format="turtle")
    sparql_server.load(dataset)
    returned = sparql_server.dataset().graph(STATEMENTS_GRAPH)
    assert isomorphic(returned, dataset.graph(STATEMENTS_GRAPH))
    numbers = set(returned.objects())
    assert Literal(9700000000) in numbers and Literal("9700000000", datatype=XSD.decimal) in numbers


@pytest.mark.parametrize(
    ("node", "written"),
    [
        (URIRef("https://w3id.org/defence-kg/id/NORAD"), "<https://w3id.org/defence-kg/id/NORAD>"),
        (URIRef("https://w3id.org/defence-kg/id/No such"), None),  # no IRI: a query cannot write it
        (BNode("nodeID://b10006"), "<nodeID://b10006>"),  # Virtuoso's name for its blank node, which it accepts back
        (BNode("b0"), None),  # another server's label: in a query, a blank node is a variable
        (Literal('"NORAD"', lang="fr"), '"\\"NORAD\\""@fr'),
    ],
)
def test_a_sparql_view_writes_each_term_a_query_can_name(node, written: str | None) -> None:
    from kg.sparql_view import sparql_term

    assert sparql_term(node) == written


def test_a_server_whose_blank_nodes_no_query_can_name_is_read_from_a_copy(
    sparql_server, built_fixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kg.sparql_view names a blank node (a quote's selector) by the IRI Virtuoso gives it. A server whose blank
    nodes no query can name (here: Virtuoso's labels taken for another server's) is read from a copy instead,
    which holds their statements; a view read in place would find none."""
    from kg import sparql_view

    sparql_server.load(built_fixture.dataset)
    selectors = [(s, p, o) for s, p, o in built_fixture.dataset.graph(STATEMENTS_GRAPH) if isinstance(s, BNode)]
    assert selectors  # (the fixture's claims have their quotes' selectors)
    assert isinstance(sparql_server.view().store, sparql_view.SPARQLStore)
    monkeypatch.setattr(sparql_view, "VIRTUOSO_BLANK", "urn:x-other-server:")
    copy = sparql_server.view()
    assert not isinstance(copy.store, sparql_view.SPARQLStore)
    assert isomorphic(copy.graph(STATEMENTS_GRAPH), built_fixture.dataset.graph(STATEMENTS_GRAPH))


def test_a_whole_graph_cut_short_by_a_servers_row_cap_is_refused(project_store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server's cap on result rows (Virtuoso: ResultSetMaxRows) cuts an answer short without saying so: a whole
    graph read through a SPARQL server's view (an export, a document of kg serve) is counted too, and refused when
    rows are missing (here the server's answers lose their last row, as at a cap)."""
    from kg.export import serialize_store

    if not project_store.spec.startswith("sparql:"):
        pytest.skip("only a SPARQL server caps its answers")
    query_trusted = project_store.query_trusted

    def capped(text: str, graphs=()):
        answer = query_trusted(text, graphs)
        if answer.type == "SELECT" and "count(" not in text.lower():
            answer.bindings = answer.bindings[:-1]
        return answer

    monkeypatch.setattr(project_store, "query_trusted", capped)
    with pytest.raises(StoreError, match=rf"^store {project_store.spec} returned (\d+) of its \d+ quads: raise") as refused:
        serialize_store(project_store, "nt", Project().context)
    returned, expected = map(int, re.findall(r"returned (\d+) of its (\d+)", str(refused.value))[0])
    assert expected == returned + 1


@pytest.mark.parametrize("modifiers", ["LIMIT 1", "ORDER BY ?s LIMIT 1", "OFFSET 0 LIMIT 1"])
def test_construct_where_runs_with_solution_modifiers(modifiers: str) -> None:
    """The short form's template is its WHERE pattern: rdflib failed to find it behind a LIMIT or an ORDER BY."""
    dataset = new_dataset()
    for node, name in ((ID.a, "a"), (ID.b, "b")):
        dataset.graph(STATEMENTS_GRAPH).add((node, RDFS.label, Literal(name)))
    result = MemoryStore(dataset).query(f"CONSTRUCT WHERE {{ ?s rdfs:label ?l }} {modifiers}")
    [triple] = result.graph  # one solution, so one triple: the template applied to it
    assert triple in {(ID.a, RDFS.label, Literal("a")), (ID.b, RDFS.label, Literal("b"))}
    if "ORDER BY" in modifiers:
        assert triple == (ID.a, RDFS.label, Literal("a"))


def test_every_store_reads_the_literals_and_names_kg_ask_indexes_alike(project_store, enriched_built) -> None:
    """Store.literals and Store.names_by, which each store reads itself (kg.ask's vocabulary and entity index),
    give what the reference build holds."""
    reference = MemoryStore(enriched_built.dataset)
    graphs = [STATEMENTS_GRAPH, ONTOLOGY_GRAPH]
    literals = reference.literals(graphs)
    assert ("Commandement de la défense aérospatiale de l'Amérique du Nord", "fr") in literals
    assert ("C07", None) in literals  # a claim's identifier: no language
    assert project_store.literals(graphs) == literals
    names = reference.names_by((RDFS.label, SKOS.altLabel))
    assert {(ID.NORAD, SKOS.altLabel, "NORAD", "en"), (ID.NORAD, SKOS.altLabel, "NORAD", "fr")} <= names
    assert all(isinstance(node, URIRef) for node, *_ in names)
    assert project_store.names_by((RDFS.label, SKOS.altLabel)) == names


def test_why_quotes_the_claims_of_a_blank_node(built_project) -> None:
    """A row about a blank node (which no query can name) gets its claims' quotes, as a row about an IRI does."""
    dataset = copy_of(built_project.dataset)
    amount = BNode()
    statements = dataset.graph(STATEMENTS_GRAPH)
    statements.add((amount, KG.supportedBy, CLAIM.C22))
    statements.add((amount, RDFS.label, Literal("an amount without a name", lang="en")))
    result = MemoryStore(dataset).query("SELECT ?node ?label WHERE { ?node rdfs:label ?label FILTER(isBlank(?node)) }")
    supports = why(dataset, result)
    assert [(support.node, [quoted.id for quoted in support.claims]) for support in supports] == [(amount, ["C22"])]
