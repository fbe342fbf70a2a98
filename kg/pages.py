"""Web pages over the built graph: home, entity pages, the document view, the query page, the ontology docs.

Server-rendered with Jinja2 (autoescaped); two small local scripts (the query page's editor, the document
view's target highlight), nothing from elsewhere. Handlers read `request.app.state.built` (the kg.build.Built
served) and `request.app.state.settings.project` (kg.serve.Settings). Every quote is shown from the source text at its
claim's oa:TextPositionSelector offsets, inside the sentence (kg.coverage's units) that contains it.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from importlib import metadata
from itertools import pairwise
from pathlib import Path

from rdflib import BNode, Dataset, Graph, Literal, URIRef, Variable
from rdflib.compare import to_canonical_graph
from rdflib.namespace import ORG, SKOS
from rdflib.term import Node
import anyio.to_thread
from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from kg.ask import answer, asker
from kg.build import Built, cache_dir
from kg.errors import InputError, UsageError
from kg.coverage import ClaimCoverage, claim_coverage, document_sentences, sentence_units
from kg.describe import statements
from kg.files import write_atomic
from kg.load import Project, curie, label, merged, preferred_label
from kg.namespaces import (
    DCTERMS,
    ID,
    KG,
    OA,
    ONTOLOGY_GRAPH,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    STATEMENTS_GRAPH,
)
from kg.query import CatalogueQuery, bind_params, load_catalogue, supporting_claims
from kg.http import Refused, negotiate, query_parameters
from kg.store import where_group_start

TEMPLATES_DIR = Path(__file__).parent / "templates"
TEMPLATES = Jinja2Templates(directory=TEMPLATES_DIR)
STATIC = Path(__file__).parent / "static"
LONG_LITERAL = 300  # characters: longer literals (the source text) are shown folded
HOME_GROUP_ROWS = 100  # entities of each group on the home page; /entities lists a group in full, page by page
ENTITIES_PAGE_ROWS = 500
# the entity index on the home page: the first of these classes an entity belongs to (after reasoning) is its group
INDEX_GROUPS = (
    KG.State,
    KG.Place,
    ORG.Organization,
    KG.Commitment,
    KG.Activity,
    KG.Event,
    KG.Threat,
    KG.Crisis,
    KG.Goal,
    SKOS.Concept,
)


# --- terms as links -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """An RDF term as a page shows it: text, optional link, language, and its blank-node details if any."""

    text: str
    href: str = ""
    title: str = ""
    lang: str = ""
    literal: bool = False
    long: bool = False
    details: tuple[tuple[Term, Term], ...] = ()  # a blank node's (predicate, object) pairs


def page_path(node: Node) -> str | None:
    """The entity page of an IRI under the project's id/ namespace, else None."""
    if isinstance(node, URIRef) and str(node).startswith(str(ID)) and len(node) > len(ID):
        return "/page/" + str(node)[len(ID) :]
    return None


def term_link(graph: Dataset, node: Node, docs: OntologyDocs, depth: int = 0) -> Term:
    """How `node` is shown: a project entity links to its page, an ontology term to its documentation, another
    IRI to itself; a literal as written (with its language); a blank node with its own statements (one level)."""
    if isinstance(node, Literal):
        text = str(node)
        return Term(text, lang=node.language or "", literal=True, long=len(text) > LONG_LITERAL,
                    title=curie(node.datatype) if node.datatype else "")
    if isinstance(node, BNode):
        pairs = () if depth else tuple(
            (term_link(graph, p, docs, 1), term_link(graph, o, docs, 1))
            for p, o in sorted(graph.predicate_objects(node))
        )
        return Term("(unnamed node)", details=pairs)
    return _iri_term(node, label(graph, node), docs)


def _iri_term(node: Node, text: str, docs: OntologyDocs) -> Term:
    """An IRI shown as `text` (its label): linked to its entity page, its documentation, or itself if it is a
    web address (data may hold any IRI: a javascript: one would run in the reader's browser)."""
    href = page_path(node) or docs.href(node) or (str(node) if _WEB_ADDRESS.match(node) else "")
    return Term(text, href=href, title=curie(node))


