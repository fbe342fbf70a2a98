"""The web pages (kg.pages) through Starlette's test client, on the project's own build.

Expected texts are written by hand from the fact sheet (data/sources/canada-us-defence-factsheet.txt) and
data/statements.ttl; the rendered HTML is compared after Jinja's escaping (markupsafe.escape) or unescaped.
"""

from __future__ import annotations

import html
import re
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from markupsafe import escape
from rdflib import Literal, URIRef
from starlette.applications import Starlette
from starlette.testclient import TestClient

from kg.build import CACHE_ENV, Built, cache_dir
from kg.load import Project, curie, new_dataset
from conftest import copy_of
from kg.namespaces import CLAIM, DCTERMS, ID, KG, OA, ONTOLOGY_GRAPH, PROJECT_ROOT, RDF, RDFS, SCHEMA, SOURCES_GRAPH, STATEMENTS_GRAPH
from kg import pages
from kg.pages import routes
from kg.serve import EXCEPTION_HANDLERS, Settings, create_app
from kg.query import load_catalogue, parse_catalogue_query, run_query, run_sparql
from kg.sparql import prepare
from kg.sparql_view import read_only_view
from kg.store import SparqlStore

SOURCE = PROJECT_ROOT / "data" / "sources" / "canada-us-defence-factsheet.txt"
_MARK = re.compile(r'<mark class="claim[^"]*" data-claims="([^"]*)"[^>]*><a [^>]*>(.*?)</a></mark>', re.DOTALL)


