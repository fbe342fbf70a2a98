"""`kg serve` as clients see it: a real SPARQL client, every result format, the service description (the three
W3C tests), protocol errors, the row cap, and dereferencing of the project's IRIs (Cool URIs: 303 by Accept).

Expected answers come from the source: 52 claims; C07 quotes "we work together in NORAD" and supports
id:NORADCooperation; C12 quotes "NORAD celebrated its 65th anniversary in 2023" and id:NORADFounding is derived
from it; Canada is a member of NATO.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import httpx
import pytest
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS
from SPARQLWrapper import CSV, JSON, TURTLE, XML, SPARQLWrapper

from conftest import ServerProcess, start_server
from kg.build import Built
from kg.namespaces import CLAIM, GRAPH, ID, KG, OA, ONTOLOGY_GRAPH, PROJECT_ROOT, PROV, SD, SH, STATEMENTS_GRAPH

SD_SUITE = Path(__file__).parent / "fixtures" / "w3c" / "sparql11-service-description" / "manifest.ttl"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
CLAIM_COUNT = "SELECT (COUNT(?claim) AS ?n) WHERE { ?claim a <https://w3id.org/defence-kg/ontology#Claim> }"
CROSS_JOIN = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }"


def _client(server: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30)


def _sparql(server: ServerProcess, query: str, accept: str = "*/*") -> httpx.Response:
    with _client(server) as client:
        return client.post("/sparql", data={"query": query}, headers={"Accept": accept})


# --- a real client -----------------------------------------------------------------------------------------


def _wrapper(server: ServerProcess, query: str, fmt: str) -> SPARQLWrapper:
    client = SPARQLWrapper(f"{server.url}/sparql")
    client.setQuery(query)
    client.setReturnFormat(fmt)
    return client


def test_sparqlwrapper_select_json_and_xml(kg_server: ServerProcess) -> None:
    document = _wrapper(kg_server, CLAIM_COUNT, JSON).query().convert()
    assert document["results"]["bindings"][0]["n"]["value"] == "52"
    tree = _wrapper(kg_server, CLAIM_COUNT, XML).query().convert()  # a DOM document
    assert tree.getElementsByTagName("literal")[0].firstChild.data == "52"
    rows = list(csv.reader(io.StringIO(_wrapper(kg_server, CLAIM_COUNT, CSV).query().convert().decode())))
    assert rows == [["n"], ["52"]]


def test_sparqlwrapper_ask_and_construct(kg_server: ServerProcess) -> None:
    member = "ASK { id:CanadaNATOMembership org:member id:Canada ; org:organization id:NATO }"
    assert _wrapper(kg_server, member, JSON).query().convert()["boolean"] is True
    assert _wrapper(kg_server, "ASK { ?s a <urn:x:NoSuchClass> }", XML).query().convert().getElementsByTagName(
        "boolean")[0].firstChild.data == "false"
    construct = "CONSTRUCT { ?claim <urn:x:quote> ?quote } WHERE { claim:C07 oa:hasSelector/oa:exact ?quote . BIND(claim:C07 AS ?claim) }"
    graph = _wrapper(kg_server, construct, XML).query().convert()  # RDF/XML, parsed by SPARQLWrapper into a Graph
    assert set(graph) == {(CLAIM.C07, URIRef("urn:x:quote"), Literal("we work together in NORAD"))}
    turtle = _wrapper(kg_server, construct, TURTLE).query().convert()
    assert set(Graph().parse(data=turtle, format="turtle")) == set(graph)


# --- formats -----------------------------------------------------------------------------------------------

SELECT_C07 = "SELECT ?quote WHERE { claim:C07 oa:hasSelector/oa:exact ?quote }"


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/sparql-results+json", "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("*/*", "application/sparql-results+json"),
    ],
)
def test_select_formats(kg_server: ServerProcess, accept: str, media_type: str) -> None:
    response = _sparql(kg_server, SELECT_C07, accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    assert response.headers["vary"].startswith("Accept")
    text = response.text
    if media_type.endswith("json"):
        assert json.loads(text)["results"]["bindings"] == [
            {"quote": {"type": "literal", "value": "we work together in NORAD"}}]
    elif media_type.endswith("xml"):
        literal = ElementTree.fromstring(text).find(".//{http://www.w3.org/2005/sparql-results#}literal")
        assert literal.text == "we work together in NORAD"
    elif media_type == "text/csv":
        assert text.splitlines() == ["quote", "we work together in NORAD"]
    else:
        assert text.splitlines() == ["?quote", '"we work together in NORAD"']


@pytest.mark.parametrize(
    ("accept", "syntax"),
    [("text/turtle", "turtle"), ("application/ld+json", "json-ld"), ("application/n-triples", "nt"),
     ("application/rdf+xml", "xml")],
)
def test_construct_and_describe_formats(kg_server: ServerProcess, accept: str, syntax: str) -> None:
    construct = _sparql(kg_server, "CONSTRUCT WHERE { id:NORADCooperation kg:supportedBy ?claim }", accept)
    assert construct.status_code == 200 and construct.headers["content-type"].startswith(accept)
    assert set(Graph().parse(data=construct.content, format=syntax)) == {
        (ID.NORADCooperation, KG.supportedBy, CLAIM.C07)}
    described = _sparql(kg_server, "DESCRIBE id:NORADCooperation", accept)
    graph = Graph().parse(data=described.content, format=syntax)
    assert (ID.NORADCooperation, KG.withPartner, ID.UnitedStates) in graph


def test_unacceptable_accept_is_406(kg_server: ServerProcess) -> None:
    response = _sparql(kg_server, SELECT_C07, "image/png")
    assert response.status_code == 406 and "application/sparql-results+json" in response.text


# --- service description: the W3C's three tests, as its validator defines them ---------------------------


def _sd_tests() -> list[str]:
    manifest = Graph().parse(SD_SUITE)
    root = next(manifest.subjects(RDF.type, MF.Manifest))
    return [str(entry).rpartition("#")[2] for entry in Collection(manifest, manifest.value(root, MF.entries))]


def test_the_service_description_suite_has_three_tests() -> None:
    assert sorted(_sd_tests()) == ["conforms-to-schema", "has-endpoint-triple", "returns-rdf"]


@pytest.mark.parametrize("name", _sd_tests())
def test_w3c_service_description(kg_server: ServerProcess, name: str) -> None:
    endpoint = f"{kg_server.url}/sparql"
    response = httpx.get(endpoint, headers={"Accept": "text/turtle, application/rdf+xml;q=0.9"})
    assert response.status_code == 200  # returns-rdf: a GET without a query answers RDF
    description = Graph().parse(data=response.content, format="turtle")
    if name == "has-endpoint-triple":  # some node has sd:endpoint <the URL fetched>
        assert list(description.subjects(SD.endpoint, URIRef(endpoint)))
    elif name == "conforms-to-schema":  # every sd:NamedGraph has an sd:name
        named = list(description.subjects(RDF.type, SD.NamedGraph))
        assert named and all(description.value(graph, SD.name) is not None for graph in named)
    else:
        assert name == "returns-rdf" and len(description) > 0


def test_service_description_lists_the_graphs_and_formats(kg_server: ServerProcess, built_project: Built) -> None:
    description = Graph().parse(data=httpx.get(f"{kg_server.url}/sparql").content, format="turtle")
    names = set(description.objects(None, SD.name))
    # the document's four graphs and the links' two (no enrichment cache in a fresh checkout)
    assert names == {GRAPH.ontology, GRAPH.statements, GRAPH.sources, GRAPH.inferred, GRAPH.links, GRAPH["offline/pycountry"]}
    assert (None, SD.supportedLanguage, SD.SPARQL11Query) in description
    assert (None, SD.supportedLanguage, SD.SPARQL11Update) not in description  # read-only
    assert len(set(description.objects(None, SD.resultFormat))) == 8
    assert (None, SD.feature, SD.BasicFederatedQuery) not in description  # no SERVICE


def test_a_browser_is_sent_to_the_query_page(kg_server: ServerProcess) -> None:
    response = httpx.get(f"{kg_server.url}/sparql", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 303 and response.headers["location"] == "/query"


# --- protocol errors, limits -------------------------------------------------------------------------------


def test_a_syntax_error_is_400_with_the_parsers_message(kg_server: ServerProcess) -> None:
    response = _sparql(kg_server, "SELECT ?x WHERE { ?x a }")
    assert response.status_code == 400
    assert response.text.startswith("query:1:19: SPARQL syntax error: Expected")


def test_methods_and_media_types(kg_server: ServerProcess) -> None:
    with _client(kg_server) as client:
        for refused in (client.put("/sparql", content="ASK {}"), client.delete("/sparql")):
            assert refused.status_code == 405 and refused.headers["allow"] == "GET, HEAD, POST"
            assert refused.text.endswith(" is not allowed on /sparql; use GET, HEAD, POST\n")
        unknown = client.get("/nothing/here")
        assert unknown.status_code == 404
        assert unknown.text.startswith("nothing is served at /nothing/here; see / (the index of entities), /sparql")
        assert client.post("/sparql", content="ASK {}", headers={"Content-Type": "text/plain"}).status_code == 415
        assert client.post("/sparql", content="ASK {}").status_code == 415  # no Content-Type at all
        both = client.post("/sparql", data={"query": "ASK {}", "update": "CLEAR ALL"})
        assert both.status_code == 400
        twice = client.post("/sparql?query=ASK%7B%7D", content="ASK {}", headers={"Content-Type": "application/sparql-query"})
        assert twice.status_code == 400 and "the URL must not carry another" in twice.text


@pytest.mark.parametrize("accept, syntax", [("text/turtle", "turtle"), ("application/n-triples", "nt"),
                                            ("application/rdf+xml", "xml"), ("application/ld+json", "json-ld")])
def test_construct_leaves_out_what_is_not_rdf(kg_server: ServerProcess, accept: str, syntax: str) -> None:
    # SPARQL 1.1, 16.2: a template's triple with a literal subject or predicate, or a string IRI() cannot make an
    # IRI of, is left out of the graph; the others stay
    query = """CONSTRUCT { ?literal <urn:x:p> <urn:x:o> . <urn:x:s> ?literal <urn:x:o> . ?notIri <urn:x:p> 1 .
                          <urn:x:s> ?relative 1 . <urn:x:s> <urn:x:p> ?iri }
               WHERE { BIND("lit" AS ?literal) BIND(IRI("a b>") AS ?notIri) BIND(IRI("1") AS ?relative)
                       BIND(IRI("urn:x:kept") AS ?iri) }"""
    response = _sparql(kg_server, query, accept)
    assert response.status_code == 200, response.text
    graph = Graph().parse(data=response.content, format=syntax)
    assert set(graph) == {(URIRef("urn:x:s"), URIRef("urn:x:p"), URIRef("urn:x:kept"))}


def test_the_row_cap_is_an_error_never_a_partial_answer(kg_server: ServerProcess) -> None:
    response = _sparql(kg_server, CROSS_JOIN, "text/csv")  # millions of rows, stopped at the 10 001st
    assert response.status_code == 422
    assert "more than 10000 rows" in response.text and "LIMIT" in response.text
    limited = _sparql(kg_server, CROSS_JOIN + " LIMIT 10000", "text/csv")
    assert limited.status_code == 200 and len(list(csv.reader(io.StringIO(limited.text)))) == 10001


def test_cors_allows_any_origin_without_credentials(kg_server: ServerProcess) -> None:
    response = httpx.get(f"{kg_server.url}/sparql?query=ASK%7B%7D", headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    preflight = httpx.options(f"{kg_server.url}/sparql", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == "*"


# --- linked data -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "location"),
    [
        ("text/html,application/xhtml+xml,*/*;q=0.8", "/page/NORADCooperation"),
        ("text/turtle", "/data/NORADCooperation.ttl"),
        ("application/ld+json", "/data/NORADCooperation.jsonld"),
        ("application/n-triples", "/data/NORADCooperation.nt"),
        ("*/*", "/page/NORADCooperation"),
    ],
)
def test_entity_iris_redirect_by_accept(kg_server: ServerProcess, accept: str, location: str) -> None:
    response = httpx.get(f"{kg_server.url}/id/NORADCooperation", headers={"Accept": accept})
    assert response.status_code == 303
    assert response.headers["location"] == location
    assert response.headers["vary"].startswith("Accept")


def test_format_overrides_accept(kg_server: ServerProcess) -> None:
    response = httpx.get(f"{kg_server.url}/id/claim/C07?format=nt", headers={"Accept": "text/html"})
    assert response.status_code == 303 and response.headers["location"] == "/data/claim/C07.nt"
    assert httpx.get(f"{kg_server.url}/id/claim/C07?format=pdf").status_code == 400
    twice = httpx.get(f"{kg_server.url}/id/claim/C07?format=nt&format=html")
    assert (twice.status_code, twice.text) == (400, "the request has 2 'format' parameters; one is allowed\n")


def test_an_iri_the_graph_only_points_to_is_known(built_project: Built) -> None:
    """An IRI that is only ever the object of a statement is in the graph: /id redirects to its description (the
    statement pointing to it), not 404."""
    from dataclasses import replace

    from starlette.testclient import TestClient

    from conftest import copy_of
    from kg.serve import create_app

    dataset = copy_of(built_project.dataset)
    dataset.graph(STATEMENTS_GRAPH).add((ID.Canada, RDFS.seeAlso, ID.OnlyPointedTo))
    client = TestClient(create_app(replace(built_project, dataset=dataset)))  # (no lifespan: no query workers)
    response = client.get("/id/OnlyPointedTo", headers={"Accept": "text/turtle"}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/data/OnlyPointedTo.ttl")
    assert client.get("/id/NeverMentioned", follow_redirects=False).status_code == 404


def test_unknown_iris_are_404(kg_server: ServerProcess) -> None:
    with _client(kg_server) as client:
        assert client.get("/id/NoSuchEntity").status_code == 404
        assert client.get("/data/NoSuchEntity.ttl").status_code == 404
        assert client.get("/data/NORADCooperation.pdf").status_code == 404
        assert client.get("/graph/nosuchgraph").status_code == 404
        assert client.get("/ontology.pdf").status_code == 404


@pytest.mark.parametrize(("extension", "syntax"), [("ttl", "turtle"), ("jsonld", "json-ld"), ("nt", "nt")])
def test_entity_documents_hold_the_entity_and_its_quotes(
    kg_server: ServerProcess, built_project: Built, extension: str, syntax: str
) -> None:
    with _client(kg_server) as client:
        fact = Graph().parse(data=client.get(f"/data/NORADCooperation.{extension}").content, format=syntax)
        derived = Graph().parse(data=client.get(f"/data/NORADFounding.{extension}").content, format=syntax)
    for subject, graph in ((ID.NORADCooperation, fact), (ID.NORADFounding, derived)):
        assert set(built_project.dataset.triples((subject, None, None))) <= set(graph)
    assert set(fact.objects(None, OA.exact)) == {Literal("we work together in NORAD")}
    assert (ID.NORADFounding, PROV.wasDerivedFrom, CLAIM.C12) in derived
    assert set(derived.objects(None, OA.exact)) == {Literal("NORAD celebrated its 65th anniversary in 2023")}
    assert (ID.UnitedStates, RDFS.label, Literal("United States", lang="en")) in fact  # linked nodes are named


def test_ontology_shapes_and_graphs_dereference(kg_server: ServerProcess, built_project: Built) -> None:
    with _client(kg_server) as client:
        assert client.get("/ontology", headers={"Accept": "text/html"}).headers["location"] == "/docs/ontology/"
        assert client.get("/ontology", headers={"Accept": "text/turtle"}).headers["location"] == "/ontology.ttl"
        ontology = Graph().parse(data=client.get("/ontology.ttl").content, format="turtle")
        assert (KG.Claim, RDF.type, OWL.Class) in ontology
        assert client.get("/shapes", headers={"Accept": "application/ld+json"}).headers["location"] == "/shapes.jsonld"
        shapes = Graph().parse(data=client.get("/shapes.nt").content, format="nt")
        served = set(shapes.subjects(RDF.type, SH.NodeShape))
        assert served and served == set(Graph().parse(PROJECT_ROOT / "ontology" / "shapes.ttl").subjects(RDF.type, SH.NodeShape))
        located = client.get("/graph/statements", headers={"Accept": "text/turtle"}).headers["location"]
        assert located == "/graph/statements.ttl"
        statements = Graph().parse(data=client.get(located).content, format="turtle")
        # a graph whose name holds a slash
        located = client.get("/graph/offline/pycountry", headers={"Accept": "text/turtle"}).headers["location"]
        assert located == "/graph/offline/pycountry.ttl"
        pycountry = Graph().parse(data=client.get(located).content, format="turtle")
        # the ontology's version IRI, while it is the version served, and the SSSOM mapping set's IRI
        version = next(built_project.dataset.graph(ONTOLOGY_GRAPH).objects(None, OWL.versionIRI))
        path = str(version).removeprefix("https://w3id.org/defence-kg")
        assert client.get(path, headers={"Accept": "text/turtle"}).headers["location"] == "/ontology.ttl"
        assert client.get(path, headers={"Accept": "text/html"}).headers["location"] == "/docs/ontology/"
        other = client.get("/ontology/0.0.9")
        assert other.status_code == 404 and f"its version: {version}" in other.text
        mappings = client.get("/links.sssom.tsv")
        assert mappings.headers["content-type"] == "text/tab-separated-values; charset=utf-8"
        assert mappings.content == (PROJECT_ROOT / "data" / "links.sssom.tsv").read_bytes()
    for served_graph, name in ((statements, STATEMENTS_GRAPH), (pycountry, GRAPH["offline/pycountry"])):
        built_graph = Graph()
        built_graph += built_project.dataset.graph(name)
        assert len(built_graph) > 0 and isomorphic(served_graph, built_graph), name


# what ontology tools send: the OWL API (Protégé), and an RDF library preferring RDF/XML; both must get RDF/XML,
# never the HTML documentation that their */* or text/plain would otherwise match
OWL_API_ACCEPT = "application/rdf+xml, application/xml; q=0.7, text/xml; q=0.6, text/plain; q=0.1, */*; q=0.09"
RDF_LIBRARY_ACCEPT = ("application/rdf+xml, text/rdf+xml, text/xml;q=0.5, text/n3;q=0.9, text/turtle;q=0.9, "
                      "application/ld+json;q=0.5")


@pytest.mark.parametrize("accept", ["application/rdf+xml", OWL_API_ACCEPT, RDF_LIBRARY_ACCEPT])
def test_ontology_tools_get_rdf_xml(kg_server: ServerProcess, built_project: Built, accept: str) -> None:
    version = str(next(built_project.dataset.graph(ONTOLOGY_GRAPH).objects(None, OWL.versionIRI)))
    with _client(kg_server) as client:
        for path, document in (("/ontology", "/ontology.rdf"), (version.removeprefix("https://w3id.org/defence-kg"),
                               "/ontology.rdf"), ("/graph/statements", "/graph/statements.rdf"),
                               ("/id/NORADCooperation", "/data/NORADCooperation.rdf")):
            response = client.get(path, headers={"Accept": accept})
            assert (response.status_code, response.headers["location"]) == (303, document), path
        for path in ("/ontology.rdf", "/ontology.owl"):
            response = client.get(path)
            assert response.headers["content-type"] == "application/rdf+xml; charset=utf-8"
            ontology = Graph().parse(data=response.content, format="xml")
            assert (KG.Claim, RDF.type, OWL.Class) in ontology
            assert (URIRef("https://w3id.org/defence-kg/ontology"), OWL.versionIRI, URIRef(version)) in ontology
        statements = Graph().parse(data=client.get("/graph/statements.rdf").content, format="xml")
    assert (ID.NORADCooperation, KG.supportedBy, CLAIM.C07) in statements


def test_a_named_graph_is_served_as_trig_under_its_name(kg_server: ServerProcess, built_project: Built) -> None:
    with _client(kg_server) as client:
        located = client.get("/graph/statements", headers={"Accept": "application/trig"}).headers["location"]
        assert located == "/graph/statements.trig"
        response = client.get(located)
        assert response.headers["content-type"] == "application/trig; charset=utf-8"
        # the ontology is a document, not a graph of the dataset under its own IRI: no TriG of it
        assert client.get("/ontology", headers={"Accept": "application/trig"}).status_code == 406
        assert client.get("/ontology.trig").status_code == 404
    served = Dataset()
    served.parse(data=response.content, format="trig")
    assert {g.identifier for g in served.graphs() if len(g)} == {STATEMENTS_GRAPH}
    assert isomorphic(served.graph(STATEMENTS_GRAPH), built_project.dataset.graph(STATEMENTS_GRAPH))
    assert (ID.NORADCooperation, KG.supportedBy, CLAIM.C07) in served.graph(STATEMENTS_GRAPH)


def test_a_result_the_negotiated_syntax_cannot_hold_is_406(kg_server: ServerProcess) -> None:
    # RDF/XML writes a predicate as namespace + XML name: http://example.org/1 has no such split
    query = 'CONSTRUCT { <urn:x:s> <http://example.org/1> "x" } WHERE {}'
    refused = _sparql(kg_server, query, "application/rdf+xml")
    assert refused.status_code == 406
    assert refused.text.startswith("query: the data cannot be written as xml") and "http://example.org/1" in refused.text
    written = _sparql(kg_server, query, "text/turtle")
    assert set(Graph().parse(data=written.content, format="turtle")) == {
        (URIRef("urn:x:s"), URIRef("http://example.org/1"), Literal("x"))}


# --- extra graphs (kg serve --graph IRI=FILE) -------------------------------------------------------------


def test_extra_graphs_are_loaded_under_their_iri(tmp_path: Path) -> None:
    from kg.load import new_dataset
    from kg.serve import add_graphs, graph_names

    data = tmp_path / "extra.nt"
    data.write_text("<urn:x:s> <urn:x:p> <urn:x:o> .\n", encoding="utf-8")
    empty = tmp_path / "empty.ttl"
    empty.write_text("", encoding="utf-8")
    dataset = new_dataset()
    add_graphs(dataset, [f"urn:x:g={data}", f"urn:x:empty={empty}"])
    assert graph_names(dataset) == {URIRef("urn:x:g"), URIRef("urn:x:empty")}  # an empty graph is still held
    assert set(dataset.graph(URIRef("urn:x:g"))) == {(URIRef("urn:x:s"), URIRef("urn:x:p"), URIRef("urn:x:o"))}


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("urn:x:g", "--graph expects IRI=FILE, not 'urn:x:g'"),
        ("urn:x:g={missing}", "missing.ttl: cannot read"),
        ("urn:x:g={bad}", "bad.ttl: malformed turtle"),
        ("urn:x:g={data}.unknown", "cannot tell the RDF syntax"),
        ("urn:x:taken={data}", "already has a graph of that name"),
    ],
)
def test_extra_graph_errors_name_the_option_or_file(tmp_path: Path, option: str, message: str) -> None:
    from kg.errors import KgError
    from kg.load import new_dataset
    from kg.serve import add_graphs

    bad = tmp_path / "bad.ttl"
    bad.write_text("<urn:x:s> <urn:x:p> .\n", encoding="utf-8")
    data = tmp_path / "data.ttl"
    data.write_text("<urn:x:s> <urn:x:p> <urn:x:o> .\n", encoding="utf-8")
    dataset = new_dataset()
    dataset.graph(URIRef("urn:x:taken")).add((URIRef("urn:x:a"), URIRef("urn:x:b"), URIRef("urn:x:c")))
    filled = option.format(missing=tmp_path / "missing.ttl", bad=bad, data=data)
    with pytest.raises(KgError, match=re.escape(message)):
        add_graphs(dataset, [filled])


# --- the published files (kg.published): /dataset and /dataset/FILE, the IRIs the dataset description gives ----

@pytest.fixture(scope="module")
def published(built_project: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files `kg build` publishes for the project's build, written as it writes them."""
    from kg.build import cache_key
    from kg.export import export_files, publish
    from kg.load import Project

    directory = tmp_path_factory.mktemp("dist")
    files = export_files(built_project.dataset, directory, Project().context, cache_key(Project()))
    publish(directory, files)
    return directory


