"""kg.shacl_sparql: the shapes as graph-wide SPARQL give exactly pyshacl's findings (kg.validate, the reference).

Parametrised over every fixture of tests/fixtures/shapes (PASS and XFAIL) and the project's data, on Oxigraph
and on the SPARQL server (Virtuoso, under scripts/virtuoso run), and with the forms a store gets when it cannot
bind conditions or hash (Virtuoso's) forced on Oxigraph; one fixture also on the memory store (rdflib's
SPARQL). Findings are compared whole (focus node, path, severity, message, source shape, value) as multisets;
a blank node is compared as "a blank node", since stores relabel them.
"""

from __future__ import annotations

import threading
from collections import Counter
from functools import partial
from pathlib import Path

import pytest
from rdflib import BNode, Dataset, Graph
from test_shapes import FIXTURE_FILES, FIXTURES, findings, ontology, project_findings, shapes

from kg.build import load_dataset
from kg.load import Project, curie, new_dataset, parse_turtle
from kg.namespaces import ONTOLOGY_GRAPH, STATEMENTS_GRAPH
from kg import shacl_sparql
from kg.shacl_sparql import (
    StoreFacts,
    binds_conditions,
    folds_integers,
    hashes_text,
    in_parallel,
    plan,
    validate_in_store,
)
from kg.store import Store, create_store
from kg.validate import Finding, shacl_findings

Row = tuple


def row(finding: Finding) -> Row:
    """A finding to compare; a blank node, whose label differs between pyshacl's graph and the store's, as such."""
    def named(node: object) -> object:
        return "a blank node" if isinstance(node, BNode) else node

    return (named(finding.focus), finding.path, finding.severity, finding.message, finding.source, named(finding.value))


def fixture_dataset(path: Path) -> Dataset:
    dataset = new_dataset()
    dataset.graph(ONTOLOGY_GRAPH).__iadd__(ontology())
    parse_turtle(path, dataset.graph(STATEMENTS_GRAPH))
    return dataset


@pytest.fixture(params=["oxigraph", "oxigraph-as-virtuoso", "sparql"])
def validating_store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """An empty Oxigraph store; one whose probes say it cannot bind conditions nor hash (the forms Virtuoso
    gets, proven on a store that can run either); or the test SPARQL server (conftest.sparql_server)."""
    if request.param == "sparql":
        return request.getfixturevalue("sparql_server")
    if request.param == "oxigraph-as-virtuoso":
        monkeypatch.setattr(shacl_sparql, "binds_conditions", lambda store: False)
        monkeypatch.setattr(shacl_sparql, "hashes_text", lambda store: False)
    return create_store(f"oxigraph:{tmp_path / 'store'}")


def in_store(dataset: Dataset, store: Store, shapes_graph: Graph) -> tuple[Counter, list[str]]:
    store.load(dataset)
    validation = validate_in_store(store, shapes_graph)
    return Counter(map(row, validation.findings)), validation.fallback


def shown(rows: Counter) -> str:
    return "\n".join(f"  {n}x {[curie(x) if hasattr(x, 'n3') else x for x in r]}" for r, n in sorted(rows.items(), key=str))


def assert_same(reference: Counter, ours: Counter) -> None:
    assert ours == reference, f"pyshacl only:\n{shown(reference - ours)}\nSPARQL only:\n{shown(ours - reference)}"


def test_every_shape_is_translated() -> None:
    """No shape of shapes.ttl needs the pyshacl fallback, and every one gives at least one query."""
    work = plan(shapes(), [], StoreFacts({}, folds_integers=False))
    assert work.fallback == []
    assert len({check.source.partition(" / ")[0] for check in work.checks}) >= 55


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda path: path.stem)
def test_fixture_findings_equal_pyshacl(path: Path, validating_store: Store) -> None:
    reference = Counter(map(row, findings(path)))
    ours, fallback = in_store(fixture_dataset(path), validating_store, shapes())
    assert fallback == []
    assert_same(reference, ours)


def test_project_findings_equal_pyshacl(validating_store: Store) -> None:
    reference = Counter(map(row, project_findings()))
    ours, _ = in_store(load_dataset(Project()), validating_store, shapes())
    assert_same(reference, ours)


