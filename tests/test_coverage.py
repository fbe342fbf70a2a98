"""Coverage: claims encoded and verified, source units covered, on the fixture and on the project's own data."""

from __future__ import annotations

from collections import Counter

import pytest
from rdflib import BNode, Graph, Literal
from rdflib.term import Node

from kg.build import Built, build
from kg.coverage import claim_coverage, coverage, document_sentences, sentence_units
from kg.load import Project, find_span, find_spans, quote_context
from kg.namespaces import CLAIM, KG, OA, PROJECT_ROOT, RDF, SCHEMA, STATEMENTS_GRAPH

SOURCE = PROJECT_ROOT / "data" / "sources" / "canada-us-defence-factsheet.txt"


def _units(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_units(text)]


def test_lines_and_sentences_are_units() -> None:
    text = "HEADING\n\nFirst one. Second with the U.S. in it. Third!\n\n* A footnote\n\nCanada"
    assert _units(text) == ["HEADING", "First one.", "Second with the U.S. in it.", "Third!", "* A footnote", "Canada"]


def test_units_are_trimmed_and_blank_lines_skipped() -> None:
    assert _units("  padded line  \n \n\nnext") == ["padded line", "next"]


def test_fixture_claims_are_encoded_and_verified(built_fixture: Built) -> None:
    report = coverage(built_fixture.dataset).to_json()
    claims = report["claims"]
    assert (claims["total"], claims["encoded"], claims["verified"]) == (2, 2, 2)
    assert {item["id"]: (item["start"], item["end"]) for item in claims["items"]} == {"C01": (17, 52), "C02": (54, 136)}


def test_fixture_sentences_covered_by_the_overlapping_claims(built_fixture: Built) -> None:
    sentences = coverage(built_fixture.dataset).to_json()["sentences"]
    by_text = {item["text"]: (item["claims"], item["via"]) for item in sentences["items"]}
    assert by_text["TINY FACT SHEET"] == ([], "title")  # the document's dcterms:title, case aside
    assert by_text["Canada is a founding member of NATO."] == (["C01"], "span")
    assert by_text["Canada"] == ([], "")  # the wordmark is a unit of its own
    assert by_text["* Figures are illustrative"] == ([], "")
    assert (sentences["total"], sentences["covered"]) == (7, 3)


def test_a_heading_is_covered_by_the_claims_of_its_section(project: Project) -> None:
    text = project.statements.read_text(encoding="utf-8")
    project.statements.write_text(text.replace('kg:section "(introduction)"', 'kg:section "SINCE 2014"', 1), "utf-8")
    items = {item["text"]: item for item in coverage(build(project).dataset).to_json()["sentences"]["items"]}
    assert (items["SINCE 2014"]["claims"], items["SINCE 2014"]["via"]) == (["C01"], "section")


def test_a_wrong_position_is_not_verified(project: Project) -> None:
    text = project.statements.read_text(encoding="utf-8").replace("oa:end 52", "oa:end 50")
    project.statements.write_text(text, encoding="utf-8")
    items = {c.id: c for c in coverage(build(project).dataset).claims}
    assert not items["C01"].verified and items["C02"].verified
    assert "text[17:50]" in items["C01"].problem


def test_a_claim_supporting_nothing_is_not_encoded(project: Project) -> None:
    built = build(project)
    statements = built.dataset.graph(STATEMENTS_GRAPH)
    statements.add((CLAIM.C03, RDF.type, KG.Claim))
    statements.add((CLAIM.C03, OA.hasSelector, CLAIM.C03sel))
    statements.add((CLAIM.C03sel, OA.exact, Literal("Canada")))
    items = {c.id: c for c in coverage(built.dataset).claims}
    assert not items["claim:C03"].encoded
    assert items["claim:C03"].problem == "no integer oa:start/oa:end position"
    assert items["C01"].encoded and items["C01"].supports == ["id:Canada", "id:NATO"]


def test_every_project_claim_is_encoded_and_verified(built_project: Built) -> None:
    dataset = built_project.dataset
    expected = len(set(dataset.subjects(RDF.type, KG.Claim)))
    claims = coverage(dataset).to_json()["claims"]
    assert claims["total"] == expected > 0
    problems = [(c["id"], c["problem"]) for c in claims["items"] if not (c["encoded"] and c["verified"])]
    assert problems == []


