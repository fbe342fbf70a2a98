"""SPARQL text made safe to run: parsed and translated by rdflib (the project's prefixes predeclared), with the
checks every way in applies (the CLI, the stores, the server): offline (no SERVICE, LOAD or outside FROM),
surrogates and out-of-range slices refused, updates naming the graphs they write. Below kg.store, which runs
what this prepares."""

from __future__ import annotations

import functools
import re
import sys
import threading
from collections.abc import Collection, Iterator, Sequence
from typing import TYPE_CHECKING

from rdflib import URIRef, Variable

from kg.errors import QueryError
from kg.load import curie, line_and_column
from kg.namespaces import PREFIXES, WIKIDATA_ENDPOINT, WIKIDATA_GRAPH

if TYPE_CHECKING:
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.plugins.sparql.sparql import Query, Update


def prepare(text: str, where: str = "query") -> Query:
    """Parse and translate SPARQL (project prefixes predeclared); QueryError with line, column and reason."""
    from pyparsing import ParseBaseException

    if _BLANK.fullmatch(text):  # (rdflib would take it for an empty update)
        raise QueryError(f"{where}: the query is empty")
    refuse_surrogates(text, where)
    try:
        prepared = _prepared(text)
    except ParseBaseException as exc:
        if _is_update(text):
            raise QueryError(
                f"{where}: SPARQL Update is not supported: the graph is built from its sources "
                "(edit data/statements.ttl, then kg build)"
            ) from None
        pointer = " " * (exc.col - 1) + "^"
        message = f"{where}:{exc.lineno}:{exc.col}: SPARQL syntax error: {exc.msg}"
        raise QueryError(f"{message}\n  {exc.line}\n  {pointer}") from None
    except RecursionError:
        raise QueryError(
            f"{where}: the query is nested too deeply, or has too many parts, for the SPARQL parser "
            f"(it recursed beyond Python's limit of {sys.getrecursionlimit()} frames)"
        ) from None
    except Exception as exc:  # rdflib's translation step: unknown prefix, bad aggregate, ...
        raise QueryError(f"{where}{_position_of_prefix(text, str(exc))}: invalid SPARQL: {exc}") from None
    for node in _algebra_nodes(prepared.algebra):
        if node.name == "Slice":
            for key, keyword in (("start", "OFFSET"), ("length", "LIMIT")):
                value = dict.get(node, key)  # (CompValue.get gives the key itself for a missing one)
                if value is not None and not (isinstance(value, int) and value <= sys.maxsize):
                    shown = str(value) if len(str(value)) <= 30 else f"{str(value)[:20]}… ({len(str(value))} digits)"
                    raise QueryError(f"{where}: {keyword} {shown} is out of range: at most {sys.maxsize}")
    return prepared


_BLANK = re.compile(r"(?:\s|#[^\n]*)*")  # whitespace and comments only
# half of a UTF-16 pair, as it is (an argument that was not UTF-8) or escaped ("\uD800", which rdflib decodes)
_SURROGATE = re.compile(r"[\ud800-\udfff]|\\u[dD][89a-fA-F][0-9a-fA-F]{2}|\\U0000[dD][89a-fA-F][0-9a-fA-F]{2}")


def _position_of_prefix(text: str, message: str) -> str:
    """':LINE:COLUMN' of the first use of the prefix rdflib's `message` says is unknown ("Unknown namespace
    prefix : zz"), outside IRIs and comments; '' for another message."""
    unknown = re.fullmatch(r"Unknown namespace prefix : (\S*)", message)
    if unknown is None:
        return ""
    use = re.compile(rf"(?<![\w.:-]){re.escape(unknown[1])}:")
    for found in re.finditer(rf"<[^<>\s]*>|#[^\n]*|{use.pattern}", text):
        if use.fullmatch(found[0]):
            return ":{}:{}".format(*line_and_column(text, found.start()))
    return ""


def refuse_surrogates(text: str, where: str) -> None:
    """QueryError, with line and column, for a lone surrogate in SPARQL text: no RDF term can hold one, and no
    result or store can write it in UTF-8 (it failed as a 500 when the results were written)."""
    found = _SURROGATE.search(text)
    if found:
        line, column = line_and_column(text, found.start())
        shown = found[0] if found[0].startswith("\\") else f"U+{ord(found[0]):04X}"
        raise QueryError(f"{where}:{line}:{column}: {shown} is half of a UTF-16 surrogate pair, not a character")
_IRIS_AND_COMMENTS = re.compile(r"<[^<>\s]*>|#[^\n]*")
_SELECT_ALL = re.compile(r"(?:\s|(?:PREFIX|BASE)\b[^:]*:?\s)*SELECT\s+(?:(?:DISTINCT|REDUCED)\s+)?\*", re.I)