def test_the_memory_store_runs_the_same_queries() -> None:
    """rdflib's SPARQL engine: xone, datatype, sh:in, minExclusive and counts on one fixture."""
    path = FIXTURES / "monetary-amount_XFAIL.ttl"
    reference = Counter(map(row, findings(path)))
    assert reference, "the fixture has findings"
    ours, _ = in_store(fixture_dataset(path), create_store("memory"), shapes())
    assert_same(reference, ours)


def test_oxigraph_folds_integer_datatypes(tmp_path: Path) -> None:
    """Why sh:datatype xsd:positiveInteger is checked by value on Oxigraph: it keeps the type as xsd:integer."""
    assert folds_integers(create_store(f"oxigraph:{tmp_path / 'store'}"))
    assert not folds_integers(create_store("memory"))


def test_virtuoso_can_neither_bind_conditions_nor_hash(sparql_server: Store, tmp_path: Path) -> None:
    """Why the SPARQL server (Virtuoso 7.2) gets a query per value constraint and hashes in Python: its
    compiler fails on an EXISTS bound to a variable, and its SHA256(STR("\u2013")) is not the SHA-256 of the
    dash's UTF-8; Oxigraph and rdflib do both."""
    assert not binds_conditions(sparql_server) and not hashes_text(sparql_server)
    for store in (create_store(f"oxigraph:{tmp_path / 'store'}"), create_store("memory")):
        assert binds_conditions(store) and hashes_text(store)


UNTRANSLATABLE = """
@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <https://example.org/> .
ex:EqualsShape a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:a ; sh:equals ex:b ; sh:message "a equals b"@en ] .
ex:CountShape a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:a ; sh:minCount 2 ; sh:message "two a"@en ] .
"""
DATA = """
@prefix ex: <https://example.org/> .
ex:one a ex:Thing ; ex:a 1 ; ex:b 2 .
ex:two a ex:Thing ; ex:a 3, 4 ; ex:b 3, 4 .
"""


def test_an_untranslatable_shape_falls_back_to_pyshacl(tmp_path: Path) -> None:
    shapes_graph = Graph().parse(data=UNTRANSLATABLE, format="turtle")
    dataset = new_dataset()
    dataset.graph(STATEMENTS_GRAPH).parse(data=DATA, format="turtle")
    reference = Counter(map(row, shacl_findings(dataset, shapes_graph)))
    ours, fallback = in_store(dataset, create_store(f"oxigraph:{tmp_path / 'store'}"), shapes_graph)
    assert fallback == ["<https://example.org/EqualsShape>"]
    assert {r[3] for r in reference} == {"a equals b", "two a"}
    assert_same(reference, ours)


GROUPED = """
@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <https://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:ThingShape a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:code ; sh:datatype xsd:string ; sh:pattern "^[A-Z]+$" ; sh:minLength 2 ;
            sh:message "codes"@en ] ,
        [ sh:path ex:part ; sh:minCount 2 ; sh:maxCount 3 ; sh:message "parts"@en ] ,
        [ sh:path ex:part ; sh:qualifiedValueShape [ sh:class ex:Big ] ; sh:qualifiedMaxCount 1 ;
            sh:message "big parts"@en ] ,
        [ sh:path ex:tag ; sh:maxCount 1 ; sh:message "tags"@en ] .
"""
GROUPED_DATA = """
@prefix ex: <https://example.org/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:a a ex:Thing ; ex:code "AB", "x", 7 ; ex:part ex:p1 ; ex:tag 1, 2 .
ex:b a ex:Thing ; ex:code "CD" ; ex:part ex:p1, ex:p2, ex:p3, ex:p4 .
ex:c a ex:Thing ; ex:part ex:p1, ex:p2 .
ex:p1 a ex:Big . ex:p2 a ex:Big .
ex:loose ex:code "x" ; ex:tag 1, 2 ; ex:part ex:p1, ex:p2 .
"""


