"""Where the built dataset lives and is queried: one interface, three stores, chosen by a spec string.

- `memory`: the rdflib Dataset of the build (from the pickle cache), queried in process (the default);
- `oxigraph:PATH`: a pyoxigraph store persisted on disk at PATH, filled by `kg --store oxigraph:PATH build`;
- `oxigraph`: a pyoxigraph store in memory, for one command: the in-store build of a large graph (kg.instore),
  two to five times faster than on disk (writes above all: 100 k quads/s on disk, a million in memory);
- `sparql:URL`: any SPARQL 1.1 server: queries as form-encoded POST to URL (Virtuoso hangs on a direct
  `application/sparql-query` POST), updates to $KG_SPARQL_UPDATE_URL (default: URL), loading by the Graph Store
  Protocol (each graph in bounded requests) to $KG_SPARQL_GRAPH_STORE_URL, with the credentials in
  $KG_SPARQL_USER / $KG_SPARQL_PASSWORD (HTTP basic or digest, as the server asks).

Every store answers `query` with an rdflib Result (SELECT rows as rdflib terms, ASK a bool, CONSTRUCT/DESCRIBE a
graph), so result formatting and the tests do not depend on the store. `query` is the single entry point for
reading: it parses the text with rdflib first (one syntax and error report for all stores) and refuses, before
anything is sent, what would leave the dataset (SERVICE, FROM a foreign graph); updates go through `update`.

The dataset is its named graphs (ontology, statements, sources, inferred): a query's default graph is their
union on every store, and GRAPH ranges over them only. An oxigraph store on disk also keeps, in a file of its
directory, and a SPARQL store in BUILD_GRAPH (outside the dataset), the cache key of the inputs it was built
from, so a stale store is refused.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import urllib.parse
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rdflib import BNode, Dataset, Graph, Literal, URIRef, Variable
from rdflib.namespace import XSD
from rdflib.plugins.serializers.nt import _nt_row
from rdflib.query import Result
from rdflib.term import Node

from kg.errors import KgError, QueryError, StoreError, UsageError
from kg.load import is_iri, new_dataset
from kg.namespaces import BUILD_GRAPH, DCTERMS, GRAPH, PREFIXES, RDFS, SKOS
from kg.triple_batches import triple_batches

if TYPE_CHECKING:
    import httpx
    from rdflib.plugins.sparql.sparql import Query

STORE_ENV = "KG_STORE"
SPARQL_UPDATE_URL_ENV = "KG_SPARQL_UPDATE_URL"
GRAPH_STORE_URL_ENV = "KG_SPARQL_GRAPH_STORE_URL"
SPARQL_USER_ENV = "KG_SPARQL_USER"
SPARQL_PASSWORD_ENV = "KG_SPARQL_PASSWORD"
KINDS = ("memory", "oxigraph:PATH", "oxigraph", "sparql:URL")
_HTTP_TIMEOUT = 300  # seconds: loading a large graph on a busy 2-core machine
# triples per Graph Store request: Virtuoso's loader inserts a larger body in batches on parallel threads, which
# deadlock at random (its 500 "SR172: Transaction deadlocked" on one 200 k-triple PUT in four)
_LOAD_BATCH = 50_000
_SMALL_BODY = 65_536  # bytes: a body a server's 401 cannot cut off (the socket's buffers take it whole)
BUILD_KEY_FILE = "kg-build-key"  # in an oxigraph:PATH directory: the cache key of the inputs it was built from
_PROLOGUE = "".join(f"PREFIX {prefix}: <{namespace}>\n" for prefix, namespace in PREFIXES.items())
_ALL_QUADS = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
_COUNT_QUADS = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
NAME_PREDICATES = (RDFS.label, SKOS.altLabel, SKOS.prefLabel)
_MENTIONED = "ASK { { ?node ?p ?o } UNION { ?s ?p ?node } }"
_NAMES = f"""SELECT ?node ?name WHERE {{
  VALUES ?predicate {{ {" ".join(f"<{p}>" for p in NAME_PREDICATES)} }}
  ?node ?predicate ?name FILTER(isIRI(?node))
}}"""
_NAMES_CONTAINING = _NAMES.replace("FILTER(isIRI(?node))", "FILTER(isIRI(?node) && CONTAINS(LCASE(STR(?name)), ?part))")


class Store(Protocol):
    """What every store offers. `spec` is how it was named (`memory`, `oxigraph:PATH`, `sparql:URL`)."""

    spec: str

    def load(self, dataset: Dataset) -> None:
        """Replace the store's dataset with the named graphs of `dataset` (quads; blank nodes kept)."""

    def query(
        self,
        text: str,
        bindings: Mapping[Variable, Node] | None = None,
        where: str = "query",
        allow_service: bool = False,
        dataset: tuple[Sequence[str], Sequence[str]] | None = None,
        limit: int | None = None,
    ) -> Result:
        """Run a SPARQL query (project prefixes predeclared) with `bindings` pre-bound; QueryError naming
        `where` when it does not parse, reaches outside the dataset, or fails while running. `allow_service`
        answers SERVICE <Wikidata> from the enrichment cache graph (kg.sparql.service_offline). `dataset`, the
        SPARQL protocol's (default graph IRIs, named graph IRIs), replaces the query's FROM / FROM NAMED. `limit`:
        a SELECT answer holds at most that many rows (memory, oxigraph: no more are evaluated)."""

    def update(self, text: str) -> None:
        """Run SPARQL 1.1 Update (project prefixes predeclared). Name the target graph (GRAPH <...>): the
        default graph of an update is the store's own, not the union that queries see."""

    def graphs(self) -> list[URIRef]:
        """The non-empty named graphs of the dataset."""

    def dataset(self) -> Dataset:
        """The whole dataset as an rdflib Dataset (for exports and `kg describe`)."""

    def view(self) -> Dataset:
        """The dataset for readers of rdflib's Graph API (`kg serve`'s pages): read in place where the store
        allows it, else a copy (`dataset()`)."""

    def names(self, part: str = "") -> list[tuple[URIRef, Literal]]:
        """(node, name) for every rdfs:label, skos:altLabel and skos:prefLabel of an IRI (to resolve entities); only
        the names whose lower case contains `part`, if given (the store filters: a few names instead of all)."""

    def mentions(self, node: URIRef) -> bool:
        """Whether `node` occurs in the dataset, as a subject or an object."""

    def literals(self, graphs: Sequence[URIRef]) -> set[tuple[str, str | None]]:
        """(lexical form, language tag or None) of every literal object of named graphs `graphs`, each pair once:
        the words a dataset uses (kg.ask), read by the store itself, where rdflib's Graph API over a view would
        convert every term of every triple."""

    def names_by(self, predicates: Sequence[URIRef]) -> set[tuple[URIRef, URIRef, str, str | None]]:
        """(node, predicate, lexical form, language tag or None) of every literal value of `predicates` whose
        subject is an IRI, each once: the names kg.ask indexes, read by the store itself (see `literals`)."""

    def build_key(self) -> str | None:
        """The cache key of the inputs the stored dataset was built from (None if never recorded)."""

    def set_build_key(self, key: str) -> None:
        """Record the cache key of the inputs the stored dataset was built from."""

    def close(self) -> None:
        """Release what the store holds (a store on disk: its files, for other readers and writers)."""


