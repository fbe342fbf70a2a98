"""Stage 1, load: parse the project's inputs into one rdflib Dataset of named graphs.

Also the naming helpers every later stage shows nodes with (CURIEs from kg.namespaces, English labels),
and `find_spans` to locate a quote in a source text for claim authors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.store import Store
from rdflib.namespace import NamespaceManager
from rdflib.term import Node

from kg.errors import InputError, UsageError
from kg.namespaces import (
    KG,
    ONTOLOGY_GRAPH,
    PREFIXES,
    PROJECT_ROOT,
    RDFS,
    SCHEMA,
    SOURCES_GRAPH,
    STATEMENTS_GRAPH,
)


@dataclass(frozen=True)
class Project:
    """Where one project's inputs live, so every stage (and every test) can point at another root."""

    root: Path = PROJECT_ROOT

    @property
    def ontology(self) -> Path:
        return self.root / "ontology" / "defence-kg.ttl"

    @property
    def shapes(self) -> Path:
        return self.root / "ontology" / "shapes.ttl"

    @property
    def context(self) -> Path:
        return self.root / "ontology" / "context.jsonld"

    @property
    def statements(self) -> Path:
        return self.root / "data" / "statements.ttl"

    @property
    def links(self) -> Path:
        return self.root / "data" / "links.sssom.tsv"

    @property
    def links_unverified(self) -> Path:
        return self.root / "data" / "links-unverified.tsv"

    @property
    def country_codes(self) -> Path:
        return self.root / "data" / "links-iso3166.tsv"

    @property
    def wikidata_cache(self) -> Path:
        return self.root / "data" / "external" / "wikidata.trig"

    @property
    def enrich_query(self) -> Path:
        return self.root / "queries" / "enrich" / "wikidata.rq"

    @property
    def sources(self) -> Path:
        return self.root / "data" / "sources"

    @property
    def queries(self) -> Path:
        return self.root / "queries"

    @property
    def qc(self) -> Path:
        return self.root / "queries" / "qc"

    def build_inputs(self) -> list[Path]:
        """Every file a build reads (the cache key hashes these): TBox, shapes, statements, texts, QC queries,
        the links, the unverified list (checked against them) and the ISO 3166 matches, and the enrichment cache
        (each optional: absent, it adds no graph)."""
        return [
            self.ontology,
            self.shapes,
            self.statements,
            *sorted(self.sources.glob("*.txt")),
            *sorted(self.qc.glob("*.rq")),
            self.links,
            self.links_unverified,
            self.country_codes,
            self.wikidata_cache,
        ]

    def relative(self, path: Path) -> str:
        """`path` as shown in messages: relative to the project root when inside it."""
        try:
            return str(path.resolve().relative_to(self.root.resolve()))
        except ValueError:
            return str(path)


def bind_prefixes(target: Graph | NamespaceManager) -> None:
    """Bind the project's prefixes (over rdflib's defaults for the same names), for CURIEs and serialisations."""
    for prefix, namespace in PREFIXES.items():
        target.bind(prefix, namespace, override=True, replace=True)


_NAMES = NamespaceManager(Graph(bind_namespaces="none"), bind_namespaces="none")
bind_prefixes(_NAMES)


def curie(node: Node) -> str:
    """A node as a person reads it: `kg:Claim` for a project IRI, `<iri>` otherwise, `_:b` for a blank node."""
    if isinstance(node, URIRef):
        try:
            return _NAMES.curie(node, generate=False)
        except (KeyError, ValueError):
            return f"<{node}>"
    if isinstance(node, BNode):
        return f"_:{node}"
    return node.n3() if isinstance(node, Literal) else str(node)


def label(graph: Graph, node: Node, language: str = "en") -> str:
    """The rdfs:label of `node` in `language` if it has one (English, then any label otherwise), else its CURIE."""
    chosen = preferred_label([o for o in graph.objects(node, RDFS.label) if isinstance(o, Literal)], language)
    return curie(node) if chosen is None else chosen


def preferred_label(labels: list[Literal], language: str = "en") -> str | None:
    """The label `label` shows among a node's `labels` (in `language`, then English, then any), None if none."""
    def preference(lit: Literal) -> tuple:
        return lit.language != language, lit.language != "en", lit.language or "", str(lit)

    return str(min(labels, key=preference)) if labels else None


def named(graph: Graph, node: Node, language: str = "en") -> str:
    """How reports show a node: `Canada (id:Canada)` when it has a label (in `language` if it has one), else its
    CURIE."""
    name, short = label(graph, node, language), curie(node)
    return short if name == short else f"{name} ({short})"


def new_dataset(store: Store | str = "default") -> Dataset:
    """A Dataset whose default graph is the union of its named graphs, with the project's prefixes: empty, or
    over rdflib store `store`."""
    dataset = Dataset(store=store, default_union=True)
    bind_prefixes(dataset)
    return dataset


