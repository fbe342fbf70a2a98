"""Stage 4, query: the catalogue of competency questions (queries/*.rq), parameter binding and result formats.

Each .rq file starts with a comment header (`# title:`, `# description:`, `# param: NAME TYPE = DEFAULT -- help`,
`# param-range: NAME CLASS...` (the classes an entity parameter's value is an instance of, one suffices; kg.ask
binds only fitting entities), `# example-LANG:`); parameters are bound by the store (initBindings in rdflib,
VALUES elsewhere), entity values resolved from an IRI, a CURIE or a label. Results are written in the W3C
SPARQL 1.1 JSON/CSV/TSV formats, Markdown or a rich table, and `why` traces each row's first node to the claims
(and quotes) that support it.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from collections.abc import Collection
from typing import TYPE_CHECKING

from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.query import Result
from rdflib.term import Node

from kg.errors import InputError, UsageError
from kg.load import bind_prefixes, curie
from kg.namespaces import BASE, KG, PREFIXES, PROV, RDF, XSD
from kg.store import as_store, values_clause

if TYPE_CHECKING:

    from kg.store import Store
    from rich.table import Table

PARAM_TYPES = ("entity", "string", "integer", "gYear")
FORMATS = ("table", "json", "csv", "tsv", "md")
_HEADER_KEY = re.compile(r"#\s?([A-Za-z][\w-]*)\s*:\s?(.*)$")  # `# key: value`; indented lines continue
_PARAM = re.compile(
    rf"(?P<name>[A-Za-z_]\w*)\s+(?P<type>{'|'.join(PARAM_TYPES)})"
    r"(?:\s*=\s*(?P<default>.*?))?(?:\s+--\s+(?P<help>.*))?\s*$"
)
_GYEAR = re.compile(r"-?\d{4,}(Z|[+-]\d\d:\d\d)?")
_STRING_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r"})


@dataclass(frozen=True)
class Param:
    """One declared query parameter; without a default it is required."""

    name: str
    type: str
    default: str | None
    help: str
    range: tuple[str, ...] = ()  # CURIEs of classes (`# param-range:`); empty: any entity

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class CatalogueQuery:
    """One .rq file of the catalogue, with its parsed header."""

    name: str
    title: str
    description: str
    severity: str  # quality checks only (`# severity: error|warning|info`); '' for catalogue questions
    params: tuple[Param, ...]
    examples: tuple[tuple[str, str], ...]  # (language, question)
    text: str
    path: Path
    # the text of queries/why/NAME.rq, if there is one: the nodes each row is computed from (see why)
    why: str = ""

    @property
    def why_path(self) -> Path:
        return self.path.parent / "why" / self.path.name


def read_query_file(path: Path) -> str:
    """The text of a .rq file; InputError naming it if it cannot be read or is not UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 (byte {exc.start}: {exc.reason})") from None


def parse_catalogue_query(path: Path) -> CatalogueQuery:
    """Read one .rq file and its header; a malformed `# param:` line raises InputError naming file and line."""
    text = read_query_file(path)
    fields: dict[str, str] = {"title": "", "description": "", "severity": ""}
    params: list[Param] = []
    examples: list[tuple[str, str]] = []
    last: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if not line.lstrip().startswith("#"):
            break
        match = _HEADER_KEY.match(line.strip())
        if match is None:  # a continuation line extends the previous title or description (other keys: ignored)
            if last in fields:
                fields[last] = f"{fields[last]} {line.strip().lstrip('#').strip()}".strip()
            continue
        key, value = match.group(1).lower(), match.group(2).strip()
        last = key
        if key == "param":
            params.append(_parse_param(value, path, number))
        elif key == "param-range":
            params = _with_range(params, value, path, number)
        elif key.startswith("example-"):
            examples.append((key.removeprefix("example-"), value))
        elif key in fields:
            fields[key] = value
    query = CatalogueQuery(
        name=path.stem,
        title=fields["title"] or path.stem,
        description=fields["description"],
        severity=fields["severity"].lower(),
        params=tuple(params),
        examples=tuple(examples),
        text=text,
        path=path,
    )
    return replace(query, why=read_query_file(query.why_path)) if query.why_path.is_file() else query


