"""The `kg` command line on the fixture project: outputs, formats, exit codes and error messages."""

from __future__ import annotations

import csv
import errno
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PIPELINE, sparql_test_url
from rdflib import Dataset, Graph, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.namespace import DCAT, DCTERMS, VOID
from rdflib.compare import isomorphic

from kg.cli import app
from kg.export import export_graph
from kg.load import Project, find_span, quote_context, read_source
from kg.namespaces import INFERRED_GRAPH, ONTOLOGY_GRAPH, SOURCES_GRAPH, STATEMENTS_GRAPH
from kg.query import load_catalogue
from kg.void import DATASET_GRAPH

runner = CliRunner()
WIDE = {"COLUMNS": "250"}  # rich tables keep whole cells


def kg(project: Project, *args: str) -> object:
    return runner.invoke(app, ["--root", str(project.root), *args], env=WIDE)


def kg_process(project: Project, *args: str) -> subprocess.CompletedProcess:
    """`kg` as a real process, to see exactly what a user sees on stderr."""
    code = "import sys; from kg.cli import main; sys.argv = ['kg', *sys.argv[1:]]; main()"
    return subprocess.run(
        [sys.executable, "-c", code, "--root", str(project.root), *args], capture_output=True, text=True, check=False
    )


# --- build and validate -------------------------------------------------------------------------------------


# `kg build` that sends itself SIGTERM once it has moved two of its new files over the old ones (kg.files._change
# is called once per file replaced).
TERMINATED_BUILD = """
import os, signal, sys
import kg.files
change, calls = kg.files._change, []
def terminated_change(*args):
    calls.append(args)
    if len(calls) == 3:
        os.kill(os.getpid(), signal.SIGTERM)
    return change(*args)
kg.files._change = terminated_change
from kg.cli import main
sys.argv = ['kg', *sys.argv[1:]]
main()
"""


def test_a_terminated_build_puts_every_file_back(project: Project, tmp_path: Path) -> None:
    """SIGTERM in the middle of replacing dist/ used to leave void.ttl new, the exports old and the temporary and
    backup files behind; it is now undone as Ctrl-C is, and kg exits 143."""
    out = tmp_path / "dist"
    assert kg(project, "build", "--out", str(out)).exit_code == 0
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    statements = project.statements.read_text(encoding="utf-8")
    project.statements.write_text(statements.replace('"Canada"@en', '"Canada (edited)"@en', 1), encoding="utf-8")
    result = subprocess.run([sys.executable, "-c", TERMINATED_BUILD, "--root", str(project.root), "build", "--out",
                             str(out)], capture_output=True, text=True, check=False)
    assert result.returncode == 143, result.stderr
    assert "Traceback" not in result.stderr
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