def test_grouped_constraints_give_each_finding(validating_store: Store) -> None:
    """Several constraints on one path share a query (values: one; counts: minimum with maximum grouped, a
    maximum alone counted before the join, a qualified maximum), and still give one finding per constraint
    and value that pyshacl gives: "x" breaks the pattern and the minimum length, 7 all three value
    constraints; ex:a has too few parts and two tags, ex:b too many parts and too many big ones, ex:c too many
    big ones; ex:loose is no focus node."""
    shapes_graph = Graph().parse(data=GROUPED, format="turtle")
    dataset = new_dataset()
    dataset.graph(STATEMENTS_GRAPH).parse(data=GROUPED_DATA, format="turtle")
    work = plan(shapes_graph, [STATEMENTS_GRAPH], StoreFacts({}, folds_integers=True))
    assert sorted(len(check.outcomes) for check in work.checks) == [1, 1, 2, 3]
    # where a store cannot bind conditions: a query per value constraint, and the big parts counted apart
    apart = plan(shapes_graph, [STATEMENTS_GRAPH], StoreFacts({}, folds_integers=True, binds_conditions=False))
    assert sorted(len(check.outcomes) for check in apart.checks) == [1, 1, 1, 1, 1, 2]
    reference = Counter(map(row, shacl_findings(dataset, shapes_graph)))
    assert sum(reference.values()) == 2 + 3 + 1 + 1 + 2 + 1
    ours, fallback = in_store(dataset, validating_store, shapes_graph)
    assert fallback == []
    assert_same(reference, ours)
    ours_in_memory, _ = in_store(dataset, create_store("memory"), shapes_graph)
    assert_same(reference, ours_in_memory)


def test_queries_run_on_threads_on_oxigraph_only(tmp_path: Path) -> None:
    """in_parallel keeps the order of the jobs; on Oxigraph two run at once (each waits for the other at a
    barrier, which would time out one by one), elsewhere one by one (a barrier of one never waits)."""
    oxigraph = create_store(f"oxigraph:{tmp_path / 'store'}")
    together = threading.Barrier(2, timeout=10)
    assert sorted(in_parallel(oxigraph, [together.wait, together.wait])) == [0, 1]
    assert in_parallel(oxigraph, [partial(str, n) for n in range(5)]) == list("01234")
    alone = threading.Barrier(1)
    assert in_parallel(create_store("memory"), [alone.wait, lambda: "last"]) == [0, "last"]


PREFIXES_TTL = """
@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <https://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""


def compared(shapes_ttl: str, data_ttl: str, store: Store) -> tuple[Counter, Counter, list[str]]:
    """pyshacl's findings and ours in `store` (as rows), and the shapes we left to pyshacl."""
    shapes_graph = Graph().parse(data=PREFIXES_TTL + shapes_ttl, format="turtle")
    dataset = new_dataset()
    dataset.graph(STATEMENTS_GRAPH).parse(data=PREFIXES_TTL + data_ttl, format="turtle")
    reference = Counter(map(row, shacl_findings(dataset, shapes_graph)))
    ours, fallback = in_store(dataset, store, shapes_graph)
    return reference, ours, fallback


EX = "https://example.org/"


@pytest.fixture(params=["oxigraph", "memory"])
def local_store(request: pytest.FixtureRequest) -> Store:
    return create_store(request.param)


def test_a_targeted_property_shape_checks_its_path(local_store: Store) -> None:
    """A named sh:PropertyShape with a target checks the values along its path, not the focus node: ex:x's
    age 5 is an integer, its height "tall" is not."""
    shapes_ttl = """
    ex:Age a sh:PropertyShape ; sh:targetClass ex:T ; sh:path ex:age ; sh:datatype xsd:integer ;
        sh:message "age"@en .
    ex:Height a sh:PropertyShape ; sh:targetClass ex:T ; sh:path ex:height ; sh:datatype xsd:integer ;
        sh:message "height"@en ."""
    data = 'ex:x a ex:T ; ex:age 5 ; ex:height "tall" .'
    reference, ours, fallback = compared(shapes_ttl, data, local_store)
    assert [(str(r[0]), r[1], r[3], str(r[5])) for r in reference] == [(EX + "x", f"<{EX}height>", "height", "tall")]
    assert fallback == []
    assert_same(reference, ours)


