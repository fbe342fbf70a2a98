"""The build and its cache: parallel validation gives the in-process report, the cache is reused, invalidated
by any input change, relocatable with KG_CACHE_DIR, and survives corruption."""

from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path

import pytest
from conftest import PIPELINE
from rdflib.compare import isomorphic

import kg.build
from kg.build import CACHE_ENV, Built, build, cache_dir, cache_key, cached, load_built
from kg.errors import InconsistencyError
from kg.export import ASSERTED, OPTIONAL
from kg.build import load_dataset
from kg.load import Project, load_shapes
from kg.namespaces import CLAIM, DCTERMS, INFERRED_GRAPH, STATEMENTS_GRAPH
from kg.validate import validate


def _forbid_build(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> Built:
        raise AssertionError("rebuilt although the cache was fresh")

    monkeypatch.setattr(kg.build, "build", fail)


def _count_builds(monkeypatch: pytest.MonkeyPatch) -> list[Project]:
    calls: list[Project] = []
    real = kg.build.build

    def counting(project: Project, *args: object) -> Built:
        calls.append(project)
        return real(project, *args)

    monkeypatch.setattr(kg.build, "build", counting)
    return calls


def test_build_fills_the_cache_and_load_reuses_it(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    built = build(project)
    assert (cache_dir(project) / f"{cache_key(project)}.pickle").is_file()
    _forbid_build(monkeypatch)
    again = load_built(project)
    for identifier in (*ASSERTED, INFERRED_GRAPH):
        if identifier not in OPTIONAL:  # the fixture project has no links or outside data; exports add the description
            assert len(built.dataset.graph(identifier)) > 0
        assert isomorphic(again.dataset.graph(identifier), built.dataset.graph(identifier))
    assert again.report == built.report


def test_kg_build_hashes_its_inputs_once(project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The exports' build key and the cache's are one key: hashed twice, an input edited in between gave two."""
    from test_cli import kg as run_kg

    calls: list[Project] = []
    monkeypatch.setattr("kg.build.cache_key", lambda project: calls.append(project) or cache_key(project))
    assert run_kg(project, "build", "--out", str(tmp_path / "dist")).exit_code == 0
    assert len(calls) == 1
    assert (cache_dir(project) / f"{cache_key(project)}.pickle").is_file()


@pytest.mark.parametrize(
    "relative",
    [
        "data/statements.ttl",
        "ontology/defence-kg.ttl",
        "ontology/shapes.ttl",
        "data/sources/tiny.txt",
        "queries/qc/claim-supports-nothing.rq",
    ],
)
def test_any_input_change_rebuilds(project: Project, monkeypatch: pytest.MonkeyPatch, relative: str) -> None:
    build(project)
    before = cache_key(project)
    with (project.root / relative).open("a", encoding="utf-8") as stream:
        stream.write("\n# edited\n")
    assert cache_key(project) != before
    assert cached(project) is None
    calls = _count_builds(monkeypatch)
    load_built(project)
    assert calls == [project]
    assert [p.name for p in cache_dir(project).glob("*.pickle")] == [f"{cache_key(project)}.pickle"]


def test_a_new_qc_query_is_an_input(project: Project) -> None:
    before = cache_key(project)
    shutil.copy(project.qc / "claim-supports-nothing.rq", project.qc / "copy.rq")
    assert cache_key(project) != before


def test_cache_dir_follows_the_environment(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv(CACHE_ENV, str(elsewhere))
    build(project)
    assert list(elsewhere.glob("*.pickle"))
    assert not (project.root / ".kg-cache").exists()


# pickle.load fails on each in its own way: UnpicklingError, ValueError ("garbage": opcode g with a memo index
# that is not a number), EOFError (empty).
@pytest.mark.parametrize("corrupt", [b"not a pickle", b"garbage\n", b""], ids=repr)
def test_a_corrupt_cache_is_rebuilt(project: Project, monkeypatch: pytest.MonkeyPatch, corrupt: bytes) -> None:
    build(project)
    (cache_dir(project) / f"{cache_key(project)}.pickle").write_bytes(corrupt)
    calls = _count_builds(monkeypatch)
    assert load_built(project).report.conforms
    assert calls == [project]


def test_parallel_validation_gives_the_in_process_report(project: Project) -> None:
    statements = project.statements.read_text(encoding="utf-8").replace('dcterms:identifier "C02" ;', "")
    project.statements.write_text(statements, encoding="utf-8")
    built = build(project)
    dataset = load_dataset(project)
    assert built.report == validate(dataset, load_shapes(project), project.qc)
    assert not built.report.conforms
    found = {(f.focus, f.path, f.severity) for f in built.report.findings}
    assert (CLAIM.C02, "dcterms:identifier", "Violation") in found
    assert (CLAIM.C02, DCTERMS.identifier, None) not in built.dataset.graph(STATEMENTS_GRAPH)


def test_inconsistent_data_fails_the_build_and_stops_validation(project: Project) -> None:
    shutil.copy(PIPELINE / "inconsistent-statements.ttl", project.statements)
    with pytest.raises(InconsistencyError, match="id:NATO"):
        build(project)
    assert multiprocessing.active_children() == []
    assert cached(project) is None


def test_the_kg_version_is_part_of_the_key(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    before = cache_key(project)
    monkeypatch.setattr(kg.build, "__version__", "0.0.0-other")
    assert cache_key(project) != before


@pytest.mark.parametrize(
    "relative", ["data/links.sssom.tsv", "data/links-iso3166.tsv", "data/external/wikidata.trig"]
)
def test_the_links_and_outside_data_are_in_the_cache_key(project: Project, relative: str) -> None:
    """Absent, present and edited are three different keys (the fixture project has none of these files)."""
    absent = cache_key(project)
    path = project.root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# one\n", encoding="utf-8")
    present = cache_key(project)
    path.write_text("# two\n", encoding="utf-8")
    assert len({absent, present, cache_key(project)}) == 3


def test_the_rules_are_part_of_the_key(project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The SPARQL rules are code: editing one (here a copy of them, so the repository's stay as they are) or adding
    one changes the key, so that a build made by other rules is never served."""
    rules = tmp_path / "rules"
    shutil.copytree(kg.build.RULES_DIR, rules)
    monkeypatch.setattr(kg.build, "RULES_DIR", rules)
    before = cache_key(project)
    edited = sorted(rules.glob("*.rq"))[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    after_edit = cache_key(project)
    (rules / "zz-new.rq").write_text("# a new rule\n", encoding="utf-8")
    assert len({before, after_edit, cache_key(project)}) == 3