_WEB_ADDRESS = re.compile(r"https?://", re.IGNORECASE)


# --- claims and their spans -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimSpan:
    """A claim's quote at its offsets in its source text, with the nodes it supports or is derived into."""

    ident: str
    node: URIRef
    source: str  # CURIE of the source document: a claim's identifier is unique within its document only
    quote: str
    start: int
    end: int
    statement: str
    supports: tuple[Term, ...]


@dataclass(frozen=True)
class Source:
    """One source document: its text, every claim located in it (by position), and its heading lines."""

    node: Node
    title: str
    text: str
    claims: tuple[ClaimSpan, ...]
    headings: tuple[tuple[int, int], ...]


def _claim_span(graph: Dataset, checked: ClaimCoverage, docs: OntologyDocs) -> ClaimSpan:
    """A verified claim's span, with the nodes it supports or is derived into."""
    claim = URIRef(checked.iri)
    supported = set(graph.subjects(KG.supportedBy, claim)) | set(graph.subjects(PROV.wasDerivedFrom, claim))
    return ClaimSpan(
        ident=checked.id,
        node=claim,
        source=checked.source,
        quote=checked.quote or "",
        start=checked.start or 0,
        end=checked.end or 0,
        statement=str(graph.value(claim, KG.statement) or ""),
        supports=tuple(sorted((term_link(graph, n, docs) for n in supported), key=lambda t: t.text)),
    )


def source_documents(graph: Dataset) -> list[Node]:
    """The source documents with a loaded text, by IRI: the order of the document pages."""
    return sorted(set(graph.subjects(SCHEMA.text)))


def source(graph: Dataset, document: Node, docs: OntologyDocs) -> Source:
    """One source document, its claims whose quote is verified at their offsets, and the lines kg.coverage counts
    as headings (a claim's kg:section, the document's title): this document's claims only, so that a page costs
    what its document holds, not what the dataset holds."""
    text = str(graph.value(document, SCHEMA.text))
    claims = [claim for claim in set(graph.subjects(OA.hasSource, document)) if (claim, RDF.type, KG.Claim) in graph]
    checked = [c for c in (claim_coverage(graph, claim) for claim in claims) if c.source == curie(document)]
    spans = [_claim_span(graph, c, docs) for c in checked if c.verified]
    headings = tuple(
        (unit.start, unit.end)
        for unit in document_sentences(graph, document, text, checked)
        if unit.via in ("section", "title")
    )
    return Source(document, _title(graph, document), text,
                  tuple(sorted(spans, key=lambda c: (c.start, c.end, c.ident))), headings)


def _title(graph: Dataset, document: Node) -> str:
    return str(graph.value(document, DCTERMS.title) or label(graph, document))


def document_titles(graph: Dataset) -> list[str]:
    """The titles of the source documents, in the order of their pages (no coverage computed)."""
    return [_title(graph, document) for document in source_documents(graph)]


def located(graph: Dataset, claims: Iterable[Node], docs: OntologyDocs) -> dict[Node, tuple[str, ClaimSpan]]:
    """(source text, span) of each of `claims` whose quote is verified at its offsets: these claims only, so that
    an entity page reads its own claims and not the coverage of the whole dataset."""
    found = {}
    for claim in claims:
        if (claim, RDF.type, KG.Claim) not in graph:
            continue
        checked = claim_coverage(graph, claim)
        if checked.verified:
            text = graph.value(graph.value(claim, OA.hasSource), SCHEMA.text)
            found[claim] = (str(text), _claim_span(graph, checked, docs))
    return found


@dataclass(frozen=True)
class Segment:
    """A stretch of source text covered by the same set of claims (`opens`: those starting here), or a heading."""

    text: str
    claims: tuple[str, ...]
    opens: tuple[str, ...]
    heading: bool


