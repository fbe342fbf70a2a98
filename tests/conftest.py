"""Shared fixtures: a small pipeline project (tests/fixtures/pipeline/project) copied per test, its build, and the
project's build loaded into each store (the SPARQL one from $KG_TEST_SPARQL_URL).

The copy gets the project's own ontology/context.jsonld (the context is an input of the export, not a fixture)
and its own cache directory, so a test may edit its inputs freely.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kg.build import CACHE_ENV, Built, build
from kg.load import Project
from kg.namespaces import PROJECT_ROOT
from kg.store import STORE_ENV, create_store

PIPELINE = Path(__file__).parent / "fixtures" / "pipeline"


def copy_project(target: Path) -> Project:
    """A fresh copy of the pipeline fixture project at `target`, with the real JSON-LD context."""
    shutil.copytree(PIPELINE / "project", target)
    shutil.copy(PROJECT_ROOT / "ontology" / "context.jsonld", target / "ontology" / "context.jsonld")
    return Project(target)


@pytest.fixture(autouse=True)
def _no_cache_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each project uses its own `.kg-cache/` and the memory store, whatever the environment says."""
    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.delenv("KG_ROOT", raising=False)
    monkeypatch.delenv(STORE_ENV, raising=False)


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


SPARQL_URL_ENV = "KG_TEST_SPARQL_URL"
REQUIRE_SPARQL_ENV = "KG_REQUIRE_SPARQL_STORE"
STORE_KINDS = ("memory", "oxigraph", "sparql")


def sparql_test_url() -> str:
    """The SPARQL server tests load and query ($KG_TEST_SPARQL_URL); skip without one, unless one is required."""
    url = os.environ.get(SPARQL_URL_ENV)
    if url:
        return url
    if os.environ.get(REQUIRE_SPARQL_ENV):
        pytest.fail(f"{REQUIRE_SPARQL_ENV} is set but {SPARQL_URL_ENV} is not: no SPARQL server to test against")
    pytest.skip(f"no SPARQL server: set {SPARQL_URL_ENV} (see README, Testing against Virtuoso)")


def store_spec(kind: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store spec of `kind`: oxigraph in a fresh temporary directory, sparql at the test server."""
    if kind == "oxigraph":
        return f"oxigraph:{tmp_path_factory.mktemp('oxigraph') / 'store'}"
    return f"sparql:{sparql_test_url()}" if kind == "sparql" else "memory"


@pytest.fixture(scope="session", params=STORE_KINDS)
def project_store(request: pytest.FixtureRequest, built_project: Built, tmp_path_factory: pytest.TempPathFactory):
    """The project's build in each store (memory, oxigraph, sparql), loaded once per session (read-only)."""
    store = create_store(store_spec(request.param, tmp_path_factory))
    store.load(built_project.dataset)
    return store