def _published_client(built: Built, directory: Path):
    from starlette.testclient import TestClient

    from kg.serve import Settings, create_app

    return TestClient(create_app(built, Settings(dist=directory)))  # (no lifespan: no query workers)


def test_every_file_the_dataset_description_lists_is_served_at_its_iri(built_project: Built, published: Path) -> None:
    """The description's dcat:downloadURL and void:dataDump are the files' IRIs: each resolves, to the file."""
    from rdflib.namespace import DCAT, VOID

    from kg.void import DATASET

    client = _published_client(built_project, published)
    response = client.get("/dataset", headers={"Accept": "text/turtle"}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/dataset.ttl")
    description = Graph().parse(data=client.get("/dataset.ttl").text, format="turtle")
    assert isomorphic(description, Graph().parse(published / "void.ttl"))
    downloads = sorted(description.objects(None, DCAT.downloadURL))
    assert downloads == sorted(description.objects(DATASET, VOID.dataDump))
    assert len(downloads) == 10  # five syntaxes, without and with the inferred graph
    for url in downloads:
        path = str(url).removeprefix("https://w3id.org/defence-kg")
        reply = client.get(path)
        media = str(description.value(url, DCAT.mediaType)).rsplit("/media-types/", 1)[1]
        assert reply.status_code == 200 and reply.headers["content-type"].split(";")[0] == media, path
        assert reply.content == (published / path.rsplit("/", 1)[1]).read_bytes(), path


@pytest.mark.parametrize("path, status, message", [
    ("/dataset/pyproject.toml", 404,
     "https://w3id.org/defence-kg/dataset/pyproject.toml is not a file of this dataset; its files: defence-kg+inferred"),
    ("/dataset/..%2Fvoid.ttl", 404, "nothing is served at /dataset/../void.ttl; see / (the index of entities)"),
    ("/dataset/void.ttl", 404, "is not a file of this dataset"),
    ("/dataset.csv", 404, "no such document; /dataset is available as .ttl, .jsonld, .nt, .rdf, .owl"),
])
def test_only_the_listed_files_are_served(built_project: Built, published: Path, path: str, status: int, message: str) -> None:
    reply = _published_client(built_project, published).get(path)
    assert reply.status_code == status and message in reply.text, reply.text


def test_another_builds_files_or_none_are_refused_with_what_to_run(
    built_project: Built, published: Path, tmp_path: Path
) -> None:
    """dist/ written before the inputs changed holds another build: its files are not this server's data."""
    import shutil

    stale = tmp_path / "stale"
    shutil.copytree(published, stale)
    void = stale / "void.ttl"
    void.write_text(re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, void.read_text()))
    reply = _published_client(built_project, stale).get("/dataset/defence-kg.ttl")
    assert reply.status_code == 404
    assert reply.text.startswith(f"{stale} holds the files of another build (sha256:{'0' * 64}), not of the data served")
    assert reply.text.endswith("run `kg build` to publish this build's files\n")
    missing = _published_client(built_project, tmp_path / "nothing").get("/dataset.ttl")
    assert (missing.status_code, missing.text) == (
        404, f"{tmp_path / 'nothing' / 'void.ttl'} does not exist: run `kg build` to publish the dataset's files\n")
    (stale / "defence-kg.nt").unlink()
    gone = _published_client(built_project, stale)
    void.write_text((published / "void.ttl").read_text())
    reply = gone.get("/dataset/defence-kg.nt")
    assert (reply.status_code, reply.text) == (
        404, f"{stale / 'defence-kg.nt'} is missing, although the dataset description lists it: run `kg build`\n")
    void.write_text("@prefix broken")
    assert gone.get("/dataset.ttl").status_code == 500


def test_kg_serve_dist_names_the_published_directory(published: Path, tmp_path: Path) -> None:
    with start_server(tmp_path, "--dist", str(published)) as server:
        reply = httpx.get(f"{server.url}/dataset/defence-kg.trig")
        assert reply.status_code == 200 and reply.headers["content-type"] == "application/trig"
        assert reply.content == (published / "defence-kg.trig").read_bytes()
