"""Quality-check queries (queries/qc/*.rq, ROBOT-style): silent on the project, loud on their fixtures.

Each query starts with a `# title:`, `# description:` and `# severity:` header and returns
`?entity ?property ?value`, one row per offender; a build fails if any returns a row.

Each query NAME.rq has a fixture tests/fixtures/qc/NAME_XFAIL.ttl, a small Turtle file on which it must
return rows; the set of (entity, property) of those rows equals the fixture's expect lines:

    # expect: ENTITY | PROPERTY

ENTITY is a CURIE using the fixture's own @prefix declarations (or an <IRI>); PROPERTY a CURIE with the
project's prefixes (as `kg.load.curie` writes it). Fields are separated by " | ".

Queries run through `kg.validate.qc_findings`, the pipeline's QC code path, on a folder holding only the
query under test.
"""

from __future__ import annotations

import re
import shutil
from functools import cache
from pathlib import Path

import pytest
from rdflib import Graph, URIRef, Variable
from rdflib.namespace import OWL, RDF

from kg.errors import InputError
from kg.build import load_dataset
from kg.load import Project, curie, new_dataset, parse_turtle
from kg.namespaces import BASE, KG, PROJECT_ROOT, STATEMENTS_GRAPH
from kg.query import parse_catalogue_query
from kg.sparql import prepare
from kg.store import create_store
from kg.validate import Finding, qc_findings

QC = PROJECT_ROOT / "queries" / "qc"
QC_FILES = sorted(QC.glob("*.rq"))
FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "qc"
_EXPECT = re.compile(r"^#\s*expect:\s*(.*?)\s*$")
_FIELD_SEPARATOR = re.compile(r"\s+\|\s+")


def only(query: Path, folder: Path) -> Path:
    """A folder holding only `query`, so that qc_findings runs that one check."""
    shutil.copy(query, folder / query.name)
    return folder


@cache
def project_dataset():
    return load_dataset(Project())


def fixture_findings(fixture: Path, query: Path, folder: Path) -> list[Finding]:
    dataset = new_dataset()
    parse_turtle(fixture, dataset.graph(STATEMENTS_GRAPH))
    return qc_findings(dataset, only(query, folder))


def expected(fixture: Path) -> set[tuple[URIRef, str]]:
    names = parse_turtle(fixture, Graph()).namespace_manager
    rows = set()
    for number, line in enumerate(fixture.read_text(encoding="utf-8").splitlines(), start=1):
        match = _EXPECT.match(line)
        if match:
            fields = _FIELD_SEPARATOR.split(match.group(1))
            assert len(fields) == 2, f"{fixture.name}:{number}: expected 'ENTITY | PROPERTY', got {line!r}"
            entity, prop = fields
            node = URIRef(entity[1:-1]) if entity.startswith("<") else names.expand_curie(entity)
            rows.add((node, prop))
    return rows


def test_there_are_quality_checks():
    assert QC_FILES


@pytest.mark.parametrize("query", QC_FILES, ids=lambda path: path.stem)
def test_header_and_columns(query: Path):
    """title, description and severity in the header; the columns are ?entity ?property ?value."""
    header = parse_catalogue_query(query)
    assert header.title != query.stem and header.description, f"{query.name}: no title or description"
    assert header.severity in {"error", "warning", "info"}, f"{query.name}: severity {header.severity!r}"
    columns = prepare(query.read_text(encoding="utf-8"), query.name).algebra["PV"]
    assert columns == [Variable("entity"), Variable("property"), Variable("value")], f"{query.name}: {columns}"


@pytest.mark.parametrize("query", QC_FILES, ids=lambda path: path.stem)
def test_project_passes(query: Path, tmp_path: Path):
    """No row on the project's ontology + statements + sources."""
    rows = qc_findings(project_dataset(), only(query, tmp_path))
    assert not rows, "\n".join(f"{curie(f.focus)} {f.path} {f.value!r}" for f in rows)


@pytest.mark.parametrize("query", QC_FILES, ids=lambda path: path.stem)
def test_xfail_fixture_returns_its_rows(query: Path, tmp_path: Path):
    fixture = FIXTURES / f"{query.stem}_XFAIL.ttl"
    assert fixture.exists(), f"{query.name} has no fixture {fixture.relative_to(PROJECT_ROOT)}"
    rows = expected(fixture)
    assert rows, f"{fixture.name}: list the rows the query must return in '# expect:' lines"
    got = {(f.focus, f.path) for f in fixture_findings(fixture, query, tmp_path)}
    assert got == rows, f"{fixture.name}: missing {sorted(rows - got)}, unexpected {sorted(got - rows)}"


def test_a_missing_definition_is_reported_per_language(tmp_path: Path):
    """missing-definition.rq names the language each term lacks a definition in (its fixture's expect lines
    cannot: they hold the entity and the property)."""
    query, fixture = QC / "missing-definition.rq", FIXTURES / "missing-definition_XFAIL.ttl"
    got = {(f.focus, str(f.value)) for f in fixture_findings(fixture, query, tmp_path)}
    assert got == {(KG.Threat, "en"), (KG.counters, "en"), (KG.counters, "fr"), (KG.Goal, "fr")}


def test_every_fixture_has_its_query():
    orphans = [path.name for path in FIXTURES.glob("*.ttl") if not (QC / f"{path.stem.removesuffix('_XFAIL')}.rq").exists()]
    assert not orphans, f"fixtures without a query: {orphans}"


def test_a_check_reports_with_the_severity_its_header_declares(tmp_path: Path):
    query = QC / "sameas.rq"
    fixture = FIXTURES / "sameas_XFAIL.ttl"
    (tmp_path / query.name).write_text(
        query.read_text(encoding="utf-8").replace("# severity: error", "# severity: warning"), encoding="utf-8"
    )
    dataset = new_dataset()
    parse_turtle(fixture, dataset.graph(STATEMENTS_GRAPH))
    found = qc_findings(dataset, tmp_path)
    assert found and {f.severity for f in found} == {"Warning"}


def test_an_unknown_severity_is_an_input_error(tmp_path: Path):
    query = QC / "sameas.rq"
    (tmp_path / query.name).write_text(
        query.read_text(encoding="utf-8").replace("# severity: error", "# severity: fatal"), encoding="utf-8"
    )
    with pytest.raises(InputError, match="needs '# severity: error|warning|info', not 'fatal'"):
        qc_findings(new_dataset(), tmp_path)


NO_ONTOLOGY = "@prefix ex: <https://example.org/> . ex:thing a ex:Thing ."


@pytest.mark.parametrize("kind", ["memory", "sparql"])
def test_a_graph_without_an_ontology_lacks_the_projects_header(kind: str, request: pytest.FixtureRequest):
    """ontology-metadata.rq's second branch, on rdflib and on Virtuoso (which, when the branch was BINDs,
    reported the project's own header missing): no owl:Ontology at all is one row, the project's ontology
    without its rdf:type; the project's ontology, no row."""
    store = create_store("memory") if kind == "memory" else request.getfixturevalue("sparql_server")
    text = (QC / "ontology-metadata.rq").read_text(encoding="utf-8")
    dataset = new_dataset()
    dataset.graph(STATEMENTS_GRAPH).parse(data=NO_ONTOLOGY, format="turtle")
    store.load(dataset)
    header = (URIRef(BASE + "ontology"), RDF.type, OWL.Ontology)
    assert [tuple(row) for row in store.query(text)] == [header]
    store.load(project_dataset())
    assert list(store.query(text)) == []
