"""A read-only rdflib view of a SPARQL server's dataset: rdflib's Graph API read in place, each read a query to the
server, with no copy.

`kg serve --store sparql:URL` gives its pages this view instead of a copy of the dataset, which took seconds and
hundreds of MB at start-up on a large store and missed what other clients changed afterwards. It is rdflib's own
SPARQLStore (which turns each triple pattern into a SELECT or ASK), changed so: its requests go through kg's
SparqlStore (form-encoded POST, on which Virtuoso does not hang as on a direct `application/sparql-query` POST;
the credentials and time limit of $KG_SPARQL_*; a refusal is a StoreError naming the server), because rdflib's
own connector (urllib) sends no time limit, Basic credentials only and one default graph at most; the default graph is the union of the dataset's named graphs, not the server's own default graph (Virtuoso:
every graph it holds, its system graphs too), and the dataset's graphs are those named graphs only; naming a graph
(rdflib's `Dataset.graph`, which every reader calls) writes nothing; and a blank node is named in a query by the
IRI Virtuoso gives it in its answers (`nodeID://...`), which SPARQL itself cannot do (a blank node in a query is a
variable); a term no query can write (an IRI with a space) matches nothing; a whole graph read (an export, a
document) is counted too, so that a server's cap on result rows cannot cut it short unseen. A server that labels
its blank nodes otherwise is read from a copy (see `names_blank_nodes`).
"""

from __future__ import annotations

from collections.abc import Iterator

from rdflib import BNode, Dataset, Graph, Literal, URIRef, Variable
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from rdflib.query import Result
from rdflib.term import Node

from kg.errors import StoreError
from kg.load import is_iri, new_dataset
from kg.store import SparqlStore, check_whole

VIRTUOSO_BLANK = "nodeID://"  # how Virtuoso labels a blank node in its answers, and accepts it back as an IRI
_ANY_BLANK = "SELECT ?b WHERE { { ?b ?p ?o } UNION { ?s ?p ?b } FILTER(isBlank(?b)) } LIMIT 1"


def sparql_term(node: Node) -> str | None:
    """`node` (a term, or a pattern's variable) as a query writes it, None if no query can name it (an IRI with a
    space, another server's blank node)."""
    if isinstance(node, BNode):
        return f"<{node}>" if node.startswith(VIRTUOSO_BLANK) and is_iri(node) else None
    if isinstance(node, URIRef):
        return f"<{node}>" if is_iri(node) else None
    return node.n3() if isinstance(node, (Literal, Variable)) else None


def _written(node: Node) -> str:
    term = sparql_term(node)
    if term is None:
        raise StoreError(f"no SPARQL query can name {node!r}")
    return term


def _default(context: Graph | None) -> bool:
    """Whether `context` is rdflib's own default graph, named: empty, as in the memory store (the dataset is its
    named graphs; reading the union, rdflib passes no context)."""
    return context is not None and context.identifier == DATASET_DEFAULT_GRAPH_ID


class _ServerView(SPARQLStore):
    """rdflib's SPARQLStore over `server`'s dataset (see the module's docstring); `engine` (the attribute) is how
    kg.store.as_store finds the store that evaluates queries over this view."""

    def __init__(self, server: SparqlStore) -> None:
        # (no method or result format for rdflib's connector: every request goes through `_query`)
        super().__init__(server.url, node_to_sparql=_written)
        self.engine = server

    def _query(self, query: str, default_graph: str | None = None, named_graph: str | None = None) -> Result:
        return self.engine.query_trusted(query, [URIRef(default_graph)] if default_graph is not None else ())

    def triples(self, spo: tuple, context: Graph | None = None) -> Iterator:
        if any(term is not None and sparql_term(term) is None for term in spo) or _default(context):
            return iter(())  # a term no query can name is in none of the server's triples that a query reaches
        if spo != (None, None, None):
            return super().triples(spo, context)
        # a whole graph (an export, a document), counted too: a server's cap on result rows would cut it silently
        found = list(super().triples(spo, context))
        check_whole(self.engine.spec, len(found), self.__len__(context))
        return iter(found)

    def __len__(self, context: Graph | None = None) -> int:
        return 0 if _default(context) else super().__len__(context)

    def contexts(self, triple: tuple | None = None) -> Iterator[URIRef]:
        graphs = self.engine.graphs()
        holding = set(graphs if triple is None else super().contexts(triple))
        return (graph for graph in graphs if graph in holding)

    def add_graph(self, graph: Graph) -> None:
        """Nothing to record: on a read-only view a graph exists as a name, with or without triples."""


def in_memory(graph: Graph) -> Graph:
    """`graph` for a reader that walks it node by node (rdflib's serialisers: a lookup for each subject): from a
    SPARQL server's view, a copy read at once (the statements graph of a 20 k-triple generated project: 5975
    queries and 20 s as Turtle), else `graph` itself."""
    if not isinstance(graph.store, _ServerView):
        return graph
    copy = Graph()
    copy += graph
    return copy


def names_blank_nodes(server: SparqlStore) -> bool:
    """Whether a query can name every blank node of `server`'s dataset (it has none, or the server is Virtuoso)."""
    found = server.query(_ANY_BLANK, where="the blank nodes of the dataset").bindings
    return all(sparql_term(row[Variable("b")]) is not None for row in found)


def read_only_view(server: SparqlStore) -> Dataset:
    """`server`'s dataset as an rdflib Dataset whose default graph is the union of its graphs, read in place."""
    return new_dataset(_ServerView(server))