def _in_order_of_appearance(select: CompValue, text: str) -> None:
    """SELECT *'s columns in the order the variables first appear in `text`, as Oxigraph and Virtuoso give them
    (rdflib's order comes from a set: it changed from one run to the next)."""

    def first(variable: Variable) -> int:
        found = re.search(rf"[?$]{re.escape(variable)}\b", text)
        return found.start() if found else len(text)

    select["PV"] = sorted(select["PV"], key=first)
    node = select["p"]
    while node.name != "Project":  # (under a Slice, Distinct, Reduced...)
        node = node["p"]
    node["PV"] = list(select["PV"])


def _algebra_nodes(root: object) -> Iterator[CompValue]:
    """Every node of a query's (or update's) algebra, depth first."""
    from rdflib.plugins.sparql.parserutils import CompValue

    pending = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, CompValue):
            yield node
            pending.extend(node.values())
        elif isinstance(node, (list, tuple)):
            pending.extend(node)


def with_dataset(query: Query, defaults: Sequence[str], named: Sequence[str]) -> Query:
    """A copy of `query` whose dataset is the SPARQL protocol's default-graph-uri and named-graph-uri lists
    (they replace its FROM / FROM NAMED)."""
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.plugins.sparql.sparql import Query as Prepared

    algebra = CompValue(query.algebra.name, **query.algebra)
    # (`parameter`: what check_offline's refusal names, rather than the FROM the query does not have)
    algebra["datasetClause"] = [
        CompValue("DatasetClause", default=URIRef(iri), parameter="default-graph-uri") for iri in defaults
    ] + [CompValue("DatasetClause", named=URIRef(iri), parameter="named-graph-uri") for iri in named]
    return Prepared(query.prologue, algebra)


# rdflib's SPARQL parser (pyparsing) is not thread-safe: two threads parsing at once fail on valid queries
# ("Expected SelectQuery"), as the in-store build's reasoning and validation threads did.
_PARSER = threading.Lock()


@functools.lru_cache(maxsize=256)
def _prepared(text: str) -> Query:
    """rdflib's parse of `text`, kept: parsing takes ~25 ms a query, ten times what pyoxigraph takes to answer it."""
    from rdflib.plugins.sparql import prepareQuery

    with _PARSER:
        prepared = prepareQuery(text, initNs=PREFIXES)
    if prepared.algebra.name == "SelectQuery" and _SELECT_ALL.match(_IRIS_AND_COMMENTS.sub(" ", text)):
        _in_order_of_appearance(prepared.algebra, text)
    if prepared.algebra.name == "ConstructQuery" and prepared.algebra.get("template") is None:
        # CONSTRUCT WHERE: the template is the WHERE's one basic graph pattern; rdflib finds it only where no
        # LIMIT, OFFSET or ORDER BY stands between ("'NoneType' object is not iterable")
        patterns = [node.triples for node in _algebra_nodes(prepared.algebra) if node.name == "BGP"]
        prepared.algebra["template"] = patterns[0] if patterns else []
    return prepared


def _is_update(text: str) -> bool:
    """Whether `text` parses as SPARQL Update (to say so instead of a query syntax error)."""
    from rdflib.plugins.sparql.parser import parseUpdate

    try:
        with _PARSER:
            parseUpdate(text)
    except Exception:  # noqa: BLE001 - any failure means: not an update either
        return False
    return True


def prepare_update(text: str, where: str = "update") -> Update:
    """Parse and translate SPARQL Update (project prefixes predeclared); QueryError for an empty or malformed one."""
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate

    if _BLANK.fullmatch(text):  # (rdflib parses it as an update of no operations, which nothing can use)
        raise QueryError(f"{where}: the update is empty")
    refuse_surrogates(text, where)
    try:
        with _PARSER:
            update = translateUpdate(parseUpdate(text), initNs=PREFIXES)
    except Exception as exc:  # pyparsing's errors and rdflib's translation errors
        raise QueryError(f"{where}: SPARQL syntax error: {exc}") from None
    return update


