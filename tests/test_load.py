"""Stage 1, load: named graphs, byte-exact source texts, located quotes and malformed-input messages."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PIPELINE
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from kg.build import cache_dir
from kg.cli import app
from kg.errors import InputError, UsageError
from kg.build import load_dataset
from kg.load import Project, curie, find_span, find_spans, label, parse_turtle
from kg.namespaces import CLAIM, ID, KG, ONTOLOGY_GRAPH, SCHEMA, SOURCES_GRAPH, STATEMENTS_GRAPH


def test_each_input_is_in_its_named_graph(project: Project) -> None:
    dataset = load_dataset(project)
    ontology, statements = Graph().parse(project.ontology), Graph().parse(project.statements)
    assert isomorphic(dataset.graph(ONTOLOGY_GRAPH), ontology)
    assert isomorphic(dataset.graph(STATEMENTS_GRAPH), statements)
    assert (ID.factsheet, SCHEMA.text, None) not in statements
    assert len(dataset.graph(SOURCES_GRAPH)) == 1


def test_source_text_is_byte_exact_and_matches_its_sha(project: Project) -> None:
    path = project.root / "data" / "sources" / "tiny.txt"
    path.write_bytes(path.read_bytes().replace(b"\n\n", b"\r\n\r\n", 1))  # newlines must not be translated
    text = load_dataset(project).graph(SOURCES_GRAPH).value(ID.factsheet, SCHEMA.text)
    assert str(text).encode("utf-8") == path.read_bytes()
    assert "\r\n" in str(text)


def test_the_loader_does_not_rewrite_the_sha(project: Project) -> None:
    dataset = load_dataset(project)
    declared = str(dataset.value(ID.factsheet, KG.sha256))
    text = str(dataset.value(ID.factsheet, SCHEMA.text))
    assert declared == hashlib.sha256(text.encode("utf-8")).hexdigest()
    (project.root / "data" / "sources" / "tiny.txt").write_text("changed", encoding="utf-8")
    assert str(load_dataset(project).value(ID.factsheet, KG.sha256)) == declared


def test_malformed_turtle_names_file_line_and_cause() -> None:
    with pytest.raises(InputError) as caught:
        parse_turtle(PIPELINE / "malformed.ttl", Graph())
    message = str(caught.value)
    assert re.search(r"malformed\.ttl:7: ", message), message
    assert "A dot is expected at the end of statements" in message
    assert "Traceback" not in message and "^" not in message


# Breaks of the project's own statements, far into the file: rdflib's parser counted 7 lines too many at line
# 478 and 24 at line 1000, and took a \uZZZZ escape as text; Oxigraph's parser gives the line.
@pytest.mark.parametrize(("old", "new", "cause"), [
    ('kg:statement "NORAD celebrated', 'foo:statement "NORAD celebrated', "The prefix foo: has not been declared"),
    ("kg:ordinal 65 ;", "kg:ordinal 65 ,, ;", ", is not a valid RDF object"),
    ('oa:exact "NORAD celebrated its', 'oa:exact "NORAD \\uZZZZ celebrated its', "'\\uZZZZ'"),
], ids=["undeclared-prefix", "double-comma", "bad-escape"])
def test_a_break_deep_in_the_statements_names_its_own_line(tmp_path: Path, old: str, new: str, cause: str) -> None:
    statements = Path(__file__).parent.parent / "data" / "statements.ttl"
    text = statements.read_text(encoding="utf-8")
    assert text.count(old) == 1
    line = text[: text.index(old)].count("\n") + 1
    broken = tmp_path / "statements.ttl"
    broken.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        parse_turtle(broken, Graph())
    assert f"statements.ttl:{line}: malformed Turtle: " in str(caught.value)
    assert cause in str(caught.value)


def test_undefined_prefix_is_reported_with_its_line(project: Project) -> None:
    with project.statements.open("a", encoding="utf-8") as stream:
        stream.write("\nid:Canada nope:p id:NATO .\n")
    lines = project.statements.read_text(encoding="utf-8").count("\n")
    with pytest.raises(InputError, match=rf"data/statements\.ttl:{lines}: .*nope"):
        load_dataset(project)


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _refused_build(project: Project, tmp_path: Path, *edits: tuple[str, str], edited: Path | None = None) -> str:
    """Build the project, make each (old, new) edit to file `edited` (data/statements.ttl by default), build
    again: the second build must exit 2 without a traceback, leaving the first one's dist/ and the cache as they
    were. Its stderr."""
    edited = edited or project.statements
    runner, out = CliRunner(), tmp_path / "dist"
    build = ["--root", str(project.root), "build", "--out", str(out)]
    assert runner.invoke(app, build).exit_code == 0
    before, cached = _files(out), _files(cache_dir(project))
    assert before and cached
    text = edited.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    edited.write_text(text, encoding="utf-8")
    result = runner.invoke(app, build)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert _files(out) == before and _files(cache_dir(project)) == cached
    return result.stderr


# Each edit puts a term rdflib's parser accepts, but no store can hold, on a line of the fixture's statements.
@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('"Tiny fact sheet"@en', r'"Tiny \uD800 fact sheet"@en',
         "data/statements.ttl:14: a lone surrogate U+D800 cannot be written in UTF-8"),
        ('"Tiny fact sheet"@en', r'"Tiny fact sheet\U0000DFFF"@en',
         "data/statements.ttl:14: a lone surrogate U+DFFF cannot be written in UTF-8"),
        ("kg:partner id:UnitedStates", r"kg:partner <https://w3id.org/defence-kg/id/United\u0001States>",
         "data/statements.ttl:32: an IRI cannot hold U+0001"),
        ("kg:partner id:UnitedStates", r"kg:partner <https://w3id.org/defence-kg/id/United\u0020States>",
         "data/statements.ttl:32: an IRI cannot hold U+0020"),
        ("kg:partner id:UnitedStates", r"kg:partner <https://w3id.org/defence-kg/id/United\u007FStates>",
         "data/statements.ttl:32: an IRI cannot hold U+007F"),
        ("kg:partner id:UnitedStates", "kg:partner <https://w3id.org/defence-kg/id/United#States#>",
         "data/statements.ttl:32: <https://w3id.org/defence-kg/id/United#States#> is not an IRI"),
        ('"Canada"@fr', '"Canada"@fr-a', "data/statements.ttl:31: @fr-a is not a language tag"),
        ('"Canada"@fr', '"Canada"@francophone', "data/statements.ttl:31: @francophone is not a language tag"),
        ('"US"@en', '"US"^^<http://example.org/short name>',
         "data/statements.ttl:38: an IRI cannot hold U+0020 (in <http://example.org/short name>), the datatype of"),
        ('"US"@en', '"US"^^<http://example.org/%name>',
         "data/statements.ttl:38: <http://example.org/%name> is not an IRI"),
    ],
    ids=["surrogate", "surrogate-U", "iri-control", "iri-space", "iri-delete", "iri-two-fragments",
         "language-extension", "language-too-long", "datatype-space", "datatype-percent"],
)
def test_a_term_no_store_can_hold_is_refused_where_it_is_read(
    project: Project, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert f"error: {expected}" in _refused_build(project, tmp_path, (old, new))


def test_of_several_bad_terms_the_first_line_is_named(project: Project, tmp_path: Path) -> None:
    stderr = _refused_build(project, tmp_path, ('"US"@en', r'"U\uDBFFS"@en'),
                            ("kg:partner id:UnitedStates", r"kg:partner <https://w3id.org/defence-kg/id/a\u0002b>"))
    assert "error: data/statements.ttl:32: an IRI cannot hold U+0002" in stderr


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ('"RU"', r'"R\uD800U"', "data/external/wikidata.trig:11: a lone surrogate U+D800 cannot be written in UTF-8"),
        ("wd:Q159 rdfs:label", r"<http://www.wikidata.org/entity/Q1\u00015> rdfs:label",
         "data/external/wikidata.trig:10: an IRI cannot hold U+0001"),
    ],
    ids=["surrogate", "iri-control"],
)
def test_the_enrichment_cache_s_terms_are_checked_too(
    project: Project, tmp_path: Path, old: str, new: str, expected: str
) -> None:
    project.wikidata_cache.parent.mkdir(parents=True)
    shutil.copy(PIPELINE.parent / "wikidata" / "cache.trig", project.wikidata_cache)
    assert f"error: {expected}" in _refused_build(project, tmp_path, (old, new), edited=project.wikidata_cache)


def test_missing_input_is_named(project: Project) -> None:
    project.ontology.unlink()
    with pytest.raises(InputError, match=r"ontology/defence-kg\.ttl: cannot read"):
        load_dataset(project)


def test_missing_source_document_is_named(project: Project) -> None:
    (project.root / "data" / "sources" / "tiny.txt").unlink()
    with pytest.raises(InputError, match=r"data/sources/tiny\.txt"):
        load_dataset(project)


def test_a_source_file_outside_the_project_is_refused(project: Project) -> None:
    text = project.statements.read_text(encoding="utf-8").replace('"data/sources/tiny.txt"', '"../../etc/passwd"')
    project.statements.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="outside the project"):
        load_dataset(project)


def test_find_span_counts_code_points() -> None:
    text = "NORAD – the North American Aerospace Defense Command"
    start, end = find_span(text, "North American")
    assert text[start:end] == "North American"
    assert start == text.encode("utf-8").find(b"North") - 2  # the en dash is 3 bytes, 1 code point


def test_find_span_occurrences() -> None:
    text = "aaa Canada bbb Canada"
    assert find_spans(text, "Canada") == [(4, 10), (15, 21)]
    assert find_span(text, "Canada", occurrence=2) == (15, 21)
    assert find_spans("aaa", "aa") == [(0, 2), (1, 3)]  # overlapping matches count
    with pytest.raises(UsageError, match="occurs 2 time"):
        find_span(text, "Canada", occurrence=3)
    with pytest.raises(UsageError, match="not found"):
        find_span(text, "NATO")


def test_fixture_claim_positions_are_what_find_span_gives(project: Project) -> None:
    dataset = load_dataset(project)
    text = str(dataset.value(ID.factsheet, SCHEMA.text))
    assert find_span(text, "Canada is a founding member of NATO") == (17, 52)
    assert (CLAIM.C01, None, None) in dataset


def test_curie_and_label() -> None:
    graph = Graph()
    graph.add((ID.NATO, URIRef("http://www.w3.org/2000/01/rdf-schema#label"), Literal("OTAN", lang="fr")))
    graph.add((ID.NATO, URIRef("http://www.w3.org/2000/01/rdf-schema#label"), Literal("NATO", lang="en")))
    assert curie(CLAIM.C04) == "claim:C04"
    assert curie(URIRef("http://example.org/x")) == "<http://example.org/x>"
    assert label(graph, ID.NATO) == "NATO"
    assert label(graph, ID.Canada) == "id:Canada"
