"""The ontology's own metadata (ontology/defence-kg.ttl's header) against what it describes: its version is
kg's, its preferred prefix and namespace are the ones kg.namespaces uses, its dcterms:modified is the date of
the last commit that changed the file."""

from __future__ import annotations

import datetime
import shutil
import subprocess

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, XSD, Namespace

import kg
from kg.namespaces import BASE, KG, PREFIXES, PROJECT_ROOT

ONTOLOGY_FILE = PROJECT_ROOT / "ontology" / "defence-kg.ttl"
ONTOLOGY = URIRef(BASE + "ontology")
VANN = Namespace("http://purl.org/vocab/vann/")


@pytest.fixture(scope="module")
def header() -> Graph:
    return Graph().parse(ONTOLOGY_FILE)


def test_the_ontology_version_is_kgs(header: Graph) -> None:
    assert header.value(ONTOLOGY, OWL.versionInfo) == Literal(kg.__version__)
    assert header.value(ONTOLOGY, OWL.versionIRI) == URIRef(f"{BASE}ontology/{kg.__version__}")


def test_the_preferred_prefix_and_namespace_are_the_ones_in_use(header: Graph) -> None:
    prefix = header.value(ONTOLOGY, VANN.preferredNamespacePrefix)
    assert prefix == Literal("kg") and PREFIXES[str(prefix)] == KG
    assert header.value(ONTOLOGY, VANN.preferredNamespaceUri) == Literal(str(KG))


def test_the_publisher_is_the_project(header: Graph) -> None:
    assert header.value(ONTOLOGY, DCTERMS.publisher) == Literal("defence-kg project")  # the project, not the Government of Canada


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(PROJECT_ROOT), *args], capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("git") is None or not (PROJECT_ROOT / ".git").exists(), reason="not a git checkout")
def test_modified_is_the_date_of_the_last_change(header: Graph) -> None:
    """dcterms:modified is the commit date of the last commit that changed the file; while the file has changes
    not committed yet, today's date (UTC, as the commit that records them will most likely have)."""
    path = str(ONTOLOGY_FILE.relative_to(PROJECT_ROOT))
    if _git("status", "--porcelain", "--", path).strip():
        expected = datetime.datetime.now(datetime.UTC).date().isoformat()
    else:
        expected = _git("log", "-1", "--format=%cs", "--", path).strip()
    assert header.value(ONTOLOGY, DCTERMS.modified) == Literal(expected, datatype=XSD.date)


# The only axioms stated on other vocabularies' terms: those of ORG, PROV-O and SKOS the closure relies on, restated
# as their specifications give them, and one alignment of the project's own (an organisation is a PROV agent). An
# axiom of the project's own on another vocabulary's term changes that term's meaning for anyone who merges this
# ontology (as a membership chain on org:memberOf did: ORG states none; kg:memberOf carries it).
ON_OTHER_VOCABULARIES = {
    ("skos:broader", "rdfs:subPropertyOf", "skos:broaderTransitive"),
    ("skos:broaderTransitive", "rdf:type", "owl:TransitiveProperty"),
    ("org:FormalOrganization", "rdfs:subClassOf", "org:Organization"),
    ("org:OrganizationalUnit", "rdfs:subClassOf", "org:Organization"),
    ("org:hasMembership", "owl:inverseOf", "org:member"),
    ("org:subOrganizationOf", "rdfs:subPropertyOf", "org:transitiveSubOrganizationOf"),
    ("org:transitiveSubOrganizationOf", "rdf:type", "owl:TransitiveProperty"),
    ("prov:Activity", "owl:disjointWith", "prov:Entity"),
    ("org:Organization", "rdfs:subClassOf", "prov:Agent"),  # the project's alignment
}


def test_the_axioms_on_other_vocabularies_terms_are_the_restated_ones() -> None:
    tbox = Graph().parse(PROJECT_ROOT / "ontology" / "defence-kg.ttl")
    stated = {
        tuple(term.n3(tbox.namespace_manager) for term in triple)
        for triple in tbox
        if isinstance(triple[0], URIRef) and not str(triple[0]).startswith(str(KG)) and triple[0] != URIRef(BASE + "ontology")
    }
    assert stated == ON_OTHER_VOCABULARIES


def test_linked_activities_stay_consistent_with_skos() -> None:
    """SKOS gives skos:exactMatch (a skos:mappingRelation) the domain skos:Concept, so every linked entity is a
    concept there: no class of linked entities may be disjoint with skos:Concept (kg:Activity was)."""
    tbox = Graph().parse(PROJECT_ROOT / "ontology" / "defence-kg.ttl")
    concept = URIRef("http://www.w3.org/2004/02/skos/core#Concept")
    assert not set(tbox.subjects(OWL.disjointWith, concept)) | set(tbox.objects(concept, OWL.disjointWith))
