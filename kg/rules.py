"""Reasoning inside the store: the OWL 2 RL rules the ontology uses, as SPARQL updates run to a fixpoint.

The scalable alternative to kg.reason (owlrl, the reference, which copies the graph into Python and grows
about as size^1.35). Each rule is a CONSTRUCT in `ontology/rules/` (`kg sparql` can run one to see what it
derives); a rule reads the axioms it applies from the store (`?c rdfs:subClassOf ?d . ?x a ?c`), so a new
axiom of a supported kind is honoured with no change here. Property chains have any length, so their rules
are generated from the TBox's `owl:propertyChainAxiom` lists. Every rule becomes

    INSERT { GRAPH inferred { HEAD } } USING ontology USING statements USING inferred
    WHERE { BODY MINUS { HEAD } }

and the rules run by strata (see `stratum`), each in rounds until a round adds nothing, the later rounds
semi-naive (see `materialise`: one atom of the body matched against the last round's new triples only). The
result is owlrl's closure less the
asserted triples and less kg.reason's junk (test_rules proves it on the project's graphs): the junk takes
part in the reasoning, as in owlrl, and is dropped at the end by the same definition (see `junk_updates`);
owlrl's scm-cls, not implemented, is refused where it would infer more than junk (see `check_top_classes`), and
so are owlrl's conclusions through a literal subject, which no store holds (see kg.literal_subjects).
OWL vocabulary no rule implements (owl:hasKey, owl:FunctionalProperty, owl:sameAs, restrictions, ...), as a
predicate, a type or a term of an axiom, and anonymous properties (`[ owl:inverseOf ex:p ]`) are refused
with an InputError naming where they are rather than silently ignored.
Not implemented, on purpose: owlrl's dt-not-type check of ill-typed literals (sh:datatype in the shapes
checks the literals that matter) and the axiomatic and datatype triples, which are junk.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from kg.closure import Closure, TripleAccess, Unsupported, instances, schema_keys
from kg.errors import InputError, UsageError
from kg.literal_subjects import check_literal_subjects
from kg.load import curie
from kg.namespaces import INFERRED_GRAPH, ONTOLOGY_GRAPH, RULE_ROUND_GRAPH, RULES_DIR, STATEMENTS_GRAPH
from kg.reason import (
    ERRNS, REFLEXIVE_PREDICATES, TOP_CLASSES, TOP_PREDICATES, VOCABULARY_NAMESPACES, check_consistency, is_vocabulary,
)
from kg.store import Store

READ_GRAPHS = (ONTOLOGY_GRAPH, STATEMENTS_GRAPH, INFERRED_GRAPH)

# OWL terms whose consequences the rules (or the consistency checks) compute, or that entail nothing.
SUPPORTED_OWL = {
    OWL[name]
    for name in (
        "Ontology imports versionIRI versionInfo priorVersion deprecated "  # metadata
        "Class ObjectProperty DatatypeProperty AnnotationProperty NamedIndividual Thing "  # declarations
        "equivalentClass equivalentProperty inverseOf SymmetricProperty TransitiveProperty "  # rules
        "propertyChainAxiom disjointWith Nothing"  # chains, consistency
    ).split()
}

_RULE = re.compile(r"CONSTRUCT\s*\{(?P<head>[^{}]*)\}\s*WHERE\s*\{(?P<body>.*)\}\s*$", re.S)
_BODY = re.compile(r"(?P<atoms>[^{}]*?)\s*(?P<filters>\bFILTER\b[^{}]*)?", re.S)
_ATOM_SEPARATOR = re.compile(r"\s+\.\s+")  # IRIs hold no whitespace, so " . " only separates triple patterns


@dataclass(frozen=True)
class Rule:
    """One rule: `head` (one triple pattern) holds wherever the triple patterns `atoms` match and `filters`
    (FILTER expressions, or "") hold."""

    name: str
    head: str
    atoms: tuple[str, ...]
    filters: str = ""

    def update(self, new: str | None = None) -> str:
        """The SPARQL Update that adds all the rule's new conclusions to the inferred graph (and to graph `new`).
        MINUS drops the conclusions already held as one anti-join, where FILTER NOT EXISTS would look each one
        up (Oxigraph at 200 k triples: 0.2 s instead of 2.3 s for prp-dom)."""
        return self._insert(" . ".join(self.atoms), "", f"MINUS {{ {self.head} }}", new)

    def matches(self, present: Collection[URIRef]) -> str:
        """An ASK whether the body matches at all in the READ_GRAPHS among `present` (a store refuses a FROM
        naming a graph it lacks, as the inferred graph is before anything is inferred): a full round skips a
        rule that cannot fire (an axiom kind the ontology does not use), whose MINUS would still read every
        triple of the head's shape."""
        return f"ASK {_sources(present)} WHERE {{ {' . '.join(self.atoms)} {self.filters} }}"

    def delta_updates(self, last: str, new: str) -> list[str]:
        """Semi-naive evaluation: the updates that add the conclusions using at least one triple of graph `last`
        (the last round's new triples), one per atom matched there while the others match all the data. Few
        rows: FILTER NOT EXISTS looks each up, where MINUS would read every triple of the head's shape."""
        updates = []
        for index, atom in enumerate(self.atoms):
            rest = [other for position, other in enumerate(self.atoms) if position != index]
            body = " . ".join([f"GRAPH <{last}> {{ {atom} }}", *rest])
            updates.append(self._insert(body, f" USING NAMED <{last}>", f"FILTER NOT EXISTS {{ {self.head} }}", new))
        return updates

    def _insert(self, body: str, named: str, absent: str, new: str | None) -> str:
        using = " ".join(f"USING <{graph}>" for graph in READ_GRAPHS)
        targets = " ".join(f"GRAPH <{graph}> {{ {self.head} }}" for graph in (INFERRED_GRAPH, new) if graph)
        return (
            f"INSERT {{ {targets} }} {using}{named}\n"
            f"WHERE {{ {body} {self.filters}\n  {absent} }}"
        )