def _parse_param(value: str, path: Path, line: int) -> Param:
    """Parse `NAME TYPE = DEFAULT -- help` (default and help optional)."""
    match = _PARAM.fullmatch(value)
    if match is None:
        raise InputError(
            f"{path}:{line}: malformed '# param:' line (expected 'NAME TYPE = DEFAULT -- help', "
            f"TYPE one of {', '.join(PARAM_TYPES)}): {value!r}"
        )
    default = match.group("default")
    param = Param(match.group("name"), match.group("type"), default or None, (match.group("help") or "").strip())
    if param.default is not None and param.type != "entity":  # (an entity is resolved against the data, later)
        try:
            _convert(Graph(), param, param.default)
        except UsageError as exc:
            raise InputError(f"{path}:{line}: the default of '# param: {param.name}' is wrong: {exc}") from None
    return param


def _with_range(params: list[Param], value: str, path: Path, line: int) -> list[Param]:
    """`params` with the classes of `NAME CLASS...` set on the entity parameter NAME (declared above it)."""
    name, *classes = value.split()
    for index, param in enumerate(params):
        if param.name == name and param.type == "entity" and classes:
            return [*params[:index], replace(param, range=tuple(classes)), *params[index + 1 :]]
    raise InputError(
        f"{path}:{line}: malformed '# param-range:' line (expected 'NAME CLASS...' after the '# param:' line "
        f"of the entity parameter NAME): {value!r}"
    )


def load_catalogue(directory: Path) -> dict[str, CatalogueQuery]:
    """Every `*.rq` directly in `directory`, by name (the file stem), sorted by name."""
    return {path.stem: parse_catalogue_query(path) for path in sorted(directory.glob("*.rq"))}


def get_query(catalogue: dict[str, CatalogueQuery], name: str) -> CatalogueQuery:
    """The named catalogue query; UsageError listing every name if there is none."""
    if name not in catalogue:
        names = ", ".join(catalogue) or "(the catalogue is empty)"
        raise UsageError(f"unknown query {name!r}; the catalogue has: {names}")
    return catalogue[name]


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def resolve_entity(source: Store | Graph, text: str) -> URIRef:
    """The node meant by `text`: an IRI (bare or <...>), a CURIE with a project prefix, or a label/altLabel/prefLabel
    in any language (case and surrounding whitespace ignored). UsageError, with candidates, if unknown or ambiguous.
    Labels name project nodes only: the Wikidata items of the enrichment cache share their names ("NATO")."""
    store = as_store(source)
    wanted = text.strip()
    iri = _as_iri(wanted)
    if iri is not None:
        if store.mentions(iri):
            return iri
        raise UsageError(f"unknown entity {wanted!r}: {curie(iri)} is neither the subject nor the object of a statement")
    # first the names sharing the longest ASCII run of the wanted one (the store filters: on 2 M triples, 0.4 s
    # instead of 5 s for all 360 k names), then, when none matches (case folding can change letters: ß, ss), all
    part = max(re.findall(r"[!-~]+", wanted.lower()), key=len, default="")
    by_label = _by_label(store.names(part))
    if not by_label.get(_normalise(wanted)) and part:
        by_label = _by_label(store.names())
    matches = sorted(by_label.get(_normalise(wanted), ()))
    if len(matches) == 1:
        return matches[0]
    if matches:
        listed = ", ".join(curie(node) for node in matches)
        raise UsageError(f"ambiguous entity {wanted!r}: it names {listed}; give one of these CURIEs")
    close = difflib.get_close_matches(_normalise(wanted), list(by_label), n=5, cutoff=0.6)
    hint = f"; did you mean: {', '.join(repr(name) for name in close)}" if close else ""
    raise UsageError(f"unknown entity {wanted!r}: no IRI, CURIE or label matches{hint}")


def _by_label(names: list[tuple[URIRef, Literal]]) -> dict[str, set[URIRef]]:
    """The project nodes by normalised name."""
    by_label: dict[str, set[URIRef]] = {}
    for node, name in names:
        if node.startswith(BASE):
            by_label.setdefault(_normalise(str(name)), set()).add(node)
    return by_label


