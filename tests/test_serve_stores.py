"""`kg --store SPEC serve` on each store: the same protocol, safety and pages as the memory server (`kg_server`).

Each store gets its own server (`--max-rows 1000 --timeout 5`): memory (built from the project), oxigraph (filled
by `kg --store oxigraph:PATH build`) and the SPARQL test server (the session's `project_store`, whose build key
is set to the project's so that the server accepts it). Expected answers come from the source: "At home, we work
together in NORAD" (C07), "Canadian ships and aircraft cooperate with the U.S. in the Caribbean" (C20), "Canada
works with the United States and Allies to enforce sanctions on North Korea" (C38) are the operations with the
United States; Canada is a member of NATO; id:NORAD is labelled "North American Aerospace Defense Command".
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from rdflib import Graph, Literal, URIRef, Variable
from rdflib.compare import isomorphic
from rdflib.namespace import RDFS
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from conftest import ServerProcess, start_server, strictly_read
from kg.build import CACHE_ENV, Built, cache_key
from kg.load import Project, curie
from kg.namespaces import CLAIM, GRAPH, ID, KG, ONTOLOGY_GRAPH, PROJECT_ROOT, STATEMENTS_GRAPH
from kg.query import load_catalogue
from kg.serve import Settings, named_graph
from kg.store import bind_values

KG_COMMAND = str(Path(sys.executable).with_name("kg"))
MAX_ROWS = 1000
OPERATIONS_WITH_US = bind_values(
    load_catalogue(PROJECT_ROOT / "queries")["operations-with"].text, {Variable("partner"): ID.UnitedStates}
)
MEMBER_OF_NATO = "ASK { id:CanadaNATOMembership org:member id:Canada ; org:organization id:NATO }"
SUPPORTED_BY = "CONSTRUCT WHERE { id:NORADCooperation kg:supportedBy ?claim }"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def served(project_store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ServerProcess]]:
    """(store kind, `kg --store SPEC serve` on the project's data in that store)."""
    kind = project_store.spec.partition(":")[0]
    directory = tmp_path_factory.mktemp(f"serve-{kind}")
    spec = project_store.spec
    if kind == "oxigraph":  # a store of its own, as a user builds it (the session's is held by its writer)
        spec = f"oxigraph:{directory / 'store'}"
        environment = {**os.environ, CACHE_ENV: str(directory / "cache")}
        built = subprocess.run([KG_COMMAND, "--store", spec, "build", "--out", str(directory / "dist")],
                               cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True)
        assert built.returncode == 0, built.stderr
    elif kind == "sparql":
        project_store.set_build_key(cache_key(Project()))
    with start_server(directory, "--max-rows", str(MAX_ROWS), "--timeout", "5", options=("--store", spec)) as server:
        yield kind, server


def _post(server: ServerProcess, query: str, accept: str, **dataset: list[str]) -> httpx.Response:
    fields = [("query", query)] + [(name.replace("_", "-"), iri) for name, iris in dataset.items() for iri in iris]
    headers = {"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"}
    return httpx.post(f"{server.url}/sparql", content=urlencode(fields), headers=headers, timeout=60)


def _rows(response: httpx.Response) -> list[dict]:
    assert response.status_code == 200, response.text
    return json.loads(response.text)["results"]["bindings"]


def _ask(server: ServerProcess, query: str, **dataset: list[str]) -> bool:
    response = _post(server, query, "application/sparql-results+json", **dataset)
    assert response.status_code == 200, response.text
    return json.loads(response.text)["boolean"]


def test_select_ask_and_construct_answer_as_on_memory(served, kg_server: ServerProcess) -> None:
    kind, server = served
    rows = _rows(_post(server, OPERATIONS_WITH_US, "application/sparql-results+json"))
    # ordered by English label: "Canada–US cooperation in NORAD", "enforcement of sanctions on North Korea",
    # "interdiction of illegal drugs in the Caribbean"
    assert [curie(URIRef(row["activity"]["value"])) for row in rows] == [
        "id:NORADCooperation", "id:NorthKoreaSanctionsEnforcement", "id:CaribbeanDrugInterdiction"]
    assert rows == _rows(_post(kg_server, OPERATIONS_WITH_US, "application/sparql-results+json"))
    assert _ask(server, MEMBER_OF_NATO) is True
    assert _ask(server, "ASK { id:Canada org:memberOf id:NoSuchOrganisation }") is False
    construct = _post(server, SUPPORTED_BY, "text/turtle")
    assert construct.status_code == 200 and construct.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=construct.text, format="turtle")
    assert set(graph) == {(ID.NORADCooperation, KG.supportedBy, CLAIM.C07)}
    assert set(graph) == set(Graph().parse(data=_post(kg_server, SUPPORTED_BY, "text/turtle").text, format="turtle"))


