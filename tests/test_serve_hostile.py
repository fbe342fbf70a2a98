"""Hostile requests against `kg serve`: each must be refused (no 2xx), nothing may reach the loopback listener
(a socket server standing in for any outside host or file), and the server must answer `ASK {}` after each.

The server here runs with `--timeout 3` so that the runaway query is stopped quickly, without an answer cache
(so that `ASK {}` really runs in a worker each time), and with a public URL different from the one the tests
use, which its service description must announce.
"""

from __future__ import annotations

import gzip
import http.client
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from rdflib import Graph, URIRef

from conftest import ServerProcess, start_server
from kg.namespaces import SD

TIMEOUT = 3
WORKER_MEMORY = 256  # MiB
MAX_CONNECTIONS = 16
PUBLIC_URL = "https://kg.example.org/defence"


@dataclass
class Listener:
    """A TCP server on a free loopback port that records every connection made to it."""

    port: int
    connections: list[tuple[str, int]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    recorded = Listener(server.getsockname()[1])
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                connection, peer = server.accept()
            except TimeoutError:
                continue
            recorded.connections.append(peer)
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield recorded
    stopping.set()
    thread.join()
    server.close()


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    directory = tmp_path_factory.mktemp("hostile")
    # no answer cache: every request here must reach a worker process; a small memory budget for each
    with start_server(directory, "--timeout", str(TIMEOUT), "--public-url", PUBLIC_URL, "--cache", "0",
                      "--worker-memory", str(WORKER_MEMORY), "--max-connections", str(MAX_CONNECTIONS)) as server:
        yield server


def _healthy(server: ServerProcess) -> None:
    response = httpx.get(f"{server.url}/sparql", params={"query": "ASK {}"}, timeout=10)
    assert response.status_code == 200 and response.json()["boolean"] is True


def _request(server: ServerProcess, **kwargs: object) -> httpx.Response:
    return httpx.request(url=f"{server.url}/sparql", timeout=30, **kwargs)  # type: ignore[arg-type]


def _form(query: str) -> dict[str, object]:
    return {"method": "POST", "data": {"query": query}}


HOSTILE = {  # name -> (request, expected status, words the refusal must say)
    "update by form": ({"method": "POST", "data": {"update": "CLEAR ALL"}}, 403, "read-only"),
    "update by body": ({"method": "POST", "content": b"DROP ALL",
                        "headers": {"Content-Type": "application/sparql-update"}}, 403, "read-only"),
    "update as a query": (_form("INSERT DATA { <urn:x:a> <urn:x:b> <urn:x:c> }"), 400, "Update is not supported"),
    "update by GET": ({"method": "GET", "params": {"update": "CLEAR ALL"}}, 400, "POST"),
    "LOAD as an update": ({"method": "POST", "data": {"update": "LOAD <{listener}>"}}, 403, "read-only"),
    "LOAD as a query": (_form("LOAD <{listener}>"), 400, "Update is not supported"),
    "SERVICE": (_form("SELECT * WHERE { SERVICE <{listener}> { ?s ?p ?o } }"), 400, "SERVICE is not allowed"),
    "SERVICE SILENT": (_form("SELECT * WHERE { SERVICE SILENT <{listener}> { ?s ?p ?o } }"), 400, "SERVICE"),
    "FROM a file": (_form("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }"), 400,
                    "FROM <file:///etc/passwd> is not a graph of this dataset"),
    "FROM the network": (_form("SELECT * FROM <{listener}> WHERE { ?s ?p ?o }"), 400, "is not a graph"),
    "FROM NAMED": (_form("SELECT * FROM NAMED <{listener}x> WHERE { GRAPH ?g { ?s ?p ?o } }"), 400,
                   "FROM NAMED <{listener}x> is not a graph"),
    "default-graph-uri": ({"method": "GET", "params": {"query": "ASK {}", "default-graph-uri": "{listener}"}}, 400,
                          "default-graph-uri <{listener}> is not a graph"),
    "named-graph-uri file": ({"method": "GET", "params": {"query": "ASK {}", "named-graph-uri": "file:///etc/passwd"}},
                             400, "named-graph-uri <file:///etc/passwd> is not a graph"),
    "oversized body": ({"method": "POST", "content": b"ASK {} #" + b"x" * (2 << 20),
                        "headers": {"Content-Type": "application/sparql-query"}}, 413, "at most"),
    # chunked, with no Content-Length: the limit is checked as the body streams in
    "oversized chunked body": ({"method": "POST", "content": [b"ASK {} #", b"x" * (2 << 20)],
                                "headers": {"Content-Type": "application/sparql-query"}}, 413, "larger than 1048576"),
    "non-UTF-8 body": ({"method": "POST", "content": "ASK { ?s ?p \"caf\u00e9\" }".encode("latin-1"),
                        "headers": {"Content-Type": "application/sparql-query"}}, 400, "not UTF-8"),
    "non-UTF-8 charset": ({"method": "POST", "content": "ASK {}".encode("utf-16"),
                           "headers": {"Content-Type": "application/sparql-query; charset=UTF-16"}}, 415, "UTF-8"),
    "non-UTF-8 form": ({"method": "POST", "content": b"query=ASK%20%7B%7D%20%23%E9",
                        "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 400, "not UTF-8"),
    "gzip body": ({"method": "POST", "content": gzip.compress(b"ASK {}"),
                   "headers": {"Content-Type": "application/sparql-query", "Content-Encoding": "gzip"}}, 415, "'gzip'"),
    "empty query": ({"method": "GET", "params": {"query": " # nothing"}}, 400, "the query is empty"),
    # a lone surrogate cannot be written in UTF-8: the results failed as a 500
    "surrogate escape": ({"method": "GET", "params": {"query": 'SELECT ?x { BIND("\\uD800" AS ?x) }'}}, 400,
                         "query:1:19: \\uD800 is half of a UTF-16 surrogate pair"),
    # rdflib's SPARQL XML writer wrote these as they are, in a 200 no XML parser reads
    "control character as SPARQL XML": ({"method": "GET", "params": {"query": 'SELECT ?x { BIND("a\\u0001b" AS ?x) }'},
                                         "headers": {"Accept": "application/sparql-results+xml"}}, 406,
                                        "a value holds U+0001, which XML 1.0 cannot hold"),
    "U+FFFF as SPARQL XML": ({"method": "GET", "params": {"query": 'SELECT ?x { BIND("\\uFFFF" AS ?x) }'},
                              "headers": {"Accept": "application/sparql-results+xml"}}, 406,
                             "a value holds U+FFFF, which XML 1.0 cannot hold"),
    "surrogate in an IRI": ({"method": "GET", "params": {"query": 'SELECT ?x { BIND(IRI("http://a/\\uDFFF") AS ?x) }'}},
                            400, "\\uDFFF is half of a UTF-16 surrogate pair"),
    "LIMIT past 64 bits": (_form("SELECT * WHERE {} LIMIT 99999999999999999999999"), 400,
                           "LIMIT 99999999999999999999999 is out of range"),
    "OFFSET of 5000 digits": (_form("SELECT * WHERE {} OFFSET " + "9" * 5000), 400,
                              "OFFSET 99999999999999999999… (5000 digits) is out of range"),
    # a 1 KB query doubling a string 26 times wants 2 GiB: it took 4 GB of the machine's memory in 5 s
    "a value too large for the worker's memory": (
        _form('SELECT (STRLEN(?v26) AS ?n) WHERE { BIND("' + "x" * 32 + '" AS ?v0) '
              + " ".join(f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1})" for i in range(26)) + " }"),
        503, "query: stopped, it needed more memory than the server allows"),
    "deeply nested": (_form("SELECT * WHERE " + "{" * 5000 + "}" * 5000), 400,
                      "query: the query is nested too deeply, or has too many parts, for the SPARQL parser"),
    "deeply nested expression": (_form("SELECT (" + "(" * 5000 + "1" + ")" * 5000 + " AS ?x) {}"), 400,
                                 "query: the query is nested too deeply, or has too many parts, for the SPARQL parser"),
}

# Valid queries that Python's default recursion limit made rdflib's parser refuse as "invalid SPARQL"
LARGE_BUT_VALID = {
    "a hundred triple patterns": "ASK { " + " ".join(f"?s{i} <urn:x:p> ?o{i} ." for i in range(100)) + " }",
    "thirty nested parentheses": "ASK { FILTER(" + "(" * 30 + "true" + ")" * 30 + ") }",
    "fifty nested groups": "ASK " + "{" * 50 + "}" * 50,
}


@pytest.mark.parametrize("name", sorted(LARGE_BUT_VALID))
def test_large_but_valid_queries_are_answered(hostile_server: ServerProcess, name: str) -> None:
    response = _request(hostile_server, **_form(LARGE_BUT_VALID[name]))
    assert response.status_code == 200, response.text[:500]
    assert "boolean" in response.json()


def _fill(value: object, listener: Listener) -> object:
    if isinstance(value, str):
        return value.replace("{listener}", listener.url)
    if isinstance(value, dict):
        return {key: _fill(item, listener) for key, item in value.items()}
    return value


def test_the_listener_records_a_connection(listener: Listener) -> None:
    # the control for the tests below, which find no connection in it: it would record one
    with socket.create_connection(("127.0.0.1", listener.port), timeout=5):
        pass
    deadline = time.monotonic() + 5
    while not listener.connections and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(listener.connections) == 1
    listener.connections.clear()


def test_a_body_that_stops_arriving_is_refused_after_the_time_limit(hostile_server: ServerProcess) -> None:
    """A client that declares 100 bytes, sends 6 and then nothing held its connection open for ever."""
    host, port = hostile_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT + 10) as connection:
        connection.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                           b"Content-Length: 100\r\n\r\nASK {}")
        reply = http.client.HTTPResponse(connection)
        reply.begin()
        body = reply.read().decode()
    assert reply.status == 408
    assert body == f"the request body did not arrive within {TIMEOUT} s (the server's --timeout): 6 bytes came\n"
    _healthy(hostile_server)