def segments(source: Source) -> list[Segment]:
    """The source text cut at every claim and heading boundary, so overlapping claims become flat pieces."""
    bounds = [(c.start, c.end) for c in source.claims] + list(source.headings)
    cuts = sorted({0, len(source.text)} | {p for span in bounds for p in span})
    return [
        Segment(
            source.text[a:b],
            tuple(c.ident for c in source.claims if c.start <= a and b <= c.end),
            tuple(c.ident for c in source.claims if c.start == a),
            any(start <= a and b <= end for start, end in source.headings),
        )
        for a, b in pairwise(cuts)
    ]


@dataclass(frozen=True)
class Quote:
    """A claim shown in context: the sentence(s) around its quote, cut into before / quote / after."""

    claim: ClaimSpan
    derived: bool
    before: str
    after: str


def in_sentence(text: str, claim: ClaimSpan, derived: bool = False) -> Quote:
    """The claim's quote inside the sentence units (kg.coverage) of its source `text` that it overlaps."""
    units = [(a, b) for a, b in sentence_units(text) if a < claim.end and b > claim.start]
    first = min([claim.start, *(a for a, _ in units)])
    last = max([claim.end, *(b for _, b in units)])
    return Quote(claim, derived, text[first : claim.start], text[claim.end : last])


# --- the ontology documentation (pyLODE) -----------------------------------------------------------------------


@dataclass(frozen=True)
class OntologyDocs:
    """The pyLODE page of the ontology, and the fragment pyLODE gave each term."""

    path: Path
    fragments: dict[str, str]

    def href(self, node: Node) -> str | None:
        fragment = self.fragments.get(str(node))
        return f"/docs/ontology/#{fragment}" if fragment else None


_docs_lock = threading.Lock()
_generated: dict[int, tuple[Built, OntologyDocs]] = {}  # by id(built); the Built kept alive so ids stay unique
# what makes the documentation page besides pyLODE: a change to either regenerates it
DOCS_GENERATOR = (Path(__file__), TEMPLATES_DIR / "_header.html")


def docs_key(ontology: Graph) -> str:
    """The documentation cache's key for `ontology`: its canonical N-Triples (blank nodes, such as a property
    chain's list, relabelled deterministically, so the same ontology has the same key on every build), pyLODE's
    version and the files of DOCS_GENERATOR."""
    digest = hashlib.sha256(f"pylode {metadata.version('pylode')}\0".encode())
    for path in DOCS_GENERATOR:
        digest.update(path.read_bytes() + b"\0")
    digest.update("\n".join(sorted(to_canonical_graph(ontology).serialize(format="nt").splitlines())).encode())
    return digest.hexdigest()[:16]


def ontology_docs(built: Built, project: Project) -> OntologyDocs:
    """The pyLODE documentation of the built ontology graph, generated once per ontology and generator into the
    project's cache directory (under docs_key, older pages removed) and reused by later requests and runs."""
    with _docs_lock:
        known = _generated.get(id(built))
        if known is not None:
            return known[1]
        ontology = merged(built.dataset, ONTOLOGY_GRAPH)  # a copy: pyLODE adds its own inferences to it
        digest = docs_key(ontology)
        folder = cache_dir(project) / "ontology-docs"
        page, index = folder / f"{digest}.html", folder / f"{digest}.json"
        if not (page.is_file() and index.is_file()):
            html, fragments = _run_pylode(ontology)
            write_atomic(page, html.encode("utf-8"))
            write_atomic(index, json.dumps(fragments, sort_keys=True).encode("utf-8"))
            for stale in [*folder.glob("*.html"), *folder.glob("*.json")]:  # another ontology's or generator's
                if stale not in (page, index):
                    stale.unlink(missing_ok=True)
        docs = OntologyDocs(page, json.loads(index.read_text(encoding="utf-8")))
        _generated[id(built)] = (built, docs)
        return docs


