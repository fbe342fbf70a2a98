"""bench/generate.py: synthetic projects are deterministic, the size asked for, and valid data."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from kg.load import Project, load_dataset, load_shapes
from kg.namespaces import PROJECT_ROOT, STATEMENTS_GRAPH
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
