"""The W3C SPARQL 1.1 Protocol test suite (tests/fixtures/w3c/sparql11-protocol/manifest.ttl) against `kg serve`.

Each test is one or more HTTP requests described in the manifest (method, path under /sparql/, headers, body
and its character encoding) with the expected status class and, for query results, the format and the ASK
answer. The server holds the manifest's data files (ut:graphData) as named graphs under the IRIs the tests
use, plus data0.rdf, which tests name as a default graph without giving it data (they ASK {} over it), as an
empty graph. The server is read-only, so an update test passes when every update gets the read-only refusal
(403) and the queries that follow it see that nothing changed (their ASK answers false, not the manifest's
true, which assumes the update ran); a test that expects a 4xx gets it for any reason.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS

from conftest import ServerProcess, start_server

SUITE = Path(__file__).parent / "fixtures" / "w3c" / "sparql11-protocol"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
EMPTY_DEFAULT_GRAPH = "http://kasei.us/2009/09/sparql/data/data0.rdf"
SPARQL_RESULTS_XML = "{http://www.w3.org/2005/sparql-results#}"
RESULT_TYPES = {
    "boolean": {"application/sparql-results+json", "application/sparql-results+xml"},
    "tabular": {"application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values"},
    "RDF": {"application/rdf+xml", "text/turtle", "application/n-triples", "text/plain"},
}


@dataclass(frozen=True)
class Exchange:
    """One request of a test and what the manifest expects of its response."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: frozenset[int]  # acceptable status classes: 2, 3, 4
    result_format: str | None
    boolean: bool | None

    @property
    def is_update(self) -> bool:
        content_type = self.headers.get("content-type", "")
        return content_type.startswith("application/sparql-update") or (
            content_type == "application/x-www-form-urlencoded" and (self.body or b"").startswith(b"update=")
        )


@dataclass(frozen=True)
class ProtocolTest:
    name: str
    exchanges: tuple[Exchange, ...]


def _exchange(manifest: Graph, request: URIRef) -> Exchange:
    headers = {}
    for header in Collection(manifest, manifest.value(request, HT.headers) or RDF.nil):
        headers[str(manifest.value(header, HT.fieldName)).lower()] = str(manifest.value(header, HT.fieldValue))
    body_node = manifest.value(request, HT.body)
    body = None
    if body_node is not None:
        encoding = str(manifest.value(body_node, CNT.characterEncoding))
        body = str(manifest.value(body_node, CNT.chars)).encode(encoding)
    response = manifest.value(request, HT.resp)
    statuses = frozenset(int(str(code)[-3]) for code in manifest.objects(response, MF.expectedStatus))
    result_format = manifest.value(response, MF.expectedFormat)
    boolean = manifest.value(response, MF.expectedBoolean)
    return Exchange(
        method=str(manifest.value(request, HT.methodName)),
        path=str(manifest.value(request, HT.absolutePath)).replace("/sparql/", "/sparql", 1),
        headers=headers,
        body=body,
        statuses=statuses,
        result_format=str(result_format) if result_format is not None else None,
        boolean=boolean.toPython() if isinstance(boolean, Literal) else None,
    )


def _load_suite() -> tuple[list[ProtocolTest], dict[str, Path]]:
    """The manifest's tests in order, and every graph it loads (IRI -> data file)."""
    manifest = Graph().parse(SUITE / "manifest.ttl", publicID=(SUITE / "manifest.ttl").as_uri())
    root = next(manifest.subjects(RDF.type, MF.Manifest))
    tests, graphs = [], {}
    for entry in Collection(manifest, manifest.value(root, MF.entries)):
        for data in manifest.objects(entry, UT.graphData):
            graphs[str(manifest.value(data, RDFS.label))] = Path(urlsplit(str(manifest.value(data, UT.graph))).path)
        action = manifest.value(entry, MF.action)
        requests = Collection(manifest, manifest.value(action, HT.requests))
        name = str(entry).rpartition("#")[2]
        tests.append(ProtocolTest(name, tuple(_exchange(manifest, request) for request in requests)))
    return tests, graphs


TESTS, GRAPHS = _load_suite()


def test_the_suite_is_whole() -> None:
    """All 34 tests of the manifest are run; the 7 whose updates the manifest expects to succeed are refused."""
    assert len(TESTS) == 34
    refused = [t.name for t in TESTS if any(e.is_update and 2 in e.statuses for e in t.exchanges)]
    assert refused == [
        "update_dataset_default_graph", "update_dataset_default_graphs", "update_dataset_named_graphs",
        "update_dataset_full", "update_post_form", "update_post_direct", "update_base_uri",
    ]
    assert sorted(GRAPHS) == [f"http://kasei.us/2009/09/sparql/data/data{n}.rdf" for n in (1, 2, 3)]