def _sources(present: Collection[URIRef]) -> str:
    """FROM clauses for the READ_GRAPHS among `present` (a store refuses a FROM naming a graph it lacks)."""
    return " ".join(f"FROM <{graph}>" for graph in READ_GRAPHS if graph in present)


def parse_rule(path: Path) -> Rule:
    """A rule file: comment lines, then `CONSTRUCT { one triple pattern } WHERE { ... }`."""
    text = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#"))
    match = _RULE.fullmatch(text.strip())
    body = match and _BODY.fullmatch(match.group("body").strip())
    atoms = body and tuple(atom.strip() for atom in _ATOM_SEPARATOR.split(body.group("atoms").strip()))
    if not atoms or any(len(atom.split()) != 3 for atom in atoms):
        raise InputError(
            f"{path}: a rule is 'CONSTRUCT {{ TRIPLE }} WHERE {{ TRIPLE . TRIPLE ... [FILTER ...] }}' after its comment "
            "lines (semi-naive evaluation matches each triple pattern in turn against the last round's new triples)"
        )
    return Rule(path.stem, match.group("head").strip(), atoms, (body.group("filters") or "").strip())


def load_rules(directory: Path = RULES_DIR) -> list[Rule]:
    """The rule files of `directory`, by name."""
    return [parse_rule(path) for path in sorted(directory.glob("*.rq"))]


STRATA = ("schema", "properties", "types")


def stratum(rule: Rule) -> str:
    """Which stratum a rule belongs to. Unless the schema says otherwise (FEEDS_BACK), statements between
    individuals never depend on types, and neither depends on anything but the TBox, so the strata run to
    their fixpoints one after the other: the TBox closure (scm-*), then the statements (sub/equivalent
    properties, inverses, symmetry, transitivity, chains), then the types (domains, ranges, classes), each
    pass over the whole data done as few times as possible (one stratum's confirming round no longer re-runs
    the others). Where it does, the strata run again, in order, until a pass adds nothing."""
    if rule.name.startswith("scm-"):
        return "schema"
    if rule.name.startswith("cax-") or rule.name in ("prp-dom", "prp-rng"):
        return "types"
    return "properties"


