"""bench/generate.py: synthetic projects are deterministic, the size asked for, and valid data; and on one, the
catalogue keeps apart what belongs to different documents and providers."""

from __future__ import annotations

import importlib.util
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from test_catalogue import Boolean, value

from kg.instore import build_in_store
from kg.build import load_dataset
from kg.load import Project, load_shapes
from kg.namespaces import PROJECT_ROOT, STATEMENTS_GRAPH
from kg.query import load_catalogue, run_query
from kg.store import create_store
from kg.validate import validate

_SPEC = importlib.util.spec_from_file_location("generate", PROJECT_ROOT / "bench" / "generate.py")
generate = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(generate)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("generated") / "project"
    assert generate.generate(root, 2 * generate.TRIPLES_PER_DOCUMENT, seed=7) == 2
    return Project(root)


def test_generated_data_conforms_to_the_shapes_and_checks(tiny: Project) -> None:
    report = validate(load_dataset(tiny), load_shapes(tiny), tiny.qc)
    assert report.findings == (), [f"{f.source}: {f.focus} {f.message}" for f in report.findings[:5]]


def test_generated_size_is_as_documented(tiny: Project) -> None:
    generated = len(load_dataset(tiny).graph(STATEMENTS_GRAPH)) - len(load_dataset(Project()).graph(STATEMENTS_GRAPH))
    shared_region = 4  # id:bench-World: type, two labels, support
    assert generated == 2 * generate.TRIPLES_PER_DOCUMENT + shared_region