def test_bounds_and_language_ranges_at_their_edges(local_store: Store) -> None:
    """The comparisons at their boundaries, where an off-by-one translation would differ from pyshacl (none of the
    project's shapes uses these): a value equal to sh:maxInclusive or sh:minInclusive meets it, one equal to
    sh:maxExclusive or sh:minExclusive does not; sh:lessThan is strict (3 is not less than 3); sh:languageIn
    matches a language range, so "en-GB" is in ("en") and "fr" is not."""
    shapes_ttl = """
    ex:S a sh:NodeShape ; sh:targetClass ex:T ;
        sh:property [ sh:path ex:n ; sh:maxInclusive 5 ; sh:message "maxInclusive"@en ] ,
            [ sh:path ex:n ; sh:minInclusive 5 ; sh:message "minInclusive"@en ] ,
            [ sh:path ex:n ; sh:maxExclusive 5 ; sh:message "maxExclusive"@en ] ,
            [ sh:path ex:n ; sh:minExclusive 5 ; sh:message "minExclusive"@en ] ,
            [ sh:path ex:start ; sh:lessThan ex:end ; sh:message "lessThan"@en ] ,
            [ sh:path ex:word ; sh:languageIn ( "en" ) ; sh:message "languageIn"@en ] ."""
    data = 'ex:x a ex:T ; ex:n 5 ; ex:start 3 ; ex:end 3 ; ex:word "colour"@en-GB , "couleur"@fr .'
    reference, ours, fallback = compared(shapes_ttl, data, local_store)
    assert sorted((r[3], str(r[5])) for r in reference) == [
        ("languageIn", "couleur"), ("lessThan", "3"), ("maxExclusive", "5"), ("minExclusive", "5"),
    ]
    assert fallback == []
    assert_same(reference, ours)


def test_a_property_shape_of_a_property_shape_goes_to_pyshacl(local_store: Store) -> None:
    """sh:property on a property shape applies to its value nodes (ex:a1, the address, lacks a city): not
    translated, so pyshacl validates that shape rather than the nested shape being ignored."""
    shapes_ttl = """
    ex:S a sh:NodeShape ; sh:targetClass ex:T ;
        sh:property [ sh:path ex:addr ; sh:property [ sh:path ex:city ; sh:minCount 1 ; sh:message "city"@en ] ] .
    ex:Other a sh:NodeShape ; sh:targetClass ex:T ; sh:or ( [ sh:path ex:addr ;
        sh:property [ sh:path ex:zip ; sh:minCount 1 ] ] ) ; sh:message "zip"@en ."""
    data = 'ex:x a ex:T ; ex:addr ex:a1 . ex:a1 ex:street "Main" .'
    reference, ours, fallback = compared(shapes_ttl, data, local_store)
    assert {(str(r[0]), r[3]) for r in reference} == {(EX + "a1", "city"), (EX + "x", "zip")}
    assert fallback == ["<https://example.org/Other>", "<https://example.org/S>"]
    assert_same(reference, ours)


def test_a_deactivated_nested_shape_holds(local_store: Store) -> None:
    """A deactivated shape, or property shape, reached through sh:node is met by every node (SHACL 2.1.5):
    ex:v meets ex:Off and ex:HalfOff, not ex:On (it has no ex:q)."""
    shapes_ttl = """
    ex:S a sh:NodeShape ; sh:targetClass ex:T ;
        sh:property [ sh:path ex:p ; sh:node ex:Off ; sh:message "off"@en ] ,
            [ sh:path ex:p ; sh:node ex:HalfOff ; sh:message "half off"@en ] ,
            [ sh:path ex:p ; sh:node ex:On ; sh:message "on"@en ] .
    ex:Off a sh:NodeShape ; sh:deactivated true ; sh:class ex:Never .
    ex:HalfOff a sh:NodeShape ; sh:property [ sh:path ex:q ; sh:minCount 1 ; sh:deactivated true ] .
    ex:On a sh:NodeShape ; sh:property [ sh:path ex:q ; sh:minCount 1 ] ."""
    reference, ours, fallback = compared(shapes_ttl, "ex:x a ex:T ; ex:p ex:v .", local_store)
    assert [(str(r[0]), r[3], str(r[5])) for r in reference] == [(EX + "x", "on", EX + "v")]
    assert fallback == []
    assert_same(reference, ours)