def parse_spec(spec: str) -> tuple[str, str]:
    """(kind, argument) of a store spec; UsageError naming the spec and the accepted forms if malformed."""
    kind, colon, argument = spec.strip().partition(":")
    accepted = f"use one of {', '.join(KINDS)}"
    if kind in ("memory", "oxigraph") and not colon:
        return kind, ""
    if kind == "oxigraph" and argument.strip():
        return kind, argument.strip()
    if kind == "sparql" and re.match(r"https?://[^/\s]+\S*$", argument.strip()):
        return kind, argument.strip()
    if kind in ("oxigraph", "sparql"):
        raise UsageError(f"store spec {spec!r} lacks its {'PATH' if kind == 'oxigraph' else 'http(s) URL'}; {accepted}")
    raise UsageError(f"unknown store spec {spec!r}; {accepted}")


def open_store(spec: str, built: Callable[[], Dataset], key: Callable[[], str]) -> Store:
    """The store `spec` names, ready to query (oxigraph: read-only). `memory` holds `built()` (the build of the
    current inputs); the others must hold a build of the inputs whose cache key is `key()`, else StoreError
    (absent or stale)."""
    kind, argument = parse_spec(spec)
    if kind == "memory":
        return MemoryStore(built())
    if kind == "oxigraph" and not argument:
        raise StoreError(
            "an in-memory oxigraph store lives for one command: build in it (`kg --store oxigraph build --reasoner "
            "rules --validator sparql`), or give oxigraph:PATH to keep the store for queries"
        )
    store: Store = OxigraphStore(Path(argument), create=False) if kind == "oxigraph" else SparqlStore(argument)
    check_fresh(store, key())
    return store


def create_store(spec: str) -> Store:
    """The store `spec` names, writable, to be (re)filled by `load` and changed by `update` (an oxigraph
    directory is created if absent)."""
    kind, argument = parse_spec(spec)
    if kind == "memory":
        return MemoryStore(new_dataset())
    if kind == "oxigraph":
        return OxigraphStore(Path(argument) if argument else None, create=True)
    return SparqlStore(argument)


def check_fresh(store: Store, key: str) -> None:
    """StoreError unless `store` holds a build of the inputs whose cache key (kg.build.cache_key) is `key`."""
    recorded = store.build_key()
    rebuild = f"run `kg --store {store.spec} build`"
    if recorded is None:
        raise StoreError(f"store {store.spec} holds no build of this project; {rebuild}")
    if recorded != key:
        raise StoreError(f"store {store.spec} is stale: its inputs or the kg code changed since it was built; {rebuild}")


def as_store(source: Store | Graph) -> Store:
    """A store for `source`: a Store as is; a view read in place (kg.view, kg.sparql_view) the store it reads, whose
    engine evaluates the queries (rdflib's would read the view one triple pattern and solution at a time: on a
    SPARQL server a request each, on Oxigraph a term conversion each); another rdflib Graph/Dataset wrapped in a
    MemoryStore."""
    if not isinstance(source, Graph):
        return source
    return getattr(source.store, "engine", None) or MemoryStore(source)


