"""`kg serve --allow-update`: updates only with the bearer token, still offline (no LOAD), seen by later queries."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from rdflib import Graph

from conftest import ServerProcess, start_server
from kg.namespaces import SD
from kg.serve import Pool, Reply, Settings, _Evaluator

TOKEN = "s3cret-token"
ASK_ADDED = "ASK { GRAPH <urn:x:notes> { <urn:x:a> <urn:x:b> 'c' } }"


@pytest.fixture(scope="module")
def writable_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    os.environ["KG_UPDATE_TOKEN"] = TOKEN  # the token by environment, not on the command line
    try:
        with start_server(tmp_path_factory.mktemp("writable"), "--allow-update") as server:
            yield server
    finally:
        del os.environ["KG_UPDATE_TOKEN"]


def _ask(server: ServerProcess, query: str) -> bool:
    response = httpx.get(f"{server.url}/sparql", params={"query": query}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["boolean"]


def _update(server: ServerProcess, update: str, token: str | None, scheme: str = "Bearer") -> httpx.Response:
    headers = {"Content-Type": "application/sparql-update"}
    if token is not None:
        headers["Authorization"] = f"{scheme} {token}".strip()  # (an empty token: the bare scheme)
    return httpx.post(f"{server.url}/sparql", content=update.encode(), headers=headers, timeout=30)


def test_updates_need_the_token(writable_server: ServerProcess) -> None:
    insert = "INSERT DATA { GRAPH <urn:x:notes> { <urn:x:a> <urn:x:b> 'c' } }"
    assert not _ask(writable_server, ASK_ADDED)  # also puts the answer in the server's cache
    # none; a wrong one; empty; a prefix of it; it and one character more; it under another scheme
    for token, scheme in ((None, "Bearer"), ("wrong", "Bearer"), ("", "Bearer"), (TOKEN[:-1], "Bearer"),
                          (TOKEN + "x", "Bearer"), (TOKEN, "Basic"), (TOKEN, "Token")):
        refused = _update(writable_server, insert, token, scheme)
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Bearer"), (token, scheme)
    assert not _ask(writable_server, ASK_ADDED)
    assert _update(writable_server, insert, TOKEN).status_code == 204
    assert _ask(writable_server, ASK_ADDED)  # every worker, and the cache, see the change
    assert _ask(writable_server, "ASK FROM <urn:x:notes> { <urn:x:a> <urn:x:b> 'c' }")  # a graph of the server now
    delete = "DELETE DATA { GRAPH <urn:x:notes> { <urn:x:a> <urn:x:b> 'c' } }"
    assert _update(writable_server, delete, TOKEN).status_code == 204
    assert not _ask(writable_server, ASK_ADDED)


def test_the_index_of_entities_follows_updates(writable_server: ServerProcess) -> None:
    """The home page's index is computed once per state of the data: an update gives a new one."""
    def states() -> list[str]:
        page = httpx.get(f"{writable_server.url}/entities", params={"group": "kg:State"}, timeout=30)
        assert page.status_code == 200
        return re.findall(r'<li><a href="/page/([^"]+)"', page.text)

    atlantis = ("GRAPH <https://w3id.org/defence-kg/graph/statements> { <https://w3id.org/defence-kg/id/Atlantis> a "
                "<https://w3id.org/defence-kg/ontology#State> ; <http://www.w3.org/2000/01/rdf-schema#label> "
                "'Atlantis'@en }")
    before = states()
    assert "Canada" in before and "Atlantis" not in before
    assert _update(writable_server, f"INSERT DATA {{ {atlantis} }}", TOKEN).status_code == 204
    assert before[0] == "Canada" and states() == ["Atlantis", *before]  # by label: Atlantis comes first
    assert _update(writable_server, f"DELETE DATA {{ {atlantis} }}", TOKEN).status_code == 204
    assert states() == before