def test_the_fallback_validates_ordinary_shapes(local_store: Store) -> None:
    """pyshacl gets whatever a fallback shape refers to: a named property shape (ex:NameProp), the prefixes a
    SPARQL constraint declares (sh:prefixes ex:), and a recursive shape (ex:Node, which cannot be expanded into
    one condition). ex:x has no name, a different from b, a bad; ex:c1's child is a blank node."""
    shapes_ttl = """
    ex: a owl:Ontology ; sh:declare [ sh:prefix "ex" ; sh:namespace "https://example.org/"^^xsd:anyURI ] .
    ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:property ex:NameProp ;
        sh:property [ sh:path ex:a ; sh:equals ex:b ; sh:message "a equals b"@en ] ;
        sh:sparql [ sh:prefixes ex: ; sh:message "has bad"@en ; sh:select "SELECT $this WHERE { $this ex:bad ?x }" ] .
    ex:NameProp a sh:PropertyShape ; sh:path ex:name ; sh:minCount 1 ; sh:message "needs name"@en .
    ex:Tree a sh:NodeShape ; sh:targetClass ex:T ;
        sh:property [ sh:path ex:child ; sh:node ex:Node ; sh:message "tree"@en ] .
    ex:Node a sh:NodeShape ; sh:nodeKind sh:IRI ; sh:property [ sh:path ex:child ; sh:node ex:Node ] ."""
    data = "ex:x a ex:T ; ex:a 1 ; ex:b 2 ; ex:bad 1 ; ex:child ex:c1 . ex:c1 ex:child [ ] ."
    reference, ours, fallback = compared(shapes_ttl, data, local_store)
    assert sorted(r[3] for r in reference) == ["a equals b", "a equals b", "has bad", "needs name", "tree"]
    assert fallback == ["<https://example.org/S>", "<https://example.org/Tree>"]
    assert_same(reference, ours)


def test_a_shape_that_is_a_class_targets_its_instances(local_store: Store) -> None:
    """Implicit class targets (SHACL 2.1.3.1), of a shape typed rdfs:Class or owl:Class as pyshacl finds them:
    each of ex:p, ex:d lacks a name."""
    shapes_ttl = """
    ex:Person a sh:NodeShape, owl:Class ; sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:message "person"@en ] .
    ex:Dog a sh:NodeShape, rdfs:Class ; sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:message "dog"@en ] ."""
    reference, ours, fallback = compared(shapes_ttl, "ex:p a ex:Person . ex:d a ex:Dog .", local_store)
    assert {(str(r[0]), r[3]) for r in reference} == {(EX + "p", "person"), (EX + "d", "dog")}
    assert fallback == ["<https://example.org/Dog>", "<https://example.org/Person>"]
    assert_same(reference, ours)


def test_a_sparql_constraint_sees_this_bound(local_store: Store) -> None:
    """SHACL binds $this to each focus node before the query runs (5.3.1). A query testing for something
    missing (no label; fewer than two parts, counted in an OPTIONAL) finds nothing with $this unbound, so it goes
    to pyshacl; one that binds $this in a triple pattern runs once over the graph, each distinct row reported
    once (ex:y's two bad values give one row) and its sh:value the focus node, as pyshacl's."""
    shapes_ttl = """
    ex:Missing a sh:NodeShape ; sh:targetClass ex:T ;
        sh:sparql [ sh:message "no label"@en ;
            sh:select "SELECT $this WHERE { FILTER NOT EXISTS { $this <http://www.w3.org/2000/01/rdf-schema#label> ?l } }" ] ;
        sh:sparql [ sh:message "parts: {?n}"@en ; sh:select \"\"\"SELECT $this (COUNT(?p) AS ?n)
            WHERE { OPTIONAL { $this <https://example.org/part> ?p } } GROUP BY $this HAVING (COUNT(?p) < 2)\"\"\" ] .
    ex:Bad a sh:NodeShape ; sh:targetClass ex:T ;
        sh:sparql [ sh:message "bad"@en ; sh:select "SELECT $this WHERE { $this <https://example.org/bad> ?x }" ] ."""
    data = 'ex:x a ex:T . ex:y a ex:T ; rdfs:label "y" ; ex:part ex:a, ex:b ; ex:bad 1, 2 . ex:z ex:bad 3 .'
    reference, ours, fallback = compared(shapes_ttl, data, local_store)
    assert {(str(r[0]), r[3], str(r[5])) for r in reference} == {
        (EX + "x", "no label", EX + "x"), (EX + "x", "parts: 0", EX + "x"), (EX + "y", "bad", EX + "y")
    }
    assert sum(reference.values()) == 3
    assert fallback == ["<https://example.org/Missing>"]
    assert_same(reference, ours)