def property_chains(store: Store) -> list[tuple[URIRef, list[URIRef]]]:
    """Each `owl:propertyChainAxiom` of the store: (the property, its chain's members in order)."""
    # A member's position is the number of list cells from the head of the list to its own cell.
    rows = store.query(
        """SELECT ?property ?list ?member (COUNT(?cell) AS ?position) WHERE {
            ?property owl:propertyChainAxiom ?list .
            ?list rdf:rest* ?cell . ?cell rdf:rest* ?node . ?node rdf:first ?member
        } GROUP BY ?property ?list ?node ?member"""
    )
    chains: dict[tuple, list[tuple[int, URIRef]]] = {}
    for row in rows:
        chains.setdefault((row[0], row[1]), []).append((int(row[3]), row[2]))
    return [
        (prop, [member for _, member in sorted(members)])
        for (prop, _), members in sorted(chains.items(), key=lambda item: str(item[0][0]))
    ]


def chain_rules(store: Store) -> list[Rule]:
    """prp-spo2, one rule per `owl:propertyChainAxiom`: x p1 y1 ... yn-1 pn z gives x p z."""
    rules = []
    for prop, steps in property_chains(store):
        atoms = tuple(f"?x{i} <{step}> ?x{i + 1}" for i, step in enumerate(steps))
        rules.append(Rule(f"prp-spo2 <{prop}>", f"?x0 <{prop}> ?x{len(steps)}", atoms))
    return rules


# Where a term is read as vocabulary: the predicates of the axioms the rules read, the members of the lists of
# property chains (rdf:first), and rdf:type's object (an OWL term elsewhere, e.g. the object of a label, is data).
AXIOM_PREDICATES = (
    RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, OWL.equivalentClass, OWL.equivalentProperty,
    OWL.inverseOf, OWL.disjointWith, OWL.propertyChainAxiom, RDF.first,
)
GRAPH_NAMES = {ONTOLOGY_GRAPH: "the ontology", STATEMENTS_GRAPH: "the statements", INFERRED_GRAPH: "the closure"}


def check_supported(store: Store, graphs: Collection[URIRef] = (ONTOLOGY_GRAPH, STATEMENTS_GRAPH)) -> None:
    """InputError naming the OWL vocabulary the ontology or statements use that no rule implements, as a
    predicate, a type or in an axiom (`ex:match rdfs:subPropertyOf owl:sameAs`), and where; and a property
    axiom on an anonymous property. (The linked graphs, e.g. the links' owl:Axiom annotations, are not
    reasoned over, as with owlrl.)"""
    scope = f"VALUES ?g {{ {' '.join(f'<{graph}>' for graph in graphs)} }}"
    axioms = f"VALUES ?axiom {{ {' '.join(f'<{p}>' for p in AXIOM_PREDICATES)} }}"
    # DISTINCT scans filtered here: half the time of one UNION filtered by STRSTARTS (2 M triples: 0.65 s); an
    # axiom's terms are read through its predicate (the TBox's few triples), not by scanning every object
    terms = {
        row[0]
        for pattern in ("?s ?term ?o", "?s a ?term", f"{{ {axioms} ?term ?axiom ?o }} UNION {{ {axioms} ?s ?axiom ?term }}")
        for row in store.query(f"SELECT DISTINCT ?term WHERE {{ {scope} GRAPH ?g {{ {pattern} }} }}")
    }
    unsupported = sorted(term for term in terms if str(term).startswith(str(OWL)) and term not in SUPPORTED_OWL)
    if unsupported:
        raise InputError(
            f"the graph uses {', '.join(f'{curie(term)} ({_where(store, term, scope)})' for term in unsupported)}, "
            "which the SPARQL rules do not implement: reason with owlrl (--reasoner owlrl), or add a rule to "
            "ontology/rules/"
        )
    _check_named_properties(store, scope)


