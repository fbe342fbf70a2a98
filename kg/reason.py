"""Stage 2, reason: the OWL 2 RL closure of ontology + statements, kept as the triples it adds (the inferred graph).

owlrl runs on a copy of the asserted graphs; what it adds, minus what was asserted and minus junk (see
`is_junk`), becomes INFERRED_GRAPH. Speed, on the project's 2.1 k asserted triples: 0.12 s, against 0.73 s
for stock OWLRL_Semantics and 5.1 s with the RDFS closure and axiomatic triples. How: plain OWLRL_Semantics
(no RDFS closure, whose literal step compares every literal with every other), no axiomatic or datatype-axiom
triples, rdflib's own lexical conversions; a subclass that does not store reflexive owl:sameAs (rule eq-ref:
one per resource, each then re-deriving every triple of its subject); a context-free store; and memoised
OWL/RDF/RDFS attribute look-ups (rdflib's DefinedNamespace makes each `OWL.sameAs` in owlrl's rules cost
microseconds, millions of times). test_reason checks that the result equals stock owlrl's, less `x owl:sameAs x`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD
from rdflib.term import Node

from kg.errors import InconsistencyError
from kg.load import curie, merged
from kg.namespaces import INFERRED_GRAPH, ONTOLOGY_GRAPH, STATEMENTS_GRAPH

# owlrl writes each inconsistency as `[] a err:ErrorMessage ; err:error "message"` (owlrl.Namespaces.ERRNS).
ERRNS = "http://www.daml.org/2002/03/agents/agent-ont#"
# The junk, defined once: `is_junk` reads it here, kg.rules turns it into the SPARQL that drops the same triples.
VOCABULARY_NAMESPACES = tuple(str(ns) for ns in (RDF, RDFS, OWL, XSD)) + (ERRNS,)
REFLEXIVE_PREDICATES = (OWL.sameAs, OWL.equivalentClass, OWL.equivalentProperty, RDFS.subClassOf, RDFS.subPropertyOf)
TOP_CLASSES = (OWL.Thing, RDFS.Resource)
TOP_PREDICATES = (RDF.type, RDFS.subClassOf, RDFS.domain, RDFS.range)
_IRI = re.compile(r"https?://[^\s,;()'\"<>]+")


def is_vocabulary(iri: str) -> bool:
    """True for an IRI of the RDF, RDFS, OWL or XSD namespaces, or owlrl's error reports: a junk subject."""
    return iri.startswith(VOCABULARY_NAMESPACES)


def is_junk(triple: tuple[Node, Node, Node]) -> bool:
    """True for closure triples that say nothing about the domain and are dropped from the inferred graph.

    - a literal subject (owlrl types every literal: `"1949"^^xsd:gYear a xsd:gYear`);
    - a subject in the RDF, RDFS, OWL or XSD namespaces (axiomatic: `owl:Thing a owl:Class`,
      `xsd:string a rdfs:Datatype`, `rdfs:label a owl:AnnotationProperty`, `owl:Nothing rdfs:subClassOf x`)
      or owlrl's error-report namespace;
    - reflexive owl:sameAs, owl:equivalentClass/Property, rdfs:subClassOf/subPropertyOf (`x owl:sameAs x`);
    - the top classes as type, superclass, domain or range (`x a owl:Thing`, `p rdfs:range owl:Thing`);
    - a predicate that is not an IRI (owlrl's generalised triples).
    Datatype axioms (`xsd:string a rdfs:Datatype`, `xsd:gYear owl:disjointWith xsd:string`) have XSD subjects.
    """
    s, p, o = triple
    if isinstance(s, Literal) or not isinstance(p, URIRef):
        return True
    if isinstance(s, URIRef) and is_vocabulary(str(s)):  # (str: URIRef.startswith differs)
        return True
    if p in REFLEXIVE_PREDICATES and s == o:
        return True
    return p in TOP_PREDICATES and o in TOP_CLASSES


class _Memo:
    """A stand-in for an rdflib namespace whose attributes are looked up once, then read as plain attributes."""

    def __init__(self, namespace: object) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> URIRef:
        value = getattr(self._namespace, name)
        setattr(self, name, value)
        return value


@contextmanager
def _memoised_vocabulary() -> Iterator[None]:
    """Give owlrl's rule module memoising OWL/RDF/RDFS namespaces (same IRIs) while the closure runs."""
    import owlrl.OWLRL as rules

    saved = rules.OWL, rules.RDF, rules.RDFS
    rules.OWL, rules.RDF, rules.RDFS = (_Memo(namespace) for namespace in saved)
    try:
        yield
    finally:
        rules.OWL, rules.RDF, rules.RDFS = saved


def closure(asserted: Graph) -> Graph:
    """The OWL 2 RL closure of `asserted` (without reflexive owl:sameAs), computed on a copy."""
    from owlrl import DeductiveClosure, OWLRL_Semantics  # imported here: slow to import, needed only by builds

    same_as = OWL.sameAs

    class Semantics(OWLRL_Semantics):
        """OWL 2 RL rules that skip `x owl:sameAs x`: junk, and each one makes eq-rep-s re-derive x's triples."""

        def store_triple(self, t: tuple[Node, Node, Node]) -> None:
            if not (t[1] == same_as and t[0] == t[2]):
                super().store_triple(t)

    graph = Graph(store="SimpleMemory")  # no contexts to maintain: owlrl's many look-ups get cheaper
    graph += asserted
    rules = DeductiveClosure(Semantics, improved_datatypes=False, axiomatic_triples=False, datatype_axioms=False)
    with _memoised_vocabulary():
        rules.expand(graph)
    return graph


def check_consistency(graph: Graph) -> None:
    """Raise InconsistencyError listing owlrl's error reports (owl:Nothing members, disjointness, ...)."""
    messages = sorted(str(m) for m in graph.objects(None, URIRef(ERRNS + "error")))
    if messages:
        named = [_IRI.sub(lambda m: curie(URIRef(m.group())), message) for message in messages]
        raise InconsistencyError("the OWL 2 RL closure is inconsistent:\n" + "\n".join(f"  - {m}" for m in named))


def infer(dataset: Dataset) -> Graph:
    """The inferred graph: closure of ontology + statements minus the asserted triples minus junk."""
    asserted = merged(dataset, ONTOLOGY_GRAPH, STATEMENTS_GRAPH)
    full = closure(asserted)
    check_consistency(full)
    inferred = Graph()
    for triple in full:
        if triple not in asserted and not is_junk(triple):
            inferred.add(triple)
    return inferred


def add_inferred(dataset: Dataset, inferred: Graph) -> Dataset:
    """Put `inferred` into the dataset's INFERRED_GRAPH (replacing what was there) and return the dataset."""
    graph = dataset.graph(INFERRED_GRAPH)
    graph.remove((None, None, None))
    graph += inferred
    return dataset