def test_build_writes_exports_and_reports(project: Project, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    result = kg(project, "build", "--out", str(out))
    assert result.exit_code == 0, result.output
    media = {"ttl": "text/turtle", "jsonld": "application/ld+json", "nt": "application/n-triples",
             "trig": "application/trig", "rdf": "application/rdf+xml"}
    exports = {f"defence-kg{suffix}.{extension}": kind for extension, kind in media.items() for suffix in ("", "+inferred")}
    assert {p.name for p in out.iterdir()} == {*exports, "void.ttl", "validation-report.json", "validation-report.txt"}
    report = json.loads((out / "validation-report.json").read_text(encoding="utf-8"))
    assert report == {"conforms": True, "findings": []}
    assert "conforms" in (out / "validation-report.txt").read_text(encoding="utf-8")
    # each graph holds what its input holds: the ontology and statements files, one text per source document
    expected = {ONTOLOGY_GRAPH: len(Graph().parse(project.ontology)),
                STATEMENTS_GRAPH: len(Graph().parse(project.statements)), SOURCES_GRAPH: 1}
    asserted, full = (Dataset().parse(out / f"defence-kg{suffix}.trig", format="trig") for suffix in ("", "+inferred"))
    counts = {g.identifier: len(g) for g in asserted.graphs() if len(g)}
    assert counts.pop(DATASET_GRAPH) > 0
    assert counts == expected
    assert {g.identifier for g in full.graphs() if len(g)} == {*expected, DATASET_GRAPH, INFERRED_GRAPH}
    assert len(full.graph(INFERRED_GRAPH)) > 0
    for name in expected:
        assert isomorphic(full.graph(name), asserted.graph(name)), name
    # the description: counts as found above, the licence, the source's rights, every file with its media type
    void = Graph().parse(out / "void.ttl")
    assert isomorphic(void, full.graph(DATASET_GRAPH))
    dataset = URIRef("https://w3id.org/defence-kg/dataset")
    counted = {name: len(full.graph(name)) for name in (*expected, INFERRED_GRAPH)}
    assert {s: void.value(s, VOID.triples).toPython() for s in void.objects(dataset, VOID.subset)} == counted
    union = {t for name in counted for t in full.graph(name)}
    assert void.value(dataset, VOID.triples).toPython() == len(union)
    licence = URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert void.value(dataset, DCTERMS.license) == licence
    assert void.value(SOURCES_GRAPH, DCTERMS.license) is None  # the fact sheet's text is not the project's
    assert "Government of Canada" in void.value(SOURCES_GRAPH, DCTERMS.rights)
    files = {str(void.value(d, DCTERMS.title)): str(void.value(d, DCAT.mediaType)).rsplit("media-types/", 1)[1]
             for d in void.objects(dataset, DCAT.distribution)}
    assert files == exports


def _break_claim_identifier(project: Project) -> None:
    text = project.statements.read_text(encoding="utf-8").replace('dcterms:identifier "C02" ;', "")
    project.statements.write_text(text, encoding="utf-8")


def test_build_leaves_no_empty_graph_in_the_dataset_it_keeps(project: Project, tmp_path: Path) -> None:
    """Choosing which graphs an export holds looked each optional one up with Dataset.graph, which adds it: the
    cached dataset then held an empty graph/dataset and graph/external/wikidata, which `kg serve` announced as
    graphs of its dataset. Every named graph kept is one with triples."""
    from kg.build import load_built

    assert kg(project, "build", "--out", str(tmp_path / "dist")).exit_code == 0
    graphs = {g.identifier: len(g) for g in load_built(project).dataset.graphs()
              if g.identifier != DATASET_DEFAULT_GRAPH_ID}
    assert graphs and all(graphs.values()), graphs


@pytest.mark.parametrize("in_store", [False, True], ids=["reference", "in-store"])
def test_build_exits_1_when_not_conforming_but_still_writes_the_report(
    project: Project, tmp_path: Path, in_store: bool
) -> None:
    _break_claim_identifier(project)
    out = tmp_path / "out"
    store = ["--store", f"oxigraph:{tmp_path / 'store'}"] if in_store else []
    options = ["--reasoner", "rules", "--validator", "sparql"] if in_store else []
    result = kg(project, *store, "build", *options, "--out", str(out))
    assert result.exit_code == 1, result.output
    report = json.loads((out / "validation-report.json").read_text(encoding="utf-8"))
    assert report["conforms"] is False
    assert {(f["focus"], f["path"]) for f in report["findings"]} >= {
        ("https://w3id.org/defence-kg/id/claim/C02", "dcterms:identifier")
    }


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir()}