def _where(store: Store, term: URIRef, graphs: str) -> str:
    """One triple of the `graphs` (a VALUES ?g clause) using `term`, and its graph: where a refusal points."""
    for pattern in (f"?s <{term}> ?o", f"?s ?p <{term}>", f"<{term}> ?p ?o"):
        for row in store.query(f"SELECT * WHERE {{ {graphs} GRAPH ?g {{ {pattern} }} }} LIMIT 1"):
            triple = (curie(term) if part.startswith("<") else curie(row[part[1:]]) for part in pattern.split())
            return f"{' '.join(triple)}, in {GRAPH_NAMES[row['g']]}"
    return "in an axiom"


def _check_named_properties(store: Store, graphs: str) -> None:
    """InputError for a blank node where an axiom needs a property (`[ owl:inverseOf ex:parent ]` in a chain):
    its statements would have a blank node as predicate, which no store holds (owlrl reasons over them)."""
    def anonymous(described: str) -> str:
        return f"""SELECT ?g ?s ?p ?o ?member ?about ?value WHERE {{ {graphs} GRAPH ?g {{
            {{ VALUES ?p {{ rdfs:subPropertyOf owl:equivalentProperty owl:inverseOf }} ?s ?p ?o
               FILTER (!isIRI(?s) || !isIRI(?o)) }}
            UNION {{ ?s owl:propertyChainAxiom ?o FILTER (!isIRI(?s)) BIND (owl:propertyChainAxiom AS ?p) }}
            UNION {{ ?s owl:propertyChainAxiom ?o . ?o rdf:rest*/rdf:first ?member
                     FILTER (!isIRI(?member)) BIND (owl:propertyChainAxiom AS ?p) }}
            {described}
        }} }} ORDER BY DESC(BOUND(?member))"""

    if not store.query(anonymous("") + " LIMIT 1"):
        return
    # described only now: the OPTIONAL is read before the join, every triple of the graphs (0.2 s at 200 k)
    rows = list(store.query(anonymous(
        "BIND (COALESCE(?member, IF(isIRI(?s), ?o, ?s)) AS ?anonymous) OPTIONAL { ?anonymous ?about ?value }"
    )))
    if rows:
        graph, subject, predicate, obj, member = rows[0][:5]
        described = " ; ".join(f"{curie(row[5])} {curie(row[6])}" for row in rows if row[:5] == rows[0][:5] and row[5])
        axiom = f"{curie(subject)} {curie(predicate)} {'( ... )' if member is not None else curie(obj)}"
        raise InputError(
            f"an anonymous property [ {described} ] in {axiom}, in {GRAPH_NAMES[graph]}: the rules only reason over "
            "named properties (a statement's predicate is an IRI): declare it as one (ex:child owl:inverseOf "
            "ex:parent), or reason with owlrl (--reasoner owlrl)"
        )


def inferred_count(store: Store) -> int:
    """How many triples the inferred graph holds."""
    rows = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }} }}")
    return int(next(iter(rows))[0])


ENGINES = ("auto", "sparql", "compiled")


