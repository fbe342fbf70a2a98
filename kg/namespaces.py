"""The project's IRIs, defined once: every module and test imports them from here."""

from pathlib import Path

from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, TIME, XSD, ORG

BASE = "https://w3id.org/defence-kg/"

KG = Namespace(BASE + "ontology#")  # the TBox: classes and properties
ID = Namespace(BASE + "id/")  # real-world entities, activities, commitments
CLAIM = Namespace(BASE + "id/claim/")  # one node per atomic claim C01..C52
GRAPH = Namespace(BASE + "graph/")  # named graphs of the dataset
SHAPE = Namespace(BASE + "shapes#")  # SHACL shapes

OA = Namespace("http://www.w3.org/ns/oa#")
SCHEMA = Namespace("https://schema.org/")
SH = Namespace("http://www.w3.org/ns/shacl#")
GEO = Namespace("http://www.opengis.net/ont/geosparql#")

ONTOLOGY_GRAPH = GRAPH.ontology
STATEMENTS_GRAPH = GRAPH.statements
SOURCES_GRAPH = GRAPH.sources
INFERRED_GRAPH = GRAPH.inferred
BUILD_GRAPH = GRAPH.build  # in a persistent store, outside the dataset: what inputs it was built from

PREFIXES = {
    "kg": KG,
    "id": ID,
    "claim": CLAIM,
    "shape": SHAPE,
    "oa": OA,
    "schema": SCHEMA,
    "sh": SH,
    "geo": GEO,
    "dcterms": DCTERMS,
    "owl": OWL,
    "prov": PROV,
    "rdf": RDF,
    "rdfs": RDFS,
    "skos": SKOS,
    "time": TIME,
    "xsd": XSD,
    "org": ORG,
}

PROJECT_ROOT = Path(__file__).resolve().parent.parent
