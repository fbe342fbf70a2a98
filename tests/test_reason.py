"""Stage 2, reason: what the closure adds, what the junk filter drops, inconsistency, and that speed-ups are exact."""

from __future__ import annotations

from pathlib import Path

import owlrl
import pytest
from conftest import PIPELINE
from rdflib import BNode, Graph, Literal, term
from rdflib.namespace import OWL, RDF, RDFS, XSD

from kg.errors import InconsistencyError
from kg.build import load_dataset
from kg.load import Project, merged, new_dataset, parse_turtle
from kg.namespaces import CLAIM, ID, INFERRED_GRAPH, KG, ONTOLOGY_GRAPH, PROV, STATEMENTS_GRAPH
from kg.reason import ERRNS, add_inferred, closure, infer, is_junk


def _with_statements(project: Project, statements: Path) -> object:
    """The fixture ontology with other statements."""
    dataset = new_dataset()
    parse_turtle(project.ontology, dataset.graph(ONTOLOGY_GRAPH))
    parse_turtle(statements, dataset.graph(STATEMENTS_GRAPH))
    return dataset


def test_inferred_graph_holds_the_entailments(project: Project) -> None:
    inferred = infer(load_dataset(project))
    expected = {
        (ID.Canada, RDF.type, KG.Country),  # rdfs:domain of kg:memberOf
        (ID.Canada, RDF.type, KG.Agent),  # then rdfs:subClassOf
        (ID.NATO, RDF.type, KG.Organisation),  # rdfs:range of kg:memberOf
        (CLAIM.C01, KG.supports, ID.Canada),  # owl:inverseOf
        (ID.Canada, PROV.wasDerivedFrom, CLAIM.C01),  # rdfs:subPropertyOf
        (ID.UnitedStates, KG.partner, ID.Canada),  # owl:SymmetricProperty
    }
    assert expected <= set(inferred)


def test_inferred_graph_is_closure_minus_asserted_minus_junk(project: Project) -> None:
    dataset = load_dataset(project)
    asserted = merged(dataset, ONTOLOGY_GRAPH, STATEMENTS_GRAPH)
    inferred = infer(dataset)
    assert not set(inferred) & set(asserted)
    assert not [t for t in inferred if is_junk(t)]
    assert set(inferred) == {t for t in closure(asserted) if t not in asserted and not is_junk(t)}


JUNK = [
    (Literal("1949", datatype=XSD.gYear), RDF.type, XSD.gYear),
    (OWL.Thing, RDF.type, OWL.Class),
    (XSD.string, RDF.type, RDFS.Datatype),
    (XSD.gYear, OWL.disjointWith, XSD.string),
    (RDFS.label, RDF.type, OWL.AnnotationProperty),
    (OWL.Nothing, RDFS.subClassOf, KG.Claim),
    (ID.Canada, OWL.sameAs, ID.Canada),
    (KG.Claim, OWL.equivalentClass, KG.Claim),
    (KG.Claim, RDFS.subClassOf, KG.Claim),
    (KG.supports, RDFS.subPropertyOf, KG.supports),
    (ID.Canada, RDF.type, OWL.Thing),
    (ID.Canada, RDF.type, RDFS.Resource),
    (KG.Claim, RDFS.subClassOf, OWL.Thing),
    (KG.memberOf, RDFS.domain, OWL.Thing),
    (KG.memberOf, RDFS.range, OWL.Thing),
    (ID.Canada, BNode(), ID.NATO),
]
KEPT = [
    (ID.Canada, RDF.type, KG.Country),
    (ID.Canada, OWL.sameAs, ID.CanadaAlias),
    (KG.Country, RDFS.subClassOf, KG.Agent),
    (KG.memberOf, RDFS.domain, KG.Agent),
    (BNode(), RDF.type, KG.Claim),
    (ID.Canada, KG.since, Literal("1949", datatype=XSD.gYear)),
]


@pytest.mark.parametrize("triple", JUNK, ids=lambda t: " ".join(str(x).rsplit("/", 1)[-1] for x in t))
def test_junk_is_dropped(triple: tuple) -> None:
    assert is_junk(triple)


@pytest.mark.parametrize("triple", KEPT, ids=lambda t: " ".join(str(x).rsplit("/", 1)[-1] for x in t))
def test_domain_triples_are_kept(triple: tuple) -> None:
    assert not is_junk(triple)


def test_disjoint_classes_sharing_a_node_are_inconsistent(project: Project) -> None:
    dataset = _with_statements(project, PIPELINE / "inconsistent-statements.ttl")
    with pytest.raises(InconsistencyError) as caught:
        infer(dataset)
    message = str(caught.value)
    assert "id:NATO" in message and "kg:Country" in message and "kg:Organisation" in message


def test_a_member_of_nothing_is_inconsistent(project: Project, tmp_path: Path) -> None:
    statements = tmp_path / "nothing.ttl"
    statements.write_text(
        "<https://w3id.org/defence-kg/id/Ghost> a <http://www.w3.org/2002/07/owl#Nothing> .\n",
        encoding="utf-8",
    )
    with pytest.raises(InconsistencyError, match=r"id:Ghost .*Nothing"):
        infer(_with_statements(project, statements))


def _stock_closure(asserted: Graph) -> set:
    """owlrl as documented, no speed-ups: the reference our closure must equal."""
    graph = Graph()
    graph += asserted
    conversions = dict(term._toPythonMapping)
    try:
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    finally:  # stock owlrl leaves its lexical conversions in rdflib for later tests (its gYear refuses "2014Z")
        term._toPythonMapping.clear()
        term._toPythonMapping.update(conversions)
    return set(graph)


@pytest.mark.parametrize("which", ["fixture", "project"])
def test_speed_ups_do_not_change_the_closure(which: str, project: Project) -> None:
    dataset = load_dataset(project if which == "fixture" else Project())
    asserted = merged(dataset, ONTOLOGY_GRAPH, STATEMENTS_GRAPH)
    ours = set(closure(asserted))
    reference = _stock_closure(asserted)
    reflexive_same_as = {t for t in reference if t[1] == OWL.sameAs and t[0] == t[2]}
    assert not [t for t in reference | ours if str(t[1]).startswith(ERRNS)]  # both consistent
    assert ours == reference - reflexive_same_as


def test_owlrl_vocabulary_is_restored_after_the_closure(project: Project) -> None:
    import owlrl.OWLRL as rules

    before = (rules.OWL, rules.RDF, rules.RDFS)
    closure(merged(load_dataset(project), ONTOLOGY_GRAPH, STATEMENTS_GRAPH))
    assert (rules.OWL, rules.RDF, rules.RDFS) == before


def test_add_inferred_replaces_the_inferred_graph(project: Project) -> None:
    dataset = load_dataset(project)
    dataset.graph(INFERRED_GRAPH).add((ID.Stale, RDF.type, KG.Claim))
    add_inferred(dataset, infer(dataset))
    assert (ID.Stale, RDF.type, KG.Claim) not in dataset.graph(INFERRED_GRAPH)
    assert (ID.Canada, RDF.type, KG.Country) in dataset.graph(INFERRED_GRAPH)