def test_ask_follows_updates(writable_server: ServerProcess) -> None:
    """kg ask's index of names is kept per state of the data, as the entities' index is: after an update that
    names Narnia, /ask knows it (its index was kept for the dataset object, which an update changes in place)."""
    def reply() -> dict:
        response = httpx.get(f"{writable_server.url}/ask", params={"q": "What is Narnia?", "format": "json"},
                             timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    # a state of the fact sheet, as a claim would support it; updates are not reasoned, so the update also states
    # the document it is in (kg:inDocument, which find-entity reads and reasoning would infer)
    narnia = ("GRAPH <https://w3id.org/defence-kg/graph/statements> { <https://w3id.org/defence-kg/id/Narnia> a "
              "<https://w3id.org/defence-kg/ontology#State> ; <http://www.w3.org/2000/01/rdf-schema#label> "
              "'Narnia'@en ; <https://w3id.org/defence-kg/ontology#supportedBy> "
              "<https://w3id.org/defence-kg/id/claim/C01> } GRAPH <https://w3id.org/defence-kg/graph/inferred> { "
              "<https://w3id.org/defence-kg/id/Narnia> <https://w3id.org/defence-kg/ontology#inDocument> "
              "<https://w3id.org/defence-kg/id/factsheet> }")
    assert reply()["query"] is None  # nothing in the graph is called Narnia
    assert _update(writable_server, f"INSERT DATA {{ {narnia} }}", TOKEN).status_code == 204
    try:
        known = reply()
        assert known["query"] == "find-entity"
        assert known["params"] == {"name": "Narnia", "document": "https://w3id.org/defence-kg/id/factsheet"}
        assert [row["entity"] for row in known["rows"]] == ["Narnia"]
    finally:
        assert _update(writable_server, f"DELETE DATA {{ {narnia} }}", TOKEN).status_code == 204
    assert reply()["query"] is None


def test_updates_stay_offline(writable_server: ServerProcess) -> None:
    load = _update(writable_server, "LOAD <file:///etc/passwd> INTO GRAPH <urn:x:g>", TOKEN)
    assert load.status_code == 400 and "LOAD is not allowed" in load.text
    using = _update(writable_server, "INSERT { <urn:x:s> <urn:x:p> ?o } USING <http://127.0.0.1:9/> WHERE { ?s ?p ?o }",
                    TOKEN)
    assert using.status_code == 400 and "USING <http://127.0.0.1:9/> is not a graph" in using.text
    service = _update(writable_server, "INSERT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
                      TOKEN)
    assert service.status_code == 400 and "SERVICE is not allowed" in service.text


def test_a_delete_where_over_any_graph_is_refused_and_its_long_form_works(writable_server: ServerProcess) -> None:
    """rdflib would delete nothing for DELETE WHERE { GRAPH ?g … } and answer 204: refused, with the form it does
    evaluate, which deletes."""
    pattern = "GRAPH ?g { <urn:x:a> <urn:x:b> 'c' }"
    assert _update(writable_server, "INSERT DATA { GRAPH <urn:x:notes> { <urn:x:a> <urn:x:b> 'c' } }", TOKEN).status_code == 204
    refused = _update(writable_server, f"DELETE WHERE {{ {pattern} }}", TOKEN)
    assert refused.status_code == 400 and "DELETE { GRAPH ?g { … } } WHERE { GRAPH ?g { … } }" in refused.text
    assert _ask(writable_server, ASK_ADDED)
    assert _update(writable_server, f"DELETE {{ {pattern} }} WHERE {{ {pattern} }}", TOKEN).status_code == 204
    assert not _ask(writable_server, ASK_ADDED)


# The default graph is the union of the named graphs: rdflib failed on INSERT DATA into it ("not enough values
# to unpack", 400), put other inserts where no export holds them, and emptied every graph on CLEAR DEFAULT.
@pytest.mark.parametrize(("update", "cause"), [
    ("", "update: the update is empty"),
    ("# nothing", "update: the update is empty"),
    ("INSERT DATA { <urn:x:a> <urn:x:b> 'c' }", "the default graph is the union of the named graphs"),
    ("DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "the default graph is the union of the named graphs"),
    ("DELETE WHERE { ?s ?p ?o }", "the default graph is the union of the named graphs"),
    ("INSERT { ?s <urn:x:p> ?o } WHERE { ?s <urn:x:q> ?o }", "the default graph is the union of the named graphs"),
    ("CLEAR DEFAULT", "CLEAR DEFAULT would empty every named graph"),
    ("DROP DEFAULT", "DROP DEFAULT would empty every named graph"),
    ("ADD <urn:x:notes> TO DEFAULT", "ADD would write the default graph"),
    ("MOVE DEFAULT TO <urn:x:notes>", "MOVE would write the default graph"),
])
def test_an_update_of_the_default_graph_is_refused_and_changes_nothing(
    writable_server: ServerProcess, update: str, cause: str
) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"

    def quads() -> str:
        response = httpx.get(f"{writable_server.url}/sparql", params={"query": count}, timeout=30)
        return response.json()["results"]["bindings"][0]["n"]["value"]

    before = quads()
    refused = _update(writable_server, update, TOKEN)
    assert refused.status_code == 400 and cause in refused.text, refused.text
    assert quads() == before


def test_updates_sent_together_are_each_applied_to_the_data_the_one_before_left(writable_server: ServerProcess) -> None:
    """Each update runs on a copy of the data in a worker: ten increments sent at once must make ten, not fewer."""
    graph = "<urn:x:counter>"
    assert _update(writable_server, f"INSERT DATA {{ GRAPH {graph} {{ <urn:x:c> <urn:x:v> 0 }} }}", TOKEN).status_code == 204
    increment = (f"DELETE {{ GRAPH {graph} {{ <urn:x:c> <urn:x:v> ?n }} }} INSERT {{ GRAPH {graph} {{ <urn:x:c> <urn:x:v> ?m }} }} "
                 f"WHERE {{ GRAPH {graph} {{ <urn:x:c> <urn:x:v> ?n }} BIND(?n + 1 AS ?m) }}")
    with ThreadPoolExecutor(10) as threads:
        statuses = list(threads.map(lambda _: _update(writable_server, increment, TOKEN).status_code, range(10)))
    assert statuses == [204] * 10
    response = httpx.get(f"{writable_server.url}/sparql", params={"query": f"SELECT ?n WHERE {{ GRAPH {graph} {{ ?c ?v ?n }} }}"},
                         headers={"Accept": "text/csv"}, timeout=30)
    assert response.text.splitlines() == ["n", "10"]
    assert _update(writable_server, f"DROP GRAPH {graph}", TOKEN).status_code == 204


def test_an_update_stopped_at_the_time_limit_changes_nothing(writable_server: ServerProcess) -> None:
    slow = ("INSERT { GRAPH <urn:x:slow> { ?a <urn:x:p> ?b } } WHERE { ?a rdfs:label ?x . ?b rdfs:label ?y . "
            "?c rdfs:label ?z }")  # a product of the labels, three times over: far beyond the time limit
    refused = _update(writable_server, slow, TOKEN)
    assert refused.status_code == 503
    assert refused.text.endswith("(the update was cancelled: nothing changed)\n")
    assert not _ask(writable_server, "ASK { GRAPH <urn:x:slow> { ?s ?p ?o } }")


def test_an_answer_computed_while_an_update_was_applied_is_not_cached() -> None:
    """The answer cache keeps no reply that may be of the data before the latest update."""
    pool = Pool(_Evaluator(connect=lambda: None, dataset=None, graphs=set(), settings=Settings()))  # type: ignore[arg-type]
    answers = iter([Reply(200, "text/csv", b"n\n0\n"), Reply(200, "text/csv", b"n\n1\n")])

    async def run_while_an_update_lands(job: dict) -> Reply:
        pool.generation += 1  # what Pool.apply does, while the worker was still answering
        return next(answers)

    pool._run = run_while_an_update_lands  # type: ignore[method-assign]  # noqa: SLF001
    job = {"kind": "query", "text": "SELECT ?n WHERE { ?c ?v ?n }"}
    assert asyncio.run(pool.run(job)).body == b"n\n0\n"
    assert asyncio.run(pool.run(job)).body == b"n\n1\n"  # asked again: answered again, not from the cache


def test_the_answer_cache_keeps_a_digest_of_each_query_not_its_text() -> None:
    """The cache's bound (256 answers of at most 256 KiB) must hold with query texts of a megabyte each."""
    pool = Pool(_Evaluator(connect=lambda: None, dataset=None, graphs=set(), settings=Settings()))  # type: ignore[arg-type]

    async def answer(job: dict) -> Reply:
        return Reply(200, "text/csv", b"n\n0\n")

    pool._run = answer  # type: ignore[method-assign]  # noqa: SLF001
    asyncio.run(pool.run({"kind": "query", "text": "ASK {} #" + "x" * (1 << 20), "accept": "*/*"}))
    [key] = pool._answers  # noqa: SLF001
    assert len(key) == 64


def test_the_service_description_announces_updates(writable_server: ServerProcess) -> None:
    description = Graph().parse(data=httpx.get(f"{writable_server.url}/sparql").content, format="turtle")
    assert (None, SD.supportedLanguage, SD.SPARQL11Update) in description


def test_allow_update_needs_a_token(tmp_path: Path) -> None:
    environment = {key: value for key, value in os.environ.items() if key != "KG_UPDATE_TOKEN"}
    result = subprocess.run([str(Path(sys.executable).with_name("kg")), "serve", "--allow-update"],
                            capture_output=True, text=True, env=environment, timeout=60)
    assert result.returncode == 2
    assert "--allow-update needs --token" in result.stderr
