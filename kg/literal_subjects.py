"""Where owlrl reasons through a triple with a literal subject, which the rules cannot: refused, by name.

owlrl applies its rules to triples whose subject is a literal: `ex:x ex:p "lit"`, ex:p the inverse of ex:q,
gives `"lit" ex:q ex:x` (so does a symmetric property, and a range gives `"lit" a ex:C`). kg.reason drops them
as junk, and no store can hold one, so the rules never derive them. Mostly nothing else follows; but from
such a triple owlrl goes on to conclude triples that are not junk: ex:q's range makes ex:x an instance, an
inverse of ex:q or its symmetry gives ex:x a literal value, its transitivity or a chain joins through the
literal. There the rules' closure would be smaller than owlrl's without a word, so they refuse, naming the
literal value, the axioms and the conclusion.

The check follows the junk triples a property (or class) at a time, from the closed schema and one sample
literal value per property (owlrl types a literal with its datatype and the datatype's supertypes: a
datatype's class axiom, `xsd:decimal rdfs:subClassOf ex:Number`, reaches "3"^^xsd:integer too).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from rdflib import Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS
from rdflib.term import Node

from kg.errors import InputError
from kg.load import curie
from kg.reason import TOP_CLASSES, is_junk, is_vocabulary
from kg.store import Store

AXIOMS = (RDFS.subPropertyOf, OWL.equivalentProperty, OWL.inverseOf, RDFS.domain, RDFS.range, RDFS.subClassOf,
          OWL.equivalentClass)


@dataclass(frozen=True)
class Junk:
    """`"lit" predicate obj` in owlrl's closure (obj None: the subject of the literal value it comes from), how
    it came (`why`, then `steps`)."""

    predicate: URIRef
    obj: Node | None
    why: str
    steps: tuple[str, ...] = ()


class Schema:
    """The closed schema's axioms the check follows, and the graphs' literal values, read from the store."""

    def __init__(self, store: Store, graphs: Collection[URIRef], chains: list[tuple[URIRef, list[URIRef]]]) -> None:
        self._store = store
        self._iris = " ".join(f"<{graph}>" for graph in graphs)
        self._graphs = f"VALUES ?g {{ {self._iris} }}"
        self.chains = chains
        # (graph, axiom) pairs in one VALUES: with the graphs and the axioms as two VALUES, Oxigraph read every
        # triple of the graphs (2.3 s at 2 M triples, against 14 ms). Two queries, not a UNION binding rdf:type
        # inside GRAPH: that one brought Virtuoso 7.2's server down.
        pairs = " ".join(f"(<{graph}> <{axiom}>)" for graph in graphs for axiom in AXIOMS)
        rows = [
            *store.query(
                f"SELECT DISTINCT ?s ?p ?o WHERE {{ VALUES (?g ?p) {{ {pairs} }} GRAPH ?g {{ ?s ?p ?o }} "
                "FILTER (isIRI(?s) && isIRI(?o)) }"
            ),
            *(
                (subject, RDF.type, kind)
                for subject, kind in store.query(
                    f"SELECT DISTINCT ?s ?o WHERE {{ {self._graphs} VALUES ?o {{ owl:SymmetricProperty "
                    "owl:TransitiveProperty } GRAPH ?g { ?s a ?o } FILTER isIRI(?s) }"
                )
            ),
        ]
        self._axioms: dict[URIRef, dict[URIRef, set[URIRef]]] = defaultdict(lambda: defaultdict(set))
        for subject, predicate, obj in rows:
            self._axioms[predicate][subject].add(obj)
            if predicate in (OWL.equivalentProperty, OWL.equivalentClass, OWL.inverseOf):  # both ways
                self._axioms[predicate][obj].add(subject)

    def objects(self, subject: URIRef, *predicates: URIRef) -> set[URIRef]:
        return {obj for predicate in predicates for obj in self._axioms[predicate].get(subject, ())}

    def has(self, subject: URIRef, kind: URIRef) -> bool:
        return kind in self._axioms[RDF.type].get(subject, ())

    def subjects(self, predicate: URIRef) -> set[URIRef]:
        return set(self._axioms[predicate])

    def supers(self, prop: URIRef) -> set[URIRef]:
        """`prop` and its superproperties (the closed schema holds every one directly)."""
        return {prop} | self.objects(prop, RDFS.subPropertyOf, OWL.equivalentProperty)

    def literal_value(self, prop: URIRef, value: Literal | None = None) -> tuple[Node, Literal] | None:
        """A (subject, literal) of `prop` in the graphs (with literal `value` if given), or None."""
        pattern = f"?x <{prop}> {value.n3() if value is not None else '?lit'}"
        condition = "" if value is not None else "FILTER isLiteral(?lit)"
        for row in self._store.query(f"SELECT * WHERE {{ {self._graphs} GRAPH ?g {{ {pattern} }} {condition} }} LIMIT 1"):
            return row["x"], value if value is not None else row["lit"]
        return None

    def path_end(self, start: Node, path: list[URIRef]) -> Node | None:
        """A node the properties `path` lead to from `start`, each step in any of the graphs, or None."""
        steps = " ".join(
            f"VALUES ?g{i} {{ {self._iris} }} GRAPH ?g{i} {{ {start.n3() if i == 0 else f'?y{i}'} <{step}> ?y{i + 1} }}"
            for i, step in enumerate(path)
        )
        for row in self._store.query(f"SELECT ?y{len(path)} WHERE {{ {steps} }} LIMIT 1"):
            return row[0]
        return None

    def typed_literal(self, datatype: URIRef) -> tuple[Node, Node, Literal] | None:
        """A triple of the graphs whose object is a literal of `datatype`, or None."""
        for row in self._store.query(
            f"SELECT ?x ?p ?lit WHERE {{ {self._graphs} GRAPH ?g {{ ?x ?p ?lit }} "
            f"FILTER (isLiteral(?lit) && DATATYPE(?lit) = <{datatype}>) }} LIMIT 1"
        ):
            return row[0], row[1], row[2]
        return None


def check_literal_subjects(store: Store, graphs: Collection[URIRef], chains: list[tuple[URIRef, list[URIRef]]]) -> None:
    """InputError where owlrl concludes a non-junk triple through a literal subject (see the module docstring).
    Run on the closed schema and the rules' closure of `graphs`: every literal value a subproperty or chain
    gives is there."""
    schema = Schema(store, graphs, chains)
    for seed, (subject, value) in _seeds(schema):
        known = schema.supers(seed) if seed != RDF.type else set()
        for junk in _closure(schema, _first_junk(schema, seed, subject, value), subject):
            found = _conclusion(schema, junk, subject, value, known)
            if found is not None:
                conclusion, axiom = found
                made = _literal_triple(value, junk.predicate, junk.obj, subject)
                how = f" (by {', '.join(junk.steps)})" if junk.steps else ""
                raise InputError(
                    f"{junk.why}: owlrl reasons through the literal subject this makes ({made}){how} and concludes "
                    f"{conclusion} ({axiom}); the rules cannot hold a literal subject: reason with owlrl "
                    "(--reasoner owlrl)"
                )


def _seeds(schema: Schema) -> Iterator[tuple[URIRef, tuple[Node, Literal]]]:
    """(property, a sample (subject, literal) of it) for each property whose literal values owlrl turns into a
    literal subject: inverses, symmetric properties, ranges; rdf:type for a datatype with a class axiom."""
    candidates = schema.subjects(OWL.inverseOf) | schema.subjects(RDFS.range)
    candidates |= {prop for prop in schema.subjects(RDF.type) if schema.has(prop, OWL.SymmetricProperty)}
    for prop in sorted(candidates):
        sample = schema.literal_value(prop)
        if sample is not None:
            yield prop, sample
    axiomatised = {
        cls for cls in schema.subjects(RDFS.subClassOf) | schema.subjects(OWL.equivalentClass) if is_vocabulary(str(cls))
    }
    if axiomatised:  # (owlrl's datatypes read only here: it is slow to import)
        from owlrl.XsdDatatypes import OWL_Datatype_Subsumptions, OWL_RL_Datatypes

        for datatype in sorted(OWL_RL_Datatypes):
            reached = {datatype, *OWL_Datatype_Subsumptions.get(datatype, ())} & axiomatised
            if reached and (typed := schema.typed_literal(datatype)) is not None:
                yield RDF.type, (typed[0], typed[2])


def _first_junk(schema: Schema, seed: URIRef, subject: Node, value: Literal) -> list[Junk]:
    """The junk triples owlrl makes from `subject seed value` directly."""
    said = f"{curie(seed)} has literal values ({curie(subject)} {curie(seed)} {curie(value)})"
    if seed == RDF.type:  # owlrl types every literal of its datatypes with the datatype and its supertypes
        from owlrl.XsdDatatypes import OWL_Datatype_Subsumptions

        why = f"{curie(value)} is typed {curie(value.datatype)} ({curie(subject)} has it as a value)"
        return [Junk(RDF.type, datatype, why) for datatype in (value.datatype, *OWL_Datatype_Subsumptions.get(value.datatype, ()))]
    made = [Junk(inverse, None, f"{said} and is the inverse of {curie(inverse)}") for inverse in sorted(schema.objects(seed, OWL.inverseOf))]
    if schema.has(seed, OWL.SymmetricProperty):
        made.append(Junk(seed, None, f"{said} and is symmetric"))
    made += [
        Junk(RDF.type, cls, f"{said} and has range {curie(cls)}")
        for cls in sorted(schema.objects(seed, RDFS.range)) if cls not in TOP_CLASSES
    ]
    return made


def _closure(schema: Schema, junk: list[Junk], subject: Node) -> Iterator[Junk]:
    """Every junk triple that follows from `junk` (about the literal value of `subject`) by superproperties,
    domains, superclasses and chains, once each."""
    seen: set[tuple[URIRef, Node | None]] = set()
    while junk:
        triple = junk.pop()
        if (triple.predicate, triple.obj) in seen:
            continue
        seen.add((triple.predicate, triple.obj))
        yield triple

        def then(predicate: URIRef, obj: Node | None, step: str) -> Junk:
            return Junk(predicate, obj, triple.why, (*triple.steps, step))

        prop = triple.predicate
        junk += [then(p, triple.obj, f"{curie(prop)} rdfs:subPropertyOf {curie(p)}") for p in schema.supers(prop) - {prop}]
        junk += [
            then(RDF.type, cls, f"{curie(prop)} rdfs:domain {curie(cls)}")
            for cls in schema.objects(prop, RDFS.domain) if cls not in TOP_CLASSES
        ]
        # a chain from the junk triple's property: "lit" q x . x b z gives "lit" ch z
        start = triple.obj if triple.obj is not None else subject
        for chain, members in schema.chains:
            if members[0] == prop and len(members) > 1 and (end := schema.path_end(start, members[1:])) is not None:
                junk.append(then(chain, end, f"{curie(chain)} owl:propertyChainAxiom ( {' '.join(map(curie, members))} )"))
        if prop == RDF.type and triple.obj is not None:
            junk += [
                then(RDF.type, cls, f"{curie(triple.obj)} rdfs:subClassOf {curie(cls)}")
                for cls in schema.objects(triple.obj, RDFS.subClassOf, OWL.equivalentClass) if cls not in TOP_CLASSES
            ]


def _conclusion(schema: Schema, junk: Junk, subject: Node, value: Literal, known: set[URIRef]) -> tuple[str, str] | None:
    """(a non-junk triple owlrl concludes from `junk`, the axiom it uses), or None. `known`: the properties of
    which `subject` has `value` already (an inverse read back concludes nothing new)."""
    prop, obj = junk.predicate, junk.obj if junk.obj is not None else subject

    def new(triple: tuple[Node, Node, Node]) -> bool:
        return not is_junk(triple) and not (junk.obj is None and triple[2] == value and triple[1] in known)

    for cls in sorted(schema.objects(prop, RDFS.range)):
        if new((obj, RDF.type, cls)):
            return f"{curie(obj)} a {curie(cls)}", f"{curie(prop)} rdfs:range {curie(cls)}"
    for inverse in sorted(schema.objects(prop, OWL.inverseOf)):
        if new((obj, inverse, value)):
            return f"{curie(obj)} {curie(inverse)} {curie(value)}", f"{curie(inverse)} is the inverse of {curie(prop)}"
    if schema.has(prop, OWL.SymmetricProperty) and new((obj, prop, value)):
        return f"{curie(obj)} {curie(prop)} {curie(value)}", f"{curie(prop)} a owl:SymmetricProperty"
    if schema.has(prop, OWL.TransitiveProperty):
        # z prop "lit" . "lit" prop x gives z prop x: x itself where x has the value through prop
        start = (subject, value) if junk.obj is None and prop in known else schema.literal_value(prop, value)
        if start is not None:
            return f"{curie(start[0])} {curie(prop)} {curie(obj)}", f"{curie(prop)} a owl:TransitiveProperty"
    for chain, members in schema.chains:
        for position in (p for p, member in enumerate(members) if member == prop and p > 0):
            before = schema.literal_value(members[position - 1], value)
            if before is not None:
                return (
                    f"statements with {curie(chain)} from {curie(before[0])}",
                    f"{curie(chain)} owl:propertyChainAxiom ( {' '.join(map(curie, members))} )",
                )
    return None


def _literal_triple(value: Literal, predicate: URIRef, obj: Node | None, subject: Node) -> str:
    return f"{curie(value)} {'a' if predicate == RDF.type else curie(predicate)} {curie(obj if obj is not None else subject)}"
