"""The project's IRIs, defined once: every module and test imports them from here."""

from pathlib import Path

from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, TIME, VOID, XSD, ORG  # noqa: F401 - VOID for kg.serve

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
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")  # SPARQL 1.1 Service Description
W3C_FORMATS = Namespace("http://www.w3.org/ns/formats/")  # the W3C's IRIs for media formats
WD = Namespace("http://www.wikidata.org/entity/")  # Wikidata items (the SSSOM table's object_id)
WDT = Namespace("http://www.wikidata.org/prop/direct/")  # Wikidata truthy statements
SSSOM = Namespace("https://w3id.org/sssom/")
SEMAPV = Namespace("https://w3id.org/semapv/vocab/")

ONTOLOGY_GRAPH = GRAPH.ontology
STATEMENTS_GRAPH = GRAPH.statements
SOURCES_GRAPH = GRAPH.sources
INFERRED_GRAPH = GRAPH.inferred
LINKS_GRAPH = GRAPH.links  # the SSSOM mappings to Wikidata, with their evidence
PYCOUNTRY_GRAPH = GRAPH["offline/pycountry"]  # ISO 3166-1 facts from the pycountry package
WIKIDATA_GRAPH = GRAPH["external/wikidata"]  # the enrichment cache fetched by `kg enrich`
# the graphs beside the document's: links and outside facts about the same things (never reasoned over)
LINKED_GRAPHS = (LINKS_GRAPH, PYCOUNTRY_GRAPH, WIKIDATA_GRAPH)

WIKIDATA_ENDPOINT = "https://query.wikidata.org/sparql"  # the Wikidata Query Service
BUILD_GRAPH = GRAPH.build  # in a persistent store, outside the dataset: what inputs it was built from
# kg.rules' working graphs while it reasons (dropped after): round N's new triples are also in RULE_ROUND_GRAPH + N
RULE_ROUND_GRAPH = GRAPH["rules/round-"]

PREFIXES = {
    "kg": KG,
    "id": ID,
    "claim": CLAIM,
    "shape": SHAPE,
    "oa": OA,
    "schema": SCHEMA,
    "sh": SH,
    "geo": GEO,
    "wd": WD,
    "wdt": WDT,
    "sssom": SSSOM,
    "semapv": SEMAPV,
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
RULES_DIR = PROJECT_ROOT / "ontology" / "rules"  # the OWL RL rules as SPARQL (kg.rules)