class _Checked:
    """The part every store shares: parse, refuse what leaves the dataset, then `_execute` (per store)."""

    spec: str

    def graphs(self) -> list[URIRef]:
        raise NotImplementedError

    def _execute(self, text: str, prepared: Query, bindings: Mapping[Variable, Node], limit: int | None) -> Result:
        """Evaluate `text`; its dataset is `prepared`'s dataset clause (the protocol's or its own FROM), if any,
        else the store's own graphs (their union as default graph)."""
        raise NotImplementedError

    def query(
        self,
        text: str,
        bindings: Mapping[Variable, Node] | None = None,
        where: str = "query",
        allow_service: bool = False,
        dataset: tuple[Sequence[str], Sequence[str]] | None = None,
        limit: int | None = None,
    ) -> Result:
        from kg.sparql import check_offline, prepare, service_offline, with_dataset

        def prepared_of(text: str) -> Query:
            return prepare(text, where) if dataset is None else with_dataset(prepare(text, where), *dataset)

        prepared = prepared_of(text)
        check_offline(prepared, self.graphs(), where, allow_service)
        if allow_service:  # SERVICE <Wikidata> answered from the enrichment cache; then nothing may be left to fetch
            text = service_offline(text)
            prepared = prepared_of(text)
            check_offline(prepared, self.graphs(), where)
        try:
            return self._execute(text, prepared, bindings or {}, limit)
        except (KgError, MemoryError):  # (out of memory is the machine's limit, not the query's mistake)
            raise
        except Exception as exc:  # evaluation errors: type errors in functions, recursion, server errors...
            raise QueryError(f"{where}: the query failed while running: {exc}") from None

    def names(self, part: str = "") -> list[tuple[URIRef, Literal]]:
        answer = self.query(_NAMES_CONTAINING, {Variable("part"): Literal(part)}) if part else self.query(_NAMES)
        return [(node, name) for node, name in answer]

    def mentions(self, node: URIRef) -> bool:
        return bool(self.query(_MENTIONED, {Variable("node"): node}).askAnswer)

    def literals(self, graphs: Sequence[URIRef]) -> set[tuple[str, str | None]]:
        if not graphs:
            return set()
        rows = self._distinct_rows(_literals_query(graphs))
        return {(str(text), text.language) for (text,) in rows}

    def names_by(self, predicates: Sequence[URIRef]) -> set[tuple[URIRef, URIRef, str, str | None]]:
        where = f"{values_clause(Variable('p'), predicates)} ?s ?p ?name FILTER(isIRI(?s) && isLiteral(?name))"
        rows = self._distinct_rows(f"SELECT DISTINCT ?s ?p ?name WHERE {{ {where} }}")
        return {(node, predicate, str(name), name.language) for node, predicate, name in rows}

    def _distinct_rows(self, select: str) -> list[tuple[Node, ...]]:
        """The rows of `select` (a SELECT DISTINCT) in the order of its variables, counted too: a server's cap on
        result rows would cut the answer short unseen."""
        found = self.query(select)
        count = self.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {select} }}").bindings[0][Variable("n")]
        check_whole(self.spec, len(found.bindings), count.toPython())
        return [tuple(row.get(var) for var in found.vars) for row in found.bindings]

    def dataset(self) -> Dataset:
        result = self.query(_ALL_QUADS)
        expected = self.query(_COUNT_QUADS).bindings[0][Variable("n")].toPython()
        check_whole(self.spec, len(result.bindings), expected)
        dataset = new_dataset()
        for row in result.bindings:
            dataset.graph(row[Variable("g")]).add((row[Variable("s")], row[Variable("p")], row[Variable("o")]))
        return dataset

    def view(self) -> Dataset:
        return self.dataset()


def check_whole(spec: str, returned: int, expected: int) -> None:
    """StoreError unless store `spec` returned all `expected` triples or quads it was asked for: a server's cap on
    result rows cuts answers short without saying so."""
    if returned != expected:
        raise StoreError(
            f"store {spec} returned {returned} of its {expected} quads: raise the server's limit on result rows "
            "(Virtuoso: ResultSetMaxRows in [SPARQL])"
        )


def _grouped_aggregate(ctx, part):
    """rdflib's evaluation of a GROUP BY with aggregates: rdflib yields one empty row when no solution reaches
    the grouping, where SPARQL (§18.5, Group) makes no group and so no row; Oxigraph and Virtuoso make none.
    Registered in rdflib's CUSTOM_EVALS: the input is evaluated once, and handed to rdflib's own
    evalAggregateJoin only when it has a first solution."""
    from rdflib.plugins.sparql.evaluate import evalAggregateJoin, evalPart
    from rdflib.plugins.sparql.parserutils import CompValue

    if part.name == _REPLAY:
        return part.solutions
    if part.name != "AggregateJoin" or part.p.expr is None:  # (no GROUP BY: one group, even of nothing)
        raise NotImplementedError

    def rows():
        solutions = iter(evalPart(ctx, part.p))
        first = next(solutions, None)
        if first is not None:
            replay = CompValue(_REPLAY, solutions=itertools.chain([first], solutions))
            yield from evalAggregateJoin(ctx, CompValue("AggregateJoin", A=part.A, p=CompValue(
                "Group", p=replay, expr=part.p.expr)))

    return rows()


_REPLAY = "kgReplay"  # the algebra node that hands solutions already evaluated back to rdflib


def fix_rdflib_sparql() -> None:
    """Register `_grouped_aggregate` with rdflib's SPARQL engine: called where rdflib evaluates SPARQL (the memory
    store, pyshacl), not at import, which would load rdflib's SPARQL engine (55 ms) for every command."""
    from rdflib.plugins.sparql import CUSTOM_EVALS

    CUSTOM_EVALS["kg-grouped-aggregate"] = _grouped_aggregate


