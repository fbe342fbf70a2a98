"""Reasoning inside the store: the OWL 2 RL rules the ontology uses, as SPARQL updates run to a fixpoint.

The scalable alternative to kg.reason (owlrl, the reference, which copies the graph into Python and grows
about as size^1.35). Each rule is a CONSTRUCT in `ontology/rules/` (`kg sparql` can run one to see what it
derives); a rule reads the axioms it applies from the store (`?c rdfs:subClassOf ?d . ?x a ?c`), so a new
axiom of a supported kind is honoured with no change here. Property chains have any length, so their rules
are generated from the TBox's `owl:propertyChainAxiom` lists. Every rule becomes

    INSERT { GRAPH inferred { HEAD } } USING ontology USING statements USING inferred
    WHERE { BODY FILTER NOT EXISTS { HEAD } }

and the rules run by strata (see `stratum`), each in rounds until a round adds nothing. The result is owlrl's closure less the asserted
triples and less kg.reason's junk (test_rules proves it on the project's graphs); rules never produce junk,
so nothing is filtered afterwards. OWL vocabulary no rule implements (owl:hasKey, owl:FunctionalProperty,
owl:sameAs, restrictions, ...) is refused with an InputError rather than silently ignored.
Not implemented, on purpose: owlrl's dt-not-type check of ill-typed literals (sh:datatype in the shapes
checks the literals that matter) and the axiomatic and datatype triples, which are junk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL

from kg.errors import InputError
from kg.namespaces import INFERRED_GRAPH, ONTOLOGY_GRAPH, PROJECT_ROOT, STATEMENTS_GRAPH
from kg.reason import ERRNS, check_consistency
from kg.store import Store

RULES_DIR = PROJECT_ROOT / "ontology" / "rules"
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


@dataclass(frozen=True)
class Rule:
    """One rule: `head` (one triple pattern) holds wherever `body` matches."""

    name: str
    head: str
    body: str

    def update(self) -> str:
        """The SPARQL Update that adds the rule's new conclusions to the inferred graph."""
        using = " ".join(f"USING <{graph}>" for graph in READ_GRAPHS)
        return (
            f"INSERT {{ GRAPH <{INFERRED_GRAPH}> {{ {self.head} }} }} {using}\n"
            f"WHERE {{ {self.body}\n  FILTER NOT EXISTS {{ {self.head} }} }}"
        )


def parse_rule(path: Path) -> Rule:
    """A rule file: comment lines, then `CONSTRUCT { one triple pattern } WHERE { ... }`."""
    text = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#"))
    match = _RULE.fullmatch(text.strip())
    if match is None:
        raise InputError(f"{path}: a rule is 'CONSTRUCT {{ TRIPLE }} WHERE {{ ... }}' after its comment lines")
    return Rule(path.stem, match.group("head").strip(), match.group("body").strip())


def load_rules(directory: Path = RULES_DIR) -> list[Rule]:
    """The rule files of `directory`, by name."""
    return [parse_rule(path) for path in sorted(directory.glob("*.rq"))]


STRATA = ("schema", "properties", "types")


def stratum(rule: Rule) -> str:
    """Which stratum a rule belongs to. With the supported vocabulary, statements between individuals never
    depend on types, and neither depends on anything but the TBox, so the strata run to their fixpoints one
    after the other: the TBox closure (scm-*), then the statements (sub/equivalent properties, inverses,
    symmetry, transitivity, chains), then the types (domains, ranges, classes), each pass over the whole data
    done as few times as possible (one stratum's confirming round no longer re-runs the others)."""
    if rule.name.startswith("scm-"):
        return "schema"
    if rule.name.startswith("cax-") or rule.name in ("prp-dom", "prp-rng"):
        return "types"
    return "properties"


def chain_rules(store: Store) -> list[Rule]:
    """prp-spo2, one rule per `owl:propertyChainAxiom`: x p1 y1 ... yn-1 pn z gives x p z."""
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
    rules = []
    for (prop, _), members in sorted(chains.items(), key=lambda item: str(item[0][0])):
        steps = [member for _, member in sorted(members)]
        body = " . ".join(f"?x{i} <{step}> ?x{i + 1}" for i, step in enumerate(steps))
        rules.append(Rule(f"prp-spo2 <{prop}>", f"?x0 <{prop}> ?x{len(steps)}", body))
    return rules


def check_supported(store: Store) -> None:
    """InputError naming the OWL vocabulary the ontology or statements use that no rule implements (the linked
    graphs, e.g. the links' owl:Axiom annotations, are not reasoned over, as with owlrl)."""
    rows = store.query(
        f"""SELECT DISTINCT ?term WHERE {{
            VALUES ?g {{ <{ONTOLOGY_GRAPH}> <{STATEMENTS_GRAPH}> }}
            GRAPH ?g {{ {{ ?s ?term ?o }} UNION {{ ?s a ?term }} }}
            FILTER (STRSTARTS(STR(?term), "{OWL}"))
        }}"""
    )
    unsupported = sorted(f"owl:{str(row[0]).removeprefix(str(OWL))}" for row in rows if row[0] not in SUPPORTED_OWL)
    if unsupported:
        raise InputError(
            f"the graph uses {', '.join(unsupported)}, which the SPARQL rules do not implement: "
            "reason with owlrl (--reasoner owlrl), or add a rule to ontology/rules/"
        )


def inferred_count(store: Store) -> int:
    """How many triples the inferred graph holds."""
    rows = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }} }}")
    return int(next(iter(rows))[0])


def materialise(store: Store, directory: Path = RULES_DIR) -> int:
    """Replace the store's inferred graph with the closure under the rules; return the number of rounds.

    Raises InputError for unsupported OWL vocabulary and InconsistencyError as kg.reason does.
    """
    check_supported(store)
    rules = load_rules(directory) + chain_rules(store)
    store.update(f"CLEAR SILENT GRAPH <{INFERRED_GRAPH}>")
    size, rounds = 0, 0
    with _using_own_graphs():
        for name in STRATA:
            layer = [rule for rule in rules if stratum(rule) == name]
            while True:
                rounds += 1
                for rule in layer:
                    store.update(rule.update())
                size, previous = inferred_count(store), size
                if size == previous:
                    break
    check_consistency(clashes(store))
    return rounds


@contextmanager
def _using_own_graphs() -> Iterator[None]:
    """Make rdflib (the memory store) read an update's USING graphs from its dataset: by default it fetches
    them from the web. TODO(kg.store): MemoryStore.update could do this itself, for every update."""
    import rdflib.plugins.sparql as sparql

    saved = sparql.SPARQL_LOAD_GRAPHS
    sparql.SPARQL_LOAD_GRAPHS = False
    try:
        yield
    finally:
        sparql.SPARQL_LOAD_GRAPHS = saved


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