def _as_iri(text: str) -> URIRef | None:
    """`text` as an IRI if it is written as one (<...>, scheme:..., or a CURIE with a project prefix)."""
    if text.startswith("<") and text.endswith(">"):
        return URIRef(text[1:-1])
    prefix, colon, local = text.partition(":")
    if colon and prefix in PREFIXES and " " not in local:
        return URIRef(PREFIXES[prefix] + local)
    if re.match(r"(https?|urn):\S+$", text):
        return URIRef(text)
    return None


def bind_params(source: Store | Graph, query: CatalogueQuery, given: dict[str, str]) -> dict[Variable, Node]:
    """The bindings of `query`'s variables: given values (or defaults) converted to their declared types."""
    declared = {param.name: param for param in query.params}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        known = ", ".join(declared) or "none"
        raise UsageError(f"query {query.name!r} has no parameter {', '.join(unknown)} (its parameters: {known})")
    missing = [p.name for p in query.params if p.required and p.name not in given]
    if missing:
        raise UsageError(f"query {query.name!r} needs --param {'=... --param '.join(missing)}=...")
    return {
        Variable(param.name): _convert(source, param, given.get(param.name, param.default) or "")
        for param in query.params
    }


def _convert(source: Store | Graph, param: Param, value: str) -> Node:
    """A parameter value as an RDF term of the parameter's type."""
    if param.type == "entity":
        return resolve_entity(source, value)
    if param.type == "integer":
        try:
            return Literal(int(value.strip()))
        except ValueError:
            raise UsageError(f"parameter {param.name} must be an integer, not {value!r}") from None
    if param.type == "gYear":
        if not _GYEAR.fullmatch(value.strip()):
            raise UsageError(f"parameter {param.name} must be a year such as 2023, not {value!r}")
        return Literal(value.strip(), datatype=XSD.gYear)
    return Literal(value)


def run_query(
    source: Store | Graph, query: CatalogueQuery, params: dict[str, str], allow_service: bool = False,
    where: str = "",
) -> Result:
    """Run a catalogue query over a store (or an rdflib dataset: asserted + inferred) with its parameters bound;
    `allow_service` answers SERVICE to Wikidata from the enrichment cache; `where`: how an error names the query
    (default: its file's path, which a server must not show its clients)."""
    store = as_store(source)
    return store.query(query.text, bind_params(store, query, params), where or str(query.path), allow_service)


def run_sparql(source: Store | Graph, text: str, where: str = "query", allow_service: bool = False) -> Result:
    """Run ad-hoc SPARQL over a store (or an rdflib dataset); `allow_service`: as for run_query."""
    return as_store(source).query(text, where=where, allow_service=allow_service)


def parse_assignments(items: list[str]) -> dict[str, str]:
    """`KEY=VALUE` strings (from repeated --param options) as a dict."""
    params: dict[str, str] = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise UsageError(f"--param expects KEY=VALUE, not {item!r}")
        if key.strip() in params:
            raise UsageError(f"--param {key.strip()} is given twice; give it once")
        params[key.strip()] = value
    return params


@dataclass(frozen=True)
class Quoted:
    """A claim behind a node: its identifier (unique within its source document, whose CURIE `source` is), its
    quote, and whether the node is derived from it rather than stated by it."""

    claim: str
    quote: str
    source: str
    derived: bool

    @property
    def id(self) -> str:
        """The identifier as outputs show it: "C11 (derived from)" for a claim a derived fact is computed from."""
        return self.claim + (" (derived from)" if self.derived else "")


@dataclass(frozen=True)
class Support:
    """The claims behind one result row: its first node's, or those of the nodes the row is computed from."""

    node: Node
    claims: tuple[Quoted, ...]


# (a claim is its own evidence: a row about claims, such as a count of them, cites them; the third branch binds
# ?claim from ?node, not ?node by BIND: rdflib let a BIND override the ?node a VALUES clause sets at the head)
_SUPPORTS = """SELECT ?node ?claim ?id ?quote ?stated ?source WHERE {
  { ?node kg:supportedBy ?claim BIND(true AS ?stated) } UNION { ?node prov:wasDerivedFrom ?claim BIND(false AS ?stated) }
  UNION { ?node a kg:Claim BIND(?node AS ?claim) BIND(true AS ?stated) }
  ?claim a kg:Claim .
  OPTIONAL { ?claim dcterms:identifier ?id }
  OPTIONAL { ?claim oa:hasSelector/oa:exact ?quote }
  OPTIONAL { ?claim oa:hasSource ?source }
}"""


