"""Links to Wikidata (data/links.sssom.tsv), the unlinked list, the pycountry facts, `kg links` and SERVICE.

The project's table must validate with the sssom library and hold only well-formed, evidenced, one-to-one
links from entities of the graph; each check is also shown to fail on a bad table or row.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pycountry
import pytest
from click.testing import CliRunner
from conftest import FIXTURE_LINKS, FIXTURE_UNVERIFIED
from rdflib import Literal, URIRef
from rdflib.namespace import RDF, SKOS

from kg.cli import app
from kg.errors import InputError
from kg.link import (
    EXTERNAL_ID,
    Mapping,
    check_mappings,
    check_unverified,
    mappings,
    missing,
    read_links,
    read_unverified,
    real_world_entities,
    unverified_problems,
)
from kg.load import Project, curie, new_dataset
from kg.namespaces import (
    ID,
    KG,
    LINKS_GRAPH,
    OWL,
    PROV,
    PYCOUNTRY_GRAPH,
    RDFS,
    SCHEMA,
    SEMAPV,
    STATEMENTS_GRAPH,
    WD,
)
from kg.offline import country_matches, pycountry_version
from kg.validate import qc_findings

PROJECT = Project()
runner = CliRunner()


@pytest.fixture(scope="module")
def rows(built_project) -> list[Mapping]:
    return mappings(built_project.dataset)


@pytest.fixture(scope="module")
def statements(built_project):
    return built_project.dataset.graph(STATEMENTS_GRAPH)


# --- the project's table -------------------------------------------------------------------------------------


def _sssom_errors(path: Path) -> list[str]:
    """What the sssom library reports on the table at `path` (JSON schema, prefix map, CURIE syntax)."""
    from sssom.parsers import parse_sssom_table
    from sssom.validators import validate

    reports = validate(parse_sssom_table(path), fail_on_error=False)
    return [f"{kind.name}: {result.message}" for kind, report in reports.items() for result in report.results]


def test_the_table_validates_with_the_sssom_library() -> None:
    assert _sssom_errors(PROJECT.links) == []


def test_the_links_graph_is_the_one_the_sssom_library_writes(built_project) -> None:
    """sssom's own RDF of the table, with each axiom named by mapping_iri and the plain mapping triple added
    (what kg.link documents), is isomorphic to the build's links graph."""
    from rdflib import Graph
    from rdflib.compare import isomorphic
    from sssom.parsers import parse_sssom_table
    from sssom.writers import to_rdf_graph

    from kg.link import mapping_iri

    written = to_rdf_graph(parse_sssom_table(PROJECT.links))
    names = {}
    for axiom in written.subjects(RDF.type, OWL.Axiom):
        source, target = written.value(axiom, OWL.annotatedSource), written.value(axiom, OWL.annotatedTarget)
        names[axiom] = mapping_iri(source, target)
        written.add((source, written.value(axiom, OWL.annotatedProperty), target))
    expected = Graph()
    for triple in written:
        expected.add(tuple(names.get(node, node) for node in triple))
    links = built_project.dataset.graph(LINKS_GRAPH)
    assert len(list(links.subjects(RDF.type, OWL.Axiom))) >= 13  # 12 states and NATO at least
    assert (ID["link/Canada-Q16"], OWL.annotatedSource, ID.Canada) in links  # the name, written by hand
    assert len(links) == len(expected) and isomorphic(links, expected)


def test_every_object_is_a_wikidata_entity_iri(rows) -> None:
    assert rows
    bad = [curie(row.object) for row in rows if not EXTERNAL_ID.fullmatch(str(row.object))]
    assert bad == []


def test_exact_matches_are_one_to_one(rows) -> None:
    exact = [(row.subject, row.object) for row in rows if row.predicate == SKOS.exactMatch]
    assert len(exact) == len({target for _, target in exact}) == len({subject for subject, _ in exact})


def test_every_mapped_subject_is_in_the_graph_with_the_given_label(rows, statements) -> None:
    for row in rows:
        assert Literal(row.subject_label, lang="en") in set(statements.objects(row.subject, RDFS.label)), row


def test_every_mapping_keeps_its_evidence(rows) -> None:
    for row in rows:
        local = str(row.object).rsplit("/", 1)[-1]
        assert row.justification.startswith(SEMAPV) and local in row.evidence, row


def test_no_evidence_cites_a_search_index_s_internal_file_id(rows) -> None:
    """'index file 8869120381' names a file only inside a search index: not evidence anyone can check."""
    reasons = [row.reason for row in read_unverified(PROJECT.links_unverified)]
    assert [text for text in [row.evidence for row in rows] + reasons if "index file" in text] == []