class MemoryStore(_Checked):
    """The rdflib Dataset in this process (its default graph is the union of its named graphs)."""

    spec = "memory"

    def close(self) -> None:
        """Nothing to release: the dataset is the process's."""

    def __init__(self, dataset: Graph, held: Collection[URIRef] = ()) -> None:
        self._dataset = dataset
        self._held = frozenset(held)  # graphs of the dataset even while empty (kg serve --graph of an empty file)

    def graphs(self) -> list[URIRef]:
        contexts = getattr(self._dataset, "contexts", lambda: [])()
        return sorted({c.identifier for c in contexts if isinstance(c.identifier, URIRef) and len(c)} | self._held)

    def _execute(self, text: str, prepared: Query, bindings: Mapping[Variable, Node], limit: int | None) -> Result:
        if limit is not None and prepared.algebra.name == "SelectQuery":
            prepared = _sliced(prepared, limit)
        fix_rdflib_sparql()
        result = self._dataset.query(prepared, initBindings=dict(bindings))
        if result.type == "SELECT":
            result.bindings  # noqa: B018 - rdflib is lazy: evaluate now, so that a failure is a QueryError
        elif result.type == "CONSTRUCT":  # rdflib keeps what the template makes of any binding; Oxigraph does not
            for triple in [t for t in result.graph if not _is_rdf(t)]:
                result.graph.remove(triple)
        return result

    def update(self, text: str) -> None:
        import rdflib.plugins.sparql as sparql

        # rdflib fetches an update's USING graphs from the web unless told to read them from the dataset
        saved, sparql.SPARQL_LOAD_GRAPHS = sparql.SPARQL_LOAD_GRAPHS, False
        try:
            self._dataset.update(text, initNs=PREFIXES)
        finally:
            sparql.SPARQL_LOAD_GRAPHS = saved

    def load(self, dataset: Dataset) -> None:
        self._dataset = new_dataset()
        for graph in dataset.contexts():
            self._dataset.graph(graph.identifier).__iadd__(graph)

    def dataset(self) -> Dataset:
        return self._dataset  # type: ignore[return-value]

    def mentions(self, node: URIRef) -> bool:
        # rdflib's indexes, not SPARQL: a cold `kg query` would pay ~100 ms to parse the ASK
        return (node, None, None) in self._dataset or (None, None, node) in self._dataset

    def literals(self, graphs: Sequence[URIRef]) -> set[tuple[str, str | None]]:
        objects = (o for graph in graphs for o in self._dataset.graph(graph).objects())
        return {(str(o), o.language) for o in objects if isinstance(o, Literal)}

    def names_by(self, predicates: Sequence[URIRef]) -> set[tuple[URIRef, URIRef, str, str | None]]:
        return {
            (node, predicate, str(name), name.language)
            for predicate in predicates for node, name in self._dataset.subject_objects(predicate)
            if isinstance(node, URIRef) and isinstance(name, Literal)
        }

    def names(self, part: str = "") -> list[tuple[URIRef, Literal]]:
        # straight from rdflib's indexes: 2 ms where the SPARQL form takes 40 (entity parameters of every query)
        pairs = (pair for predicate in NAME_PREDICATES for pair in self._dataset.subject_objects(predicate))
        return [(node, name) for node, name in pairs if isinstance(node, URIRef) and part in str(name).lower()]

    def build_key(self) -> str | None:
        return None

    # kg.closure.TripleAccess: rdflib's own terms
    literal_type = Literal

    def pairs(self, graphs: Sequence[URIRef], predicate: Node, obj: Node | None) -> Iterable[tuple[Node, Node]]:
        for graph in graphs:
            for subject, _, found in self._dataset.graph(graph).triples((None, predicate, obj)):
                yield subject, found

    def add_triples(self, graph: URIRef, triples: Iterable[tuple[Node, Node, Node]]) -> None:
        target = self._dataset.graph(graph)
        target.addN((s, p, o, target) for s, p, o in triples)

    def native(self, node: Node) -> Node:
        return node

    def set_build_key(self, key: str) -> None:
        """Nothing to record: the memory store is the build itself."""


def _is_rdf(triple: tuple[Node, Node, Node]) -> bool:
    """Whether a CONSTRUCT template's triple is RDF: SPARQL 1.1 (16.2) leaves out any other, such as one with a
    literal subject or predicate, or a string that is no IRI (IRI("a b"))."""

    def iri(term: Node) -> bool:
        return isinstance(term, URIRef) and is_iri(term)

    subject, predicate, obj = triple
    return (iri(subject) or isinstance(subject, BNode)) and iri(predicate) and (
        iri(obj) or isinstance(obj, (BNode, Literal)))


def _sliced(prepared: Query, limit: int) -> Query:
    """A copy of SELECT query `prepared` that stops after `limit` rows (rdflib evaluates no more)."""
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.plugins.sparql.sparql import Query as Prepared

    algebra = CompValue(prepared.algebra.name, **prepared.algebra)
    algebra["p"] = CompValue("Slice", p=prepared.algebra["p"], start=0, length=limit)
    return Prepared(prepared.prologue, algebra)