def test_connections_beyond_the_limit_are_refused_until_others_close(hostile_server: ServerProcess) -> None:
    """Clients that open connections and send half a request each could take every file descriptor."""
    host, port = hostile_server.url.removeprefix("http://").split(":")
    idle = [socket.create_connection((host, int(port)), timeout=10) for _ in range(MAX_CONNECTIONS)]
    try:
        for connection in idle:
            connection.sendall(b"GET /sparql HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        time.sleep(0.5)  # (the server counts a connection once its event loop has taken it)
        assert _request(hostile_server, method="GET", params={"query": "ASK {}"}).status_code == 503
    finally:
        for connection in idle:
            connection.close()
    time.sleep(0.5)
    _healthy(hostile_server)


def test_a_client_that_leaves_mid_body_leaves_no_traceback(hostile_server: ServerProcess) -> None:
    """A body shorter than its Content-Length, then the connection closed: the server logged "Exception in ASGI
    application" with a traceback; it now refuses the request (400) as for any other client mistake."""
    host, port = hostile_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
                           b"Content-Length: 100\r\n\r\nASK {}")
    assert _request(hostile_server, method="GET", params={"query": "ASK {}"}).status_code == 200
    time.sleep(0.5)  # (the server notices the closed connection on its own schedule; the log is written then)
    assert "Traceback" not in hostile_server.log.read_text(encoding="utf-8", errors="replace")


