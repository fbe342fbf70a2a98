"""`kg describe`: everything the graph says about one entity, and the quotes of the claims behind it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rdflib import Dataset, Graph, Literal, URIRef, Variable
from rdflib.term import Node

from kg.load import curie, named, new_dataset
from kg.namespaces import INFERRED_GRAPH, RDF, RDFS
from kg.query import Quoted, display, why_claims
from kg.store import MemoryStore, Store, as_store

if TYPE_CHECKING:
    from rich.console import RenderableType


@dataclass(frozen=True)
class Description:
    """An entity's labels by language, types, triples in both directions and supporting claims."""

    node: URIRef
    labels: dict[str, list[str]]
    types: list[str]
    outgoing: list[tuple[str, str, bool]]  # (predicate, object shown with its label, inferred?)
    incoming: list[tuple[str, str, bool]]  # (subject shown with its label, predicate, inferred?)
    claims: tuple[Quoted, ...]


def _shown(graph: Graph, node: Node) -> str:
    """The other end of a statement: a literal as written, a node as `Label (curie)`."""
    return display(node) if isinstance(node, Literal) else named(graph, node)


@dataclass(frozen=True)
class Statement:
    """One triple about an entity, and whether only reasoning states it (it is in the inferred graph)."""

    subject: Node
    predicate: Node
    object: Node
    inferred: bool


def statements(graph: Dataset, node: Node) -> tuple[list[Statement], list[Statement]]:
    """The triples of the dataset (asserted + inferred) with `node` as subject, then those with it as object."""
    inferred = graph.graph(INFERRED_GRAPH)  # what the closure adds, never what was asserted
    outgoing = [Statement(node, p, o, (node, p, o) in inferred) for p, o in set(graph.predicate_objects(node))]
    incoming = [Statement(s, p, node, (s, p, node) in inferred) for s, p in set(graph.subject_predicates(node))]
    return outgoing, incoming


# the quads about ?node, both ways, with the labels of the nodes they reach: what a description reads
_NEIGHBOURHOOD = """SELECT ?g ?s ?p ?o WHERE {
  { GRAPH ?g { ?node ?p ?o } BIND(?node AS ?s) }
  UNION { GRAPH ?g { ?s ?p ?node } BIND(?node AS ?o) }
  UNION { { ?node ?any ?s } UNION { ?s ?any ?node } GRAPH ?g { ?s rdfs:label ?o } BIND(rdfs:label AS ?p) }
}"""


def neighbourhood(store: Store, node: URIRef) -> Dataset:
    """What `describe` reads about `node`, fetched from `store` in one query (not the whole dataset)."""
    dataset = new_dataset()
    for graph, subject, predicate, obj in store.query(_NEIGHBOURHOOD, {Variable("node"): node}):
        dataset.graph(graph).add((subject, predicate, obj))
    return dataset


def describe(source: Store | Dataset, node: URIRef) -> Description:
    """Collect what the dataset (asserted + inferred) says about `node`, marking what only reasoning says: read
    in place from an rdflib dataset, else from the quads about it the store gives (kg.store)."""
    store = as_store(source)
    graph = store.dataset() if isinstance(store, MemoryStore) else neighbourhood(store, node)
    labels: dict[str, list[str]] = {}
    for value in graph.objects(node, RDFS.label):
        labels.setdefault(getattr(value, "language", None) or "", []).append(str(value))
    outgoing, incoming = statements(graph, node)
    return Description(
        node=node,
        labels={lang: sorted(values) for lang, values in sorted(labels.items())},
        types=sorted(curie(t) for t in graph.objects(node, RDF.type)),
        outgoing=sorted(
            (curie(s.predicate), _shown(graph, s.object), s.inferred)
            for s in outgoing
            if s.predicate not in (RDF.type, RDFS.label)
        ),
        incoming=sorted((_shown(graph, s.subject), curie(s.predicate), s.inferred) for s in incoming),
        claims=why_claims(store, node),
    )


def to_renderables(description: Description) -> list[RenderableType]:
    """Rich renderables: a heading, labels and types, the triples, then the supporting quotes."""
    from rich.markup import escape
    from rich.table import Table

    d = description
    head = f"[bold]{escape(curie(d.node))}[/bold]  {escape(str(d.node))}"
    facts = Table.grid(padding=(0, 2))
    for lang, values in d.labels.items():
        facts.add_row(f"label@{lang}" if lang else "label", escape("; ".join(values)))
    facts.add_row("types", escape(", ".join(d.types)) or "—")
    triples = Table("subject", "predicate", "object", "", title="statements (inferred: entailed by OWL RL, not stated)")
    for predicate, obj, inferred in d.outgoing:
        triples.add_row("(this)", escape(predicate), escape(obj), "inferred" if inferred else "")
    for subject, predicate, inferred in d.incoming:
        triples.add_row(escape(subject), escape(predicate), "(this)", "inferred" if inferred else "")
    quotes = Table("claim", "quote", title="supported by")
    for claim in d.claims:
        quotes.add_row(escape(claim.id), escape(f"“{claim.quote}”"))
    return [head, facts, triples, quotes]