class OxigraphStore(_Checked):
    """A pyoxigraph store persisted in directory `path`: opened for writing by `create_store` (one writer, which
    holds the directory's lock), read-only by `open_store` (any number of readers, e.g. a server and `kg query`);
    with no `path`, a writable store in memory.

    Oxigraph 0.5 stores a literal of a type derived from xsd:integer (xsd:positiveInteger, xsd:int, ...) as an
    xsd:integer: its value is kept, its datatype lost (the project's data uses none of those types)."""

    def __init__(self, path: Path | None, create: bool) -> None:
        import pyoxigraph

        self.spec = f"oxigraph:{path}" if path else "oxigraph"
        self.on_disk = path is not None
        self._ox = pyoxigraph
        self._key_file = path / BUILD_KEY_FILE if path else None
        if path is None:
            self._store = pyoxigraph.Store()
            return
        if not create and not path.is_dir():
            raise StoreError(f"no oxigraph store at {path}; create it with `kg --store {self.spec} build`")
        # (RocksDB's CURRENT file marks a store: its files must not land among a directory's other files)
        if create and path.is_dir() and any(path.iterdir()) and not (path / "CURRENT").is_file():
            raise StoreError(f"{path} holds files but no oxigraph store: give an empty or new directory")
        try:
            if create:
                path.mkdir(parents=True, exist_ok=True)
            self._store = pyoxigraph.Store(str(path)) if create else pyoxigraph.Store.read_only(str(path))
        except OSError as exc:
            raise StoreError(f"cannot open the oxigraph store at {path}: {exc}") from None

    def close(self) -> None:
        """Release the store on disk now (its files flushed), not whenever the collector frees this object: a
        reader opened in the same process meanwhile would find RocksDB's files changing under it."""
        self._store.flush()
        del self._store

    def graphs(self) -> list[URIRef]:
        return sorted(URIRef(g.value) for g in self._store.named_graphs() if isinstance(g, self._ox.NamedNode))

    def view(self) -> Dataset:
        from kg.view import read_only_view

        return read_only_view(self)

    def rdflib_dataset(self) -> Dataset:
        """The store as an rdflib Dataset (oxrdflib's) that reads in place, by index look-up, and writes into it:
        for the build's own code on rdflib's Graph API over a store too large to copy."""
        from oxrdflib import OxigraphStore as RdflibOxigraph

        return new_dataset(RdflibOxigraph(store=self._store))

    def _execute(self, text: str, prepared: Query, bindings: Mapping[Variable, Node], limit: int | None) -> Result:
        ox = self._ox
        own = self.graphs()
        defaults, named = query_dataset(prepared, own)
        # The store holds the dataset's named graphs and nothing else, so a query with no dataset clause runs on
        # their union as Oxigraph builds it, twice as fast on large answers as the same graphs listed (2 M
        # triples: commitments 2.2 s -> 1.0 s).
        dataset = (
            {"use_default_graph_as_union": True}
            if (defaults, named) == (own, own)
            else {"default_graph": [ox.NamedNode(g) for g in defaults], "named_graphs": [ox.NamedNode(g) for g in named]}
        )
        answer = self._store.query(with_prefixes(bind_values(text, bindings)), **dataset)
        if isinstance(answer, ox.QueryBoolean):
            return _ask(bool(answer))
        if isinstance(answer, ox.QueryTriples):
            return _graph_result(prepared, answer.serialize(format=ox.RdfFormat.N_TRIPLES), "nt")
        result = Result("SELECT")
        names = [(var, Variable(var.value)) for var in answer.variables]
        result.vars = [variable for _, variable in names]
        converted: dict[object, Node] = {}  # each distinct term converted once (large answers repeat their terms)

        def term(value: object) -> Node:
            node = converted.get(value)
            if node is None:
                node = converted[value] = normalised(self._term(value))
            return node

        result.bindings = [  # solutions taken one by one: evaluation stops at `limit`
            {variable: term(value) for (_, variable), value in zip(names, solution) if value is not None}
            for solution in itertools.islice(answer, limit)
        ]
        return result

    def _term(self, term: object) -> Node:
        """A pyoxigraph term as rdflib's."""
        node = from_oxigraph(term)
        if node is None:
            raise StoreError(f"store {self.spec} answered a term rdflib cannot hold: {term}")
        return node

    def literals(self, graphs: Sequence[URIRef]) -> set[tuple[str, str | None]]:
        # Oxigraph's own terms, made distinct by the query (2.5 times as fast as reading the graphs' quads)
        if not graphs:
            return set()
        answer = self._store.query(_literals_query(graphs))
        return {(text.value, text.language) for (text,) in answer}

    def names_by(self, predicates: Sequence[URIRef]) -> set[tuple[URIRef, URIRef, str, str | None]]:
        ox, nodes = self._ox, {}  # (a node has a few names: its IRI made once)
        found = set()
        for predicate in predicates:
            for quad in self._store.quads_for_pattern(None, ox.NamedNode(predicate), None, None):
                node, name = quad.subject, quad.object
                if isinstance(node, ox.NamedNode) and isinstance(name, ox.Literal):
                    iri = nodes.get(node.value) or nodes.setdefault(node.value, URIRef(node.value))
                    found.add((iri, predicate, name.value, name.language))
        return found

    def update(self, text: str) -> None:
        self._forget_build()
        self._store.update(with_prefixes(text))

    def load(self, dataset: Dataset) -> None:
        self._forget_build()
        self._store.clear()
        self._store.bulk_load(_nquads(dataset), format=self._ox.RdfFormat.N_QUADS)
        self._store.flush()

    def add_turtle(self, path: Path, graph: URIRef) -> None:
        """Add a Turtle file to named graph `graph`, parsed by Oxigraph itself (ten times faster than through
        rdflib). Oxigraph's SyntaxError (with the line) or OSError pass up to the caller, which names the file."""
        self._store.bulk_load(
            path=str(path), format=self._ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri(),
            to_graph=self._ox.NamedNode(graph),
        )
        self._store.flush()

    def replace_with(self, source: OxigraphStore) -> None:
        """Replace this store's dataset with `source`'s in one bulk write (an in-store build works in memory and
        then persists: 2 M triples built and written in about half the time of building on disk)."""
        self._forget_build()
        self._store.clear()
        self._store.bulk_extend(source._store.quads_for_pattern(None, None, None, None))
        self._store.flush()

    def nquads(self, graphs: Sequence[URIRef]) -> bytes:
        """Named graphs `graphs` as N-Quads, serialised by Oxigraph (a million quads a second, where rdflib
        writes about 50 k)."""
        ox = self._ox
        quads = (q for g in graphs for q in self._store.quads_for_pattern(None, None, None, ox.NamedNode(g)))
        return ox.serialize(quads, format=ox.RdfFormat.N_QUADS)

    def serialize_graphs(self, graphs: Sequence[URIRef], fmt: str, union: bool) -> bytes:
        """Named graphs `graphs` in Oxigraph's format `fmt` (a pyoxigraph.RdfFormat name) with the project's
        prefixes: as one graph, each triple once, if `union`, else as named graphs."""
        ox = self._ox
        quads = (q for g in graphs for q in self._store.quads_for_pattern(None, None, None, ox.NamedNode(g)))
        statements = dict.fromkeys(q.triple for q in quads) if union else quads  # (dict: the union's set, in order)
        prefixes = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
        return ox.serialize(statements, format=getattr(ox.RdfFormat, fmt), prefixes=prefixes)

    def query_trusted(self, text: str, graphs: Sequence[URIRef] = ()) -> Result:
        """A SELECT of the project's own (generated from the shapes, or a quality check), over `graphs` when given:
        no rdflib parse and no offline check, which cost more than Oxigraph takes to answer it (about 50 ms a
        query, 10 s for the checks of shapes.ttl)."""
        scope = {"default_graph": [self._ox.NamedNode(g) for g in graphs]} if graphs else {}
        answer = self._store.query(with_prefixes(text), **scope)
        try:
            return parse_select(answer.serialize(format=self._ox.QueryResultsFormat.JSON))
        finally:
            # pyoxigraph's solutions must be dropped on the thread that made them (kg.shacl_sparql runs queries
            # on threads): an evaluation error would carry them, in this frame, to the thread that handles it
            del answer

    # kg.closure.TripleAccess: pyoxigraph's terms, never converted (2 M triples: seconds saved)
    @property
    def literal_type(self) -> type:
        return self._ox.Literal

    def pairs(self, graphs: Sequence[URIRef], predicate: object, obj: object | None) -> Iterable[tuple[object, object]]:
        for graph in graphs:
            for quad in self._store.quads_for_pattern(None, predicate, obj, self._ox.NamedNode(graph)):
                yield quad.subject, quad.object

    def add_triples(self, graph: URIRef, triples: Iterable[tuple[object, object, object]]) -> None:
        target = self._ox.NamedNode(graph)
        self._store.bulk_extend(self._ox.Quad(s, p, o, target) for s, p, o in triples)
        self._store.flush()

    def native(self, node: Node) -> object:
        return to_oxigraph(node)

    # The build key lives in a file of the store's directory, not in a graph: every graph of the store is then
    # the dataset's, and a query with no dataset clause can run on Oxigraph's union of them (see _execute).
    def build_key(self) -> str | None:
        try:
            return self._key_file.read_text(encoding="utf-8").strip() if self._key_file else None
        except FileNotFoundError:
            return None

    def set_build_key(self, key: str) -> None:
        from kg.files import write_atomic

        self._store.flush()
        if self._key_file:
            write_atomic(self._key_file, key.encode())

    def _forget_build(self) -> None:
        """Drop the build key before the dataset changes: a store left half-written is then refused."""
        if self._key_file:
            self._key_file.unlink(missing_ok=True)


