"""Shared fixtures: a small pipeline project (tests/fixtures/pipeline/project) copied per test, and its build.

The copy gets the project's own ontology/context.jsonld (the context is an input of the export, not a fixture)
and its own cache directory, so a test may edit its inputs freely.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kg.build import CACHE_ENV, Built, build
from kg.load import Project
from kg.namespaces import PROJECT_ROOT

PIPELINE = Path(__file__).parent / "fixtures" / "pipeline"


def copy_project(target: Path) -> Project:
    """A fresh copy of the pipeline fixture project at `target`, with the real JSON-LD context."""
    shutil.copytree(PIPELINE / "project", target)
    shutil.copy(PROJECT_ROOT / "ontology" / "context.jsonld", target / "ontology" / "context.jsonld")
    return Project(target)


@pytest.fixture(autouse=True)
def _no_cache_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each project uses its own `.kg-cache/`, whatever the environment says."""
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.delenv("KG_ROOT", raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A writable copy of the pipeline fixture project."""
    return copy_project(tmp_path / "project")


@pytest.fixture(scope="session")
def built_fixture(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The fixture project built once (read-only: do not mutate its dataset)."""
    return build(copy_project(tmp_path_factory.mktemp("built") / "project"))


@pytest.fixture(scope="session")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The project's own data built once per session (read-only: do not mutate its dataset).

    Built afresh, with its cache in a temporary directory, so the run neither trusts nor touches `.kg-cache/`.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("project-cache")))
        return build(Project())


@pytest.fixture(scope="session", params=["fixture", "project"])
def any_built(request: pytest.FixtureRequest) -> Built:
    """The fixture project's build, then the project's own."""
    return request.getfixturevalue(f"built_{request.param}")


@pytest.fixture(scope="session")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A writable copy of the project's own inputs (without any enrichment cache), with its own build cache,
    shared by the command-line tests of links and enrichment (a test that edits a file restores it)."""
    root = tmp_path_factory.mktemp("project-copy") / "project"
    for folder in ("ontology", "queries"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder)
    shutil.copytree(PROJECT_ROOT / "data", root / "data", ignore=shutil.ignore_patterns("external"))
    return Project(root)