def test_same_seed_same_bytes(tiny: Project, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate.generate(again, 2 * generate.TRIPLES_PER_DOCUMENT, seed=7)
    for relative in ("data/statements.ttl", "data/sources/bench-d000001.txt"):
        assert (again / relative).read_bytes() == (tiny.root / relative).read_bytes()
    other = tmp_path / "other"
    generate.generate(other, 2 * generate.TRIPLES_PER_DOCUMENT, seed=8)
    assert (other / "data/statements.ttl").read_bytes() != (tiny.root / "data/statements.ttl").read_bytes()


@pytest.fixture(scope="module")
def tiny_built(tiny: Project):
    """The tiny project built (reasoned) in an Oxigraph in memory."""
    store = create_store("oxigraph")
    build_in_store(store, tiny)
    return store


def _rows(store, name: str, columns: tuple[str, ...], params: dict[str, str] | None = None) -> list[tuple]:
    """Catalogue query `name`'s rows, on `columns`, as test_catalogue's cases write them."""
    result = run_query(store, load_catalogue(PROJECT_ROOT / "queries")[name], params or {})
    return [tuple(value(row[column]) for column in columns) for row in result]


def _synthetic_sections(tiny: Project) -> list[tuple[str, str, list[str]]]:
    """(document CURIE, section heading, its sentences) of each generated document's text."""
    sections = []
    for text_file in sorted((tiny.root / "data" / "sources").glob("bench-d*.txt")):
        for block in re.split(r"\n(?=SECTION )", text_file.read_text(encoding="utf-8").strip()):
            heading, *sentences = block.split("\n")
            sections.append((f"id:{text_file.stem}", heading, sentences))
    return sections


def test_claims_per_section_counts_one_documents_sections(tiny: Project, tiny_built) -> None:
    """Both generated documents have sections SECTION 0 to 9: claims-per-section counts those of the document it
    is given, each with its own five claims, numbered across documents as the generator documents; by default the
    fact sheet's alone, as in test_catalogue, whatever else the graph holds."""
    columns = ("document", "section", "claims", "firstClaim", "lastClaim")
    expected: dict[str, list[tuple]] = {}
    for index, (document, heading, sentences) in enumerate(_synthetic_sections(tiny)):
        first = index * len(sentences)  # C + 10 digits, numbered across documents (bench/generate.py)
        expected.setdefault(document, []).append(
            (document, heading, len(sentences), f"C{first:010d}", f"C{first + len(sentences) - 1:010d}"))
    assert len(expected) == 2 and all(len(rows) == generate.TOPICS_PER_DOCUMENT for rows in expected.values())
    for document, rows in expected.items():
        assert _rows(tiny_built, "claims-per-section", columns, {"document": document}) == rows
    by_default = _rows(tiny_built, "claims-per-section", columns)
    assert len(by_default) == 13 and {row[0] for row in by_default} == {"id:factsheet"}


def test_commitment_total_sums_each_providers_money_apart(tiny: Project, tiny_built) -> None:
    """Each generated "Stateland Xa has committed N dollars" is Xa's own total in its document, beside nothing
    else; the sums are never pooled across providers, nor across documents (the fact sheet's is Canada's alone)."""
    columns = ("provider", "isoCode", "exactSum", "exactCount", "lowerBoundCount", "combinedSum",
               "combinedIsLowerBound")
    documents = sorted({document for document, _, _ in _synthetic_sections(tiny)})
    for document in documents:
        totals = {row[0]: row[1:] for row in _rows(tiny_built, "commitment-total", columns, {"document": document})}
        stated = [re.fullmatch(r"Stateland (\S+) has committed (\d+) dollars to Stateland \S+\.", sentence)
                  for source, _, sentences in _synthetic_sections(tiny) if source == document for sentence in sentences]
        expected = {f"id:S{m[1]}": ("CAD", Decimal(m[2]), 1, 0, Decimal(m[2]), Boolean(False)) for m in stated if m}
        assert len(expected) == generate.TOPICS_PER_DOCUMENT
        assert totals == expected
    fact_sheet = {row[0]: row[1:] for row in _rows(tiny_built, "commitment-total", columns)}
    assert fact_sheet == {"id:Canada": ("CAD", Decimal("9.7e9"), 1, 1, Decimal("14.3e9"), Boolean(True))}  # as in test_catalogue


SCOPED = sorted(name for name, query in load_catalogue(PROJECT_ROOT / "queries").items()
                if any(param.name == "document" for param in query.params))
ASKED = {"find-entity": {"name": "NATO"}}  # its parameter without a default


@pytest.fixture(scope="module")
def fact_sheet_built(tmp_path_factory: pytest.TempPathFactory):
    """The same project without the generated documents, built as `tiny_built` is."""
    root = tmp_path_factory.mktemp("fact-sheet") / "project"
    for name in generate.COPIED:
        shutil.copytree(PROJECT_ROOT / name, root / name)
    store = create_store("oxigraph")
    build_in_store(store, Project(root))
    return store


def _all_rows(store, name: str, params: dict[str, str]) -> list[tuple]:
    result = run_query(store, load_catalogue(PROJECT_ROOT / "queries")[name], {**ASKED.get(name, {}), **params})
    return sorted((tuple(value(row.get(var)) for var in result.vars) for row in result.bindings), key=repr)


def test_the_listings_that_read_one_document_are_the_scoped_ones() -> None:
    """What the scale target rests on (README, Scaling): the catalogue's listings read one document, so that
    their answers do not grow with the graph's other documents."""
    assert SCOPED == ["activities-by-location", "bilingual-labels", "claims-per-section", "commitment-total",
                      "commitments", "countries", "find-entity", "operations-with", "partners", "seas-patrolled",
                      "source-document"]


@pytest.mark.parametrize("name", SCOPED)
def test_a_documents_answer_does_not_change_as_other_documents_are_added(name: str, tiny_built, fact_sheet_built) -> None:
    """By default a scoped listing answers for the fact sheet alone: the same rows with or without the generated
    documents; given a generated document, it answers for that one (none of the fact sheet's rows)."""
    fact_sheet = _all_rows(fact_sheet_built, name, {})
    assert fact_sheet and _all_rows(tiny_built, name, {}) == fact_sheet
    generated = _all_rows(tiny_built, name, {"document": "id:bench-d000001"})
    assert not set(generated) & set(fact_sheet)