def test_a_validation_crash_leaves_the_previous_build_s_files(project: Project, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    assert kg(project, "build", "--out", str(out)).exit_code == 0
    before = _files(out)
    _break_claim_identifier(project)  # new data, so new exports would differ
    (project.qc / "zz-broken.rq").write_text("SELECT ?x WHERE {", encoding="utf-8")
    assert kg(project, "build", "--out", str(out)).exit_code == 2
    assert _files(out) == before


def test_a_character_rdf_xml_cannot_hold_fails_the_build_and_leaves_the_previous_one(project: Project, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    assert kg(project, "build", "--out", str(out)).exit_code == 0
    before = _files(out)
    text = project.statements.read_text(encoding="utf-8")
    project.statements.write_text(text.replace('"Tiny fact sheet"@en', '"Tiny\\u000Cfact sheet"@en'), encoding="utf-8")
    result = kg_process(project, "build", "--out", str(out))
    assert result.returncode == 2
    assert ("error: the data cannot be written as xml: the triple <https://w3id.org/defence-kg/id/factsheet> "
            "<http://purl.org/dc/terms/title> ... holds the character U+000C") in result.stderr
    assert "Traceback" not in result.stderr
    assert _files(out) == before
    assert kg(project, "export", "-f", "xml", "-o", str(tmp_path / "out.rdf")).exit_code == 2
    assert not (tmp_path / "out.rdf").exists()


def test_a_non_conforming_build_writes_its_exports_with_its_report(project: Project, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    assert kg(project, "build", "--out", str(out)).exit_code == 0
    assert '"C02"' in (out / "defence-kg.nt").read_text(encoding="utf-8")
    _break_claim_identifier(project)
    assert kg(project, "build", "--out", str(out)).exit_code == 1
    assert '"C02"' not in (out / "defence-kg.nt").read_text(encoding="utf-8")  # the data the report is about
    assert json.loads((out / "validation-report.json").read_text(encoding="utf-8"))["conforms"] is False


def test_an_in_store_build_removes_the_exports_of_an_earlier_build(project: Project, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    assert kg(project, "build", "--out", str(out)).exit_code == 0
    result = kg(project, "--store", "oxigraph", "build", "--reasoner", "rules", "--validator", "sparql",
                "--out", str(out))
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {
        "defence-kg+inferred.nq", "validation-report.json", "validation-report.txt"}


def _drop_norad_label(project: Project) -> None:
    old = 'id:NORAD a kg:Organisation ; rdfs:label "NORAD"@en ;'
    text = project.statements.read_text(encoding="utf-8")
    project.statements.write_text(text.replace(old, "id:NORAD a kg:Organisation ;"), encoding="utf-8")


def test_validate_reports_label_path_and_message(project: Project) -> None:
    assert kg(project, "validate").exit_code == 0
    _break_claim_identifier(project)
    _drop_norad_label(project)
    result = kg(project, "validate")
    assert result.exit_code == 1
    assert "Violation: claim:C02 dcterms:identifier: A claim has exactly one identifier." in result.stdout
    assert "Warning: id:NORAD rdfs:label: A fact has a label." in result.stdout


@pytest.mark.parametrize("where", ["memory", "disk", "server"])
def test_validate_in_a_store_reports_as_the_reference(where: str, project: Project, tmp_path: Path,
                                                      request: pytest.FixtureRequest) -> None:
    """`kg --store S validate` runs the shapes as SPARQL and the quality checks inside S, and prints what `kg
    validate` prints, exit 1 for a violation: on an Oxigraph in memory the inputs are loaded for the command;
    Oxigraph on disk and the server must hold an in-store build of them (their queries read its asserted graphs,
    not the inferred one), else they are refused as the other readers refuse them."""
    _break_claim_identifier(project)
    _drop_norad_label(project)
    if where == "server":
        request.getfixturevalue("sparql_server")  # (puts the session's data back afterwards)
    spec = {"memory": "oxigraph", "disk": f"oxigraph:{tmp_path / 'store'}", "server": f"sparql:{sparql_test_url()}"}[where]
    if where != "memory":
        refused = kg(project, "--store", spec, "validate")
        assert refused.exit_code == 2 and f"store {spec} " in refused.stderr, refused.output
        built = kg(project, "--store", spec, "build", "--reasoner", "rules", "--validator", "sparql", "--out", str(tmp_path / "out"))
        assert built.exit_code == 1, built.output
    result = kg(project, "--store", spec, "validate")
    assert not (project.root / ".kg-cache").exists()  # no memory build was made for it
    reference = kg(project, "validate")
    assert reference.exit_code == 1 and "Violation: claim:C02 dcterms:identifier" in reference.stdout
    assert result.exit_code == 1, result.output
    assert result.stdout == reference.stdout


@pytest.mark.parametrize("where", ["disk", "server"])
def test_coverage_and_links_read_the_store(where: str, project_copy: Project, tmp_path: Path,
                                           request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """`kg --store S coverage` and `kg --store S links [--missing]` read the store's build in place, as kg ask
    does (no memory build is read for them: on a large project it would not finish), and print what they print on
    memory: the project's own data, whose links the fixture project lacks."""
    spec = f"oxigraph:{tmp_path / 'store'}"
    if where == "server":
        request.getfixturevalue("sparql_server")  # (puts the session's data back afterwards)
        spec = f"sparql:{sparql_test_url()}"
    built = kg(project_copy, "--store", spec, "build", "--reasoner", "rules", "--validator", "sparql", "--out", str(tmp_path / "out"))
    assert built.exit_code == 0, built.output
    commands = (["coverage", "-f", "json"], ["links", "-f", "json"], ["links", "--missing", "-f", "json"])
    with monkeypatch.context() as patch:
        patch.setattr("kg.build.load_built", lambda *_: pytest.fail("the memory build was read"))
        on_store = [kg(project_copy, "--store", spec, *command) for command in commands]
    for command, result in zip(commands, on_store):
        reference = kg(project_copy, *command)
        assert result.exit_code == reference.exit_code, result.output
        assert result.stdout == reference.stdout and json.loads(reference.stdout), command


def test_warnings_alone_conform(project: Project) -> None:
    _drop_norad_label(project)
    result = kg(project, "validate")
    assert result.exit_code == 0
    assert "Warning:" in result.stdout


def test_inconsistency_is_a_message_and_exit_1(project: Project) -> None:
    project.statements.write_bytes((PIPELINE / "inconsistent-statements.ttl").read_bytes())
    result = kg_process(project, "build")
    assert result.returncode == 1
    assert "id:NATO" in result.stderr and "Traceback" not in result.stderr


def test_malformed_turtle_is_file_line_cause_exit_2_without_traceback(project: Project) -> None:
    project.statements.write_bytes((PIPELINE / "malformed.ttl").read_bytes())
    for command in (["build"], ["query", "partner-activities"], ["validate"]):
        result = kg_process(project, *command)
        assert result.returncode == 2, (command, result.stderr)
        assert "data/statements.ttl:7: malformed Turtle: Parser error at line 7 between columns 1 and 16: A dot is expected" in result.stderr
        assert "Traceback" not in result.stderr


# --- the catalogue -------------------------------------------------------------------------------------------


def test_queries_lists_name_title_description_and_params(project: Project) -> None:
    result = kg(project, "queries")
    assert result.exit_code == 0
    assert "partner-activities" in result.stdout and "Activities with a partner" in result.stdout
    description = load_catalogue(project.queries)["partner-activities"].description
    assert description and " ".join(description.split()[:3]) in result.stdout
    assert "partner:entity=id:UnitedStates" in result.stdout and "section:string" in result.stdout


def test_unknown_query_lists_every_name(project: Project) -> None:
    result = kg(project, "query", "no-such-query")
    assert result.exit_code == 2
    assert "no-such-query" in result.stderr
    assert "claims-by-section, partner-activities" in result.stderr


def test_unknown_and_missing_params(project: Project) -> None:
    unknown = kg(project, "query", "partner-activities", "--param", "colour=red")
    assert unknown.exit_code == 2 and "no parameter colour" in unknown.stderr and "partner" in unknown.stderr
    missing = kg(project, "query", "claims-by-section")
    assert missing.exit_code == 2 and "--param section=" in missing.stderr
    bad_integer = kg(project, "query", "claims-by-section", "-p", "section=x", "-p", "from=ten")
    assert bad_integer.exit_code == 2 and "integer" in bad_integer.stderr


def test_entity_params_accept_iri_curie_and_labels(project: Project) -> None:
    for value in ("id:UnitedStates", "https://w3id.org/defence-kg/id/UnitedStates", "  états-unis ", "US", "u.s."):
        result = kg(project, "query", "partner-activities", "-p", f"partner={value}", "-f", "csv")
        assert result.exit_code == 0, (value, result.stderr)
        assert "https://w3id.org/defence-kg/id/NoradCooperation" in result.stdout, value


def test_ambiguous_and_unknown_entities_list_candidates(project: Project) -> None:
    ambiguous = kg(project, "query", "partner-activities", "-p", "partner=NORAD")
    assert ambiguous.exit_code == 2
    assert "id:NORAD" in ambiguous.stderr and "id:NoradCooperation" in ambiguous.stderr
    unknown = kg(project, "describe", "Canda")
    assert unknown.exit_code == 2 and "'canada'" in unknown.stderr


def test_json_results_follow_the_w3c_format(project: Project) -> None:
    result = kg(project, "query", "claims-by-section", "-p", "section=(introduction)", "-f", "json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert list(document) == ["head", "results"]
    assert document["head"]["vars"] == ["claim", "id", "quote", "start"]
    first = document["results"]["bindings"][0]
    assert first["claim"] == {"type": "uri", "value": "https://w3id.org/defence-kg/id/claim/C01"}
    assert first["id"] == {"type": "literal", "value": "C01"}
    assert first["start"] == {"type": "literal", "value": "17", "datatype": "http://www.w3.org/2001/XMLSchema#integer"}
    labels = json.loads(kg(project, "query", "partner-activities", "-f", "json").stdout)["results"]["bindings"]
    assert labels[0]["label"] == {"type": "literal", "value": "Cooperation in NORAD", "xml:lang": "en"}


def test_integer_params_are_bound_as_numbers(project: Project) -> None:
    result = kg(project, "query", "claims-by-section", "-p", "section=(introduction)", "-p", "from=20", "-f", "json")
    ids = [row["id"]["value"] for row in json.loads(result.stdout)["results"]["bindings"]]
    assert ids == ["C02"]


def test_csv_and_tsv_follow_the_w3c_formats(project: Project) -> None:
    args = ("query", "claims-by-section", "-p", "section=(introduction)")
    raw = kg(project, *args, "-f", "csv").stdout_bytes.decode("utf-8")
    assert raw.startswith("claim,id,quote,start\r\n")
    rows = list(csv.reader(io.StringIO(raw)))
    assert rows[1] == ["https://w3id.org/defence-kg/id/claim/C01", "C01", "Canada is a founding member of NATO", "17"]
    tsv = kg(project, *args, "-f", "tsv").stdout.splitlines()
    assert tsv[0] == "?claim\t?id\t?quote\t?start"
    assert tsv[1].split("\t") == [
        "<https://w3id.org/defence-kg/id/claim/C01>",
        '"C01"',
        '"Canada is a founding member of NATO"',
        '"17"^^<http://www.w3.org/2001/XMLSchema#integer>',
    ]
    tagged = kg(project, "query", "partner-activities", "-f", "tsv").stdout.splitlines()
    assert tagged[:2] == ["?activity\t?label",
                          '<https://w3id.org/defence-kg/id/NoradCooperation>\t"Cooperation in NORAD"@en']


def test_markdown_and_table(project: Project) -> None:
    md = kg(project, "query", "partner-activities", "-f", "md").stdout.splitlines()
    assert md[:3] == ["| activity | label |", "| --- | --- |", "| id:NoradCooperation | Cooperation in NORAD@en |"]
    piped = kg(project, "sparql", 'SELECT ?x WHERE { BIND("a|b" AS ?x) }', "-f", "md").stdout.splitlines()
    assert piped == ["| x |", "| --- |", "| a\\|b |"]  # a | in a value does not end its cell
    table = kg(project, "query", "partner-activities")
    assert table.exit_code == 0 and "id:NoradCooperation" in table.stdout


def test_why_shows_the_supporting_claims(project: Project) -> None:
    quote = "Canada works with the U.S. in NORAD – the North American Aerospace Defense Command"
    table = kg(project, "query", "partner-activities", "--why")
    assert "C02" in table.stdout and quote in table.stdout
    document = json.loads(kg(project, "query", "partner-activities", "--why", "-f", "json").stdout)
    assert document["why"] == [
        {"node": "https://w3id.org/defence-kg/id/NoradCooperation",
         "claims": [{"id": "C02", "quote": quote, "source": "id:factsheet"}]}
    ]
    assert kg(project, "query", "partner-activities", "--why", "-f", "csv").exit_code == 2


def test_bad_sparql_shows_the_position(project: Project) -> None:
    result = kg(project, "sparql", "SELECT ?s WHERE {\n  ?s ?p ?o\n  FILTR(?s) }")
    assert result.exit_code == 2
    assert "query:3:3: SPARQL syntax error" in result.stderr
    assert "FILTR(?s) }\n    ^" in result.stderr


def test_bad_catalogue_query_names_its_file(project: Project) -> None:
    (project.queries / "broken.rq").write_text("# title: Broken\nSELECT ?x WHERE { ?x ?y }\n", encoding="utf-8")
    result = kg(project, "query", "broken")
    assert result.exit_code == 2
    assert "broken.rq:2:" in result.stderr and "SPARQL syntax error" in result.stderr


def test_malformed_param_header_is_an_input_error(project: Project) -> None:
    (project.queries / "odd.rq").write_text("# param: partner colour\nSELECT * WHERE { ?s ?p ?o }\n", encoding="utf-8")
    result = kg(project, "queries")
    assert result.exit_code == 2 and "odd.rq:1: malformed '# param:'" in result.stderr


@pytest.mark.parametrize(("header", "message"), [
    ("# param: year gYear = 2015x", "odd.rq:2: the default of '# param: year' is wrong: parameter year must be a year"),
    ("# param: n integer = ten", "odd.rq:2: the default of '# param: n' is wrong: parameter n must be an integer"),
    ("# param: year gYear = 15", "odd.rq:2: the default of '# param: year' is wrong: parameter year must be a year"),
])
def test_a_default_its_type_cannot_read_names_the_file_and_line(project: Project, header: str, message: str) -> None:
    (project.queries / "odd.rq").write_text(f"# title: Odd\n{header}\nSELECT * WHERE {{ ?s ?p ?o }}\n", encoding="utf-8")
    result = kg(project, "queries")
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def test_sparql_from_a_file_and_unknown_format(project: Project, tmp_path: Path) -> None:
    query = tmp_path / "count.rq"
    query.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?c a kg:Claim }", encoding="utf-8")
    result = kg(project, "sparql", str(query), "-f", "csv")
    assert result.exit_code == 0 and result.stdout.splitlines() == ["n", "2"]
    assert kg(project, "sparql", str(query), "-f", "xlsx").exit_code == 2


def test_queries_see_inferred_triples(project: Project) -> None:
    result = kg(project, "sparql", "ASK { id:Canada a kg:Country }", "-f", "json")
    assert json.loads(result.stdout) == {"head": {}, "boolean": True}


# --- export, coverage, describe, locate ----------------------------------------------------------------------


def test_export_to_stdout_and_file(project: Project, tmp_path: Path, built_fixture: object) -> None:
    stdout = kg(project, "export", "-f", "nt", "--inferred")
    assert stdout.exit_code == 0
    assert isomorphic(Graph().parse(data=stdout.stdout, format="nt"), export_graph(built_fixture.dataset, "nt", True))
    target = tmp_path / "kg.ttl"
    assert kg(project, "export", "-f", "turtle", "-o", str(target)).exit_code == 0
    assert isomorphic(Graph().parse(target), export_graph(built_fixture.dataset, "turtle"))


def test_coverage_json(project: Project) -> None:
    result = kg(project, "coverage", "-f", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert (report["claims"]["total"], report["claims"]["verified"]) == (2, 2)
    assert report["sentences"]["covered"] == 3  # two sentences by claim spans, the title line by dcterms:title
    lines = kg(project, "coverage").stdout.strip().splitlines()
    assert lines[-1] == "claims: 2 total, 2 encoded, 2 verified; sentences: 7 total, 3 covered"


def test_describe_shows_labels_triples_and_quotes(project: Project) -> None:
    result = kg(project, "describe", "OTAN")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "id:NATO" in out and "label@fr" in out and "kg:Organisation" in out
    assert "Canada (id:Canada)" in out and "kg:memberOf" in out
    assert "“Canada is a founding member of NATO”" in out


def test_locate_prints_the_span_and_selectors(project: Project) -> None:
    text = read_source(project, "data/sources/tiny.txt")
    quote = "the North American Aerospace Defense Command"
    start, end = find_span(text, quote)
    result = kg(project, "locate", quote)
    assert result.exit_code == 0
    assert f"data/sources/tiny.txt: start {start} end {end} (occurrence 1 of 1)" in result.stdout
    assert f"oa:start {start} ; oa:end {end}" in result.stdout
    second = kg(project, "locate", "Canada", "--occurrence", "2")
    assert f"start {find_span(text, 'Canada', 2)[0]} " in second.stdout
    # "Canada" occurs 4 times: the selectors printed are Turtle whose quote selector says which, by its context
    snippet = second.stdout.split("\n", 1)[1].strip().rstrip(";")
    selectors = Graph().parse(data=f"@prefix oa: <http://www.w3.org/ns/oa#> . <urn:x:claim> {snippet} .", format="turtle")
    prefix, suffix = quote_context(text, *find_span(text, "Canada", 2))
    assert (prefix, suffix) != ("", "")
    oa = "http://www.w3.org/ns/oa#"
    assert {str(o) for o in selectors.objects(None, URIRef(oa + "prefix"))} == ({prefix} if prefix else set())
    assert {str(o) for o in selectors.objects(None, URIRef(oa + "suffix"))} == ({suffix} if suffix else set())
    assert kg(project, "locate", "not in the text").exit_code == 2


def test_commands_reuse_the_cache(project: Project) -> None:
    first = kg(project, "query", "partner-activities", "-f", "csv")
    assert "rebuilding" in first.stderr
    second = kg(project, "query", "partner-activities", "-f", "csv")
    assert "rebuilding" not in second.stderr and second.stdout == first.stdout


@pytest.mark.parametrize(("args", "listed"), [
    (["--help"], ["--root", "--store", *app.commands]),
    (["query", "--help"], ["NAME", "--param", "--format", "--why", "--allow-service"]),
])
def test_help(project: Project, args: list[str], listed: list[str]) -> None:
    result = kg(project, *args)
    assert result.exit_code == 0
    assert [name for name in listed if name not in result.stdout] == []


def test_tsv_escapes_tabs_and_newlines(project: Project) -> None:
    result = kg(project, "sparql", 'SELECT ?x WHERE { BIND("a\\tb\\nc" AS ?x) }', "-f", "tsv")
    assert result.stdout.splitlines() == ["?x", '"a\\tb\\nc"']


# --- queries stay offline and read-only -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", "SERVICE is not allowed"),
        ("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", "FROM <file:///etc/passwd> is not a graph"),
        ("SELECT * FROM NAMED <http://127.0.0.1:9/x> WHERE { GRAPH ?g { ?s ?p ?o } }", "FROM NAMED <http://127.0.0.1:9/x> is not"),
        ("INSERT DATA { id:Canada kg:memberOf id:Narnia }", "SPARQL Update is not supported"),
        ("LOAD <file:///etc/passwd>", "SPARQL Update is not supported"),
    ],
)
def test_queries_that_would_leave_the_graph_are_refused(project: Project, query: str, message: str) -> None:
    result = kg(project, "sparql", query)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_from_one_of_the_dataset_graphs_is_allowed(project: Project) -> None:
    query = "ASK FROM <https://w3id.org/defence-kg/graph/statements> { id:Canada kg:memberOf id:NATO }"
    result = kg(project, "sparql", query, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["boolean"] is True


def test_an_evaluation_failure_is_a_query_error(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("rdflib.plugins.sparql.processor.evalQuery", broken)
    result = kg(project, "sparql", "SELECT * WHERE { ?s ?p ?o }")
    assert result.exit_code == 2
    assert "the query failed while running: maximum recursion depth exceeded" in result.stderr


def test_running_out_of_memory_is_said_not_blamed_on_the_query(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    assert kg(project, "sparql", "ASK {}").exit_code == 0  # built (the build's own queries are not the point)
    monkeypatch.setattr("rdflib.plugins.sparql.processor.evalQuery", exhausted)
    result = kg(project, "sparql", "SELECT * WHERE { ?s ?p ?o }")
    assert result.exit_code == 1
    assert result.stderr == "error: out of memory (the machine's, or the process's limit)\n"


def test_write_failures_are_reported_not_raised(project: Project, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x\n", encoding="utf-8")
    result = kg(project, "export", "--format", "nt", "-o", str(blocker / "out.nt"))
    assert result.exit_code == 2
    assert f"error: cannot write {blocker / 'out.nt'}: " in result.stderr


# --- mistaken and hostile input: a message naming the place and the cause, exit 2, no traceback -------------------


def test_a_long_one_line_query_is_sparql_not_a_file_name(project: Project) -> None:
    # (longer than a file name may be: Path.is_file() raises "File name too long")
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?c a kg:Claim " + " " * 300 + "}"
    result = kg(project, "sparql", query, "-f", "csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["n", "2"]


@pytest.mark.parametrize(("args", "message"), [
    (["sparql", "missing.rq"], "missing.rq: cannot read (No such file or directory)"),
    (["sparql", ""], "query: the query is empty"),
    (["sparql", "# only a comment"], "query: the query is empty"),
    (["sparql", "SELECT * { # zz:x\n <http://zz:1/> zz:p ?o }"], "query:2:17: invalid SPARQL: Unknown namespace prefix : zz"),
    (["sparql", 'SELECT ?x { BIND("\\uD800" AS ?x) }'], "query:1:19: \\uD800 is half of a UTF-16 surrogate pair"),
    (["sparql", "SELECT * WHERE {} LIMIT 99999999999999999999999"],
     "query: LIMIT 99999999999999999999999 is out of range: at most 9223372036854775807"),
    (["sparql", "CONSTRUCT { ?c a kg:Claim } WHERE { ?c a kg:Claim }", "-f", "json"],
     "--format json is for the rows of SELECT and ASK: a CONSTRUCT's graph prints as Turtle"),
    (["query", "partner-activities", "-p", "partner=NATO", "-p", "partner=NORAD"], "--param partner is given twice"),
    (["describe", "rdfs:label"], "rdfs:label is neither the subject nor the object of a statement"),
    (["ask", ""], "the question is empty"),
    (["ask", "What does Canada do? " * 60], "the question is longer than 1000 characters"),
    (["serve", "--port", "99999"], "99999 is not in the range 0<=x<=65535"),
    (["serve", "--host", "256.1.1.1", "--port", "0"], "cannot listen on 256.1.1.1 port 0: "),
    (["serve", "--timeout", "nan"], "--timeout must be a positive, finite number of seconds, not nan"),
    (["serve", "--timeout", "inf"], "--timeout must be a positive, finite number of seconds, not inf"),
    (["serve", "--timeout", "0"], "--timeout must be a positive, finite number of seconds, not 0.0"),
    (["serve", "--max-body", "0"], "--max-body must be at least 1, not 0"),
    (["serve", "--max-rows", "-1"], "--max-rows must be at least 0, not -1"),
    (["serve", "--workers", "9"], "--workers (9) must not be more than --max-workers (8)"),
])
def test_mistaken_input_is_named_with_exit_2(project: Project, args: list[str], message: str) -> None:
    result = kg(project, *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_root_that_does_not_exist_is_named(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--root", str(tmp_path / "nowhere"), "queries"])
    assert result.exit_code == 2 and f"--root {tmp_path / 'nowhere'}: no such directory" in result.stderr


def test_a_catalogue_file_that_is_not_utf8_is_named(project: Project, tmp_path: Path) -> None:
    (project.queries / "latin.rq").write_bytes(b"# title: caf\xe9\nASK {}\n")
    result = kg(project, "queries")
    assert result.exit_code == 2 and f"{project.queries / 'latin.rq'}: not UTF-8 (byte 12: " in result.stderr
    loose = tmp_path / "loose.rq"
    loose.write_bytes(b'ASK { ?s ?p "\xe9" }')
    result = kg(project, "sparql", str(loose))
    assert result.exit_code == 2 and f"{loose}: not UTF-8 (byte 13: " in result.stderr


@pytest.mark.parametrize(("line", "message"), [
    ("id:Canada rdfs:seeAlso <http://example.org/a b> .", "an IRI cannot hold U+0020 (in <http://example.org/a b>)"),
    ('id:Canada kg:note "nine"^^xsd:decimal .', '"nine" is not a valid xsd:decimal'),
])
def test_what_rdflib_only_warns_of_is_an_input_error_with_its_line(project: Project, line: str, message: str) -> None:
    text = project.statements.read_text(encoding="utf-8")
    project.statements.write_text(text + line + "\n", encoding="utf-8")
    result = kg_process(project, "validate")
    assert result.returncode == 2
    assert f"data/statements.ttl:{text.count(chr(10)) + 1}: {message}" in result.stderr
    assert "Traceback" not in result.stderr and "Failed to convert" not in result.stderr


def test_a_full_disk_on_stdout_is_an_error_not_a_traceback(project: Project) -> None:
    with open("/dev/full", "w") as full:  # (a device: writes fail with "No space left on device")
        code = "import sys; from kg.cli import main; sys.argv = ['kg', *sys.argv[1:]]; main()"
        result = subprocess.run([sys.executable, "-c", code, "--root", str(project.root), "export", "-f", "nt"],
                                stdout=full, stderr=subprocess.PIPE, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr.endswith("error: cannot write the output: No space left on device\n"), result.stderr




def test_a_reader_that_went_away_stops_kg_quietly(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    # kg links | head -2: once head has its lines, the next write meets a closed pipe; click stops, exit 1, no word
    def closed(*args: object) -> None:
        raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    assert kg(project, "sparql", "ASK {}").exit_code == 0  # (the cache built: no "rebuilding" on stderr below)
    monkeypatch.setattr("kg.cli._print_result", closed)
    result = kg(project, "sparql", "ASK {}")
    assert (result.exit_code, result.stderr) == (1, "")
