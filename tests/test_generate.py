"""bench/generate.py: synthetic projects are deterministic, the size asked for, and valid data; and on one, the
catalogue keeps apart what belongs to different documents and providers."""

from __future__ import annotations

import importlib.util
import re
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


def _rows(store, name: str, columns: tuple[str, ...]) -> list[tuple]:
    """Catalogue query `name`'s rows, on `columns`, as test_catalogue's cases write them."""
    result = run_query(store, load_catalogue(PROJECT_ROOT / "queries")[name], {})
    return [tuple(value(row[column]) for column in columns) for row in result]


def _synthetic_sections(tiny: Project) -> list[tuple[str, str, list[str]]]:
    """(document CURIE, section heading, its sentences) of each generated document's text."""
    sections = []
    for text_file in sorted((tiny.root / "data" / "sources").glob("bench-d*.txt")):
        for block in re.split(r"\n(?=SECTION )", text_file.read_text(encoding="utf-8").strip()):
            heading, *sentences = block.split("\n")
            sections.append((f"id:{text_file.stem}", heading, sentences))
    return sections


def test_claims_per_section_counts_each_documents_sections_apart(tiny: Project, tiny_built) -> None:
    """Both generated documents have sections SECTION 0 to 9: each (document, section) is a row of its own,
    with its own five claims, numbered across documents as the generator documents."""
    rows = _rows(tiny_built, "claims-per-section", ("document", "section", "claims", "firstClaim", "lastClaim"))
    synthetic = [row for row in rows if row[0] != "id:factsheet"]
    expected = []
    for index, (document, heading, sentences) in enumerate(_synthetic_sections(tiny)):
        first = index * len(sentences)  # C + 10 digits, numbered across documents (bench/generate.py)
        expected.append((document, heading, len(sentences), f"C{first:010d}", f"C{first + len(sentences) - 1:010d}"))
    assert synthetic == expected
    assert len(expected) == 2 * generate.TOPICS_PER_DOCUMENT
    assert sum(1 for row in rows if row[0] == "id:factsheet") == 13  # the fact sheet's, as in test_catalogue


def test_commitment_total_sums_each_providers_money_apart(tiny: Project, tiny_built) -> None:
    """Each generated "Stateland Xa has committed N dollars" is Xa's own total, beside Canada's; the sums are
    never pooled across providers."""
    columns = ("provider", "isoCode", "exactSum", "exactCount", "lowerBoundCount", "combinedSum",
               "combinedIsLowerBound")
    totals = {row[0]: row[1:] for row in _rows(tiny_built, "commitment-total", columns)}
    stated = [re.fullmatch(r"Stateland (\S+) has committed (\d+) dollars to Stateland \S+\.", sentence)
              for _, _, sentences in _synthetic_sections(tiny) for sentence in sentences]
    expected = {f"id:S{m[1]}": ("CAD", Decimal(m[2]), 1, 0, Decimal(m[2]), Boolean(False)) for m in stated if m}
    assert len(expected) == 2 * generate.TOPICS_PER_DOCUMENT
    canada = totals.pop("id:Canada")
    assert canada == ("CAD", Decimal("9.7e9"), 1, 1, Decimal("14.3e9"), Boolean(True))  # as in test_catalogue
    assert totals == expected