def test_the_checks_pass_on_the_project(rows, statements) -> None:
    assert check_mappings(statements, rows) == []


def test_exports_include_the_links_with_their_evidence(built_project) -> None:
    from kg.export import export_graph

    exported = export_graph(built_project.dataset, "turtle")
    axiom = ID["link/Canada-Q16"]
    assert (ID.Canada, SKOS.exactMatch, WD.Q16) in exported
    assert (axiom, OWL.annotatedTarget, WD.Q16) in exported and "Q16" in str(exported.value(axiom, RDFS.comment))


def test_every_real_world_entity_is_linked_or_listed_unverified(built_project, statements, rows) -> None:
    listed, unlisted = missing(built_project.dataset)
    assert [curie(row.subject) for row in unlisted] == []
    entities = real_world_entities(built_project.dataset)
    assert {row.subject for row in listed} | {row.subject for row in rows} >= set(entities)
    assert {ID.Canada, ID.NATO, ID.NORAD, ID.CanadianDollar, ID.AtlanticOcean, ID.Tank} <= set(entities)
    unverified = read_unverified(PROJECT.links_unverified)
    assert check_unverified(statements, {row.subject for row in rows}, unverified) == []
    assert unverified_problems(built_project.dataset) == []


# --- the checks fail on bad input ---------------------------------------------------------------------------


def _row(**changes) -> Mapping:
    values = dict(
        subject=ID.Canada,
        subject_label="Canada",
        predicate=SKOS.exactMatch,
        object=WD.Q16,
        object_label="Canada",
        justification=SEMAPV.ManualMappingCuration,
        confidence=1.0,
        evidence="a public file ties Q16 to 'Canada'",
    )
    return Mapping(**(values | changes))


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([_row(subject=ID.Atlantis)], "subject id:Atlantis is not an entity of the graph"),
        ([_row(subject_label="Kanada")], "subject_label 'Kanada' is not a label of it"),
        ([_row(object=URIRef("https://www.wikidata.org/wiki/Q16"))], "is not a Wikidata entity IRI"),
        ([_row(object=URIRef("http://www.wikidata.org/entity/P31"), evidence="P31")], "is not a Wikidata entity"),
        ([_row(evidence="looked right")], "the comment does not cite Q16"),
        ([_row(), _row(subject=ID.UnitedStates, subject_label="United States")], "skos:exactMatch from several"),
        ([_row(), _row(object=WD.Q30, evidence="Q30")], "id:Canada: skos:exactMatch to several objects (wd:Q16, wd:Q30)"),
    ],
)
def test_check_mappings_fails_on(statements, bad, message) -> None:
    problems = check_mappings(statements, bad)
    assert any(message in problem for problem in problems), problems


def test_two_close_matches_to_one_object_are_allowed(statements) -> None:
    close = [_row(predicate=SKOS.closeMatch), _row(predicate=SKOS.closeMatch, subject=ID.UnitedStates,
                                                   subject_label="United States")]
    assert check_mappings(statements, close) == []


def test_an_unjustified_mapping_is_refused_by_the_sssom_library(tmp_path: Path) -> None:
    table = tmp_path / "links.sssom.tsv"
    text = PROJECT.links.read_text(encoding="utf-8").replace("semapv:ManualMappingCuration", "semapv:Guesswork", 1)
    table.write_text(text, encoding="utf-8")
    assert any("Guesswork" in error for error in _sssom_errors(table))


def test_two_mappings_between_the_same_pair_are_refused(tmp_path: Path) -> None:
    table = tmp_path / "links.sssom.tsv"
    text = PROJECT.links.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("id:Canada\t"))
    table.write_text(text + row.replace("skos:exactMatch", "skos:closeMatch") + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="links.sssom.tsv:44: more than one mapping from id:Canada to wd:Q16"):
        read_links(table)


def test_kg_refuses_a_justification_sssom_does_not_allow(tmp_path: Path) -> None:
    table = tmp_path / "links.sssom.tsv"
    text = PROJECT.links.read_text(encoding="utf-8").replace("semapv:ManualMappingCuration", "semapv:Guesswork", 1)
    table.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"links.sssom.tsv:14: mapping_justification 'semapv:Guesswork' is not one "
                                         r"of the semapv terms SSSOM allows"):
        read_links(table)


def test_kg_s_justifications_are_those_of_the_sssom_schema() -> None:
    """JUSTIFICATIONS is written out (importing sssom_schema would slow every build); the schema's pattern for
    mapping_justification lists the same terms."""
    import re

    from sssom_schema.datamodel.sssom_schema import slots

    from kg.link import JUSTIFICATIONS

    terms = re.fullmatch(r"\^semapv:\((.*)\)\$", slots.mapping_justification.pattern.pattern).group(1).split("|")
    assert sorted(SEMAPV[term] for term in terms) == sorted(JUSTIFICATIONS)