def why(
    source: Store | Graph, result: Result, query: CatalogueQuery | None = None, params: dict[str, str] | None = None
) -> list[Support]:
    """For each row, the claims its first column's node is supported by or derived from, with their quotes; for a
    catalogue query with a queries/why/ file (a total, a count: the nodes summed or counted are not in the row),
    the claims of every ?evidence node that file gives the row: its rows name the row by the columns both share."""
    store = as_store(source)
    first = result.vars[0] if result.vars else None
    if query is None or not query.why:
        claims = _supports(store, {row.get(first) for row in result.bindings})
        return [Support(row.get(first), claims.get(row.get(first), ())) for row in result.bindings]
    evidence = store.query(query.why, bind_params(store, query, params or {}), str(query.why_path))
    if Variable("evidence") not in evidence.vars:
        raise InputError(f"{query.why_path}: projects no ?evidence (the nodes each row is computed from)")
    claims = _supports(store, {row.get(Variable("evidence")) for row in evidence.bindings})
    keys = [var for var in evidence.vars if var in result.vars]
    found: dict[tuple, set[Quoted]] = {}
    for row in evidence.bindings:
        found.setdefault(tuple(row.get(key) for key in keys), set()).update(claims.get(row.get(Variable("evidence")), ()))
    return [Support(row.get(first), _ordered(found.get(tuple(row.get(key) for key in keys), ())))
            for row in result.bindings]


def _ordered(quoted: Collection[Quoted]) -> tuple[Quoted, ...]:
    """Claims in the order outputs show them: by identifier, then quote."""
    return tuple(sorted(quoted, key=lambda q: (q.id, q.quote)))


def supporting_claims(graph: Graph, node: Node | None) -> list[tuple[Node, bool]]:
    """Every kg:Claim that supports `node` (kg:supportedBy) or that a derived fact is computed from
    (prov:wasDerivedFrom), with True for the latter, sorted by claim IRI."""
    stated = set(graph.objects(node, KG.supportedBy))
    return sorted(
        (claim, claim not in stated)
        for claim in stated | set(graph.objects(node, PROV.wasDerivedFrom))
        if (claim, RDF.type, KG.Claim) in graph
    )


def why_claims(source: Store | Graph, node: Node | None) -> tuple[Quoted, ...]:
    """Every claim that supports `node` (kg:supportedBy) or that a derived fact is computed from
    (prov:wasDerivedFrom, marked derived), with its quote ('' for a claim without one) and source document."""
    if not isinstance(node, URIRef):
        return ()
    return _supports(as_store(source), {node}).get(node, ())


_NODES_PER_QUERY = 500  # nodes looked up by one query of _SUPPORTS (a few: a lookup each, where all would be read)


def _supports(store: Store, nodes: Collection[Node | None]) -> dict[Node, tuple[Quoted, ...]]:
    """why_claims of each of `nodes` (IRIs and blank nodes: a literal is supported by nothing): the IRIs' a few
    hundred a query; where there is a blank node, which no query can name, every node's at once."""
    found: dict[Node, dict[Node, tuple[set[str], set[str], set[str], bool]]] = {}
    iris = sorted(node for node in nodes if isinstance(node, URIRef))
    texts = [
        _SUPPORTS.replace("WHERE {", f"WHERE {{ {values_clause(Variable('node'), iris[at:at + _NODES_PER_QUERY])}", 1)
        for at in range(0, len(iris), _NODES_PER_QUERY)
    ]
    if any(isinstance(node, BNode) for node in nodes):
        texts = [_SUPPORTS]
    rows = (row for text in texts for row in store.query(text))
    for subject, claim, ident, quote, stated, document in rows:
        idents, quotes, documents, was_stated = found.setdefault(subject, {}).get(claim, (set(), set(), set(), False))
        idents.add(str(ident) if ident is not None else curie(claim))
        quotes.add(str(quote) if quote is not None else "")
        documents.add(curie(document) if document is not None else "")
        found[subject][claim] = (idents, quotes, documents, was_stated or stated.toPython())
    supports = {}
    for subject, claims in found.items():
        quoted = {
            Quoted(min(idents), quote, min(documents), not stated)
            for idents, quotes, documents, stated in claims.values()
            for quote in (quotes - {""} or {""})
        }
        supports[subject] = _ordered(quoted)
    return supports