def test_an_operator_on_a_sequence_keeps_its_brackets(local_store: Store) -> None:
    """[sh:zeroOrMorePath (a b)] is (a/b)*, not a/b* (which reaches "lit2" by a, b, b), and [sh:inversePath
    (a b)] is ^(a/b), not ^a/b ((^a)/b): from ex:x, (a/b)* reaches ex:x and ex:z, and "lit" through ex:y's b; ^(a/b)
    reaches ex:w, an ex:Ok, where (^a)/b would reach ex:r, which is not one."""
    shapes_ttl = """
    ex:S a sh:NodeShape ; sh:targetClass ex:T ;
        sh:property [ sh:path [ sh:zeroOrMorePath ( ex:a ex:b ) ] ; sh:nodeKind sh:IRI ; sh:message "zom"@en ] ,
            [ sh:path [ sh:inversePath ( ex:a ex:b ) ] ; sh:class ex:Ok ; sh:message "inv"@en ] ."""
    data = """ex:x a ex:T ; ex:a ex:y . ex:y ex:b ex:z, "lit" . ex:z ex:b "lit2" .
    ex:w ex:a ex:v ; a ex:Ok . ex:v ex:b ex:x . ex:q ex:a ex:x ; ex:b ex:r ."""
    reference, ours, fallback = compared(shapes_ttl, data, local_store)
    zero_or_more = f"(<{EX}a>/<{EX}b>)*"
    assert [(str(r[0]), r[1], r[3], str(r[5])) for r in reference] == [(EX + "x", zero_or_more, "zom", "lit")]
    assert fallback == []
    assert_same(reference, ours)


def test_a_custom_constraint_component_goes_to_pyshacl(local_store: Store) -> None:
    """A parameter of the shapes graph's own constraint component (ex:maxChars) is a constraint, not an
    annotation: "abcdef" is longer than 3."""
    shapes_ttl = """
    ex:MaxChars a sh:ConstraintComponent ; sh:parameter [ sh:path ex:maxChars ] ;
        sh:validator [ a sh:SPARQLAskValidator ; sh:message "too long"@en ;
            sh:ask "ASK { FILTER (STRLEN(STR($value)) <= $maxChars) }" ] .
    ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:property [ sh:path ex:name ; ex:maxChars 3 ] ."""
    reference, ours, fallback = compared(shapes_ttl, 'ex:x a ex:T ; ex:name "abcdef", "abc" .', local_store)
    assert [(str(r[0]), r[3]) for r in reference] == [(EX + "x", "too long")]
    assert fallback == ["<https://example.org/S>"]
    assert_same(reference, ours)


def test_integer_datatypes_on_a_store_that_folds_them() -> None:
    """The documented difference (module docstring): Oxigraph keeps no integer-derived datatype, so there
    sh:datatype of one accepts any xsd:integer within its bounds, 5 for xsd:positiveInteger and
    "3"^^xsd:positiveInteger for xsd:integer; pyshacl (and rdflib's store) rejects both. -1 fails everywhere."""
    shapes_ttl = """
    ex:S a sh:NodeShape ; sh:targetClass ex:T ;
        sh:property [ sh:path ex:pi ; sh:datatype xsd:positiveInteger ; sh:message "positive"@en ] ,
            [ sh:path ex:i ; sh:datatype xsd:integer ; sh:message "integer"@en ] ."""
    data = 'ex:x a ex:T ; ex:pi 5, -1, "7"^^xsd:positiveInteger ; ex:i "3"^^xsd:positiveInteger .'
    reference, in_memory, _ = compared(shapes_ttl, data, create_store("memory"))
    assert {(r[3], str(r[5])) for r in reference} == {("positive", "5"), ("positive", "-1"), ("integer", "3")}
    assert_same(reference, in_memory)
    _, on_oxigraph, fallback = compared(shapes_ttl, data, create_store("oxigraph"))
    assert fallback == []
    assert {(r[3], str(r[5])) for r in on_oxigraph} == {("positive", "-1")}


def values_of(rows: Counter) -> set[tuple[str, str]]:
    """(message, the value's lexical form) of each finding."""
    return {(r[3], str(r[5])) for r in rows}