def test_owl_sameas_in_the_table_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "links.sssom.tsv"
    text = PROJECT.links.read_text(encoding="utf-8")
    text = text.replace("#   skos:", "#   owl: http://www.w3.org/2002/07/owl#\n#   skos:", 1)
    table.write_text(text.replace("\tskos:exactMatch\t", "\towl:sameAs\t", 1), encoding="utf-8")
    with pytest.raises(InputError, match=r"links.sssom.tsv:15: predicate_id 'owl:sameAs' is not skos:exactMatch"):
        read_links(table)


def test_a_table_that_is_not_utf_8_is_refused_with_its_line(tmp_path: Path) -> None:
    table = tmp_path / "links.sssom.tsv"
    table.write_bytes(PROJECT.links.read_bytes() + b"\xff\xfe\n")
    with pytest.raises(InputError, match=r"links.sssom.tsv:44: not UTF-8 \(invalid start byte\)"):
        read_links(table)


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    from rdflib.compare import isomorphic

    table = tmp_path / "links.sssom.tsv"
    table.write_bytes(b"\xef\xbb\xbf" + PROJECT.links.read_bytes())
    assert isomorphic(read_links(table), read_links(PROJECT.links))


def test_an_unknown_prefix_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "links.sssom.tsv"
    text = PROJECT.links.read_text(encoding="utf-8").replace("wikidata:Q16\t", "wdx:Q16\t", 1)
    table.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"links.sssom.tsv:14: object_id 'wdx:Q16' uses the undeclared prefix 'wdx'"):
        read_links(table)
    assert _sssom_errors(table)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("\t1.0\t", "\t1.5\t", r":14: confidence '1.5' is not a number between 0 and 1"),
        ("\tskos:exactMatch\t", "\t\t", r":14: empty predicate_id"),
        ("# mapping_date:", "# mapping_tool:", r": metadata slot\(s\) mapping_tool not read by kg"),
        ("\tcomment\n", "\tcomment\tauthor_id\n", r": expected a header of SSSOM columns .*not read by kg: author_id"),
        ("mapping_date: 2026-11-26", "mapping_date: soon", r":14: mapping_date 'soon' is not a date"),
        ("mapping_date: 2026-11-26", "mapping_date: '2026-13-45'", r":14: mapping_date '2026-13-45' is not a date"),
        ("mapping_date: 2026-11-26", "mapping_date: 2026-13-45", r": the metadata block holds an impossible date"),
        ("\tskos:exactMatch\t", "\tskos:broadMatch\t",
         r":14: predicate_id 'skos:broadMatch' is not skos:exactMatch or skos:closeMatch"),
        ("# license: https://creativecommons.org/licenses/by/4.0/\n", "",
         r": the metadata block has no license \(SSSOM requires it\)"),
    ],
)
def test_a_table_kg_cannot_read_faithfully_is_refused(tmp_path: Path, old: str, new: str, message: str) -> None:
    table = tmp_path / "links.sssom.tsv"
    text = PROJECT.links.read_text(encoding="utf-8")
    assert old in text
    table.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError, match="links.sssom.tsv" + message):
        read_links(table)


def test_check_unverified_fails_on_a_linked_or_unknown_subject(statements) -> None:
    from kg.link import Unlinked

    problems = check_unverified(
        statements, {ID.Canada}, [Unlinked(ID.Canada, "Canada", "x"), Unlinked(ID.Atlantis, "Atlantis", "x")]
    )
    assert problems == [
        "id:Canada: listed as unverified but linked in the SSSOM table",
        "id:Atlantis: not an entity of the graph",
    ]


def test_owl_sameas_in_the_links_graph_is_a_violation(tmp_path: Path) -> None:
    dataset = new_dataset()
    dataset.graph(LINKS_GRAPH).add((ID.Canada, OWL.sameAs, WD.Q16))
    folder = tmp_path / "qc"
    folder.mkdir()
    shutil.copy(PROJECT.qc / "sameas.rq", folder)
    findings = qc_findings(dataset, folder)
    assert [(curie(f.focus), f.path, f.severity) for f in findings] == [("id:Canada", "owl:sameAs", "Violation")]


# --- pycountry ---------------------------------------------------------------------------------------------


def test_every_state_is_matched_to_iso_3166_exactly_once(statements) -> None:
    states = set(statements.subjects(RDF.type, KG.State))
    matches = country_matches()
    assert set(matches) == states and len({match.alpha_3 for match in matches.values()}) == len(states) == 12