def display(term: Node | None) -> str:
    """A result term for people: CURIE for IRIs, the lexical form for literals (with @lang), '' if unbound."""
    if term is None:
        return ""
    if isinstance(term, Literal):
        return f"{term}@{term.language}" if term.language else str(term)
    return curie(term)


def to_table(result: Result, supports: list[Support] | None = None) -> Table:
    """A rich table of the rows (plus a 'why' column when supports are given)."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(show_lines=False)
    for var in result.vars or []:
        table.add_column(str(var))
    if supports is not None:
        table.add_column("why")
    for index, row in enumerate(result.bindings):
        cells = [display(row.get(var)) for var in result.vars]
        if supports is not None:
            cells.append("\n".join(f"{q.id}: “{q.quote}”" for q in supports[index].claims))
        table.add_row(*map(escape, cells))
    return table


def serialize_result(result: Result, fmt: str, supports: list[Support] | None = None) -> str:
    """The result as text: W3C SPARQL 1.1 JSON/CSV/TSV, or Markdown; graph results (CONSTRUCT) as Turtle."""
    if result.type in ("CONSTRUCT", "DESCRIBE"):
        bind_prefixes(result.graph)  # the project's prefixes, whatever the store bound (Virtuoso: ns0:, ns1:...)
        return result.graph.serialize(format="turtle")
    if supports is not None and fmt in ("csv", "tsv"):
        raise UsageError("--why works with the table, md and json formats")
    if fmt == "json":
        document = json.loads(result.serialize(format="json"))
        document = {"head": document.pop("head"), **document}  # the W3C order: head first
        if supports is not None:
            document["why"] = [
                {"node": str(s.node), "claims": [{"id": q.id, "quote": q.quote, "source": q.source} for q in s.claims]}
                for s in supports
            ]
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if result.type == "ASK":
        return f"{str(result.askAnswer).lower()}\n"
    if fmt == "csv":
        return result.serialize(format="csv").decode("utf-8")
    if fmt == "tsv":
        return _tsv(result)
    if fmt == "md":
        return _markdown(result, supports)
    raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _tsv(result: Result) -> str:
    """W3C SPARQL 1.1 TSV: `?var` header, terms in Turtle syntax, tabs and newlines escaped."""
    lines = ["\t".join(f"?{var}" for var in result.vars)]
    lines += ["\t".join(_tsv_term(row.get(var)) for var in result.vars) for row in result.bindings]
    return "\n".join(lines) + "\n"


def _tsv_term(term: Node | None) -> str:
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    quoted = one_line_string(str(term))
    if term.language:
        return f"{quoted}@{term.language}"
    if term.datatype is not None and term.datatype != XSD.string:
        return f"{quoted}^^<{term.datatype}>"
    return quoted


def one_line_string(text: str) -> str:
    """`text` as a one-line string literal of Turtle and SPARQL (and so of SPARQL TSV results)."""
    return '"' + text.translate(_STRING_ESCAPES) + '"'


def _markdown(result: Result, supports: list[Support] | None) -> str:
    """A GitHub-flavoured Markdown table ('|' escaped), with a why column if asked."""
    header = [str(var) for var in result.vars] + (["why"] if supports is not None else [])
    rows = []
    for index, row in enumerate(result.bindings):
        cells = [display(row.get(var)) for var in result.vars]
        if supports is not None:
            cells.append("<br>".join(f"{q.id}: “{q.quote}”" for q in supports[index].claims))
        rows.append(cells)

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in cells) + " |"

    return "\n".join([line(header), line(["---"] * len(header)), *map(line, rows)]) + "\n"
