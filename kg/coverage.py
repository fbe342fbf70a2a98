"""How much of the source the graph encodes: per claim (encoded, span verified) and per sentence (covered).

A claim is encoded when its node supports at least one domain node, and verified when the text of its source
at [oa:start, oa:end) is exactly its oa:exact quote. The source text is cut into units: each line, and each
sentence within a line, so headings, the footnote and the closing wordmark count as units of their own. A
unit is covered when some claim's span overlaps it (via "span"); a heading line when it is the kg:section of
claims (via "section"); the title line when it is the document's dcterms:title, case aside (via "title").
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from kg.load import curie, find_spans
from kg.namespaces import DCTERMS, KG, OA, RDF, SCHEMA

if TYPE_CHECKING:
    from rich.console import RenderableType

# a sentence ends at . ! or ? followed by spaces and a character that can start a sentence (not a lowercase
# letter: "the U.S. in the Caribbean" stays whole)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[^\sa-z])")


@dataclass(frozen=True)
class ClaimCoverage:
    """One claim: whether it supports some node and whether its position selector matches its quote."""

    id: str
    iri: str
    source: str  # CURIE of the claim's oa:hasSource
    encoded: bool
    verified: bool
    supports: list[str]
    quote: str | None
    start: int | None
    end: int | None
    problem: str  # why the claim is not verified ('' when it is)


@dataclass(frozen=True)
class SentenceCoverage:
    """One unit of a source text and the claims whose spans overlap it."""

    source: str
    start: int
    end: int
    text: str
    claims: list[str]
    via: str  # how the unit is encoded: "span", "section", "title", or "" when it is not

    @property
    def covered(self) -> bool:
        return bool(self.via)


@dataclass(frozen=True)
class Coverage:
    """Claim and sentence coverage of the whole graph."""

    claims: list[ClaimCoverage]
    sentences: list[SentenceCoverage]

    def to_json(self) -> dict:
        """{"claims": {total, encoded, verified, items}, "sentences": {total, covered, items}}."""
        return {
            "claims": {
                "total": len(self.claims),
                "encoded": sum(c.encoded for c in self.claims),
                "verified": sum(c.verified for c in self.claims),
                "items": [asdict(c) for c in self.claims],
            },
            "sentences": {
                "total": len(self.sentences),
                "covered": sum(s.covered for s in self.sentences),
                "items": [asdict(s) | {"covered": s.covered} for s in self.sentences],
            },
        }


def sentence_units(text: str) -> list[tuple[int, int]]:
    """(start, end) of every non-blank line, split further into sentences, trimmed of surrounding spaces."""
    pieces = []
    for line in re.finditer(r"[^\n]+", text):
        start = line.start()
        for cut in _SENTENCE_BREAK.finditer(text, line.start(), line.end()):
            pieces.append((start, cut.start()))
            start = cut.end()
        pieces.append((start, line.end()))
    units = []
    for start, end in pieces:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            units.append((start, end))
    return units


def _selector_values(graph: Graph, claim: Node) -> dict[Node, Literal]:
    """The literal values on the claim's selectors (oa:exact, oa:start, oa:end, ...) by predicate, the first
    selector's where two have one: each selector read once (a query each on kg serve's SPARQL view, where reading
    every value apart took 13 queries a claim)."""
    values: dict[Node, Literal] = {}
    for selector in graph.objects(claim, OA.hasSelector):
        for predicate, value in graph.predicate_objects(selector):
            if isinstance(value, Literal):
                values.setdefault(predicate, value)
    return values


def _offset(value: Literal | None) -> int | None:
    python = None if value is None else value.toPython()
    return python if isinstance(python, int) and not isinstance(python, bool) else None


def claim_coverage(graph: Graph, claim: Node) -> ClaimCoverage:
    """Encoded and verified status of one kg:Claim node."""
    supports = sorted(curie(node) for node in set(graph.subjects(KG.supportedBy, claim)))
    selected = _selector_values(graph, claim)
    quote = selected.get(OA.exact)
    start, end = (_offset(selected.get(p)) for p in (OA.start, OA.end))
    source = graph.value(claim, OA.hasSource)
    text = graph.value(source, SCHEMA.text)
    problem = ""
    if quote is None:
        problem = "no oa:exact quote"
    elif start is None or end is None:
        problem = "no integer oa:start/oa:end position"
    elif text is None:
        problem = "its oa:hasSource has no loaded text"
    elif str(text)[start:end] != str(quote):
        problem = f"text[{start}:{end}] is {str(text)[start:end]!r}"
    else:
        prefix, suffix = (str(selected.get(p) or "") for p in (OA.prefix, OA.suffix))
        problem = _ambiguity(str(text), start, end, prefix, suffix)
    return ClaimCoverage(
        id=str(graph.value(claim, DCTERMS.identifier) or curie(claim)),
        iri=str(claim),
        source="" if source is None else curie(source),
        encoded=bool(supports),
        verified=not problem,
        supports=supports,
        quote=None if quote is None else str(quote),
        start=start,
        end=end,
        problem=problem,
    )


def _ambiguity(text: str, start: int, end: int, prefix: str, suffix: str) -> str:
    """Why the claim's text quote selector (its quote, oa:prefix and oa:suffix) does not pick the one place of
    `text` that its position selector gives, or "" if it does."""
    if start >= end:
        return "the quote is empty"
    if text[max(0, start - len(prefix)) : start] != prefix:
        return f"oa:prefix {prefix!r} is not the text before the quote"
    if text[end : end + len(suffix)] != suffix:
        return f"oa:suffix {suffix!r} is not the text after the quote"
    places = len(find_spans(text, prefix + text[start:end] + suffix))
    if places > 1:
        return (f"the quote occurs {places} times in the source, and its text quote selector does not say which: "
                "give it the oa:prefix and oa:suffix that kg locate prints")
    return ""


def coverage(graph: Graph) -> Coverage:
    """Coverage of every kg:Claim in `graph` and of every unit of every loaded source text."""
    claims = sorted((claim_coverage(graph, c) for c in set(graph.subjects(RDF.type, KG.Claim))), key=lambda c: c.id)
    sentences = []
    for document, text in sorted(graph.subject_objects(SCHEMA.text)):
        source = curie(document)
        sentences += document_sentences(graph, document, str(text), [c for c in claims if c.source == source])
    return Coverage(claims, sentences)


def document_sentences(graph: Graph, document: Node, text: str, claims: list[ClaimCoverage]) -> list[SentenceCoverage]:
    """Coverage of every unit of one source `text` by `claims`, the claims whose oa:hasSource is `document`."""
    source = curie(document)
    spans = [c for c in claims if c.start is not None and c.end is not None]
    titles = {str(title).casefold() for title in graph.objects(document, DCTERMS.title)}
    # each claim's section read once, not once per sentence: on a store read in place (kg serve's pages) each read
    # is a lookup, a query to a SPARQL server
    sections = {c.iri: str(graph.value(URIRef(c.iri), KG.section) or "") for c in spans}
    sentences = []
    for start, end in sentence_units(text):
        unit = text[start:end]
        overlapping = sorted(c.id for c in spans if c.start < end and c.end > start)
        sectioned = sorted(c.id for c in spans if sections[c.iri] == unit)
        if overlapping:
            sentences.append(SentenceCoverage(source, start, end, unit, overlapping, "span"))
        elif sectioned:
            sentences.append(SentenceCoverage(source, start, end, unit, sectioned, "section"))
        else:
            via = "title" if unit.casefold() in titles else ""
            sentences.append(SentenceCoverage(source, start, end, unit, [], via))
    return sentences


def to_tables(report: Coverage) -> list[RenderableType]:
    """Rich renderables: the claims with a problem, every sentence with its covering claims, then a summary."""
    from rich.markup import escape
    from rich.table import Table

    summary = report.to_json()
    c, s = summary["claims"], summary["sentences"]
    head = (
        f"claims: {c['total']} total, {c['encoded']} encoded, {c['verified']} verified; "
        f"sentences: {s['total']} total, {s['covered']} covered"
    )
    failing = [claim for claim in report.claims if not (claim.encoded and claim.verified)]
    problems: RenderableType = "every claim is encoded and verified"
    if failing:
        problems = Table("id", "encoded", "verified", "problem", title="claims not encoded or not verified")
        for claim in failing:
            problems.add_row(escape(claim.id), _mark(claim.encoded), _mark(claim.verified), escape(claim.problem))
    units = Table("span", "covered", "via", "claims", "text", title="source sentences")
    for unit in report.sentences:
        units.add_row(
            f"{unit.start}-{unit.end}", _mark(unit.covered), unit.via, escape(" ".join(unit.claims)), escape(unit.text)
        )
    return [problems, units, head]  # the summary last, where a terminal (or `| tail -1`) shows it


def _mark(flag: bool) -> str:
    return "yes" if flag else "NO"