def materialise(store: Store, directory: Path = RULES_DIR, engine: str = "auto") -> int:
    """Replace the store's inferred graph with the closure under the rules; return the number of rounds.

    The schema stratum always runs as SPARQL updates (a few hundred axioms). The instance strata run as
    SPARQL updates (`engine="sparql"`, any store) or in Python by kg.closure (`"compiled"`, a store with
    kg.closure.TripleAccess; at 2 M triples, 0.45x the updates' time); `"auto"` takes the compiled
    evaluation where the store and the rules allow it. Raises InputError for unsupported OWL vocabulary (or
    rules the compiled evaluation was asked for and cannot run) and InconsistencyError as kg.reason does.
    """
    if engine not in ENGINES:
        raise UsageError(f"unknown rule engine {engine!r}; use one of {', '.join(ENGINES)}")
    check_supported(store)
    rules = load_rules(directory)
    schema_rules = [rule for rule in rules if stratum(rule) == "schema"]
    store.update(f"CLEAR SILENT GRAPH <{INFERRED_GRAPH}>")
    rounds = _fixpoint(store, schema_rules, 0)
    check_top_classes(store)
    instance_rules = [rule for rule in rules + chain_rules(store) if stratum(rule) != "schema"]
    feeds_back = store.query(FEEDS_BACK.format(sources=_sources(set(store.graphs())))).askAnswer
    compiled = None
    if engine != "sparql" and all(hasattr(store, name) for name in ("pairs", "add_triples")):
        try:
            compiled = _compiled(store, instance_rules)  # type: ignore[arg-type]
        except Unsupported as exc:
            if engine == "compiled":
                raise InputError(f"the compiled rule evaluation cannot run these rules: {exc}") from None
    elif engine == "compiled":
        raise InputError(f"store {store.spec} cannot hand its triples over: use the SPARQL rule engine")
    if compiled is None:
        while True:  # one pass of the instance strata, or passes of every stratum until one adds nothing
            size = inferred_count(store)
            for name in STRATA[1:]:
                rounds = _fixpoint(store, [rule for rule in instance_rules if stratum(rule) == name], rounds)
            if not feeds_back or inferred_count(store) == size:
                break
            rounds = _fixpoint(store, schema_rules, rounds)
            check_top_classes(store)
            instance_rules = [rule for rule in rules + chain_rules(store) if stratum(rule) != "schema"]
    else:
        rounds += compiled
    check_literal_subjects(store, READ_GRAPHS, property_chains(store))
    if feeds_back:  # the inferred axioms, like the asserted ones, use only what the rules implement
        check_supported(store, READ_GRAPHS)
    for number in range(1, rounds + 1):
        store.update(f"DROP SILENT GRAPH <{RULE_ROUND_GRAPH}{number}>")
    # the compiled evaluation kept its junk subjects out: only the schema's axioms can still have them
    for update in junk_updates(None if compiled is None else SCHEMA_PREDICATES):
        store.update(update)
    check_consistency(clashes(store))
    return rounds


# Whether a stratum can feed an earlier one, read in the closed schema: an axiom's vocabulary (rdf:type, the
# schema's predicates, the lists of chains) as a property of a property axiom or chain (`ex:kindOf
# rdfs:subPropertyOf rdfs:subClassOf` makes statements axioms; `ex:hasMember owl:inverseOf rdf:type` makes types
# statements), or a class of properties the rules read as the class of a class axiom (`ex:p rdfs:range
# owl:TransitiveProperty`). Otherwise the strata's order holds: the schema, then the statements, then the types.
FEEDS_BACK = """ASK {sources} WHERE {{
    {{ VALUES ?v {{ rdf:type rdf:first rdf:rest rdfs:subClassOf rdfs:subPropertyOf rdfs:domain rdfs:range
                   owl:equivalentClass owl:equivalentProperty owl:inverseOf owl:propertyChainAxiom owl:disjointWith }}
       {{ VALUES ?axiom {{ rdfs:subPropertyOf owl:equivalentProperty owl:inverseOf }} {{ ?v ?axiom ?other }} UNION {{ ?other ?axiom ?v }} }}
       UNION {{ VALUES ?kind {{ owl:SymmetricProperty owl:TransitiveProperty }} ?v a ?kind }}
       UNION {{ ?v owl:propertyChainAxiom ?list }} UNION {{ ?cell rdf:first ?v }} }}
    UNION {{ VALUES ?kind {{ owl:SymmetricProperty owl:TransitiveProperty }}
       {{ VALUES ?axiom {{ rdfs:subClassOf rdfs:domain rdfs:range owl:equivalentClass }} ?class ?axiom ?kind }}
       UNION {{ ?kind owl:equivalentClass ?class }} }}
}}"""