def test_iso_matches_agree_with_the_sssom_evidence(rows) -> None:
    """The OWID row cited as evidence for each state's QID begins with the alpha-3 code and the label."""
    evidence = {row.subject: row.evidence for row in rows}
    for state, (_, alpha_3, _) in country_matches().items():
        label = next(row.subject_label for row in rows if row.subject == state)
        assert f"'{alpha_3},{label}," in evidence[state], curie(state)


def _with_table(tmp_path: Path, source: Path, old: str, new: str) -> Project:
    """A project at tmp_path whose copy of the table `source` (a path of the project) has `old` replaced."""
    project = Project(tmp_path)
    target = tmp_path / source.relative_to(PROJECT.root)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = source.read_text(encoding="utf-8")
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return project


def test_an_alpha_3_code_matched_to_two_states_is_refused(tmp_path: Path) -> None:
    project = _with_table(tmp_path, PROJECT.country_codes, "United States\tUSA\t", "United States\tCAN\t")
    with pytest.raises(InputError, match=r"^data/links-iso3166.tsv:3: id:UnitedStates: alpha_3 CAN is already "
                                         r"id:Canada's \(line 2\)$"):
        country_matches(project)


def test_an_iso_match_under_another_state_s_label_is_refused(tmp_path: Path) -> None:
    from kg.build import load_dataset
    from kg.offline import add_country_facts

    project = _with_table(tmp_path, PROJECT.country_codes, "id:Canada\tCanada\t", "id:Canada\tMexico\t")
    with pytest.raises(InputError, match=r"^data/links-iso3166.tsv:2: subject_label 'Mexico' is not a label of "
                                         r"id:Canada"):
        add_country_facts(load_dataset(), project)


@pytest.mark.parametrize(
    ("source", "read"),
    [
        (PROJECT.country_codes, country_matches),
        (PROJECT.links_unverified, lambda project: read_unverified(project.links_unverified, project)),
    ],
)
def test_a_subject_listed_twice_in_a_table_is_refused_with_both_lines(tmp_path: Path, source: Path, read) -> None:
    first = source.read_text(encoding="utf-8").splitlines()[1]
    project = _with_table(tmp_path, source, first + "\n", first + "\n" + first + "\n")
    with pytest.raises(InputError, match=rf":3: {first.split()[0]} is listed twice \(first on line 2\)$"):
        read(project)


def test_pycountry_graph_holds_codes_french_names_and_provenance(built_project) -> None:
    graph = built_project.dataset.graph(PYCOUNTRY_GRAPH)
    # ISO 3166-1: Canada CA/CAN/124, Russia RU/RUS/643 ("Russie, Fédération de" in pycountry's French)
    assert graph.value(ID.Canada, KG.isoAlpha2Code) == Literal("CA")
    assert graph.value(ID.Russia, KG.isoNumericCode) == Literal("643")
    assert Literal("Russie, Fédération de", lang="fr") in set(graph.objects(ID.Russia, KG.isoName))
    assert Literal("États-Unis", lang="fr") in set(graph.objects(ID.UnitedStates, KG.isoName))
    package = graph.value(graph.value(PYCOUNTRY_GRAPH, PROV.wasGeneratedBy), PROV.used)
    assert graph.value(package, SCHEMA.softwareVersion) == Literal(pycountry_version()) == Literal("26.2.16")
    assert pycountry.countries.get(alpha_2="LV").alpha_3 == str(graph.value(ID.Latvia, KG.isoAlpha3Code))


# --- kg links -------------------------------------------------------------------------------------------------


def kg(project: Project, *args: str):
    return runner.invoke(app, ["--root", str(project.root), *args], env={"COLUMNS": "250"})


def test_kg_links_prints_every_mapping_with_its_evidence(project_copy, rows) -> None:
    result = kg(project_copy, "links", "--format", "tsv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == [
        "subject", "subject_label", "predicate", "object", "object_label", "justification", "confidence", "evidence"
    ]
    assert len(lines) == 1 + len(rows)
    assert any(line.startswith("id:Canada\tCanada\tskos:exactMatch\twd:Q16\tCanada\t") for line in lines)
    text = kg(project_copy, "links").stdout
    assert "id:NATO (NATO) skos:exactMatch wd:Q7184 (NATO)" in text and "evidence: " in text