def test_the_protocol_dataset_is_honoured(served) -> None:
    kind, server = served
    ontology, statements = str(GRAPH.ontology), str(GRAPH.statements)
    owl_class = "ASK { kg:Claim a owl:Class }"
    assert _ask(server, owl_class) is True  # the union of the graphs
    assert _ask(server, owl_class, default_graph_uri=[ontology]) is True
    assert _ask(server, owl_class, default_graph_uri=[statements]) is False
    assert _ask(server, owl_class, named_graph_uri=[ontology]) is False  # the default graph is then empty
    assert _ask(server, f"ASK {{ GRAPH <{ontology}> {{ kg:Claim a owl:Class }} }}", named_graph_uri=[ontology]) is True
    assert _ask(server, "ASK { GRAPH ?g { kg:Claim a owl:Class } }", default_graph_uri=[ontology],
                named_graph_uri=[statements]) is False
    # the protocol's dataset replaces the query's own FROM
    assert _ask(server, f"ASK FROM <{ontology}> {{ kg:Claim a owl:Class }}") is True
    assert _ask(server, f"ASK FROM <{ontology}> {{ kg:Claim a owl:Class }}", default_graph_uri=[statements]) is False


@pytest.mark.parametrize(
    ("query", "dataset", "message"),
    [
        ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", {}, "query: SERVICE is not allowed"),
        ("SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }", {},
         "query: FROM <http://example.org/g> is not a graph of this dataset"),
        ("ASK {}", {"named_graph_uri": ["http://example.org/g"]},
         "query: named-graph-uri <http://example.org/g> is not a graph of this dataset"),
    ],
)
def test_what_leaves_the_dataset_is_refused(served, query: str, dataset: dict, message: str) -> None:
    response = _post(served[1], query, "*/*", **dataset)
    assert response.status_code == 400 and response.text.startswith(message), response.text


def test_the_row_cap_is_an_error_never_a_partial_answer(served) -> None:
    kind, server = served
    everything = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"  # thousands of triples
    response = _post(server, everything, "text/csv")
    assert response.status_code == 422 and f"more than {MAX_ROWS} rows" in response.text, response.text
    limited = _post(server, f"{everything} LIMIT {MAX_ROWS}", "text/csv")
    assert limited.status_code == 200 and len(list(csv.reader(io.StringIO(limited.text)))) == MAX_ROWS + 1
    # every store stops evaluating at the cap (the SPARQL server gets LIMIT cap + 1): a cross join of millions of
    # rows is quick; unlimited, the server would send its own cap's worth (a million rows) after the time limit
    cross = _post(server, "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }", "text/csv")
    assert cross.status_code == 422 and f"more than {MAX_ROWS} rows" in cross.text, cross.text


def test_a_runaway_query_is_stopped(served) -> None:
    kind, server = served
    if kind == "sparql":
        pytest.skip("the SPARQL server evaluates its queries itself: its own time limit applies")
    response = _post(server, RUNAWAY, "application/sparql-results+json")
    assert response.status_code == 503 and "stopped after the server's time limit of 5 s" in response.text
    assert _ask(server, MEMBER_OF_NATO) is True  # the killed worker was replaced


def test_entity_pages_and_documents(served) -> None:
    kind, server = served
    with httpx.Client(base_url=server.url, timeout=60) as client:
        assert client.get("/id/NORAD", headers={"Accept": "text/turtle"}).headers["location"] == "/data/NORAD.ttl"
        document = client.get("/data/NORAD.ttl")
        page = client.get("/page/NORADCooperation")
        assert client.get("/id/NoSuchEntity").status_code == 404
        # an IRI no query can write (a space) is in no store: a 404, not a query the server refuses
        unwritable = [client.get(path).status_code for path in ("/id/No%20such", "/data/No%20such.ttl", "/page/No%20such")]
        assert unwritable == [404, 404, 404]
    assert document.status_code == 200 and document.headers["content-type"].startswith("text/turtle")
    description = Graph().parse(data=document.text, format="turtle")
    assert (ID.NORAD, RDFS.label, Literal("North American Aerospace Defense Command", lang="en")) in description
    assert (ID.NORAD, KG.supportedBy, CLAIM.C07) in description
    assert page.status_code == 200 and "Canada–US cooperation in NORAD" in page.text
    assert "we work together in NORAD" in page.text