def _compiled(store: TripleAccess, rules: list[Rule]) -> int:
    """The instance strata by kg.closure: the rules instantiated by the axioms, matched in Python over the
    triples they can read, the inferences added in one bulk write; the number of rounds to the fixpoint."""
    present = set(store.graphs())  # type: ignore[attr-defined]
    graphs = [graph for graph in READ_GRAPHS if graph in present]

    def select(variables: list[str], pattern: str) -> list[dict]:
        text = f"SELECT DISTINCT {' '.join('?' + v for v in variables)} {_sources(present)} WHERE {{ {pattern} }}"
        return [row.asdict() for row in store.query(text, where="rule axioms")]  # type: ignore[attr-defined]

    instantiated = [instance for rule in rules for instance in instances(rule, select, store.native)]
    # an inferred chain axiom would change the chains' rules too, which were read before
    chains = {(store.native(p), None) for p in (OWL.propertyChainAxiom, RDF.first, RDF.rest)}
    closure = Closure(instantiated, schema_keys(rules, store.native) | chains, store.literal_type, _vocabulary_term)
    collecting = gc.isenabled()
    gc.disable()  # millions of tuples, none cyclic: the collector's full passes took 40 % of the time at 2 M
    try:
        inferred, rounds = closure.run((p, store.pairs(graphs, p, o)) for p, o in closure.reads())
    finally:
        if collecting:
            gc.enable()
    store.add_triples(INFERRED_GRAPH, inferred)
    return rounds


def _vocabulary_term(term: object) -> bool:
    """kg.reason.is_vocabulary for a store's own term: an rdflib URIRef is its IRI, pyoxigraph's NamedNode has it
    as `value` (a literal's `value` is never a subject, where the junk is)."""
    return is_vocabulary(str(getattr(term, "value", term)))


# The predicates of the schema rules' conclusions (the axioms closed by the schema stratum).
SCHEMA_PREDICATES = (
    RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, OWL.equivalentClass, OWL.equivalentProperty,
)


def junk_updates(predicates: Collection[URIRef] | None) -> list[str]:
    """The SPARQL updates that drop kg.reason's junk (kg.reason.is_junk, from the same definition) from the
    inferred graph, once the closure is complete: the junk takes part in the reasoning as in owlrl
    (`ex:b a rdfs:Resource` and `rdfs:Resource rdfs:subClassOf ex:Any` give `ex:b a ex:Any`). The top classes and
    reflexive axioms are found through the index; the vocabulary subjects by a scan of the inferred graph, or
    of its triples with one of `predicates`. (The rules conclude no literal subject and no generalised triple.)"""
    inferred = f"GRAPH <{INFERRED_GRAPH}>"
    tops = " ".join(f"(<{p}> <{o}>)" for p in TOP_PREDICATES for o in TOP_CLASSES)
    reflexive = " ".join(f"<{p}>" for p in REFLEXIVE_PREDICATES)
    only = "" if predicates is None else f"VALUES ?p {{ {' '.join(f'<{p}>' for p in predicates)} }}"
    vocabulary = " || ".join(f'STRSTARTS(STR(?s), "{namespace}")' for namespace in VOCABULARY_NAMESPACES)
    return [
        f"DELETE {{ {inferred} {{ ?s ?p ?o }} }} WHERE {{ {inferred} {{ {where} }} }}"
        for where in (
            f"VALUES (?p ?o) {{ {tops} }} ?s ?p ?o",
            f"VALUES ?p {{ {reflexive} }} ?s ?p ?s BIND (?s AS ?o)",
            f"{only} ?s ?p ?o FILTER (isIRI(?s) && ({vocabulary}))",
        )
    ]