def client_for(built: Built, cache: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """A test client over an app holding only the pages' routes, with the ontology docs cached in `cache`."""
    monkeypatch.setenv(CACHE_ENV, str(cache))
    app = Starlette(routes=routes(), exception_handlers=EXCEPTION_HANDLERS)
    app.state.built = built
    app.state.settings = Settings()
    return TestClient(app)


@pytest.fixture(scope="session")
def docs_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pages-cache")


@pytest.fixture
def client(built_project: Built, docs_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    with client_for(built_project, docs_cache, monkeypatch) as test_client:
        yield test_client


def blockquotes(page: str) -> list[str]:
    """The text of every quote figure, with the highlighted part wrapped in [[ ]]."""
    found = re.findall(r"<blockquote>(.*?)</blockquote>", page, re.DOTALL)
    return [html.unescape(q.replace("<mark>", "[[").replace("</mark>", "]]")) for q in found]


def test_entity_page_shows_labels_types_and_facts(client: TestClient) -> None:
    response = client.get("/page/NORAD")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="en">' in page
    french = escape("Commandement de la défense aérospatiale de l'Amérique du Nord")
    assert f'<dd lang="fr">{french}</dd>' in page
    assert '<dd lang="en">North American Aerospace Defense Command</dd>' in page
    # C11 "Commanded and staffed by Americans and Canadians": both nationalities, linked to their pages
    assert '<a href="/page/UnitedStates" title="id:UnitedStates">United States</a>' in page
    assert '<a href="/page/Canada" title="id:Canada">Canada</a>' in page
    # C07 "we work together in NORAD": the cooperation refers to NORAD (an incoming, stated fact)
    incoming = page[page.index("Referred to by") :]
    assert '<a href="/page/NORADCooperation" title="id:NORADCooperation">Canada–US cooperation in NORAD</a>' in incoming
    # prov:wasInfluencedBy only follows from kg:supportedBy by reasoning: marked inferred
    row = re.search(r'<tr class="inferred"><td><a [^>]*title="prov:wasInfluencedBy"', page)
    assert row is not None
    stated = re.search(r'<tr><td><a [^>]*title="kg:staffNationality"', page)
    assert stated is not None


def test_entity_page_shows_each_quote_inside_its_sentence(client: TestClient) -> None:
    page = client.get("/page/NORAD").text
    sentence = (
        "At home, we work together in NORAD – the North American Aerospace Defense Command – to ensure the "
        "security of our approaches and shared airspace and to warn against maritime threats from offshore."
    )
    assert blockquotes(page) == [
        sentence.replace("we work together in NORAD", "[[we work together in NORAD]]"),
        sentence.replace(
            "NORAD – the North American Aerospace Defense Command", "[[NORAD – the North American Aerospace Defense Command]]"
        ),
        "[[Commanded and staffed by Americans and Canadians]], NORAD celebrated its 65th anniversary in 2023.",
    ]
    for ident in ("C07", "C08", "C11"):
        assert f'<a class="claim-link" href="/document?source=id%3Afactsheet#{ident}">{ident}</a>' in page


def test_derived_fact_shows_the_claim_it_is_derived_from(client: TestClient) -> None:
    page = client.get("/page/NORADFounding").text
    assert blockquotes(page) == [
        "Commanded and staffed by Americans and Canadians, [[NORAD celebrated its 65th anniversary in 2023]]."
    ]
    assert '<span class="badge">derived from</span>' in page


def test_types_link_to_the_ontology_documentation(client: TestClient) -> None:
    page = client.get("/page/NORAD").text
    link = re.search(r'<a href="/docs/ontology/#([^"]+)" title="kg:MilitaryCommand">', page)
    assert link is not None
    docs = client.get("/docs/ontology/").text
    assert f'id="{link.group(1)}"' in docs


def test_document_view_highlights_every_claim_with_its_exact_quote(client: TestClient, built_project: Built) -> None:
    page = client.get("/document").text
    graph = built_project.dataset
    quotes = {
        str(graph.value(claim, DCTERMS.identifier)): str(exact)
        for claim in graph.subjects(RDF.type, KG.Claim)
        for selector in graph.objects(claim, OA.hasSelector)
        for exact in graph.objects(selector, OA.exact)
    }
    assert len(quotes) == 52
    for ident in quotes:
        assert page.count(f'id="{ident}"') == 1
        assert f'<li id="claim-{ident}">' in page
    highlighted: dict[str, str] = {}
    for claims, text in _MARK.findall(page):
        for ident in claims.split():
            highlighted[ident] = highlighted.get(ident, "") + html.unescape(text)
    assert highlighted == quotes
    # C07 "we work together in NORAD" and C08 "NORAD – the North American…" share the word NORAD
    assert '<mark class="claim overlap" data-claims="C07 C08"' in page


def test_each_source_document_has_its_own_page(built_project: Built, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A second document, after the fact sheet by IRI, whose one claim reuses the identifier C07: /document shows the
    fact sheet alone, `?source=` the other, each page its own claims, a pager between them, and an entity's quote
    links to the page of its claim's document."""
    dataset = copy_of(built_project.dataset)
    statements = dataset.graph(STATEMENTS_GRAPH)
    text = "Second source. It says one thing."
    statements.add((ID.zdoc, RDF.type, KG.SourceDocument))
    statements.add((ID.zdoc, DCTERMS.title, Literal("Second source")))
    dataset.graph(SOURCES_GRAPH).add((ID.zdoc, SCHEMA.text, Literal(text)))
    quote = "It says one thing."
    claim, selector = CLAIM.Z07, ID.zselector
    for triple in ((claim, RDF.type, KG.Claim), (claim, DCTERMS.identifier, Literal("C07")),
                   (claim, OA.hasSource, ID.zdoc), (claim, OA.hasSelector, selector),
                   (selector, OA.exact, Literal(quote)), (selector, OA.start, Literal(text.index(quote))),
                   (selector, OA.end, Literal(len(text))), (ID.Thing, RDFS.label, Literal("Thing", lang="en")),
                   (ID.Thing, KG.supportedBy, claim)):
        statements.add(triple)
    with client_for(Built(dataset, built_project.report), tmp_path, monkeypatch) as client:
        first, second = client.get("/document"), client.get("/document?source=id:zdoc")
        unknown = client.get("/document?source=id:nodoc")
        thing = client.get("/page/Thing").text
    assert first.status_code == second.status_code == 200
    assert [title for title in re.findall(r"<cite>(.*?)</cite>", second.text)] == ["Second source"]
    assert [(claims, html.unescape(text)) for claims, text in _MARK.findall(second.text)] == [("C07", quote)]
    assert second.text.count('id="C07"') == 1
    assert "Document 2 of 2" in second.text and '<a rel="prev" href="/document?source=id%3Afactsheet">' in second.text
    assert 'rel="next"' not in second.text
    fact_sheet = {ident for claims, _ in _MARK.findall(first.text) for ident in claims.split()}
    assert len(fact_sheet) == 52 and first.text.count('id="C07"') == 1
    assert "Second source" not in first.text and quote not in first.text
    assert "Document 1 of 2" in first.text and '<a rel="next" href="/document?source=id%3Azdoc">' in first.text
    assert unknown.status_code == 404
    assert f"no source document is named {escape(repr('id:nodoc'))} (parameter source" in unknown.text
    assert '<a class="claim-link" href="/document?source=id%3Azdoc#C07">C07</a>' in thing


def test_one_source_document_has_no_pager(client: TestClient) -> None:
    assert '<nav class="pager">' not in client.get("/document").text


def test_document_view_keeps_the_source_text_byte_for_byte(client: TestClient) -> None:
    page = client.get("/document").text
    body = re.search(r'<div class="source-text">(.*?)</div>', page, re.DOTALL)
    assert body is not None
    assert html.unescape(re.sub(r"<[^>]+>", "", body.group(1))) == SOURCE.read_text(encoding="utf-8")


def test_document_view_sets_off_the_headings(client: TestClient) -> None:
    page = client.get("/document").text
    headings = re.findall(r'<strong class="heading">(.*?)</strong>', page)
    # the title line, then the section headings of the fact sheet as it spells them
    assert headings[:7] == [
        "DEFENDING COMMON INTERESTS IN OUR NORTH AMERICAN HOMELAND &amp; ABROAD",
        "NATO",
        "NORAD",
        "SOUTH AMERICA",
        "THE ARCTIC",
        "CARRIBBEAN",
        "UKRAINE",
    ]


def test_document_view_links_claims_to_what_they_support(client: TestClient) -> None:
    page = client.get("/document").text
    item = page[page.index('<li id="claim-C07">') :]
    item = item[: item.index("</li>")]
    assert '<a href="/page/NORADCooperation" title="id:NORADCooperation">' in item
    assert '<a href="/page/NORAD" title="id:NORAD">' in item


def test_query_page_lists_every_catalogue_query(client: TestClient) -> None:
    page = client.get("/query").text
    catalogue = load_catalogue(PROJECT_ROOT / "queries")
    names = re.findall(r'<button type="button" class="example" data-name="([^"]+)"', page)
    assert names == list(catalogue)
    for query in catalogue.values():
        assert f">{escape(query.title)}</button>" in page
    assert '<textarea id="sparql"' in page
    assert '<script src="/static/query.js" defer></script>' in page
    assert client.get("/static/query.js").status_code == 200


def test_query_examples_answer_like_the_catalogue(client: TestClient, built_project: Built) -> None:
    """Each example, as the editor receives it, gives the rows `kg query NAME` gives with the defaults (a
    federated one as `kg query --allow-service` does: the server itself refuses SERVICE)."""
    page = client.get("/query").text
    examples = dict(re.findall(r'data-name="([^"]+)" data-query="([^"]*)"', page))
    catalogue = load_catalogue(PROJECT_ROOT / "queries")
    graph = built_project.dataset
    for name, query in catalogue.items():
        text = html.unescape(examples[name])
        if any(param.required for param in query.params):
            assert "UNDEF" in text
            continue
        expected = run_query(graph, query, {}, allow_service=True)
        result = run_sparql(graph, text, allow_service=True)
        assert result.vars == expected.vars, name
        assert answers(result) == answers(expected), name
    # by hand: the three activities Canada carries out with the United States (C07, C20–C21, C38)
    rows = run_sparql(graph, html.unescape(examples["operations-with"])).bindings
    assert sorted(row["activity"] for row in rows) == [
        ID.CaribbeanDrugInterdiction,
        ID.NORADCooperation,
        ID.NorthKoreaSanctionsEnforcement,
    ]


def answers(result) -> Counter:
    return Counter(tuple(row.get(var) for var in result.vars) for row in result.bindings)


def test_an_example_binds_its_parameters_in_the_where_group_not_in_a_comment(built_project: Built,
                                                                                tmp_path: Path) -> None:
    path = tmp_path / "q.rq"
    path.write_text("# title: t\n# param: x string = a -- x\n# the WHERE { of a comment\nSELECT ?x { ?s ?p ?x }\n",
                    encoding="utf-8")
    text = pages.example(built_project.dataset, parse_catalogue_query(path)).text
    assert text.index("VALUES (?x)") > text.index("SELECT ?x {")
    prepare(text)  # (raises if the VALUES went anywhere but inside the group)


def test_home_links_every_page_and_indexes_entities(client: TestClient) -> None:
    page = client.get("/").text
    for href in ("/document", "/query", "/docs/ontology/"):
        assert f'href="{href}"' in page
    for entity in ("Canada", "NORAD", "NORADCooperation", "Ukraine"):
        assert f'href="/page/{entity}"' in page
    assert 'href="/page/claim/' not in page  # claims are reached through the document


# the twelve states the fact sheet names, by label: Canada and the United States, and Iraq, Jordan, Kuwait, Latvia,
# Lebanon, North Korea, Russia, Syria, Ukraine and Venezuela where it speaks of operations, threats and crises
STATES = ["Canada", "Iraq", "Jordan", "Kuwait", "Latvia", "Lebanon", "NorthKorea", "Russia", "Syria", "Ukraine",
          "UnitedStates", "Venezuela"]
_LISTED = re.compile(r'<li><a href="/page/([^"]+)"')


def test_the_home_page_shows_each_group_s_first_entities_and_pages_the_rest(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "HOME_GROUP_ROWS", 3)
    monkeypatch.setattr(pages, "ENTITIES_PAGE_ROWS", 5)
    home = client.get("/").text
    sections = re.findall(r"<section>(.*?)</section>", home, re.DOTALL)
    assert _LISTED.findall(sections[0]) == STATES[:3]
    assert '<a href="/entities?group=kg%3AState">All 12</a>' in sections[0]
    assert all(len(_LISTED.findall(section)) <= 3 for section in sections)
    paged = [client.get(f"/entities?group=kg:State&page={number}") for number in (1, 2, 3)]
    assert [_LISTED.findall(page.text) for page in paged] == [STATES[:5], STATES[5:10], STATES[10:]]
    assert "Entities 6–10 of 12" in paged[1].text
    assert '<a rel="prev" href="/entities?group=kg%3AState&amp;page=1">' in paged[1].text
    assert '<a rel="next" href="/entities?group=kg%3AState&amp;page=3">' in paged[1].text
    assert 'rel="next"' not in paged[2].text and 'rel="prev"' not in paged[0].text
    for page in ("0", "4", "x", "²", "-1", "9" * 5000):  # (int() refuses more than 4300 digits)
        refused = client.get(f"/entities?group=kg:State&page={page}")
        assert refused.status_code == 400
        assert f"page {escape(repr(page))} is not a page of kg:State: pages run from 1 to 3" in refused.text
    unknown = client.get("/entities?group=kg:Nothing")
    assert unknown.status_code == 404
    assert f"no group of entities is named {escape(repr('kg:Nothing'))} (parameter group)" in unknown.text
    assert "the groups are: kg:State, kg:Place, org:Organization, kg:Commitment, kg:Activity" in unknown.text
    for hostile in ("/entities?group=<script>alert(1)</script>", "/document?source=<script>alert(1)</script>"):
        refused = client.get(hostile)
        assert refused.status_code == 404
        assert "<script>alert" not in refused.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in refused.text


def test_the_index_is_computed_once_for_the_served_data(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(pages, "entity_index", lambda *args: calls.append(args) or pages.EntityIndex([], 0))
    for path in ("/", "/entities?group=other", "/"):
        client.get(path)
    assert len(calls) == 1


def test_the_home_page_and_a_group_show_the_labels_the_index_read(client: TestClient,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the index is computed (it reads every entity's labels), the home page and a group's page look up no
    entity's label again (on a SPARQL server's view, a query each: 650 for the home page of a 20 k-triple
    generated project); they still show the states by their English labels."""
    client.get("/")
    looked_up = []
    label = pages.label
    monkeypatch.setattr(pages, "label", lambda graph, node, *rest: looked_up.append(node) or label(graph, node, *rest))
    home, states = client.get("/"), client.get("/entities?group=kg:State")
    assert looked_up == []
    assert '<a href="/page/UnitedStates" title="id:UnitedStates">United States</a>' in home.text
    assert _LISTED.findall(states.text) == STATES


def test_kg_serve_computes_the_index_at_start_up(built_project: Built, docs_cache: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Before any request, in the background: the first visitor of the home page need not wait for it."""
    monkeypatch.setenv(CACHE_ENV, str(docs_cache))
    app = create_app(built_project, Settings(workers=1, max_workers=1))
    with TestClient(app):
        for thread in threading.enumerate():
            if thread.name == "entity-index":
                thread.join(timeout=60)
        version, index = app.state.entity_index
        assert version == (id(built_project.dataset), 0)
        assert [group.key for group in index.groups][:2] == ["kg:State", "kg:Place"] and index.claims == 52


def test_every_entity_is_in_one_group_of_the_index(client: TestClient, built_project: Built) -> None:
    """The index through /entities, against the entities found one by one: each typed in the statements graph,
    with a page, not a claim, in the group of its first INDEX_GROUPS class."""
    graph = built_project.dataset
    expected: dict[str, set[str]] = {}
    for node in set(graph.graph(STATEMENTS_GRAPH).subjects(RDF.type)):
        if str(node).startswith(str(ID)) and (node, RDF.type, KG.Claim) not in graph:
            classes = [cls for cls in pages.INDEX_GROUPS if (node, RDF.type, cls) in graph]
            key = curie(classes[0]) if classes else "other"
            expected.setdefault(key, set()).add(str(node)[len(ID):])
    listed = {key: _LISTED.findall(client.get(f"/entities?group={key}").text) for key in expected}
    assert {key: set(names) for key, names in listed.items()} == expected
    assert sum(len(names) for names in listed.values()) == len(set().union(*expected.values()))


def test_ontology_documentation_is_served_with_the_site_header(client: TestClient) -> None:
    response = client.get("/docs/ontology/")
    assert response.status_code == 200
    assert "Defence cooperation knowledge graph ontology" in response.text
    assert '<a href="/query">Query</a>' in response.text
    assert "<script src=" not in response.text  # everything inline or local


def test_unknown_entities_get_a_404_page(client: TestClient) -> None:
    response = client.get("/page/NoSuchThing")
    assert response.status_code == 404
    assert "https://w3id.org/defence-kg/id/NoSuchThing" in response.text
    hostile = client.get("/page/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert hostile.status_code == 404
    assert "<script>alert(1)</script>" not in hostile.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile.text


def test_hostile_text_is_escaped(built_project: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Labels, quotes and source text that look like markup are shown as text."""
    dataset = new_dataset()
    dataset.graph(ONTOLOGY_GRAPH).__iadd__(built_project.dataset.graph(ONTOLOGY_GRAPH))
    statements = dataset.graph(STATEMENTS_GRAPH)
    text = 'Intro. The <script>alert("x")</script> & <b>bold</b> claim. End.'
    statements.add((ID.doc, RDF.type, KG.SourceDocument))
    dataset.graph(SOURCES_GRAPH).add((ID.doc, SCHEMA.text, Literal(text)))
    claim = CLAIM.X1
    quote_start = text.index("<script>")
    quote = '<script>alert("x")</script> & <b>bold</b>'
    selector_quote, selector_position = ID.q, ID.p
    statements.add((claim, RDF.type, KG.Claim))
    statements.add((claim, DCTERMS.identifier, Literal("X1")))
    statements.add((claim, OA.hasSource, ID.doc))
    statements.add((claim, OA.hasSelector, selector_quote))
    statements.add((selector_quote, OA.exact, Literal(quote)))
    statements.add((claim, OA.hasSelector, selector_position))
    statements.add((selector_position, OA.start, Literal(quote_start)))
    statements.add((selector_position, OA.end, Literal(quote_start + len(quote))))
    statements.add((ID.Evil, RDFS.label, Literal('<img src=x onerror="alert(1)">', lang="en")))
    statements.add((ID.Evil, KG.supportedBy, claim))
    for target in ("javascript:alert(document.domain)", "JavaScript:alert(2)", "data:text/html,<b>x</b>"):
        statements.add((ID.Evil, RDFS.seeAlso, URIRef(target)))
    statements.add((ID.Evil, RDFS.seeAlso, URIRef("https://example.org/fine")))
    with client_for(Built(dataset, built_project.report), tmp_path, monkeypatch) as hostile:
        entity = hostile.get("/page/Evil").text
        document = hostile.get("/document").text
    for page in (entity, document):
        assert "<script>" not in page
        assert "<b>" not in page
        assert "<img" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in entity
    # an IRI that is not a web address is shown, never linked: a javascript: link would run in the reader's browser
    links = re.findall(r'<a href="([^"]*)"', entity)
    assert "https://example.org/fine" in links
    assert not [link for link in links if not link.startswith(("/", "https://", "http://", "#"))], links
    assert "javascript:alert(document.domain)" in entity
    assert blockquotes(entity) == ['The [[<script>alert("x")</script> & <b>bold</b>]] claim.']
    marks = _MARK.findall(document)
    assert [(claims, html.unescape(text)) for claims, text in marks] == [("X1", quote)]


# --- /ask: kg.ask over HTTP ---------------------------------------------------------------------------------------


def test_ask_answers_in_json_with_the_quotes(client: TestClient) -> None:
    from tests.test_ask import US_OPERATIONS

    response = client.get("/ask", params={"q": "Quelles opérations le Canada mène-t-il avec les États-Unis ?",
                                          "format": "json"})
    assert response.status_code == 200
    reply = response.json()
    assert (reply["status"], reply["query"], reply["language"]) == ("answered", "operations-with", "fr")
    got = sorted((q["id"], q["quote"]) for row in reply["quotes"] for q in row)
    assert got == sorted(q for quotes in US_OPERATIONS.values() for q in quotes)


def test_ask_page_shows_the_form_and_each_quote_linked_to_the_document(client: TestClient) -> None:
    assert '<form class="ask"' in client.get("/ask").text  # no question yet: only the form
    page = client.get("/ask", params={"q": "Which operations does Canada conduct with the US?"},
                      headers={"Accept": "text/html"}).text
    assert '<a class="claim-link" href="/document?source=id%3Afactsheet#C38">C38</a>' in page
    derived = client.get("/ask", params={"q": "When was NORAD founded?"}, headers={"Accept": "text/html"}).text
    # the anchor is the claim's identifier, whatever the link says of it
    assert '<a class="claim-link" href="/document?source=id%3Afactsheet#C12">C12 (derived from)</a>' in derived
    assert "<mark>Canada works with the United States and Allies to enforce sanctions on North Korea</mark>" in page


def test_ask_fails_honestly_over_http(client: TestClient) -> None:
    reply = client.get("/ask", params={"q": "What is the weather in Paris?"},
                       headers={"Accept": "application/json"}).json()
    assert reply["status"] in ("unanswerable", "not-covered") and len(reply["suggestions"]) == 3
    assert reply["rows"] == [] and reply["query"] is None


def test_ask_is_refused_past_the_time_limit_and_computes_at_most_max_workers_answers(
    built_project: Built, docs_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer runs in a thread of the server, which cannot be stopped: past --timeout the request gets a 503,
    and the answer given up on keeps its slot until it ends, so that requests can never start more than
    --max-workers answers at once (here 1: the next question waits for the slot, then gets a 503 too)."""
    release, started = threading.Event(), threading.Event()
    real_answer = pages.answer

    def stuck_then_real(built, question, *args, **kwargs):
        if question == "stuck":
            started.set()
            release.wait(60)
        return real_answer(built, question, *args, **kwargs)

    monkeypatch.setattr(pages, "answer", stuck_then_real)
    with client_for(built_project, docs_cache, monkeypatch) as client:
        # (1 s: the stuck answer's thread must have started within it, even on a loaded machine)
        client.app.state.settings = Settings(timeout=1, max_workers=1)
        json = {"Accept": "application/json"}
        stuck = client.get("/ask", params={"q": "stuck"}, headers=json)
        assert stuck.status_code == 503 and started.is_set()
        assert stuck.text == "ask: no answer within the server's time limit of 1 s; retry later\n"
        waiting = client.get("/ask", params={"q": "When was NORAD founded?"}, headers=json)
        assert waiting.status_code == 503
        assert waiting.text == "ask: all 1 answering slots stayed busy for 1 s; retry later\n"
        release.set()
        slots = client.app.state.ask_slots
        assert slots.acquire(timeout=60)  # the stuck answer has ended and let its slot go
        slots.release()
        client.app.state.settings = Settings(timeout=60, max_workers=1)  # a real answer may take over 1 s
        answered = client.get("/ask", params={"q": "When was NORAD founded?"}, headers=json)
        assert answered.status_code == 200 and answered.json()["query"] == "founding-dates"


@pytest.mark.parametrize("params, error", [
    ({"format": "json"}, "missing parameter q"),
    ({"q": "x" * 1001, "format": "json"}, "longer than 1000 characters"),
    ({"q": "What does Canada lead?", "lang": "de", "format": "json"}, "unknown language 'de'"),
])
def test_ask_rejects_bad_requests_with_400(client: TestClient, params: dict, error: str) -> None:
    response = client.get("/ask", params=params)
    assert response.status_code == 400 and error in response.json()["error"]


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_ask_names_a_refused_query_without_the_servers_paths(client: TestClient, accept: str) -> None:
    """The federated query is refused by its name: the query file's absolute path told clients where the server
    keeps its files. The question is not a bad request (it was a 400): it is unanswerable here, as in kg ask."""
    response = client.get("/ask", params={"q": "Do the ISO codes of the countries mentioned agree with Wikidata?"},
                          headers={"Accept": accept})
    assert response.status_code == 200
    if accept == "application/json":
        assert response.json()["status"] == "unanswerable" and response.json()["suggestions"]
    assert "query iso-codes-wikidata: SERVICE is not allowed" in html.unescape(response.text)
    assert str(PROJECT_ROOT) not in response.text and str(Path.cwd()) not in response.text


def test_ask_says_its_answer_depends_on_accept(client: TestClient) -> None:
    """The same URL gives the JSON object or the page, each the one answer: rows of Canada's leading (C32, C35)."""
    question = {"q": "Where does Canada lead?"}
    replies = {accept: client.get("/ask", params=question, headers={"Accept": accept})
               for accept in ("application/json", "text/html")}
    assert all(r.status_code == 200 and r.headers["vary"] == "Accept" for r in replies.values())
    reply = replies["application/json"].json()
    assert (reply["status"], reply["query"]) == ("answered", "where-canada-leads")
    assert [row["ledLabel"] for row in reply["rows"]] == ["NATO multinational battle group in Latvia",
                                                          "efforts to scale the battle group in Latvia to brigade level"]
    page = replies["text/html"].text
    assert page.startswith("<!doctype html>") and "<code>where-canada-leads</code>" in page
    assert all(html.escape(row["ledLabel"]) in page for row in reply["rows"])


def test_ask_page_shows_each_row_once_in_its_text(client: TestClient) -> None:
    """A row's labels were shown beside the nodes they name: "NATO multinational battle group in Latvia · NATO
    multinational battle group in Latvia · Latvia · Latvia"; the page now shows the rows as kg ask prints them."""
    page = client.get("/ask", params={"q": "Where does Canada lead?"}, headers={"Accept": "text/html"}).text
    rows = [html.unescape(row).strip() for row in re.findall(r"<li>([^<]*?)\s*<ul class=\"quotes\">", page)]
    assert rows == ["NATO multinational battle group in Latvia (location: Latvia)",
                    "efforts to scale the battle group in Latvia to brigade level"]


def test_ask_page_speaks_the_replys_language(client: TestClient) -> None:
    answered = client.get("/ask", params={"q": "Quelles opérations le Canada mène-t-il avec les États-Unis ?"},
                          headers={"Accept": "text/html"}).text
    assert "<p>Requête : <a" in answered and "<p>Paramètres : <code>partner</code> = États-Unis" in answered
    refused = client.get("/ask", params={"q": "Quel temps fera-t-il demain à Ottawa ?"},
                         headers={"Accept": "text/html"}).text
    assert "<p>Questions les plus proches auxquelles je peux répondre :</p>" in refused
    assert "Query:" not in answered + refused and "Closest questions" not in answered + refused


def test_ask_counts_the_question_without_its_padding(client: TestClient) -> None:
    """As kg ask does (tests/test_ask.py): the question's 28 characters, not its 1228 with the spaces."""
    reply = client.get("/ask", params={"q": " " * 600 + "What does Canada do in Iraq?" + " " * 600,
                                       "format": "json"}).json()
    assert (reply["status"], reply["query"]) == ("answered", "activities-in-region")


@pytest.mark.parametrize("path, refusal", [
    ("/ask?q=%FF", "the query string is not UTF-8 once percent-decoded"),
    ("/ask?q=Latvia&q=Canada", "the request has 2 'q' parameters; one is allowed"),
    ("/ask?q=Latvia&format=xml", "unknown format 'xml' (parameter format): use json or html"),
    ("/document?source=id:factsheet&source=id:other", "the request has 2 'source' parameters; one is allowed"),
    ("/entities?group=kg:State&group=kg:Place", "the request has 2 'group' parameters; one is allowed"),
    ("/entities?group=kg:State&page=1&page=2", "the request has 2 'page' parameters; one is allowed"),
])
def test_pages_refuse_parameters_that_are_not_utf8_or_repeated(client: TestClient, path: str, refusal: str) -> None:
    # (Starlette alone would take U+FFFD for the byte, and the last of repeated parameters)
    plain = client.get(path)
    assert (plain.status_code, plain.headers["content-type"], plain.text) == (400, "text/plain; charset=utf-8",
                                                                               refusal + "\n")
    browser = client.get(path, headers={"Accept": "text/html"})
    assert browser.status_code == 400 and "<h1>Bad request</h1>" in browser.text
    assert escape(refusal) in browser.text


def test_ask_page_escapes_the_question(client: TestClient) -> None:
    page = client.get("/ask", params={"q": "<script>alert(1)</script>"}).text
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- the ontology documentation's cache -----------------------------------------------------------------------


def _fresh_build(built: Built) -> Built:
    """A new Built whose ontology graph is parsed again from its file (new blank node labels, as in a new build)."""
    dataset = new_dataset()
    dataset.graph(ONTOLOGY_GRAPH).parse(PROJECT_ROOT / "ontology" / "defence-kg.ttl")
    return replace(built, dataset=dataset)


@pytest.fixture
def generator_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[int]:
    """pyLODE replaced by a stub whose page says which run made it (the list of runs); the cache in tmp_path."""
    runs: list[int] = []

    def run(ontology) -> tuple[str, dict[str, str]]:
        runs.append(len(runs) + 1)
        return f"<html>run {len(runs)}</html>", {}

    monkeypatch.setattr(pages, "_run_pylode", run)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return runs


def _cached_files(project: Project) -> list[str]:
    return sorted(path.suffix for path in (cache_dir(project) / "ontology-docs").iterdir())


def test_the_same_ontology_reuses_its_documentation(built_project: Built, generator_runs: list[int]) -> None:
    # the ontology's property chains are RDF lists, blank nodes labelled anew by every parse
    first, second = _fresh_build(built_project), _fresh_build(built_project)
    assert first.dataset.graph(ONTOLOGY_GRAPH).serialize(format="nt") != second.dataset.graph(ONTOLOGY_GRAPH).serialize(format="nt")
    assert pages.ontology_docs(first, Project()).path == pages.ontology_docs(second, Project()).path
    assert generator_runs == [1]


def test_a_changed_generator_regenerates_the_documentation_and_removes_the_old(
    built_project: Built, generator_runs: list[int], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    header = tmp_path / "_header.html"
    header.write_text("<header>old</header>", encoding="utf-8")
    monkeypatch.setattr(pages, "DOCS_GENERATOR", (*pages.DOCS_GENERATOR[:-1], header))
    old = pages.ontology_docs(_fresh_build(built_project), Project())
    header.write_text("<header>new</header>", encoding="utf-8")  # the site's header changed
    changed_header = pages.ontology_docs(_fresh_build(built_project), Project())
    assert changed_header.path.read_text(encoding="utf-8") == "<html>run 2</html>"
    assert not old.path.exists() and _cached_files(Project()) == [".html", ".json"]
    real_version = pages.metadata.version
    monkeypatch.setattr(pages.metadata, "version", lambda name: "99.0" if name == "pylode" else real_version(name))
    upgraded = pages.ontology_docs(_fresh_build(built_project), Project())  # another pyLODE
    assert upgraded.path.read_text(encoding="utf-8") == "<html>run 3</html>"
    assert not changed_header.path.exists() and _cached_files(Project()) == [".html", ".json"]


def test_a_page_whose_sparql_server_stopped_answering_says_so(docs_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A SPARQL server read in place (kg.sparql_view) that no longer answers: a 502 naming the server, as the
    problem page for a browser, not the server's own failure (500)."""
    with socket.socket() as probe:  # a free port, closed again: nothing listens there
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/sparql"
    built = Built(read_only_view(SparqlStore(url)), report=None)
    with client_for(built, docs_cache, monkeypatch) as gone:
        page, text = (gone.get("/page/NORAD", headers={"Accept": accept}) for accept in ("text/html", "text/plain"))
    assert page.status_code == 502 and f"/page/NORAD: cannot reach the SPARQL server {url}: " in page.text
    assert "<!doctype html>" in page.text
    assert text.status_code == 502 and text.text.startswith(f"/page/NORAD: cannot reach the SPARQL server {url}: ")
