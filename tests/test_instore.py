"""kg.instore and `kg build --reasoner rules --validator sparql`: the build inside Oxigraph gives the reference
build's named graphs (the linked ones included), validation findings, refusals and query answers."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Dataset, Graph, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.compare import isomorphic
from conftest import FIXTURE_LINKS, FIXTURE_UNVERIFIED, PIPELINE, copy_project

from kg.build import CACHE_ENV, Built, build
from kg.cli import app
from kg.instore import build_in_store
from kg.load import Project
from kg.namespaces import ID, INFERRED_GRAPH, ONTOLOGY_GRAPH, PROJECT_ROOT, SOURCES_GRAPH, STATEMENTS_GRAPH
from kg.query import load_catalogue, run_query
from kg.store import MemoryStore, OxigraphStore, create_store

runner = CliRunner()


def kg(project: Project, *args: str) -> object:
    return runner.invoke(app, ["--root", str(project.root), *args])


def findings(report: object) -> list[tuple]:
    return sorted((str(f.focus), f.path, f.severity, f.message, f.source, str(f.value)) for f in report.findings)


@pytest.fixture(scope="session")
def enriched_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A copy of the project's inputs with the fixture enrichment cache as data/external/wikidata.trig (read-only)."""
    root = tmp_path_factory.mktemp("enriched-project") / "project"
    for folder in ("ontology", "queries", "data"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder, ignore=shutil.ignore_patterns("external"))
    project = Project(root)
    project.wikidata_cache.parent.mkdir()
    shutil.copy(PROJECT_ROOT / "tests" / "fixtures" / "wikidata" / "cache.trig", project.wikidata_cache)
    return project


@pytest.fixture(scope="session")
def built_enriched(enriched_project: Project, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The reference build of `enriched_project` (read-only)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("enriched-cache")))
        return build(enriched_project)


def named_graphs(dataset: Dataset) -> dict[URIRef, Graph]:
    """The non-empty named graphs of `dataset`, each as a plain Graph."""
    return {g.identifier: plain(g) for g in dataset.graphs() if g.identifier != DATASET_DEFAULT_GRAPH_ID and len(g)}


@pytest.mark.parametrize("where", ["disk", "memory", "server"])
@pytest.mark.parametrize("which", ["fixture", "project", "enriched"])
def test_in_store_build_equals_the_reference_build(which: str, where: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """On Oxigraph on disk and in memory, and on the SPARQL server (Virtuoso: the rules as SPARQL updates, the
    shapes in the forms its probes ask for): the same named graphs, each isomorphic to the reference build's
    (the links, the pycountry facts and, from the project with an enrichment cache, its graph: they were left
    out on Oxigraph), and the same findings (the quality checks read the linked graphs too)."""
    reference: Built = request.getfixturevalue(f"built_{which}")
    projects = {"fixture": lambda: copy_project(tmp_path / "project"), "project": Project,
                "enriched": lambda: request.getfixturevalue("enriched_project")}
    project = projects[which]()
    if where == "server":
        store = request.getfixturevalue("sparql_server")
    else:
        store = create_store(f"oxigraph:{tmp_path / 'store'}" if where == "disk" else "oxigraph")
    result = build_in_store(store, project)
    inferred = store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }} }}").graph
    assert set(inferred) == set(reference.dataset.graph(INFERRED_GRAPH))
    ours, theirs = named_graphs(store.dataset()), named_graphs(reference.dataset)
    assert sorted(ours) == sorted(theirs)
    for name, graph in theirs.items():
        assert isomorphic(ours[name], graph), name
    assert result.fallback == []
    assert result.report.conforms == reference.report.conforms
    assert findings(result.report) == findings(reference.report)


def test_the_catalogue_after_an_in_store_build_on_the_server(sparql_server, built_project: Built) -> None:
    """What a user asks next: each catalogue query that needs no parameter answers as on the reference build
    in memory (Virtuoso gave commitments.rq's rows twice after the build, its validation having looked for
    kg:Commitment nodes before the inferred graph existed; it answered wikidata-labels, without the enrichment
    cache, with every row while that query filtered by EXISTS on the cache's graph)."""
    build_in_store(sparql_server, Project())
    reference = MemoryStore(built_project.dataset)
    compared = 0
    for name, query in sorted(load_catalogue(PROJECT_ROOT / "queries").items()):
        if any(param.required for param in query.params):
            continue
        ours, theirs = (Counter(tuple(row) for row in run_query(store, query, {}, allow_service=True))
                        for store in (sparql_server, reference))
        assert ours == theirs, f"{name}: server only {ours - theirs}, reference only {theirs - ours}"
        compared += 1
    assert compared >= 35