class SparqlStore(_Checked):
    """A SPARQL 1.1 server: the query and update services over HTTP (protocol, form-encoded POST)."""

    def __init__(self, url: str) -> None:
        self.spec = f"sparql:{url}"
        self.url = url
        self.update_url = os.environ.get(SPARQL_UPDATE_URL_ENV) or url
        self.graph_store_url = os.environ.get(GRAPH_STORE_URL_ENV)
        self._graphs: list[URIRef] | None = None
        import httpx  # (here: the other stores do without its import time)

        from kg.server_auth import ServerAuth

        user = os.environ.get(SPARQL_USER_ENV)
        self._auth = ServerAuth(user, os.environ.get(SPARQL_PASSWORD_ENV, "")) if user else None
        # no connection kept alive: `kg serve` forks its workers from the process holding this store
        self._http = httpx.Client(auth=self._auth, timeout=_HTTP_TIMEOUT, limits=httpx.Limits(max_keepalive_connections=0))

    def close(self) -> None:
        """Close the HTTP client (no connection is kept alive, but the client holds its pool until closed)."""
        self._http.close()

    def _post(self, url: str, fields: list[tuple[str, str]], accept: str) -> bytes:
        """POST form `fields` to `url` (the protocol's form encoding), accepting `accept`."""
        body = urllib.parse.urlencode(fields).encode()
        return self._send(url, body, "application/x-www-form-urlencoded", "POST", accept)

    def _send(self, url: str, body: bytes, content_type: str, method: str, accept: str = "*/*") -> bytes:
        """The response to one request; StoreError naming the URL when it cannot be reached or refuses."""
        import httpx

        try:
            if self._auth is not None and self._auth.scheme is None and len(body) > _SMALL_BODY:
                self._http.head(url)  # learn the authentication scheme before a large body goes (see ServerAuth)
            response = self._http.request(method, url, content=body, headers={"Accept": accept, "Content-Type": content_type})
        except httpx.HTTPError as exc:
            raise StoreError(f"cannot reach the SPARQL server {url}: {exc}") from None
        if response.status_code >= 400:
            raise StoreError(f"SPARQL server {url} answered {response.status_code} {response.reason_phrase}: {_refusal(response)}")
        return response.content

    def _select(self, text: str) -> Result:
        """A SELECT over the whole server (not limited to the dataset): for bookkeeping queries."""
        return parse_select(self._post(self.url, [("query", text)], "application/sparql-results+json"))

    def graphs(self) -> list[URIRef]:
        # the server may hold other graphs (Virtuoso: its own system graphs): the dataset is the project's.
        # Asked once, then kept until this store changes them (a query would otherwise cost two requests).
        if self._graphs is None:
            answer = self._select(
                f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), {_iri_string(GRAPH)})) }}"
            )
            self._graphs = sorted(g for g in (row[0] for row in answer) if g != BUILD_GRAPH)
        return self._graphs

    def _execute(self, text: str, prepared: Query, bindings: Mapping[Variable, Node], limit: int | None) -> Result:
        # the dataset goes as the protocol's parameters only, so that the server sees `prepared`'s.
        defaults, named = query_dataset(prepared, self.graphs())
        if prepared.algebra.get("datasetClause"):  # Virtuoso lets a query's FROM win over the protocol's dataset
            text = without_dataset_clause(text)
        if limit is not None:  # so that the server stops there too, instead of sending its whole answer
            text = with_limit(text, prepared, limit)
        fields = [("query", with_prefixes(bind_values(text, bindings)))]
        fields += [("default-graph-uri", str(g)) for g in defaults] + [("named-graph-uri", str(g)) for g in named]
        if prepared.algebra.name in ("ConstructQuery", "DescribeQuery"):
            return _graph_result(prepared, self._post(self.url, fields, "text/turtle"), "turtle")
        body = self._post(self.url, fields, "application/sparql-results+json")
        if prepared.algebra.name == "AskQuery":
            return _ask(bool(json.loads(body)["boolean"]))
        result = parse_select(body)
        result.bindings = result.bindings[:limit]  # (a query with a trailing VALUES clause went unlimited)
        return result

    def query_trusted(self, text: str, graphs: Sequence[URIRef] = ()) -> Result:
        """A SELECT of the project's own (generated from the shapes, or a quality check) over its FROM graphs,
        else `graphs`, else the dataset: no rdflib parse and no offline check, which took 2.4 s of the 2.8 s
        the checks of shapes.ttl took on Virtuoso."""
        fields = [("query", with_prefixes(text))]
        if without_dataset_clause(text) == text:
            fields += [("default-graph-uri", str(g)) for g in graphs or self.graphs()]
        return parse_select(self._post(self.url, fields, "application/sparql-results+json"))

    def update(self, text: str) -> None:
        self._graphs = None
        self._post(self.update_url, [("update", with_prefixes(text))], "*/*")

    def load(self, dataset: Dataset) -> None:
        # the Graph Store Protocol (a PUT, then POSTs) keeps blank nodes and every literal's datatype; SPARQL Update
        # does not on Virtuoso (INSERT DATA refuses blank nodes, INSERT ... WHERE {} makes "2"^^xsd:decimal an
        # integer)
        if not self.graph_store_url:
            raise StoreError(
                f"loading {self.spec} needs its Graph Store Protocol endpoint in ${GRAPH_STORE_URL_ENV} "
                "(Virtuoso: http://HOST:PORT/sparql-graph-crud-auth)"
            )
        for graph in [*self.graphs(), BUILD_GRAPH]:
            self.update(f"DROP SILENT GRAPH <{graph}>")
        for graph in dataset.contexts():
            if isinstance(graph.identifier, URIRef) and len(graph):
                # Virtuoso's Graph Store makes an xsd:integer beyond 32 bits an xsd:decimal; its SPARQL Update
                # keeps it (up to 64 bits), so those triples go by INSERT DATA (which refuses blank nodes)
                wide = {(s, p, o) for s, p, o in graph if _wide_integer(o) and not isinstance(s, BNode)}
                target = f"{self.graph_store_url}?{urllib.parse.urlencode({'graph': str(graph.identifier)})}"
                # in bounded requests: the first replaces the graph (PUT), the others add to it (POST)
                batches = triple_batches((triple for triple in graph if triple not in wide), _LOAD_BATCH)
                for number, batch in enumerate(batches):
                    # rdflib's own N-Triples rows (a Graph per batch to serialize cost more than the server's load)
                    body = "".join(map(_nt_row, batch)).encode("utf-8")
                    self._send(target, body, "application/n-triples", "POST" if number else "PUT")
                if wide:
                    triples = " ".join(f"{s.n3()} {p.n3()} {o.n3()} ." for s, p, o in sorted(wide))
                    self.update(f"INSERT DATA {{ GRAPH <{graph.identifier}> {{ {triples} }} }}")
        self._graphs = None

    def view(self) -> Dataset:
        from kg.sparql_view import names_blank_nodes, read_only_view

        # in place, a query a read, where a query can name the dataset's blank nodes again (Virtuoso); else a copy
        return read_only_view(self) if names_blank_nodes(self) else self.dataset()

    def build_key(self) -> str | None:
        answer = self._select(f"SELECT ?key WHERE {{ GRAPH <{BUILD_GRAPH}> {{ ?b <{DCTERMS.identifier}> ?key }} }}")
        return next((str(row[0]) for row in answer), None)

    def set_build_key(self, key: str) -> None:
        self.update(f"DROP SILENT GRAPH <{BUILD_GRAPH}>")
        self.update(f"INSERT DATA {{ GRAPH <{BUILD_GRAPH}> {{ <{BUILD_GRAPH}> <{DCTERMS.identifier}> {Literal(key).n3()} }} }}")