def test_kg_links_missing_lists_the_unlinked_with_why(project_copy) -> None:
    result = kg(project_copy, "links", "--missing", "--format", "json")
    assert result.exit_code == 0, result.output
    import json

    listed = {row["subject"]: row["reason"] for row in json.loads(result.stdout)}
    assert "id:NORAD" in listed and listed["id:NORAD"] and "id:Canada" not in listed
    # every row of links-unverified.tsv (18, none linked), DAESH (a kg:Threat) and NATO Mission Iraq (a kg:Mission)
    # included though not of a real-world class
    assert len(listed) == 18 and listed["id:DAESH"].startswith("Candidate Q2429253")
    assert listed["id:NATOMissionIraq"].startswith("No public file found")




@pytest.mark.parametrize(("row", "problem"), [
    ("id:Atlantis\tAtlantis\tnot found", "id:Atlantis: not an entity of the graph"),
    # "North Atlantic Treaty Organization" is NATO's skos:altLabel in the fixture, not an rdfs:label
    ("id:NATO\tNorth Atlantic Treaty Organization\tnot found",
     "id:NATO: subject_label 'North Atlantic Treaty Organization' is not a label of it"),
    ("id:Canada\tCanada\tnot found", "id:Canada: listed as unverified but linked in the SSSOM table"),
    ("id:NORAD\tNORAD\tagain", "id:NORAD is listed twice (first on line 2)"),
    ("wikidata:Q16\tCanada\tnot found", "subject_id 'wikidata:Q16' is not an id: CURIE"),
])
def test_a_wrong_row_of_the_unverified_list_fails_the_build(project: Project, row: str, problem: str) -> None:
    """The build refuses a row of links-unverified.tsv that is wrong (file, line, cause; exit 2), before it
    writes anything: the previous build's outputs stay as they were."""
    project.links.write_text(FIXTURE_LINKS, encoding="utf-8")
    project.links_unverified.write_text(FIXTURE_UNVERIFIED, encoding="utf-8")
    assert kg(project, "build").exit_code == 0
    dist = project.root / "dist"
    before = {path: path.read_bytes() for path in dist.rglob("*") if path.is_file()}
    project.links_unverified.write_text(FIXTURE_UNVERIFIED + row + "\n", encoding="utf-8")
    result = kg(project, "build")
    assert result.exit_code == 2
    assert f"error: data/links-unverified.tsv:3: {problem}" in result.output
    assert before and {path: path.read_bytes() for path in dist.rglob("*") if path.is_file()} == before
    assert kg(project, "links", "--missing").exit_code == 2  # the same refusal: it reads the build


def test_kg_links_missing_flags_an_entity_listed_nowhere(project_copy) -> None:
    path = project_copy.links_unverified
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text("".join(line for line in original.splitlines(True) if not line.startswith("id:NORAD\t")))
        result = kg(project_copy, "links", "--missing")
        assert result.exit_code == 1
        assert "id:NORAD (North American Aerospace Defense Command): NOT LISTED" in result.stdout
    finally:
        path.write_text(original, encoding="utf-8")


# --- SERVICE --------------------------------------------------------------------------------------------------

SERVICE_QUERY = "SELECT ?c WHERE { SERVICE <%s> { wd:Q16 wdt:P297 ?c } }"
CACHE = (
    "<https://w3id.org/defence-kg/graph/external/wikidata> { "
    '<http://www.wikidata.org/entity/Q16> <http://www.wikidata.org/prop/direct/P297> "CA" . }\n'
)


def test_service_is_refused_without_the_flag(project_copy) -> None:
    result = kg(project_copy, "sparql", SERVICE_QUERY % "https://query.wikidata.org/sparql")
    assert result.exit_code == 2
    assert "SERVICE is not allowed: queries run offline" in result.output and "--allow-service" in result.output
    federated = kg(project_copy, "query", "iso-codes-wikidata")
    assert federated.exit_code == 2 and "SERVICE is not allowed" in federated.output


def test_service_to_another_endpoint_is_refused_even_with_the_flag(project_copy) -> None:
    result = kg(project_copy, "sparql", SERVICE_QUERY % "https://dbpedia.org/sparql", "--allow-service")
    assert result.exit_code == 2
    assert "SERVICE <https://dbpedia.org/sparql> is not allowed: only SERVICE <https://query.wikidata.org/sparql>" \
        in result.output


def test_service_to_wikidata_is_answered_from_the_cache_with_the_flag(project: Project) -> None:
    """On the small fixture project (quick to rebuild), given an enrichment cache."""
    project.wikidata_cache.parent.mkdir(parents=True)
    project.wikidata_cache.write_text(CACHE, encoding="utf-8")
    query = SERVICE_QUERY % "https://query.wikidata.org/sparql"
    result = kg(project, "sparql", query, "--allow-service", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["c", "CA"]