def check_named_graphs(update: Update, where: str) -> None:
    """Refuse an update that writes the default graph: the dataset's default graph is the union of its named
    graphs, so rdflib fails on INSERT DATA into it (with a Python error), puts other inserts in a graph no export
    holds, and empties every named graph on CLEAR or DROP DEFAULT."""
    def value(operation: CompValue, key: str) -> object:
        return dict.get(operation, key)  # (CompValue.get gives the key itself for a missing one)

    name_it = "name the graph: GRAPH <…> { … } or WITH <…>"
    for operation in update.algebra:
        templates = [operation] if operation.name in ("InsertData", "DeleteData", "DeleteWhere") else []
        if operation.name == "Modify" and value(operation, "withClause") is None:
            templates = [t for t in (value(operation, "delete"), value(operation, "insert")) if t is not None]
        if any(value(template, "triples") for template in templates):
            raise QueryError(f"{where}: the default graph is the union of the named graphs and cannot be written; "
                             f"{name_it}")
        if operation.name in ("Clear", "Drop") and value(operation, "graphiri") == "DEFAULT":
            raise QueryError(f"{where}: {operation.name.upper()} DEFAULT would empty every named graph (the default "
                             f"graph is their union); name the graph (GRAPH <…>), or say ALL")
        source, target = (value(operation, "graph") or [None, None]) if operation.name in ("Add", "Move", "Copy") \
            else (None, None)
        if target == "DEFAULT" or (operation.name == "Move" and source == "DEFAULT"):  # MOVE empties its source
            raise QueryError(f"{where}: {operation.name.upper()} would write the default graph, the union of the "
                             f"named graphs; name a graph instead of DEFAULT")


def check_memory_update(update: Update, where: str) -> None:
    """Refuse the update that rdflib, which evaluates updates on the memory store, gets wrong rather than run it:
    DELETE WHERE with GRAPH ?g deletes from the graph the variable itself names, so nothing, and says done."""
    for operation in update.algebra:
        graphs = operation.quads or {} if operation.name == "DeleteWhere" else {}
        for graph in graphs:
            if isinstance(graph, Variable):
                raise QueryError(
                    f"{where}: DELETE WHERE {{ GRAPH ?{graph} {{ … }} }} is not evaluated correctly by the memory "
                    f"store (rdflib); write it DELETE {{ GRAPH ?{graph} {{ … }} }} WHERE {{ GRAPH ?{graph} {{ … }} }}"
                )


def check_offline(query: Query | Update, own: Collection[URIRef], where: str, allow_service: bool = False) -> None:
    """Refuse what would make a store reach outside the built dataset: SERVICE (unless `allow_service`, for the
    Wikidata endpoint only, which `service_offline` then points at the enrichment cache), LOAD, and FROM / FROM
    NAMED / USING naming anything but one of the dataset's own graphs `own` (rdflib fetches or reads any other
    unless rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS is off, as `kg serve` sets it)."""
    for node in _algebra_nodes(query.algebra):
        if node.name == "ServiceGraphPattern":
            if not allow_service:
                raise QueryError(
                    f"{where}: SERVICE is not allowed: queries run offline, over the built graph only",
                    hint=f"--allow-service answers SERVICE <{WIKIDATA_ENDPOINT}> from the enrichment cache",
                )
            if str(node.term) != WIKIDATA_ENDPOINT:
                raise QueryError(
                    f"{where}: SERVICE <{node.term}> is not allowed: only SERVICE <{WIKIDATA_ENDPOINT}> is "
                    "answered, offline, from the enrichment cache (kg enrich)"
                )
        if node.name == "Load":
            raise QueryError(f"{where}: LOAD is not allowed: nothing is fetched, the graph is built from its sources")
        if node.name in ("DatasetClause", "UsingClause"):
            keyword = "FROM" if node.name == "DatasetClause" else "USING"
            if "default" in node:
                iri = node["default"]
            else:
                keyword, iri = f"{keyword} NAMED", node["named"]
            keyword = dict.get(node, "parameter", keyword)  # (CompValue.get gives the key itself for a missing one)
            if iri not in own:
                names = ", ".join(sorted(curie(name) for name in own if isinstance(name, URIRef)))
                raise QueryError(f"{where}: {keyword} <{iri}> is not a graph of this dataset (its graphs: {names})")


_WIKIDATA_SERVICE = re.compile(r"\bSERVICE\s+(?:SILENT\s+)?<" + re.escape(WIKIDATA_ENDPOINT) + ">", re.IGNORECASE)


def service_offline(text: str) -> str:
    """`SERVICE <Wikidata endpoint> { P }` rewritten as `GRAPH <graph/external/wikidata> { P }`: the same grammar
    (keyword, IRI, group), so the pattern is matched against the enrichment cache, on any store, instead of the
    network. The caller checks the result again: a SERVICE written otherwise (say, with a prefixed name) is left
    as it is and then refused."""
    return _WIKIDATA_SERVICE.sub(f"GRAPH <{WIKIDATA_GRAPH}>", text)