def _run_pylode(ontology: Graph) -> tuple[str, dict[str, str]]:
    """pyLODE's page (CSS inline, nothing remote), with this site's header inserted, and its term fragments.

    pyLODE runs a term's labels (and titles) in several languages into one heading ("activityactivité"), so
    each term gets a single one first: "activity / activité", English first.
    """
    from pylode import OntPub

    for predicate in (RDFS.label, DCTERMS.title):
        for subject in set(ontology.subjects(predicate)):
            names = sorted(ontology.objects(subject, predicate), key=lambda n: (getattr(n, "language", None) != "en", str(n)))
            if len(names) > 1:
                ontology.remove((subject, predicate, None))
                ontology.add((subject, predicate, Literal(" / ".join(map(str, names)))))
    publication = OntPub(ontology=ontology, sort_subjects=True)
    html = publication.make_html(include_css=True)
    header = TEMPLATES.get_template("_header.html").render(lang="en")
    style = '<link rel="stylesheet" href="/static/header.css">'
    html = html.replace("</head>", f"{style}</head>", 1)
    html = html.replace('<div id="content">', f'<div id="content">{header}', 1)
    return html, {str(iri): fragment for iri, fragment in publication.fids.items()}


# --- the query page's examples ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """A catalogue query ready for the editor: its parameters bound by a VALUES row at the top of WHERE."""

    name: str
    title: str
    question: str
    text: str


def example(graph: Dataset, query: CatalogueQuery) -> Example:
    """`query` with each parameter's default (UNDEF when it has none) bound by an inline VALUES block, which
    joins with the whole WHERE group as the CLI's initBindings do; the header comment says what to change."""
    optional = replace(query, params=tuple(p for p in query.params if not p.required))
    bound = bind_params(graph, optional, {})
    text = query.text
    if query.params:
        names = " ".join(f"?{p.name}" for p in query.params)
        values = " ".join(bound[v].n3() if (v := Variable(p.name)) in bound else "UNDEF" for p in query.params)
        notes = "".join(f"  # ?{p.name}: {p.help or p.type}{' (required)' if p.required else ''}\n"
                        for p in query.params)
        at = where_group_start(text)
        if at is None:
            raise InputError(f"{query.path}: no WHERE group to bind the parameters {names} in")
        text = f"{text[:at]}\n{notes}  VALUES ({names}) {{ ({values}) }}{text[at:]}"
    english = [q for lang, q in query.examples if lang == "en"]
    return Example(query.name, query.title, english[0] if english else query.description, text)


# --- handlers ------------------------------------------------------------------------------------------------


def _built(request: Request) -> Built:
    return request.app.state.built


def _docs(request: Request) -> OntologyDocs:
    return ontology_docs(request.app.state.built, request.app.state.settings.project)


def _render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, template, {"status": status, **context}, status_code=status)


def problem_page(request: Request, status: int, message: str) -> HTMLResponse:
    """The problem page: a request refused (4xx), in words."""
    return _render(request, "problem.html", status=status, problem=message)


def home(request: Request) -> HTMLResponse:
    graph = _built(request).dataset
    index = served_index(request.app.state)
    shown = [(group, group.members[:HOME_GROUP_ROWS]) for group in index.groups]
    return _render(request, "home.html", groups=shown, claims=index.claims, documents=document_titles(graph))