def test_sh_datatype_rejects_ill_formed_literals(local_store: Store) -> None:
    """A literal of the shape's datatype whose lexical form is not one of that type fails sh:datatype, as in
    pyshacl: "yesterday" is no xsd:dateTime, "abc" no xsd:double, "1.5" no xsd:integer, 300 is beyond an
    xsd:byte, "1,5" no xsd:decimal. Edge cases that are well-formed pass: -0, " 1" (spaces collapse), 1e3,
    "1." and -128."""
    shapes_ttl = """
    ex:S a sh:NodeShape ; sh:targetClass ex:T ;
        sh:property [ sh:path ex:dt ; sh:datatype xsd:dateTime ; sh:message "dateTime"@en ] ,
            [ sh:path ex:dbl ; sh:datatype xsd:double ; sh:message "double"@en ] ,
            [ sh:path ex:i ; sh:datatype xsd:integer ; sh:message "integer"@en ] ,
            [ sh:path ex:b ; sh:datatype xsd:byte ; sh:message "byte"@en ] ,
            [ sh:path ex:dec ; sh:datatype xsd:decimal ; sh:message "decimal"@en ] ."""
    data = """ex:x a ex:T ; ex:dt "yesterday"^^xsd:dateTime, "2020-01-01T00:00:00"^^xsd:dateTime ;
        ex:dbl "abc"^^xsd:double, "1e3"^^xsd:double ; ex:i "-0"^^xsd:integer, " 1"^^xsd:integer, "1.5"^^xsd:integer ;
        ex:b "300"^^xsd:byte, "-128"^^xsd:byte ; ex:dec "1."^^xsd:decimal, "1,5"^^xsd:decimal ."""
    expected = {("dateTime", "yesterday"), ("double", "abc"), ("integer", "1.5"), ("byte", "300"), ("decimal", "1,5")}
    reference, ours, fallback = compared(shapes_ttl, data, local_store)
    assert values_of(reference) == expected
    assert fallback == []
    assert values_of(ours) == expected
    # each row alike but the value's datatype: Oxigraph keeps "300"^^xsd:byte as an xsd:integer
    assert Counter(r[:5] for r in ours) == Counter(r[:5] for r in reference)


def test_sh_datatype_of_a_date(local_store: Store) -> None:
    """xsd:date needs the calendar (2020 is a leap year, 2021 not; there is no month 13), which no regex states:
    Oxigraph's cast decides it; rdflib's SPARQL has no xsd:date cast, so on the memory store pyshacl validates
    the shape. Either way the findings are pyshacl's."""
    shapes_ttl = """
    ex:S a sh:NodeShape ; sh:targetClass ex:T ;
        sh:property [ sh:path ex:d ; sh:datatype xsd:date ; sh:message "date"@en ] ."""
    data = 'ex:x a ex:T ; ex:d "2020-02-29"^^xsd:date, "2021-02-29"^^xsd:date, "2020-13-45"^^xsd:date .'
    reference, ours, fallback = compared(shapes_ttl, data, local_store)
    assert values_of(reference) == {("date", "2021-02-29"), ("date", "2020-13-45")}
    assert fallback == ([] if local_store.spec == "oxigraph" else ["<https://example.org/S>"])
    assert_same(reference, ours)


def test_a_datatype_without_an_exact_check_goes_to_pyshacl(local_store: Store) -> None:
    """xsd:duration has neither an exact regex nor a cast on these stores (Oxigraph has one, not probed):
    pyshacl validates the shape, and finds "1Y" ill-formed."""
    shapes_ttl = """
    ex:S a sh:NodeShape ; sh:targetClass ex:T ;
        sh:property [ sh:path ex:p ; sh:datatype xsd:duration ; sh:message "duration"@en ] ."""
    reference, ours, fallback = compared(shapes_ttl, 'ex:x a ex:T ; ex:p "P1Y"^^xsd:duration, "1Y"^^xsd:duration .', local_store)
    assert values_of(reference) == {("duration", "1Y")}
    assert fallback == ["<https://example.org/S>"]
    assert_same(reference, ours)


def test_sh_datatype_differences_from_pyshacl(local_store: Store) -> None:
    """The documented differences (module docstring), where rdflib's parsers, which pyshacl relies on, read XSD
    otherwise: pyshacl checks no xsd:gYear (accepts "12") and takes Python's decimals (accepts "NaN"), which
    XSD and the SPARQL validator reject; rdflib rewrites "TRUE"^^xsd:boolean to "true" as it parses, so a store
    filled from rdflib accepts it, where pyshacl rejects it; xsd:dateTime hour 24 is XSD (Oxigraph accepts it),
    not Python (pyshacl, and rdflib's cast on the memory store, reject it)."""
    shapes_ttl = """
    ex:S a sh:NodeShape ; sh:targetClass ex:T ;
        sh:property [ sh:path ex:y ; sh:datatype xsd:gYear ; sh:message "gYear"@en ] ,
            [ sh:path ex:dec ; sh:datatype xsd:decimal ; sh:message "decimal"@en ] ,
            [ sh:path ex:b ; sh:datatype xsd:boolean ; sh:message "boolean"@en ] ,
            [ sh:path ex:dt ; sh:datatype xsd:dateTime ; sh:message "dateTime"@en ] ."""
    data = """ex:x a ex:T ; ex:y "12"^^xsd:gYear, "2020"^^xsd:gYear ; ex:dec "NaN"^^xsd:decimal ;
        ex:b "TRUE"^^xsd:boolean, "0"^^xsd:boolean ; ex:dt "2020-01-01T24:00:00"^^xsd:dateTime ."""
    reference, ours, fallback = compared(shapes_ttl, data, local_store)
    assert values_of(reference) == {("boolean", "true"), ("dateTime", "2020-01-01T24:00:00")}
    assert fallback == []
    hour_24 = {("dateTime", "2020-01-01T24:00:00")} if local_store.spec == "memory" else set()
    assert values_of(ours) == {("gYear", "12"), ("decimal", "NaN")} | hour_24


