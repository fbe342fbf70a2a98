"""Enrichment: facts about the linked Wikidata items, fetched from a SPARQL endpoint into a local cache.

`enrich` runs queries/enrich/wikidata.rq (a CONSTRUCT whose `VALUES ?item {}` is filled with batches of the
linked items, skos:exactMatch and skos:closeMatch) against an endpoint (default: the Wikidata Query Service), keeps only the expected statements
about the requested items (labels in English and French, ISO 3166-1 codes, coordinates, inception,
memberships, population), and writes them atomically to data/external/wikidata.trig as the named graph
`graph/external/wikidata`, with PROV: the retrieval activity, the endpoint it used, the query, its times.
Subjects are Wikidata items only, so the cache can never overwrite or contradict a statement of the document
in place; where the two disagree (a founding year, a stated membership), the disagreement is reported, not
resolved. An item whose English label is not the table's object_label, or about which nothing came back (a
deleted or redirected QID), is a problem with the link and is reported as one. The Query Service's etiquette is followed: a descriptive User-Agent, batches, a timeout, and retries
with exponential backoff on 429 and 5xx that honour Retry-After (capped). Any failure leaves the previous cache
byte for byte and raises EndpointError naming the endpoint and the cause.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import ORG, PROV, RDF, RDFS, XSD

from kg import __version__
from kg.errors import EndpointError, InputError
from kg.files import write_atomic
from kg.link import linked_items, mappings
from kg.load import Project, check_terms, curie, label, new_dataset
from kg.namespaces import BASE, KG, STATEMENTS_GRAPH, WD, WDT, WIKIDATA_ENDPOINT, WIKIDATA_GRAPH

USER_AGENT = f"defence-kg/{__version__} (+{BASE}; knowledge graph of a Canada-US defence fact sheet) kg-enrich"
FACT_PREDICATES = (RDFS.label, WDT.P297, WDT.P298, WDT.P625, WDT.P571, WDT.P463, WDT.P1082)
LABEL_LANGUAGES = ("en", "fr")
# What the cache says of its graph and of the blank nodes of the retrieval and its query (see `enrich`).
PROVENANCE_PREDICATES = (RDF.type, RDFS.comment, PROV.wasGeneratedBy, PROV.used, PROV.startedAtTime,
                         PROV.endedAtTime, PROV.value)
RETRY_STATUSES = {429, 500, 502, 503, 504}
_VALUES = re.compile(r"VALUES\s+\?item\s*\{\s*\}")


@dataclass(frozen=True)
class Etiquette:
    """How politely to ask: items per request, seconds to wait for an answer, attempts per request, the first
    backoff (doubled at each retry) and the longest wait accepted from a Retry-After header."""

    batch_size: int = 50
    timeout: float = 60.0
    attempts: int = 4
    backoff: float = 2.0
    max_wait: float = 120.0


@dataclass(frozen=True)
class Disagreement:
    """A fact on which the document and Wikidata differ: what, the document's value and Wikidata's."""

    subject: URIRef
    topic: str
    document: str
    external: str

    def to_json(self) -> dict:
        return {"subject": curie(self.subject), "topic": self.topic, "document": self.document, "wikidata": self.external}


@dataclass
class Enrichment:
    """What `enrich` did: where from, when, how many requests, items and triples, and the disagreements."""

    endpoint: str
    retrieved: str
    requests: int
    items: int
    triples: int
    dropped: int
    path: str
    disagreements: list[Disagreement] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "endpoint": self.endpoint,
            "retrieved": self.retrieved,
            "requests": self.requests,
            "items": self.items,
            "triples": self.triples,
            "dropped": self.dropped,
            "cache": self.path,
            "disagreements": [d.to_json() for d in self.disagreements],
            "problems": self.problems,
        }


def batch_query(template: str, items: list[URIRef], where: str = "query") -> str:
    """The CONSTRUCT query `template` with its `VALUES ?item {}` filled with `items`."""
    if len(_VALUES.findall(template)) != 1:
        raise InputError(f"{where}: expected exactly one empty 'VALUES ?item {{}}' block to fill with the items")
    values = " ".join(f"<{item}>" for item in items)
    return _VALUES.sub(lambda _: f"VALUES ?item {{ {values} }}", template)


def retry_delay(response, attempt: int, etiquette: Etiquette) -> float:
    """Seconds to wait before retrying: Retry-After (seconds or an HTTP date) if given, else exponential."""
    header = response.headers.get("Retry-After")
    if header:
        if header.strip().isdigit():
            return min(float(header), etiquette.max_wait)
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):  # neither seconds nor a date: ignored, as if absent
            when = None
        if when is not None and when.tzinfo is not None:
            return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), etiquette.max_wait)
    return min(etiquette.backoff * 2**attempt, etiquette.max_wait)


def fetch(
    client,
    endpoint: str,
    query: str,
    etiquette: Etiquette,
    sleep: Callable[[float], None] = time.sleep,
) -> Graph:
    """POST one CONSTRUCT to `endpoint` and parse the Turtle answer, retrying on 429 and 5xx."""
    import httpx

    attempt = 0
    while True:
        attempt += 1
        try:
            response = client.post(
                endpoint,
                data={"query": query},
                headers={"Accept": "text/turtle", "User-Agent": USER_AGENT},
                timeout=etiquette.timeout,
            )
        except httpx.TimeoutException:
            raise EndpointError(f"{endpoint}: no answer within {etiquette.timeout:g} s (timeout)") from None
        except httpx.HTTPError as exc:
            raise EndpointError(f"{endpoint}: request failed: {exc}") from None
        if response.status_code in RETRY_STATUSES and attempt < etiquette.attempts:
            sleep(retry_delay(response, attempt - 1, etiquette))
            continue
        if response.status_code != 200:
            detail = response.text.strip().splitlines()[0][:200] if response.text.strip() else "no body"
            raise EndpointError(
                f"{endpoint}: HTTP {response.status_code} after {attempt} attempt(s): {detail}"
            )
        try:
            return Graph().parse(data=response.text, format="turtle")
        except Exception as exc:  # rdflib's parser errors
            raise EndpointError(f"{endpoint}: the answer is not Turtle: {exc}") from None


def keep_facts(fetched: Graph, items: set[URIRef]) -> tuple[Graph, int]:
    """The fetched triples that are expected facts about requested items, and how many others were dropped."""
    kept = Graph()
    for triple in fetched:
        subject, predicate, value = triple
        if subject not in items or predicate not in FACT_PREDICATES:
            continue
        if predicate == RDFS.label and getattr(value, "language", None) not in LABEL_LANGUAGES:
            continue
        kept.add(triple)
    return kept, len(fetched) - len(kept)


def enrich(
    dataset: Dataset,
    project: Project = Project(),
    endpoint: str = WIKIDATA_ENDPOINT,
    etiquette: Etiquette = Etiquette(),
    sleep: Callable[[float], None] = time.sleep,
) -> Enrichment:
    """Fetch the facts about every linked item of `dataset`, store them as the cache and report disagreements."""
    import httpx

    from kg.export import FORMATS

    shown = project.relative(project.enrich_query)
    try:
        template = project.enrich_query.read_bytes().decode("utf-8")
    except OSError as exc:
        raise InputError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{shown}: not UTF-8 ({exc.reason})") from None
    links = [row for row in mappings(dataset) if row.object.startswith(WD)]
    items = sorted({row.object for row in links})
    if not items:
        raise InputError(f"{project.relative(project.links)}: no link to a Wikidata item to enrich")
    started = _now()
    facts, dropped, requests = Graph(), 0, 0
    with httpx.Client(follow_redirects=True) as client:
        for start in range(0, len(items), etiquette.batch_size):
            batch = items[start : start + etiquette.batch_size]
            query = batch_query(template, batch, shown)
            kept, rejected = keep_facts(fetch(client, endpoint, query, etiquette, sleep), set(batch))
            facts += kept
            dropped += rejected
            requests += 1
    ended = _now()
    cache = new_dataset()
    graph = cache.graph(WIKIDATA_GRAPH)
    graph += facts
    retrieval = BNode()
    query_entity = BNode()
    graph.add((WIKIDATA_GRAPH, RDF.type, PROV.Entity))
    graph.add((WIKIDATA_GRAPH, PROV.wasGeneratedBy, retrieval))
    graph.add((retrieval, RDF.type, PROV.Activity))
    graph.add((retrieval, PROV.used, URIRef(endpoint)))
    graph.add((retrieval, PROV.used, query_entity))
    graph.add((retrieval, PROV.startedAtTime, started))
    graph.add((retrieval, PROV.endedAtTime, ended))
    graph.add((retrieval, RDFS.comment, Literal(f"HTTP User-Agent: {USER_AGENT}")))
    graph.add((query_entity, RDF.type, PROV.Plan))
    graph.add((query_entity, PROV.value, Literal(template)))
    write_atomic(project.wikidata_cache, cache.serialize(format=FORMATS["trig"][0], encoding="utf-8"))
    return Enrichment(
        endpoint=endpoint,
        retrieved=str(ended),
        requests=requests,
        items=len(items),
        triples=len(facts),
        dropped=dropped,
        path=project.relative(project.wikidata_cache),
        disagreements=disagreements(dataset, facts),
        problems=link_problems(links, facts, project.relative(project.links)),
    )


def _now() -> Literal:
    return Literal(datetime.now(UTC).replace(microsecond=0).isoformat(), datatype=XSD.dateTime)


def link_problems(links: list, facts: Graph, table: str) -> list[str]:
    """What the fetched facts say is wrong with the links (kg.link.Mapping rows to Wikidata items), one line
    each: an item about which nothing came back, and an item none of whose English labels is the object_label
    (compared without case: Wikidata's labels are edited, a case change is not a different item)."""
    problems = []
    for row in links:
        if not any(facts.triples((row.object, None, None))):
            problems.append(f"{curie(row.object)} (linked from {curie(row.subject)}): nothing came back about it "
                            "(a deleted or redirected item?)")
            continue
        english = sorted(str(name) for name in facts.objects(row.object, RDFS.label) if name.language == "en")
        if english and row.object_label.casefold() not in {name.casefold() for name in english}:
            problems.append(f"{curie(row.object)} (linked from {curie(row.subject)}): Wikidata's English label "
                            f"{', '.join(map(repr, english))} is not the object_label {row.object_label!r} of "
                            f"{table}")
    return problems


def disagreements(dataset: Dataset, facts: Graph) -> list[Disagreement]:
    """Where the document and the fetched facts differ: a founding year that is not the year of the item's
    inception (P571), and a membership the document states that the member's item does not list (P463)."""
    statements = dataset.graph(STATEMENTS_GRAPH)
    items = {entity: item for item, entity in linked_items(dataset).items()}
    found = []
    for founding in statements.subjects(RDF.type, KG.Founding):
        organisation = statements.value(founding, KG.ofOrganisation)
        year = statements.value(founding, KG.year)
        item = items.get(organisation)
        inceptions = sorted(str(date)[:4] for date in facts.objects(item, WDT.P571)) if item else []
        if year is not None and inceptions and str(year) not in inceptions:
            kind = "derived" if (founding, RDF.type, KG.DerivedFact) in statements else "stated"
            found.append(
                Disagreement(
                    founding,
                    f"founding year of {label(statements, organisation)}",
                    f"{year} ({kind})",
                    f"inception (P571) of {curie(item)}: {', '.join(inceptions)}",
                )
            )
    for membership in statements.subjects(RDF.type, KG.Membership):
        member, organisation = statements.value(membership, ORG.member), statements.value(membership, ORG.organization)
        member_item, organisation_item = items.get(member), items.get(organisation)
        if member_item is None or organisation_item is None or not any(facts.triples((member_item, None, None))):
            continue  # not linked, or nothing fetched about the member: nothing to compare
        if (member_item, WDT.P463, organisation_item) not in facts:
            found.append(
                Disagreement(
                    membership,
                    f"membership of {label(statements, member)} in {label(statements, organisation)}",
                    "stated",
                    f"{curie(member_item)} has no member of (P463) {curie(organisation_item)}",
                )
            )
    return sorted(found, key=lambda d: (d.topic, str(d.subject)))


def load_cache(dataset: Dataset, project: Project = Project()) -> None:
    """Add the enrichment cache (if present) to `dataset` as its named graph. It must hold only that graph, and
    in it only what `enrich` writes: the facts keep_facts keeps about Wikidata items, and the provenance of the
    retrieval. Anything else (a statement about the document's own nodes, a link) is refused, not dropped: the
    file was edited by hand or by something other than kg enrich."""
    path = project.wikidata_cache
    if not path.is_file():
        return
    shown = project.relative(path)
    cache = Dataset()
    try:
        text = path.read_bytes().decode("utf-8")
        cache.parse(data=text, format="trig")
    except Exception as exc:  # rdflib's parser errors, undecodable bytes
        raise InputError(f"{shown}: malformed TriG: {exc}") from None
    others = sorted(str(g.identifier) for g in cache.graphs() if len(g) and g.identifier != WIKIDATA_GRAPH)
    if others:
        raise InputError(f"{shown}: holds graphs other than {WIKIDATA_GRAPH}: {', '.join(others)}")
    graph = cache.graph(WIKIDATA_GRAPH)
    check_terms(graph, shown, text)
    facts = Graph()
    for triple in graph:
        subject, predicate, _ = triple
        if not (subject == WIKIDATA_GRAPH or isinstance(subject, BNode)) or predicate not in PROVENANCE_PREDICATES:
            facts.add(triple)
    items = {subject for subject in facts.subjects() if isinstance(subject, URIRef) and subject.startswith(WD)}
    kept, _ = keep_facts(facts, items)
    unexpected = sorted(" ".join(term.n3(dataset.namespace_manager) for term in triple)
                        for triple in facts - kept)
    if unexpected:
        raise InputError(f"{shown}: {len(unexpected)} statement(s) kg enrich does not write, such as "
                         f"{unexpected[0]}: only facts about Wikidata items and the retrieval's provenance "
                         "belong there (delete the file, or run kg enrich again)")
    target = dataset.graph(WIKIDATA_GRAPH)
    target += graph