def _refusal(response: httpx.Response) -> str:
    """The server's own words for a refusal: an HTML page's text (Virtuoso's Graph Store: "Error 40001 SR172:
    Transaction deadlocked"), else the first line of the body (the reason, not the echo of the query)."""
    if "html" in response.headers.get("content-type", ""):
        from kg.page_text import page_text  # (read only here: html.parser is not worth every command's start-up)

        return page_text(response.text)[:500]
    return response.text.strip().split("\n")[0][:500]


def _wide_integer(term: Node) -> bool:
    """An xsd:integer literal beyond 32 bits that fits in 64."""
    if not (isinstance(term, Literal) and term.datatype == XSD.integer and isinstance(term.value, int)):
        return False
    return not -(2**31) <= term.value < 2**31 and -(2**63) <= term.value < 2**63


def query_dataset(prepared: Query, own: list[URIRef]) -> tuple[list[URIRef], list[URIRef]]:
    """(default graphs, named graphs) a query runs over: its dataset clause's, else the store's own graphs."""
    clause = prepared.algebra.get("datasetClause")
    if not clause:
        return own, own
    return [c["default"] for c in clause if "default" in c], [c["named"] for c in clause if "named" in c]


def _iri_string(iri: str) -> str:
    return Literal(str(iri)).n3()


def to_oxigraph(node: Node) -> object:
    """An rdflib IRI, blank node (its label kept) or literal as pyoxigraph's term."""
    import pyoxigraph as ox

    if isinstance(node, URIRef):
        return ox.NamedNode(node)
    if isinstance(node, BNode):
        return ox.BlankNode(str(node))
    if isinstance(node, Literal):
        if node.language:
            return ox.Literal(str(node), language=node.language)
        return ox.Literal(str(node), datatype=ox.NamedNode(node.datatype or XSD.string))
    raise StoreError(f"no oxigraph term for {node!r}")


def from_oxigraph(term: object) -> Node | None:
    """A pyoxigraph named node, blank node (its label kept) or literal as rdflib's term; None for another term (an
    RDF 1.2 triple term)."""
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        return Literal(term.value, lang=term.language, datatype=None if term.language else URIRef(term.datatype.value))
    return None


def _nquads(dataset: Dataset) -> bytes:
    """The named graphs of `dataset` as N-Quads."""
    quads = new_dataset()
    for graph in dataset.contexts():
        if isinstance(graph.identifier, URIRef) and len(graph):
            quads.graph(graph.identifier).__iadd__(graph)
    return quads.serialize(format="nquads", encoding="utf-8")