def test_every_unit_of_the_project_source_is_covered(built_project: Built) -> None:
    sentences = coverage(built_project.dataset).to_json()["sentences"]
    assert [item["text"] for item in sentences["items"] if not item["covered"]] == []
    # sentences by claim spans; the 11 section headings by their claims' kg:section; the title by dcterms:title
    vias = [item["via"] for item in sentences["items"]]
    assert (vias.count("span"), vias.count("section"), vias.count("title")) == (23, 10, 1)


@pytest.mark.parametrize(("context", "problem"), [
    ("", "the quote occurs 4 times in the source, and its text quote selector does not say which: give it the "
         "oa:prefix and oa:suffix that kg locate prints"),
    ('; oa:prefix "\\n\\n" ; oa:suffix " "', "the quote occurs 2 times in the source, and its text quote selector does "
                                              "not say which: give it the oa:prefix and oa:suffix that kg locate prints"),
    ('; oa:suffix " is a"', ""),
    ('; oa:prefix "SHEET\\n\\n"', ""),
    ('; oa:prefix "x"', "oa:prefix 'x' is not the text before the quote"),
    ('; oa:suffix " works"', "oa:suffix ' works' is not the text after the quote"),
])
def test_a_quote_that_occurs_more_than_once_is_verified_only_with_the_context_that_picks_it(
    project: Project, context: str, problem: str
) -> None:
    # C01's quote cut down to "Canada", which tiny.txt holds four times: its offsets still say which (17-23)
    text = project.statements.read_text(encoding="utf-8")
    old = 'oa:exact "Canada is a founding member of NATO" ]'
    assert old in text
    text = text.replace(old, f'oa:exact "Canada" {context} ]').replace("oa:end 52", "oa:end 23")
    project.statements.write_text(text, encoding="utf-8")
    c01 = {c.id: c for c in coverage(build(project).dataset).claims}["C01"]
    assert (c01.verified, c01.problem) == (not problem, problem)


def test_quote_context_picks_each_occurrence_of_a_repeated_quote() -> None:
    text = SOURCE.read_text(encoding="utf-8")
    spans = find_spans(text, "Canada")
    assert len(spans) == 15
    for start, end in spans:
        prefix, suffix = quote_context(text, start, end)
        assert find_spans(text, prefix + "Canada" + suffix) == [(start - len(prefix), end + len(suffix))]
    assert quote_context(text, 3313, 3319) == ("dollars\n\n", "")  # claim C52's, at the very end
    assert quote_context(text, *find_span(text, "we work together in NORAD")) == ("", "")  # a quote found once


class _Reads:
    """A graph that counts its lookups of a value and of a node's statements, by (method, subject, predicate):
    kg serve's pages read a SPARQL server a query a lookup (kg.sparql_view)."""

    def __init__(self, graph: Graph) -> None:
        self.graph, self.reads = graph, Counter()

    def __getattr__(self, name: str) -> object:
        return getattr(self.graph, name)

    def value(self, subject: Node, predicate: Node) -> Node | None:
        self.reads["value", subject, predicate] += 1
        return self.graph.value(subject, predicate)

    def predicate_objects(self, subject: Node) -> object:
        self.reads["predicate_objects", subject, None] += 1
        return self.graph.predicate_objects(subject)


def test_a_documents_sentences_read_each_claims_section_once(built_project: Built) -> None:
    """The fact sheet's 52 claims (C01-C52, all located) and its sentences: each claim's kg:section is read once,
    not once for each of the document's sentences, and the sentences are the same."""
    graph = built_project.dataset
    document = next(iter(graph.subjects(SCHEMA.text)))
    claims = coverage(graph).claims
    counted = _Reads(graph)
    sentences = document_sentences(counted, document, SOURCE.read_text(encoding="utf-8"), claims)
    assert sentences == document_sentences(graph, document, SOURCE.read_text(encoding="utf-8"), claims)
    sections = [count for (_, _, predicate), count in counted.reads.items() if predicate == KG.section]
    assert len(sections) == 52 and set(sections) == {1}


def test_a_claims_coverage_reads_each_of_its_selectors_once(built_project: Built) -> None:
    """C07's two selectors (data/statements.ttl: the quote "we work together in NORAD", and 395-420) are each read
    once, whole, not once for each value taken from them."""
    counted = _Reads(built_project.dataset)
    checked = claim_coverage(counted, CLAIM.C07)
    assert (checked.quote, checked.start, checked.end, checked.verified) == ("we work together in NORAD", 395, 420, True)
    selectors = {key: count for key, count in counted.reads.items() if isinstance(key[1], BNode)}
    assert len(selectors) == 2 and set(selectors.values()) == {1}