# Starlette decoded these with U+FFFD, and answered 404 for a path that looked merely unknown; a control
# character in a path that is UTF-8 is shown escaped in the 404, not as it is.
@pytest.mark.parametrize(("path", "status", "words"), [
    ("/id/%ff%fe", 400, "the path is not UTF-8 once percent-decoded (byte 4: invalid start byte)"),
    ("/page/%ED%A0%80", 400, "the path is not UTF-8 once percent-decoded"),
    ("/id/Can%01ada", 404, "https://w3id.org/defence-kg/id/Can\\u0001ada is not in this graph"),
])
def test_a_path_is_utf8_and_shown_printable(hostile_server: ServerProcess, path: str, status: int, words: str) -> None:
    response = httpx.get(f"{hostile_server.url}{path}", timeout=30)
    assert response.status_code == status and words in response.text, response.text


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_request_is_refused(hostile_server: ServerProcess, listener: Listener, name: str) -> None:
    request, status, words = HOSTILE[name]
    response = _request(hostile_server, **_fill(request, listener))  # type: ignore[arg-type]
    assert response.status_code == status, response.text[:500]
    assert _fill(words, listener) in response.text
    assert "root:" not in response.text  # nothing of /etc/passwd
    assert listener.connections == []
    _healthy(hostile_server)


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "chunked"])
@pytest.mark.parametrize(("size", "status"), [(1 << 20, 200), ((1 << 20) + 1, 413)], ids=["at-limit", "one-over"])
def test_a_body_is_taken_up_to_the_limit_exactly(
    hostile_server: ServerProcess, chunked: bool, size: int, status: int
) -> None:
    """--max-body (here the default, 1 MiB) is the largest body taken, whether its length is declared or not."""
    query = b"ASK {} #"
    body = query + b"x" * (size - len(query))
    content = [body[: size // 2], body[size // 2:]] if chunked else body
    response = _request(hostile_server, method="POST", content=content,
                        headers={"Content-Type": "application/sparql-query", "Accept": "application/json"})
    assert response.status_code == status, response.text[:300]
    if status == 200:
        assert response.json()["boolean"] is True


@pytest.mark.parametrize(("padding", "status", "words"), [
    (300_000, 200, '"boolean": true'),  # past h11's default 16 KiB for a request line, within the server's 1 MiB
    (1 << 20, 414, "the query string is longer than 1048576 bytes, the server's limit"),
])
def test_a_long_query_string_is_answered_up_to_the_limit(
    hostile_server: ServerProcess, padding: int, status: int, words: str
) -> None:
    # (http.client: httpx refuses URLs over 64 kB itself)
    host, port = hostile_server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET", "/sparql?" + urlencode({"query": "ASK {} #" + "x" * padding}),
                           headers={"Accept": "application/sparql-results+json"})
        response = connection.getresponse()
        assert (response.status, words in response.read().decode()) == (status, True)
    finally:
        connection.close()
    _healthy(hostile_server)


def test_the_refusal_of_service_names_no_command_line_option(hostile_server: ServerProcess) -> None:
    response = _request(hostile_server, **_form("SELECT * WHERE { SERVICE <https://query.wikidata.org/sparql> {} }"))
    assert response.status_code == 400
    assert response.text == "query: SERVICE is not allowed: queries run offline, over the built graph only\n"


def test_a_runaway_query_is_stopped_while_others_keep_answering(
    hostile_server: ServerProcess, listener: Listener
) -> None:
    """A five-way cross join (150 bytes) runs until the time limit kills its worker; meanwhile `ASK {}` requests
    from four clients keep being answered (two runaways: the machine has two cores, both busy). What is checked is
    the order, not a duration: answers that came while both runaways were still running were not queued behind
    them (the figures are printed, for a reader)."""
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
    latencies: list[float] = []
    during: list[bool] = []  # per ASK answer: whether both runaways were still unanswered when it came

    with ThreadPoolExecutor(max_workers=6) as pool:
        stopped = [pool.submit(_request, hostile_server, **_form(runaway)) for _ in range(2)]
        time.sleep(0.3)  # both runaway queries are running

        def ask_repeatedly() -> None:
            with httpx.Client(timeout=30) as client:
                while not all(future.done() for future in stopped):
                    before = time.monotonic()
                    response = client.get(f"{hostile_server.url}/sparql", params={"query": "ASK {}"})
                    latencies.append(time.monotonic() - before)
                    during.append(not any(future.done() for future in stopped))
                    assert response.status_code == 200 and response.json()["boolean"] is True

        askers = [pool.submit(ask_repeatedly) for _ in range(4)]
        for asker in askers:
            asker.result()
        responses = [future.result() for future in stopped]
    for response in responses:
        assert response.status_code == 503
        assert f"time limit of {TIMEOUT} s" in response.text
    latencies.sort()
    print(f"\nASK {{}} during two runaway queries: {sum(during)} of {len(latencies)} answered while both ran, "
          f"p50 {statistics.median(latencies) * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms")
    assert sum(during) >= 4  # (queued behind the runaways, none would have come before them)
    assert listener.connections == []
    _healthy(hostile_server)


def test_the_service_description_names_the_public_url(hostile_server: ServerProcess) -> None:
    response = httpx.get(f"{hostile_server.url}/sparql", headers={"Accept": "application/n-triples"})
    description = Graph().parse(data=response.content, format="nt")
    assert set(description.objects(None, SD.endpoint)) == {URIRef(f"{PUBLIC_URL}/sparql")}


def _children(server: ServerProcess) -> dict[int, str]:
    """The server's child processes (its workers): pid -> state (R, S, Z...)."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == server.pid:
            children[int(stat.parent.name)] = fields[0]
    return children


def test_stopped_workers_are_reaped_and_replaced(hostile_server: ServerProcess) -> None:
    """After the battery (and the killed runaway workers) the server has live workers and no zombie children."""
    states = list(_children(hostile_server).values())
    assert states and "Z" not in states, states
    _healthy(hostile_server)


def test_a_long_query_finishes_in_a_demoted_worker_which_is_then_replaced(tmp_path: Path) -> None:
    """A query using more than half a second of CPU lowers its worker's priority; that worker is not reused. (A
    server of its own, with a time limit far above the query's time: on the hostile server's 3 s, the demoted
    query was stopped whenever other work shared the two cores.)"""
    with start_server(tmp_path, "--timeout", "120", "--cache", "0") as server:
        before = set(_children(server))
        long = "SELECT (COUNT(*) AS ?n) WHERE { ?claim a kg:Claim . ?s ?p ?o }"  # 52 x every triple
        response = _request(server, **_form(long))
        assert response.status_code == 200, response.text
        after = set(_children(server))
        assert before - after and after - before  # one worker gone, a new one forked
        _healthy(server)