def test_updates_and_extra_graphs_need_the_memory_store(tmp_path: Path) -> None:
    spec = f"oxigraph:{tmp_path / 'store'}"
    for options in (["--allow-update", "--token", "secret"], ["--graph", f"urn:x:g={tmp_path / 'g.ttl'}"]):
        result = subprocess.run([KG_COMMAND, "--store", spec, "serve", "--port", "0", *options],
                                cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
        assert result.returncode == 2
        assert f"--store {spec} is served read-only" in result.stderr


PAGES = ("/", "/page/NORAD", "/page/NORADCooperation", "/page/claim/C07", "/page/NORADFounding", "/document",
         "/entities?group=kg:State", "/entities?group=other",
         "/ask?q=Which+operations+does+Canada+conduct+with+the+United+States%3F")


def test_pages_are_the_memory_servers(served, kg_server: ServerProcess) -> None:
    """The HTML pages read the store in place (Oxigraph: through kg.view; a SPARQL server: through kg.sparql_view,
    its blank nodes, the quotes' selectors, named by Virtuoso's nodeID IRIs) and show what the memory server shows;
    /ask runs its query on the store."""
    _, server = served
    with httpx.Client(base_url=server.url, timeout=60) as store_client, httpx.Client(base_url=kg_server.url, timeout=60) as memory_client:
        for path in PAGES:
            page, expected = store_client.get(path), memory_client.get(path)
            assert (page.status_code, expected.status_code) == (200, 200), path
            assert page.text == expected.text, path
        # read strictly: Virtuoso's blank node labels (nodeID://b10426) were written as they are, in N-Triples
        # and RDF/XML no parser reads
        for path, fmt in (("/data/NORAD.ttl", "turtle"), ("/data/claim/C07.ttl", "turtle"), ("/data/claim/C07.nt", "nt"),
                          ("/data/claim/C07.rdf", "xml")):
            description = strictly_read(store_client.get(path).content, fmt)
            assert isomorphic(description, strictly_read(memory_client.get(path).content, fmt)), path


def test_a_sparql_store_is_read_in_place(served, project_store) -> None:
    """The pages read what the SPARQL server holds when they are asked for, not a copy made at start-up: a label
    another client adds to NORAD afterwards is on NORAD's page, and gone once removed."""
    kind, server = served
    if kind != "sparql":
        pytest.skip("only a SPARQL server's data can change under kg serve (it holds an oxigraph store read-only)")
    added = f'GRAPH <{STATEMENTS_GRAPH}> {{ id:NORAD rdfs:label "Nordamerikanisches Luft- und Weltraum-Verteidigungskommando"@de }}'
    project_store.update(f"INSERT DATA {{ {added} }}")
    try:
        page = httpx.get(f"{server.url}/page/NORAD", timeout=60)
    finally:
        project_store.update(f"DELETE DATA {{ {added} }}")
    assert page.status_code == 200
    assert '<dd lang="de">Nordamerikanisches Luft- und Weltraum-Verteidigungskommando</dd>' in page.text
    assert "Weltraum" not in httpx.get(f"{server.url}/page/NORAD", timeout=60).text


def test_a_whole_graph_is_read_from_a_sparql_server_at_once(project_store, built_project,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """/graph/ontology.ttl from a SPARQL server's view: the ontology graph as built, read in one query and counted
    in another (rdflib's Turtle writer reads a graph subject by subject: a query each on the view itself)."""
    if not project_store.spec.startswith("sparql:"):
        pytest.skip("only a SPARQL server's view reads a query a lookup")
    reads = []
    query_trusted = project_store.query_trusted
    monkeypatch.setattr(project_store, "query_trusted", lambda *args: reads.append(args) or query_trusted(*args))
    app = Starlette(routes=[Route("/graph/{name:path}", named_graph)])
    app.state.built, app.state.settings = Built(project_store.view(), report=None), Settings()
    response = TestClient(app).get("/graph/ontology.ttl")
    assert response.status_code == 200
    assert isomorphic(Graph().parse(data=response.text, format="turtle"), built_project.dataset.graph(ONTOLOGY_GRAPH))
    assert sorted(text.split("{")[0].strip() for text, _ in reads) == ["SELECT (count(*) as ?c) WHERE", "SELECT ?s ?p ?o"]


def test_ask_answers_on_every_store(served) -> None:
    """/ask on each store's server: the operations with the United States (C07, C20, C38), their quotes from the
    store itself, as the memory server gives them. A store's server keeps kg ask's index in its build cache, for
    the next server or command (the memory store's build changes under updates: never kept)."""
    kind, server = served
    response = httpx.get(f"{server.url}/ask", params={"q": "Which operations does Canada conduct with the US?",
                                                      "format": "json"}, timeout=60)
    assert response.status_code == 200, response.text
    reply = response.json()
    assert (reply["status"], reply["query"], reply["total"]) == ("answered", "operations-with", 3)
    assert sorted(quote["id"] for quotes in reply["quotes"] for quote in quotes) == ["C07", "C20", "C21", "C38"]
    saved = list((server.log.parent / "cache" / "ask").glob("*.pickle"))
    assert len(saved) == (0 if kind == "memory" else 1)


def test_a_store_server_makes_kg_asks_index_at_start_up(project_store, enriched_built) -> None:
    """On a store read in place, kg serve makes kg ask's Asker in the background as it starts (at 2 M triples it
    takes half a minute), so that no question waits for it; without a question asked, it is there."""
    if project_store.spec == "memory":
        pytest.skip("on the memory store the first question makes it (about a second)")
    import kg.ask
    from kg.serve import create_app

    built = Built(project_store.view(), report=None)
    app = create_app(built, Settings(project=Project(), workers=1, max_workers=1), lambda: project_store)
    with TestClient(app):
        for thread in threading.enumerate():  # (the one still making it, if any)
            if thread.name == "ask-index":
                thread.join()
        assert kg.ask._ASKERS[id(built.dataset)][0] is built.dataset  # noqa: SLF001