@pytest.fixture(scope="module")
def w3c_server(tmp_path_factory: pytest.TempPathFactory) -> ServerProcess:
    directory = tmp_path_factory.mktemp("w3c-serve")
    empty = directory / "data0.nt"
    empty.write_bytes(b"")
    options = [f"--graph={iri}={path}" for iri, path in {**GRAPHS, EMPTY_DEFAULT_GRAPH: empty}.items()]
    with start_server(directory, *options) as server:
        yield server


def _send(server: ServerProcess, exchange: Exchange) -> tuple[int, str, bytes]:
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.request(exchange.method, exchange.path, body=exchange.body, headers=exchange.headers)
        response = connection.getresponse()
        media_type = (response.getheader("content-type") or "").split(";")[0].strip()
        return response.status, media_type, response.read()
    finally:
        connection.close()


def _boolean(media_type: str, body: bytes) -> bool:
    if media_type == "application/sparql-results+json":
        return json.loads(body)["boolean"]
    element = ElementTree.fromstring(body).find(f"{SPARQL_RESULTS_XML}boolean")
    return element.text.strip() == "true"


def _check_parses(media_type: str, body: bytes) -> None:
    """The body is a well-formed document of its media type."""
    if media_type.endswith("json"):
        json.loads(body)
    elif media_type == "application/sparql-results+xml":
        assert ElementTree.fromstring(body).tag == f"{SPARQL_RESULTS_XML}sparql"
    elif media_type in ("text/csv", "text/tab-separated-values"):
        rows = list(csv.reader(io.StringIO(body.decode()), delimiter="," if media_type == "text/csv" else "\t"))
        assert rows and rows[0]
    else:
        syntax = {"application/rdf+xml": "xml", "text/turtle": "turtle"}.get(media_type, "nt")
        Graph().parse(data=body, format=syntax)


@pytest.mark.parametrize("test", TESTS, ids=[test.name for test in TESTS])
def test_w3c_protocol(w3c_server: ServerProcess, test: ProtocolTest) -> None:
    refused_update = False
    for exchange in test.exchanges:
        status, media_type, body = _send(w3c_server, exchange)
        shown = f"{test.name}: {exchange.method} {exchange.path} -> {status} {media_type}: {body[:300]!r}"
        if exchange.is_update and 2 in exchange.statuses:  # the manifest assumes updates run: we refuse them
            assert status == 403 and b"read-only" in body, shown
            refused_update = True
            continue
        assert status // 100 in exchange.statuses, shown
        if exchange.result_format is not None:
            assert media_type in RESULT_TYPES[exchange.result_format], shown
            _check_parses(media_type, body)
        if exchange.boolean is not None:
            assert _boolean(media_type, body) is (exchange.boolean and not refused_update), shown


def _ask(server: ServerProcess, query: str, **dataset: list[str]) -> bool:
    from urllib.parse import urlencode

    parameters = [("query", query)] + [(name.replace("_", "-"), iri) for name, iris in dataset.items() for iri in iris]
    exchange = Exchange("GET", f"/sparql?{urlencode(parameters)}", {"accept": "application/sparql-results+json"},
                        None, frozenset({2}), "boolean", None)
    status, media_type, body = _send(server, exchange)
    assert status == 200, body
    return _boolean(media_type, body)


DATA = "http://kasei.us/2009/09/sparql/data/data{}.rdf"


def test_the_protocol_dataset_replaces_the_default_union(w3c_server: ServerProcess) -> None:
    """The W3C tests above pass on a server whose default graph is the union of all graphs even if it ignored
    default-graph-uri and named-graph-uri: these fail unless the protocol's dataset is really used."""
    one, two, three = (DATA.format(n) for n in (1, 2, 3))
    assert _ask(w3c_server, f"ASK {{ <{two}> a ?type }}")  # the union, without a dataset
    assert not _ask(w3c_server, f"ASK {{ <{two}> a ?type }}", default_graph_uri=[one])
    assert _ask(w3c_server, f"ASK {{ <{one}> a ?type }}", default_graph_uri=[one])
    assert not _ask(w3c_server, f"ASK {{ <{one}> a ?type }}", named_graph_uri=[one])  # default graph now empty
    assert _ask(w3c_server, f"ASK {{ GRAPH <{one}> {{ <{one}> a ?type }} }}", named_graph_uri=[one])
    assert not _ask(w3c_server, f"ASK {{ GRAPH ?g {{ <{two}> a ?type }} }}", named_graph_uri=[one])
    # the protocol's dataset overrides the query's own FROM
    assert not _ask(w3c_server, f"ASK FROM <{three}> {{ <{three}> a ?type }}", default_graph_uri=[one])
    assert _ask(w3c_server, f"ASK FROM <{three}> {{ <{three}> a ?type }}")