def with_prefixes(text: str) -> str:
    """`text` with the project's prefixes declared before it (its own declarations, later, take precedence)."""
    return _PROLOGUE + text


# SPARQL tokens that matter for finding the WHERE group: comments, strings and IRIs are skipped whole
_TOKEN = re.compile(
    r"""(?P<skip>\#[^\n]*|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''"""
    r"""|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|<[^<>"{}|^`\\\x00-\x20]*>|[?$]\w+|[\w.-]*:[\w.%-]*)"""
    r"""|(?P<word>[A-Za-z]+)|(?P<open>\{)|(?P<close>\})""",
    re.DOTALL,
)
_UNSAFE_IRI = re.compile(r'[<>"{}|^`\\\x00-\x20]')


def bind_values(text: str, bindings: Mapping[Variable, Node]) -> str:
    """`text` with its bindings pre-set by one `VALUES (?var ...) { (term ...) }` at the start of the query's WHERE
    group: how parameters reach stores that cannot take rdflib's in-process initBindings. One clause, not one per
    variable: Oxigraph joined separate clauses in their order (a listing's ?document after its ?class: 148 ms at
    2 M triples, 0.3 ms in one clause), and rdflib evaluated two clauses 15 times slower. Terms are written in
    SPARQL syntax with their quotes escaped, so a value can never change the query's structure."""
    if not bindings:
        return text
    names = " ".join(f"?{var}" for var in bindings)
    clause = f"VALUES ({names}) {{ ({' '.join(_term(term, var) for var, term in bindings.items())}) }}"
    at = where_group_start(text)
    if at is None:
        raise QueryError("the query has no WHERE group to bind its parameters in")
    return f"{text[:at]} {clause}{text[at:]}"


def values_clause(var: Variable, terms: Iterable[Node]) -> str:
    """`VALUES ?var { term ... }`, the terms in SPARQL syntax (see bind_values)."""
    return f"VALUES ?{var} {{ {' '.join(_term(term, var) for term in terms)} }}"


def _literals_query(graphs: Sequence[URIRef]) -> str:
    """The distinct literal objects ?text of named graphs `graphs` (Store.literals)."""
    where = "GRAPH ?g { ?s ?p ?text } FILTER(isLiteral(?text))"
    return f"SELECT DISTINCT ?text WHERE {{ {values_clause(Variable('g'), graphs)} {where} }}"


def where_group_start(text: str) -> int | None:
    """The offset just after the `{` that opens the query's WHERE group (the keyword WHERE is optional), skipping
    comments, strings and IRIs; None if there is none."""
    depth, construct, where = 0, False, False
    for token in _TOKEN.finditer(text):
        kind = token.lastgroup
        if kind == "word" and depth == 0:
            construct = construct or token.group().upper() == "CONSTRUCT"
            where = where or token.group().upper() == "WHERE"
        elif kind == "open":
            if depth == 0 and (where or not construct):  # a CONSTRUCT's template comes before its WHERE
                return token.end()
            depth += 1
        elif kind == "close":
            depth -= 1
    return None


def with_limit(text: str, prepared: Query, limit: int) -> str:
    """SELECT `text` with `LIMIT limit` appended, when it has no LIMIT or OFFSET of its own and the clause parses
    as the same query sliced (not, say, after a trailing VALUES clause, where LIMIT is a syntax error); else
    `text` as it is."""
    from kg.sparql import prepare

    if prepared.algebra.name != "SelectQuery" or prepared.algebra["p"].name == "Slice":
        return text
    limited = f"{text}\nLIMIT {limit}"
    try:
        top = prepare(limited).algebra["p"]
    except QueryError:
        return text
    same = top.name == "Slice" and top.get("length") == limit and top["p"] == prepared.algebra["p"]
    return limited if same else text


def without_dataset_clause(text: str) -> str:
    """`text` without its FROM and FROM NAMED clauses (a query's dataset clause is outside every group)."""
    kept, depth, cut_from, start = [], 0, None, 0
    for token in _TOKEN.finditer(text):
        kind = token.lastgroup
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
        elif kind == "word" and depth == 0 and token.group().upper() == "FROM":
            cut_from = token.start()
        elif kind == "skip" and cut_from is not None and not token.group().startswith("#"):  # the graph's IRI
            kept.append(text[start:cut_from])
            start, cut_from = token.end(), None
    return " ".join([*kept, text[start:]])


def _term(term: Node, var: Variable) -> str:
    """A bound value in SPARQL syntax."""
    if isinstance(term, URIRef) and not _UNSAFE_IRI.search(term):
        return f"<{term}>"
    if isinstance(term, Literal):
        return term.n3()
    raise UsageError(f"parameter {var} cannot be bound to {term!r}")


def normalised(term: Node | None) -> Node | None:
    """A term as rdflib's own parser would make it: an xsd:string literal is a simple literal."""
    if isinstance(term, Literal) and term.datatype == XSD.string:
        return Literal(str(term))
    return term


def parse_select(body: bytes) -> Result:
    """A SPARQL 1.1 JSON result document as an rdflib Result, its terms normalised."""
    result = Result.parse(io.BytesIO(body), format="json")
    if result.type == "SELECT":
        result.bindings = [{var: normalised(term) for var, term in row.items()} for row in result.bindings]
    return result


def _ask(answer: bool) -> Result:
    result = Result("ASK")
    result.askAnswer = answer
    return result


def _graph_result(prepared: Query, body: bytes, fmt: str) -> Result:
    """A CONSTRUCT/DESCRIBE answer (RDF text) as an rdflib Result holding the graph."""
    graph = Graph().parse(data=body, format=fmt)
    result = Result("CONSTRUCT" if prepared.algebra.name == "ConstructQuery" else "DESCRIBE")
    result.graph = graph
    return result