def check_top_classes(store: Store) -> None:
    """InputError for a closed schema in which owlrl's scm-cls, which the rules do not implement, would infer
    more: owlrl makes every class a subclass of owl:Thing, and owl:Nothing a subclass of every class. Only
    junk, until owl:Thing has a superclass (every class then has it) or owl:Nothing is a superclass, domain
    or range (then the class, or the property's domain or range, is every class)."""
    graphs = f"VALUES ?g {{ {' '.join(f'<{graph}>' for graph in (*READ_GRAPHS[:2], INFERRED_GRAPH))} }}"
    tops = ", ".join(f"<{top}>" for top in TOP_CLASSES)
    rows = store.query(
        f"""SELECT ?g ?s ?p ?o WHERE {{ {graphs} GRAPH ?g {{
            {{ owl:Thing rdfs:subClassOf ?o FILTER (?o NOT IN ({tops})) BIND (owl:Thing AS ?s) BIND (rdfs:subClassOf AS ?p) }}
            UNION {{ VALUES ?p {{ rdfs:subClassOf rdfs:domain rdfs:range }} ?s ?p owl:Nothing
                     FILTER (?s != owl:Nothing) BIND (owl:Nothing AS ?o) }}
        }} }} LIMIT 1"""
    )
    for graph, *triple in rows:
        consequence = (
            f"every class a subclass of {curie(triple[2])}" if triple[0] == OWL.Thing
            else f"{curie(triple[0])} {'a subclass of' if triple[1] == RDFS.subClassOf else 'given as ' + curie(triple[1])} every class"
        )
        raise InputError(
            f"{' '.join(map(curie, triple))}, in {GRAPH_NAMES[graph]}: owlrl makes every class a subclass of owl:Thing and "
            f"owl:Nothing a subclass of every class (rule scm-cls), which here makes {consequence}; the rules do not "
            "implement scm-cls: reason with owlrl (--reasoner owlrl)"
        )


def _fixpoint(store: Store, layer: list[Rule], rounds: int) -> int:
    """Run one stratum's rules as SPARQL updates until a round adds nothing; the rounds counted so far.

    Its first round applies the rules to all the data and adds most of the stratum's triples (83 k of 89 k in
    the statements' stratum at 200 k triples), too many to copy, so its second round applies them to all the
    data too, keeping a copy of what it adds in graph RULE_ROUND_GRAPH + round number; each later round
    (semi-naive evaluation) only joins the triples the round before added."""
    first = rounds + 1
    while True:
        rounds += 1
        size = inferred_count(store)
        new, last = f"{RULE_ROUND_GRAPH}{rounds}", f"{RULE_ROUND_GRAPH}{rounds - 1}"
        # (the inferred graph appearing during a stratum's first round is only seen by its second, which
        # runs every rule on all the data again)
        present = set(store.graphs())
        for rule in layer:
            if rounds > first + 1:
                updates = rule.delta_updates(last, new)
            elif store.query(rule.matches(present), where=f"rule {rule.name}").askAnswer:
                updates = [rule.update(new if rounds == first + 1 else None)]
            else:
                updates = []
            for update in updates:
                store.update(update)
        if inferred_count(store) == size:
            return rounds


def clashes(store: Store) -> Graph:
    """owlrl's error reports for the closure's clashes, in its own words, for kg.reason.check_consistency:
    cax-dw (disjoint classes sharing an individual) and cls-nothing2 (a member of owl:Nothing)."""
    rows = store.query(
        """SELECT ?x ?a ?b WHERE {
            { ?a owl:disjointWith ?b . ?x a ?a . ?x a ?b } UNION { ?x a owl:Nothing }
        }"""
    )
    report = Graph()
    error = URIRef(ERRNS + "error")
    for number, (node, first, second) in enumerate(rows):
        if first is None:
            message = f"{node} is defined of type 'Nothing'"
        else:
            message = f"Disjoint classes {first} and {second} have a common individual {node}"
        report.add((URIRef(f"{ERRNS}clash{number}"), error, Literal(message)))
    return report