def parse_turtle(path: Path, graph: Graph, project: Project = Project()) -> Graph:
    """Parse Turtle `path` into `graph`; a missing or malformed file raises InputError naming file, line, cause."""
    shown = project.relative(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    base = path.resolve().as_uri()
    try:
        graph.parse(data=data.decode("utf-8"), format="turtle", publicID=base)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{shown}:{line}: not UTF-8 ({exc.reason})") from None
    except SyntaxError as exc:  # rdflib's BadSyntax: `lines` is 0-based, `_why` the cause
        check_syntax(data, shown, base)  # Oxigraph's position, where it refuses the file too
        line = getattr(exc, "lines", 0) + 1
        cause = getattr(exc, "_why", None) or str(exc)
        raise InputError(f"{shown}:{line}: malformed Turtle: {cause}") from None
    except Exception as exc:  # other parser failures (bad IRIs, literals) carry no position
        raise InputError(f"{shown}: malformed Turtle: {exc}") from None
    check_terms(graph, shown, data.decode("utf-8"))
    check_syntax(data, shown, base)
    return graph


def check_syntax(data: bytes, shown: str, base: str) -> None:
    """InputError at the line Oxigraph's Turtle parser gives if it refuses `data`: rdflib's line count drifts
    (7 lines late 478 lines into the statements) and rdflib lets some malformed Turtle through (a \\uZZZZ
    escape). About 1 ms for the statements."""
    import pyoxigraph as ox

    try:
        for _ in ox.parse(input=data, format=ox.RdfFormat.TURTLE, base_iri=base):
            pass
    except SyntaxError as exc:
        raise syntax_error(shown, exc) from None


def syntax_error(shown: str, exc: SyntaxError) -> InputError:
    """Oxigraph's parse error as kg's message: file, line, cause (a bad code point shown as an escape)."""
    return InputError(f"{shown}:{exc.lineno}: malformed Turtle: {printable(exc.msg)}")


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# half of a UTF-16 pair: rdflib makes one of a "\uD800" escape, and UTF-8 (every store, every export) has none
_SURROGATE = re.compile("[\ud800-\udfff]")
# what RFC 3987 leaves out of an IRI wherever it stands: controls, space, <>"{}|^`\, DEL, C1 controls, the
# noncharacters (U+FDD0-FDEF, U+xFFFE-xFFFF) and the specials (U+FFF0-FFFF); rdflib lets each through
_NOT_IN_IRI = re.compile(
    '[\x00-\x20<>"{}|^`\\\\\x7f-\x9f\ufdd0-\ufdef\ufff0-\uffff'
    + "".join(chr(plane << 16 | low) for plane in range(1, 17) for low in (0xFFFE, 0xFFFF))
    + "]"
)


def is_iri(text: str) -> bool:
    """Whether `text` is an absolute IRI (rdflib makes a URIRef of any string, warning at most)."""
    return _SCHEME.match(text) is not None and _NOT_IN_IRI.search(text) is None


def check_terms(graph: Graph, shown: str, text: str) -> None:
    """InputError, with the line, for a term rdflib's Turtle parser lets through (warning at most) that no store
    or RDF syntax can hold, so that the build fails here and not in a later stage: a lone surrogate, an IRI that
    Oxigraph (which every build writes through) refuses, a language tag that is not BCP 47, and a literal its
    datatype cannot read ("nine"^^xsd:decimal). Of several, the one on the first line."""
    problems: list[tuple[int, str]] = []
    checked: set[Node] = set()
    for triple in graph:
        for term in triple:
            if term in checked or isinstance(term, BNode):
                continue
            checked.add(term)
            problem = _iri_problem(term, text) if isinstance(term, URIRef) else _literal_problem(term, text)
            if problem is not None:
                problems.append(problem)
    if problems:
        line, message = min(problems, key=lambda problem: problem[0] or float("inf"))  # 0: not found
        raise InputError(f"{shown}:{line or '?'}: {message}")


def _iri_problem(iri: str, text: str) -> tuple[int, str] | None:
    """(line, message) if Oxigraph refuses `iri`, naming the code point when one is the cause; else None."""
    import pyoxigraph as ox

    surrogate = _SURROGATE.search(iri)
    if surrogate:
        return _code_point_problem(surrogate[0], f"<{printable(iri)}>", text)
    try:
        ox.NamedNode(iri)
    except ValueError as exc:
        excluded = _NOT_IN_IRI.search(iri)
        if excluded:
            return _code_point_problem(excluded[0], f"<{printable(iri)}>", text, in_iri=True)
        found = _line_of(text, re.escape(f"<{iri}>")) or _line_of(text, re.escape(re.split("[/#]", iri)[-1]))
        return found, f"<{iri}> is not an IRI ({exc})"
    return None


def _literal_problem(literal: Literal, text: str) -> tuple[int, str] | None:
    """(line, message) for a literal with a lone surrogate, a language tag that is not BCP 47, a datatype that is
    not an IRI, or a value its datatype cannot read; else None."""
    import pyoxigraph as ox

    surrogate = _SURROGATE.search(literal)
    if surrogate:
        return _code_point_problem(surrogate[0], f'the literal "{printable(literal)}"', text)
    if literal.language:
        try:
            ox.Literal("", language=literal.language)
        except ValueError as exc:
            tag = re.escape(literal.language)
            return _line_of(text, f"(?i:@{tag})(?![A-Za-z0-9-])"), f"@{literal.language} is not a language tag ({exc})"
    if literal.datatype is not None:
        problem = _iri_problem(literal.datatype, text)
        if problem is not None:
            return problem[0], f'{problem[1]}, the datatype of "{printable(literal)}"'
    if literal.ill_typed:
        quoted = '"' + str(literal) + '"'
        return _line_of(text, re.escape(quoted)), f"{quoted} is not a valid {curie(literal.datatype)}"
    return None


def _code_point_problem(char: str, term: str, text: str, in_iri: bool = False) -> tuple[int, str]:
    """(line, message) for code point `char` in `term`: the line of its first \\u or \\U escape, or, in an IRI,
    of the first <...> holding it as it is."""
    code = f"{ord(char):04X}"
    spellings = [rf"\\u(?i:{code})", rf"\\U(?i:{ord(char):08X})"]
    if in_iri and char not in "<>":
        spellings.append(rf"<[^<>\n]*{re.escape(char)}")
    cause = (f"a lone surrogate U+{code} cannot be written in UTF-8" if _SURROGATE.match(char)
             else f"an IRI cannot hold U+{code}")
    return _line_of(text, "|".join(spellings)), f"{cause} (in {term})"


def printable(text: str) -> str:
    """`text` with each code point a message cannot show (a control, a surrogate, a noncharacter) as \\uXXXX."""
    return "".join(c if c.isprintable() else f"\\u{ord(c):04X}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08X}"
                   for c in text)


def _line_of(text: str, pattern: str) -> int:
    """The number of the first line of `text` where regular expression `pattern` matches, 0 if none."""
    found = re.search(pattern, text)
    return line_and_column(text, found.start())[0] if found else 0


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of code point `offset` of `text`."""
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def read_source(project: Project, relative: str) -> str:
    """The exact text of a source document (UTF-8, newlines untouched), named relative to the project root."""
    path = (project.root / relative).resolve()
    if not path.is_relative_to(project.root.resolve()):
        raise InputError(f"kg:sourceFile {relative!r} points outside the project")
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise InputError(f"{relative}: cannot read source document ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{relative}: source document is not UTF-8 ({exc.reason})") from None


def load_document(project: Project = Project()) -> Dataset:
    """The ontology, the statements and the text of every kg:sourceFile, each in its named graph."""
    dataset = new_dataset()
    parse_turtle(project.ontology, dataset.graph(ONTOLOGY_GRAPH), project)
    statements = parse_turtle(project.statements, dataset.graph(STATEMENTS_GRAPH), project)
    sources = dataset.graph(SOURCES_GRAPH)
    for document, relative in statements.subject_objects(KG.sourceFile):
        sources.add((document, SCHEMA.text, Literal(read_source(project, str(relative)))))
    return dataset


def load_shapes(project: Project = Project()) -> Graph:
    """The SHACL shapes graph."""
    return parse_turtle(project.shapes, Graph(), project)


def merged(dataset: Dataset, *graphs: URIRef) -> Graph:
    """A new Graph holding the union of the named `graphs` (a copy: later stages may add to it freely); an absent
    graph adds nothing, and is not created in `dataset` (as `Dataset.graph` would)."""
    union = Graph()
    bind_prefixes(union)
    for identifier in graphs:
        union += dataset.get_context(identifier)
    return union


def find_spans(text: str, quote: str) -> list[tuple[int, int]]:
    """Every (start, end) at which `quote` occurs in `text`: 0-based, end-exclusive, in code points."""
    if not quote:
        raise UsageError("the quote is empty")
    return [(m.start(), m.start() + len(quote)) for m in re.finditer(f"(?={re.escape(quote)})", text)]


def quote_context(text: str, start: int, end: int) -> tuple[str, str]:
    """The shortest oa:prefix and oa:suffix (grown a character at a time on both sides, then to whole words) around
    text[start:end] that make prefix + quote + suffix occur once in `text`: what a text quote selector needs when
    its quote alone occurs more than once (W3C Web Annotation, 4.2.4). ("", "") for a quote that occurs once."""
    quote = text[start:end]
    before, after = start, end
    while len(find_spans(text, text[before:start] + quote + text[end:after])) > 1:
        before, after = max(0, before - 1), min(len(text), after + 1)
    if (before, after) != (start, end):
        while before > 0 and before < start and text[before - 1].isalnum():
            before -= 1
        while after < len(text) and after > end and text[after].isalnum():
            after += 1
    return text[before:start], text[end:after]


def find_span(text: str, quote: str, occurrence: int = 1) -> tuple[int, int]:
    """The span of the `occurrence`-th (1-based) match of `quote` in `text`; UsageError if there is none."""
    spans = find_spans(text, quote)
    if not spans:
        raise UsageError(f"quote not found: {quote!r}")
    if not 1 <= occurrence <= len(spans):
        raise UsageError(f"occurrence {occurrence} requested, but the quote occurs {len(spans)} time(s)")
    return spans[occurrence - 1]