def entities(request: Request) -> HTMLResponse:
    """`/entities?group=CURIE[&page=N]`: one group of the home page's index, ENTITIES_PAGE_ROWS at a time."""
    groups = {group.key: group for group in served_index(request.app.state).groups}
    params = query_parameters(request, ("group", "page"))
    key, page = params.get("group", ""), params.get("page", "1")
    if key not in groups:
        known = ", ".join(groups) or "none"
        return problem_page(request, 404, f"no group of entities is named {key!r} (parameter group); the groups are: {known}")
    group = groups[key]
    last = max(1, -(-len(group.members) // ENTITIES_PAGE_ROWS))
    # (the length first: int() refuses more than 4300 digits)
    if not (page.isascii() and page.isdigit() and len(page) <= len(str(last)) and 1 <= int(page) <= last):
        return problem_page(request, 400, f"page {page!r} is not a page of {key}: pages run from 1 to {last}")
    number = int(page)
    first = (number - 1) * ENTITIES_PAGE_ROWS
    members = group.members[first : first + ENTITIES_PAGE_ROWS]
    return _render(request, "entities.html", group=group, members=members, number=number, last=last,
                   first=first + 1, end=first + len(members))


@dataclass(frozen=True)
class IndexGroup:
    """A group of the entity index: its key (the class's CURIE, or "other"), heading, and members by label, as the
    pages show them (their labels read with the index, not again by each page: a query each on a SPARQL server)."""

    key: str
    heading: Term
    members: list[Term]


@dataclass(frozen=True)
class EntityIndex:
    """The home page's index: its groups, and how many claims there are (which the index leaves out)."""

    groups: list[IndexGroup]
    claims: int


def entity_index(graph: Dataset, docs: OntologyDocs) -> EntityIndex:
    """The index: its non-empty groups (the project's entities typed in the statements graph, claims aside, and
    counted), in INDEX_GROUPS order then "Everything else", members sorted by the label their links show, then by
    IRI (so that equal labels keep one order). Read in a few scans (one per class, one of the labels), not a lookup
    per entity: a store read in place (kg.view) pays per call."""
    claims = set(graph.subjects(RDF.type, KG.Claim))
    entities = {node for node in graph.graph(STATEMENTS_GRAPH).subjects(RDF.type) if page_path(node)} - claims
    names: dict[Node, list[Literal]] = {}
    for node, name in graph.subject_objects(RDFS.label):
        if node in entities and isinstance(name, Literal):
            names.setdefault(node, []).append(name)
    shown = {node: preferred_label(names[node]) if node in names else curie(node) for node in entities}
    groups = []
    for cls in INDEX_GROUPS:
        members = entities.intersection(graph.subjects(RDF.type, cls))
        entities -= members
        groups.append(IndexGroup(curie(cls), term_link(graph, cls, docs), _by_label(members, shown, docs)))
    groups.append(IndexGroup("other", Term("Everything else"), _by_label(entities, shown, docs)))
    return EntityIndex([group for group in groups if group.members], len(claims))


_index_lock = threading.Lock()


def data_version(state: State) -> tuple[int, int]:
    """Which state of its data an app serves: an update changes the dataset in place and bumps the worker pool's
    generation, so what is computed from the data (the index of entities, kg ask's index) is kept per version."""
    pool = getattr(state, "pool", None)  # (an app of the pages alone, as the tests make, has none)
    return id(state.built.dataset), pool.generation if pool is not None else 0


def served_index(state: State) -> EntityIndex:
    """entity_index of the dataset an app serves (`state`: the app's state), computed once for each state of the
    data (an update bumps the worker pool's generation; the stores other than memory are read-only here): at 2 M
    triples it takes 15 s, so kg serve starts computing it at start-up. Requests that come while it is computed
    wait for it rather than compute it again."""
    version = data_version(state)
    with _index_lock:
        known = getattr(state, "entity_index", None)
        if known is None or known[0] != version:
            docs = ontology_docs(state.built, state.settings.project)
            known = state.entity_index = (version, entity_index(state.built.dataset, docs))
    return known[1]


def served_asker(state: State) -> None:
    """Make kg ask's Asker of the data an app serves (kg.ask.asker keeps it, per state of the data), so that the
    first question need not wait for it; a question asked meanwhile waits for this one."""
    asker(state.built, state.settings.project.queries, version=data_version(state), saved_in=_saved_in(state))


def _saved_in(state: State) -> Path:
    """Where kg ask's index of a store's build is kept between commands: the project's build cache."""
    return cache_dir(state.settings.project)


def _by_label(nodes: set[Node], shown: dict[Node, str], docs: OntologyDocs) -> list[Term]:
    ordered = sorted(nodes, key=lambda node: (shown[node].casefold(), str(node)))
    return [_iri_term(node, shown[node], docs) for node in ordered]


def entity(request: Request) -> HTMLResponse:
    built = _built(request)
    graph = built.dataset
    rest = request.path_params["rest"]
    node = ID[rest]
    if (node, None, None) not in graph and (None, None, node) not in graph:
        return problem_page(request, 404, f"the graph says nothing about {node}")
    docs = _docs(request)
    outgoing, incoming = statements(graph, node)
    labels = sorted((o for o in graph.objects(node, RDFS.label) if isinstance(o, Literal)),
                    key=lambda o: (o.language != "en", o.language or "", str(o)))
    supporting = supporting_claims(graph, node)
    spans = located(graph, [node, *(claim for claim, _ in supporting)], docs)
    quotes = [in_sentence(*spans[claim], derived) for claim, derived in supporting if claim in spans]
    if node in spans:  # a claim's own page shows its quote
        quotes.insert(0, in_sentence(*spans[node]))

    def rows(found, other):
        return sorted(
            ((term_link(graph, s.predicate, docs), term_link(graph, other(s), docs), s.inferred) for s in found
             if s.predicate != RDFS.label),
            key=lambda row: (row[2], row[0].text.casefold(), *_shown_order(row[1])),
        )

    return _render(
        request,
        "entity.html",
        iri=str(node),
        rest=rest,
        title=label(graph, node),
        labels=[Term(str(o), lang=o.language or "") for o in labels],
        alt_labels=_alt_labels(graph, node),
        types=sorted((term_link(graph, t, docs) for t in graph.objects(node, RDF.type)), key=lambda t: t.text),
        outgoing=rows(outgoing, lambda s: s.object),
        incoming=rows(incoming, lambda s: s.subject),
        quotes=quotes,
    )


def _shown_order(term: Term) -> tuple:
    """How a row's other end sorts: by text, then language, datatype or IRI, then what an unnamed node shows of
    its statements, so that equal texts never fall back on the order a store (or a set) gives."""
    details = tuple((predicate.text, obj.text, obj.lang) for predicate, obj in term.details)
    return term.text.casefold(), term.lang, term.title, details


def _alt_labels(graph: Dataset, node: Node) -> list[Term]:
    """skos:altLabels, one per spelling (NORAD is the same in English and French), titled with their languages."""
    languages: dict[str, set[str]] = {}
    for name in graph.objects(node, SKOS.altLabel):
        if isinstance(name, Literal):
            languages.setdefault(str(name), set()).add(name.language or "")
    return [
        Term(text, lang=next(iter(langs)) if len(langs) == 1 else "", title=", ".join(sorted(langs)))
        for text, langs in sorted(languages.items(), key=lambda item: item[0].casefold())
    ]


@dataclass(frozen=True)
class Pager:
    """Where a document's page stands among the documents' pages: 1-based position, neighbours' CURIEs."""

    position: int
    total: int
    previous: str = ""
    next: str = ""


def document(request: Request) -> HTMLResponse:
    """`/document[?source=CURIE]`: one source document (the first by IRI when none is named) with its claims, so
    that a dataset of many documents never renders them all on one page."""
    graph = _built(request).dataset
    documents = source_documents(graph)
    names = [curie(document) for document in documents]
    wanted = query_parameters(request, ("source",)).get("source")
    if wanted is not None and wanted not in names:
        return problem_page(request, 404, f"no source document is named {wanted!r} "
                       f"(parameter source, a CURIE such as {names[0] if names else 'id:factsheet'!r})")
    if not documents:
        return _render(request, "document.html", source=None, pieces=[], tooltips={}, pager=Pager(0, 0))
    at = names.index(wanted) if wanted is not None else 0
    shown = source(graph, documents[at], _docs(request))
    tooltips = {
        c.ident: f"{c.ident}: {c.statement} (supports: {', '.join(t.text for t in c.supports) or 'nothing'})"
        for c in shown.claims
    }
    pager = Pager(at + 1, len(names), names[at - 1] if at else "", names[at + 1] if at + 1 < len(names) else "")
    return _render(request, "document.html", source=shown, pieces=segments(shown), tooltips=tooltips, pager=pager)


def query_page(request: Request) -> HTMLResponse:
    graph = _built(request).dataset
    catalogue = load_catalogue(request.app.state.settings.project.queries)
    return _render(request, "query.html", examples=[example(graph, q) for q in catalogue.values()], base=str(ID))


def ontology_page(request: Request) -> FileResponse:
    return FileResponse(_docs(request).path, media_type="text/html; charset=utf-8")


_ask_slots_lock = threading.Lock()


def _ask_slots(state: State) -> threading.BoundedSemaphore:
    """How many questions the app answers at once: the worker pool's cap (`--max-workers`), kept in its state."""
    with _ask_slots_lock:
        slots = getattr(state, "ask_slots", None)
        if slots is None:
            slots = state.ask_slots = threading.BoundedSemaphore(state.settings.max_workers)
    return slots


async def _answer_in_time(state: State, built: Built, question: str, lang: str | None):
    """kg.ask's answer, or Refused(503) when none comes within the server's `--timeout`. An answer runs in a
    thread of the server, which cannot be stopped: one given up on finishes unseen, holding its slot until then,
    so that at most `--max-workers` answers are ever being computed, however many requests come."""
    slots, limit = _ask_slots(state), state.settings.timeout
    # Whether the thread got a slot before the request gave up decides the 503's message; the lock makes the
    # two sides agree, and a thread that gets its slot too late lets it go without computing.
    phase, phase_lock = {"computing": False, "given_up": False}, threading.Lock()

    def in_a_slot():
        if not slots.acquire(timeout=limit):
            return None
        with phase_lock:
            if phase["given_up"]:
                slots.release()
                return None
            phase["computing"] = True
        try:
            return answer(built, question, lang, state.settings.project.queries, version=data_version(state),
                          saved_in=_saved_in(state))
        finally:
            slots.release()

    reply = None  # the thread's, or none: it found no free slot in time, or the request stopped waiting for it
    with anyio.move_on_after(limit):
        reply = await anyio.to_thread.run_sync(in_a_slot, abandon_on_cancel=True)
    if reply is not None:
        return reply
    with phase_lock:
        phase["given_up"] = True
        computing = phase["computing"]
    if computing:
        raise Refused(503, f"ask: no answer within the server's time limit of {limit:g} s; retry later")
    raise Refused(503, f"ask: all {state.settings.max_workers} answering slots stayed busy for {limit:g} s; "
                       "retry later")


async def ask_page(request: Request) -> Response:
    """`/ask?q=…[&lang=en|fr]`: kg.ask's answer as JSON (Accept or `format=json`) or as a page with its form."""
    params = query_parameters(request, ("q", "lang", "format"))
    question, lang, chosen = params.get("q", "").strip(), params.get("lang") or None, params.get("format")
    if chosen not in (None, "json", "html"):
        raise Refused(400, f"unknown format {chosen!r} (parameter format): use json or html")
    wants_json = chosen == "json" or (
        chosen is None and negotiate(request.headers.get("accept"), ["application/json", "text/html"])
        == "application/json"
    )
    problem = ""
    if wants_json and not question:
        problem = "missing parameter q (the question)"
    reply = None
    if question:
        try:
            reply = await _answer_in_time(request.app.state, _built(request), question, lang)
        except UsageError as error:  # too long; an unknown reply language (a federated query is a refusal, not this)
            problem = str(error)
    if wants_json:
        response = JSONResponse({"error": problem} if problem else reply.as_json(), status_code=400 if problem else 200)
    else:
        response = _render(request, "ask.html", 400 if problem else 200, question=question, problem=problem, reply=reply)
    response.headers["Vary"] = "Accept"  # the same URL answers JSON or HTML: caches must key on Accept
    return response


def routes() -> list[BaseRoute]:
    """The pages' routes, mounted by the server's app (which sets `app.state.built`)."""
    return [
        Route("/", home, name="home"),
        Route("/page/{rest:path}", entity, name="entity"),
        Route("/entities", entities, name="entities"),
        Route("/document", document, name="document"),
        Route("/query", query_page, name="query"),
        Route("/ask", ask_page, name="ask"),
        Route("/docs/ontology/", ontology_page, name="ontology-docs"),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