def test_kg_build_in_store_then_query(project: Project, tmp_path: Path) -> None:
    spec = f"oxigraph:{tmp_path / 'store'}"
    built = kg(project, "--store", spec, "build", "--reasoner", "rules", "--validator", "sparql", "--out", str(tmp_path / "out"))
    assert built.exit_code == 0, built.output
    assert "rule rounds" in built.output
    report = json.loads((tmp_path / "out" / "validation-report.json").read_text(encoding="utf-8"))
    assert report["conforms"] is True
    in_store = kg(project, "--store", spec, "query", "partner-activities", "--format", "csv")
    in_memory = kg(project, "query", "partner-activities", "--format", "csv")
    assert in_store.exit_code == 0 and in_store.stdout == in_memory.stdout and in_store.stdout.count("\n") > 1


def test_kg_build_in_memory_oxigraph_writes_the_built_dataset(project: Project, built_fixture: Built, tmp_path: Path) -> None:
    """The in-memory store is gone when the command ends: its build writes the dataset, asserted and inferred
    graphs as the reference build has them."""
    result = kg(project, "--store", "oxigraph", "build", "--reasoner", "rules", "--validator", "sparql", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    written = Dataset()
    written.parse(tmp_path / "defence-kg+inferred.nq", format="nquads")
    names = (ONTOLOGY_GRAPH, STATEMENTS_GRAPH, SOURCES_GRAPH, INFERRED_GRAPH)
    assert sorted(g.identifier for g in written.graphs() if len(g)) == sorted(names)
    for name in names:
        assert isomorphic(plain(written.graph(name)), built_fixture.dataset.graph(name)), name


def plain(graph: Graph) -> Graph:
    copy = Graph()
    copy += graph
    return copy




@pytest.mark.parametrize(
    "options",
    [["--store", "memory", "--reasoner", "rules", "--validator", "sparql"], ["--store", "oxigraph:STORE", "--reasoner", "rules"],
     ["--store", "oxigraph"]],
    ids=["memory-store", "rules-without-sparql", "reference-build-in-memory-oxigraph"],
)
def test_in_store_options_need_each_other_and_a_store(options: list[str], project: Project, tmp_path: Path) -> None:
    store = [o.replace("STORE", str(tmp_path / "store")) for o in options]
    result = kg(project, *store[:2], "build", *store[2:])
    assert result.exit_code == 2
    assert "--reasoner rules and --validator sparql run inside the store" in result.output


def test_a_failed_in_store_build_leaves_the_disk_store_as_it_was(project: Project, tmp_path: Path) -> None:
    """The build works in memory and writes the disk store only once it has succeeded: an inconsistent
    rebuild (exit 1) leaves the previous build's quads, bookkeeping included, as they were."""
    path = tmp_path / "store"
    options = ["--store", f"oxigraph:{path}", "build", "--reasoner", "rules", "--validator", "sparql", "--out", str(tmp_path / "out")]
    assert kg(project, *options).exit_code == 0

    def quads() -> set:
        store = OxigraphStore(path, create=False)
        return set(store._store.quads_for_pattern(None, None, None, None))  # noqa: SLF001 - bookkeeping graph too

    before = quads()
    project.statements.write_bytes((PIPELINE / "inconsistent-statements.ttl").read_bytes())
    failed = kg(project, *options)
    assert failed.exit_code == 1 and "Disjoint classes" in failed.output
    assert before and quads() == before


@pytest.mark.parametrize("in_store", [True, False], ids=["in-store", "loaded"])
def test_a_build_releases_its_store_on_disk(project: Project, tmp_path: Path, in_store: bool) -> None:
    """Once `kg build` is done with the store it wrote, the store is closed, not left for the garbage collector
    (reference cycles kept it open; a reader opened beside it in the same process then read RocksDB's files while
    the collector closed the writer, and failed at random): a writer can open it at once."""
    path = tmp_path / "store"
    in_store_options = ["--reasoner", "rules", "--validator", "sparql"] if in_store else []
    result = kg(project, "--store", f"oxigraph:{path}", "build", *in_store_options, "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    OxigraphStore(path, create=True)  # RocksDB's lock: refused while another handle in this process holds it


def test_malformed_statements_name_file_and_line(project: Project, tmp_path: Path) -> None:
    project.statements.write_bytes((PIPELINE / "malformed.ttl").read_bytes())
    result = kg(project, "--store", f"oxigraph:{tmp_path / 'store'}", "build", "--reasoner", "rules", "--validator", "sparql")
    assert result.exit_code == 2
    assert "data/statements.ttl:7: malformed Turtle:" in result.output


def test_a_conclusion_through_a_literal_subject_fails_the_in_store_build(project: Project, tmp_path: Path) -> None:
    """kg:supports is the inverse of kg:supportedBy, whose range is kg:Claim: owlrl makes "a claim" kg:supportedBy
    id:Somebody, then id:Somebody a kg:Claim; the rules cannot hold that literal subject, so the build stops."""
    with project.statements.open("a", encoding="utf-8") as statements:
        statements.write('\n<https://w3id.org/defence-kg/id/Somebody> kg:supports "a claim" .\n')
    result = kg(project, "--store", "oxigraph", "build", "--reasoner", "rules", "--validator", "sparql", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert 'error: kg:supports has literal values (id:Somebody kg:supports "a claim") and is the inverse of kg:supportedBy' in result.output
    assert "concludes id:Somebody a kg:Claim (kg:supportedBy rdfs:range kg:Claim)" in result.output
    assert not (tmp_path / "defence-kg+inferred.nq").exists()


@pytest.mark.parametrize(("table", "row", "problem"), [
    ("links", "id:Atlantis\tAtlantis\tskos:exactMatch\twikidata:Q1\tAtlantis\tsemapv:ManualMappingCuration\tQ1",
     "data/links.sssom.tsv: id:Atlantis -> wd:Q1: subject id:Atlantis is not an entity of the graph"),
    ("links", "id:NATO\tNorth Atlantic Treaty Organization\tskos:exactMatch\twikidata:Q7184\tNATO\t"
     "semapv:ManualMappingCuration\tQ7184",
     "data/links.sssom.tsv: id:NATO -> wd:Q7184: subject_label 'North Atlantic Treaty Organization' is not a label "
     "of it (['NATO', 'OTAN'])"),
    ("links_unverified", "id:Atlantis\tAtlantis\tnot found",
     "data/links-unverified.tsv:3: id:Atlantis: not an entity of the graph"),
    ("links_unverified", "id:Canada\tCanada\tnot found",
     "data/links-unverified.tsv:3: id:Canada: listed as unverified but linked in the SSSOM table"),
    ("country_codes", "subject_id\tsubject_label\talpha_3\tevidence\nid:NATO\tNATO\tNAT\tnot a state",
     "data/links-iso3166.tsv:2: id:NATO is not a kg:State of the statements"),
], ids=["sssom-unknown-subject", "sssom-wrong-label", "unverified-unknown-subject", "unverified-linked", "iso-not-a-state"])
def test_a_wrong_links_row_fails_the_in_store_build_as_the_reference_build(
    project: Project, tmp_path: Path, table: str, row: str, problem: str
) -> None:
    """The in-store build checks links.sssom.tsv, links-unverified.tsv and links-iso3166.tsv against the
    statements as the reference build does (it read none of them): the same message, exit 2, nothing written."""
    project.links.write_text(FIXTURE_LINKS, encoding="utf-8")
    project.links_unverified.write_text(FIXTURE_UNVERIFIED, encoding="utf-8")
    path = getattr(project, table)
    path.write_text((path.read_text(encoding="utf-8") if path.is_file() else "") + row + "\n", encoding="utf-8")
    reference = kg(project, "build", "--out", str(tmp_path / "reference"))
    in_store = kg(project, "--store", f"oxigraph:{tmp_path / 'store'}", "build", "--reasoner", "rules",
                  "--validator", "sparql", "--out", str(tmp_path / "in-store"))
    for result in (reference, in_store):
        assert result.exit_code == 2
        assert f"error: {problem}" in result.output
    assert not (tmp_path / "in-store").exists()


def test_the_quality_checks_read_the_linked_graphs_in_store(project: Project) -> None:
    """The quality checks read the linked graphs in-store as in the reference build (kg.validate.QC_GRAPHS): a
    SSSOM comment that ends in a space is a finding of qc/label-whitespace.rq on its mapping axiom in both (the
    in-store checks read only the ontology, statements and sources, and missed it)."""
    shutil.copy(PROJECT_ROOT / "queries" / "qc" / "label-whitespace.rq", project.qc)  # (the fixture has one check)
    project.links.write_text(FIXTURE_LINKS.replace("is Canada\n", "is Canada \n"), encoding="utf-8")
    reference = build(project)
    result = build_in_store(create_store("oxigraph"), project)
    whitespace = [(str(f.focus), f.path, str(f.value)) for f in result.report.findings
                  if f.source == "qc/label-whitespace.rq"]
    assert whitespace == [(str(ID["link/Canada-Q16"]), "rdfs:comment", "the item Q16 is Canada ")]
    assert findings(result.report) == findings(reference.report)
def test_a_code_point_an_iri_cannot_hold_is_shown_as_an_escape(project: Project, tmp_path: Path) -> None:
    text = project.statements.read_text(encoding="utf-8")
    project.statements.write_text(text.replace("kg:partner id:UnitedStates", r"kg:partner <http://example.org/a\u0001b>"),
                                  encoding="utf-8")
    result = kg(project, "--store", "oxigraph", "build", "--reasoner", "rules", "--validator", "sparql")
    assert result.exit_code == 2
    assert "data/statements.ttl:32: malformed Turtle:" in result.output
    assert "Invalid IRI code point '\\u0001'" in result.output and "\x01" not in result.output