def test_oxigraph_reading_turtle_keeps_ill_formed_literals(tmp_path: Path) -> None:
    """Oxigraph parsing the Turtle itself (the in-store build) keeps "TRUE"^^xsd:boolean as written, so there
    sh:datatype rejects it, as pyshacl; it keeps " 1"^^xsd:integer ill-typed too, and rejects it where pyshacl
    (rdflib strips the spaces) accepts it: the documented difference. "01" and "1" are well-formed."""
    shapes_graph = Graph().parse(data=PREFIXES_TTL + """
    ex:S a sh:NodeShape ; sh:targetClass ex:T ;
        sh:property [ sh:path ex:i ; sh:datatype xsd:integer ; sh:message "integer"@en ] ,
            [ sh:path ex:b ; sh:datatype xsd:boolean ; sh:message "boolean"@en ] .""", format="turtle")
    data = tmp_path / "data.ttl"
    data.write_text(PREFIXES_TTL + 'ex:x a ex:T ; ex:i " 1"^^xsd:integer, "01"^^xsd:integer ; ex:b "TRUE"^^xsd:boolean, "1"^^xsd:boolean .')
    dataset = new_dataset()
    dataset.graph(STATEMENTS_GRAPH).parse(data, format="turtle")  # (kg.load's parse_turtle refuses ill-typed literals)
    assert {f.message for f in shacl_findings(dataset, shapes_graph)} == {"boolean"}
    store = create_store("oxigraph")
    store.add_turtle(data, STATEMENTS_GRAPH)
    assert sorted(f.message for f in validate_in_store(store, shapes_graph).findings) == ["boolean", "integer"]


def test_a_target_node_absent_from_the_data_is_its_own_value(local_store: Store) -> None:
    """ex:ghost, a target node no triple mentions, is its own value along ex:broader* (length zero), so it
    meets sh:minCount 1 and fails sh:class ex:Concept (pyshacl); a query matching `?this ex:broader* ?value`
    over the data never sees it, and reported minCount instead: such a shape goes to pyshacl. ex:x, a
    concept, is its own value and passes both."""
    shapes_ttl = """
    ex:S a sh:NodeShape ; sh:targetNode ex:ghost, ex:x ;
        sh:property [ sh:path [ sh:zeroOrMorePath ex:broader ] ; sh:minCount 1 ; sh:class ex:Concept ] ."""
    reference, ours, fallback = compared(shapes_ttl, "ex:x a ex:Concept .", local_store)
    assert [(str(r[0]), r[3], str(r[5])) for r in reference] == [
        (EX + "ghost", "Value does not have class ex:Concept", EX + "ghost")
    ]
    assert fallback == ["<https://example.org/S>"]
    assert_same(reference, ours)


def test_a_shape_without_a_message_names_the_component(local_store: Store) -> None:
    """The documented difference (module docstring): without sh:message, a finding's message is the component
    that fired ("violates sh:minCount"), where pyshacl words its own; every other part is pyshacl's."""
    shapes_ttl = """
    ex:S a sh:NodeShape ; sh:targetClass ex:T ;
        sh:property [ sh:path ex:p ; sh:minCount 1 ] , [ sh:path ex:q ; sh:datatype xsd:string ] ."""
    reference, ours, fallback = compared(shapes_ttl, "ex:x a ex:T ; ex:q 1 .", local_store)
    assert fallback == []
    assert sorted(r[3] for r in ours) == ["violates sh:datatype", "violates sh:minCount"]
    assert "violates sh:minCount" not in {r[3] for r in reference}
    assert_same(Counter(r[:3] + r[4:] for r in reference), Counter(r[:3] + r[4:] for r in ours))
