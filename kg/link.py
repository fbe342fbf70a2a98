"""Links to Wikidata: the SSSOM table (data/links.sssom.tsv), read and validated with the `sssom` library, as
the `graph/links` named graph; and which real-world entities are linked, listed unverified, or neither.

The RDF is sssom's own (the SSSOM/RDF serialisation, a standard form rather than one made up here): one
`owl:Axiom` per mapping, with owl:annotatedSource, owl:annotatedProperty and owl:annotatedTarget, the
justification, the confidence and the evidence (rdfs:comment), under the mapping set, so that every link keeps its
evidence in the graph. Each axiom is named `id:link/ENTITY-QID` (sssom makes it a blank node), and the plain
`subject skos:exactMatch object` triple is added beside it, so that queries join on it directly.
skos:exactMatch and skos:closeMatch do not merge nodes under OWL RL, where owl:sameAs would.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path

from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import ORG, OWL, RDF, RDFS, SKOS

from kg.errors import InputError
from kg.export import write_atomic
from kg.load import Project, curie, label
from kg.namespaces import ID, KG, LINKS_GRAPH, SSSOM, STATEMENTS_GRAPH, WD

# The classes whose instances are things of the world that Wikidata may describe (subclasses included).
REAL_WORLD_CLASSES = (KG.Place, ORG.Organization, KG.ArmedGroup, KG.EquipmentType, KG.Currency)
LINK_PREDICATES = (SKOS.exactMatch, SKOS.closeMatch)
EXTERNAL_ID = re.compile(r"http://www\.wikidata\.org/entity/Q[1-9]\d*|https://sws\.geonames\.org/[1-9]\d*/")
UNVERIFIED_COLUMNS = ("subject_id", "subject_label", "reason")


@dataclass(frozen=True)
class Mapping:
    """One row of the SSSOM table, as read back from the links graph."""

    subject: URIRef
    subject_label: str
    predicate: URIRef
    object: URIRef
    object_label: str
    justification: URIRef
    confidence: float | None
    evidence: str

    def to_json(self) -> dict:
        return asdict(self) | {
            key: curie(getattr(self, key)) for key in ("subject", "predicate", "object", "justification")
        }


@dataclass(frozen=True)
class Unlinked:
    """A real-world entity without a link: its label and why (empty reason: listed nowhere, a defect)."""

    subject: URIRef
    label: str
    reason: str

    def to_json(self) -> dict:
        return {"subject": curie(self.subject), "label": self.label, "reason": self.reason}


def read_links(path: Path, project: Project = Project()) -> Graph:
    """The SSSOM table at `path` as RDF, after sssom's validation (JSON schema, prefix map, CURIE syntax).

    A table sssom cannot read, or one it reports errors on, raises InputError naming the file and each error.
    """
    import logging
    import warnings

    shown = project.relative(path)
    logging.getLogger("sssom").setLevel(logging.ERROR)  # its info lines about prefixes are not for users
    with warnings.catch_warnings():  # sssom's own pandas deprecation warnings: nothing a user can act on
        warnings.simplefilter("ignore")
        from sssom.parsers import parse_sssom_table
        from sssom.validators import validate
        from sssom.writers import to_rdf_graph

        try:
            mapping_set = parse_sssom_table(path)
        except Exception as exc:  # sssom raises ValueError, KeyError, yaml and pandas errors for bad tables
            raise InputError(f"{shown}: not a valid SSSOM table: {exc}") from None
        reports = validate(mapping_set, fail_on_error=False)
        graph = to_rdf_graph(mapping_set)
    errors = [f"{kind.name}: {result.message}" for kind, report in reports.items() for result in report.results]
    if errors:
        raise InputError(f"{shown}: SSSOM validation failed:\n  " + "\n  ".join(errors))
    named = {}
    for axiom in graph.subjects(RDF.type, OWL.Axiom):
        subject = graph.value(axiom, OWL.annotatedSource)
        predicate = graph.value(axiom, OWL.annotatedProperty)
        target = graph.value(axiom, OWL.annotatedTarget)
        name = mapping_iri(subject, target)
        if name in named.values():
            raise InputError(f"{shown}: more than one mapping from {curie(subject)} to {curie(target)}")
        named[axiom] = name
        graph.add((subject, predicate, target))
    return _renamed(graph, named)


def mapping_iri(subject: URIRef, target: URIRef) -> URIRef:
    """The IRI of the mapping axiom from `subject` to `target`: id:link/LOCAL-QID. sssom makes each axiom a blank
    node; a name lets people cite a link, and keeps graph comparison (exports, tests) fast."""
    return ID[f"link/{subject.removeprefix(ID)}-{target.rstrip('/').rsplit('/', 1)[-1]}"]


def _renamed(graph: Graph, names: dict) -> Graph:
    """`graph` with each node of `names` replaced by its new name."""
    renamed = Graph()
    for triple in graph:
        renamed.add(tuple(names.get(node, node) for node in triple))
    return renamed


def cached_links(project: Project = Project()) -> Graph:
    """read_links on the project's table, kept as N-Triples in the build cache directory under the hash of the
    table, the sssom version and this module: importing sssom alone takes 1.6 s, so a rebuild after an edit
    elsewhere skips it."""
    from kg.build import cache_dir

    digest = hashlib.sha256(project.links.read_bytes())
    digest.update(f"\0sssom {version('sssom')}\0".encode())
    digest.update(Path(__file__).read_bytes())
    directory = cache_dir(project)
    path = directory / f"links-{digest.hexdigest()}.nt"
    try:
        return Graph().parse(data=path.read_bytes().decode("utf-8"), format="nt")
    except Exception:  # absent, unreadable or corrupt (any parser error): read the table again
        pass
    graph = read_links(project.links, project)
    write_atomic(path, graph.serialize(format="nt", encoding="utf-8"))
    for stale in directory.glob("links-*.nt"):
        if stale != path:
            stale.unlink(missing_ok=True)
    return graph


def add_links(dataset: Dataset, project: Project = Project()) -> None:
    """Load the project's SSSOM table (if any) into the links graph, after checking it against the statements."""
    if not project.links.is_file():
        return
    links = cached_links(project)
    target = dataset.graph(LINKS_GRAPH)
    target += links
    problems = check_mappings(dataset.graph(STATEMENTS_GRAPH), mappings(target))
    if problems:
        raise InputError(f"{project.relative(project.links)}: " + "\n  ".join(problems))


def mappings(graph: Graph) -> list[Mapping]:
    """Every mapping of the links graph (or of a dataset holding it), sorted by subject and object."""
    rows = []
    for axiom in graph.subjects(RDF.type, OWL.Axiom):
        if graph.value(axiom, OWL.annotatedProperty) not in LINK_PREDICATES:
            continue
        confidence = graph.value(axiom, SSSOM.confidence)
        rows.append(
            Mapping(
                subject=graph.value(axiom, OWL.annotatedSource),
                subject_label=str(graph.value(axiom, SSSOM.subject_label) or ""),
                predicate=graph.value(axiom, OWL.annotatedProperty),
                object=graph.value(axiom, OWL.annotatedTarget),
                object_label=str(graph.value(axiom, SSSOM.object_label) or ""),
                justification=graph.value(axiom, SSSOM.mapping_justification),
                confidence=float(confidence) if confidence is not None else None,
                evidence=str(graph.value(axiom, RDFS.comment) or ""),
            )
        )
    return sorted(rows, key=lambda row: (str(row.subject), str(row.object)))


def check_mappings(statements: Graph, rows: list[Mapping]) -> list[str]:
    """What is wrong with the mappings, one line each (none: all hold).

    Each subject is an entity of the statements with subject_label among its rdfs:labels; each object is a
    Wikidata entity IRI (or a GeoNames feature); no two subjects are skos:exactMatch to the same object; each
    mapping's evidence names the identifier it supports.
    """
    problems = []
    exact_subjects: dict[URIRef, list[URIRef]] = {}
    for row in rows:
        where = f"{curie(row.subject)} -> {curie(row.object)}"
        labels = {str(name) for name in statements.objects(row.subject, RDFS.label)}
        if not labels:
            problems.append(f"{where}: subject {curie(row.subject)} is not an entity of the graph")
        elif row.subject_label not in labels:
            problems.append(f"{where}: subject_label {row.subject_label!r} is not a label of it ({sorted(labels)})")
        if not EXTERNAL_ID.fullmatch(str(row.object)):
            problems.append(f"{where}: object {row.object} is not a Wikidata entity IRI (or a GeoNames feature)")
        local = str(row.object).rstrip("/").rsplit("/", 1)[-1]
        if local not in row.evidence:
            problems.append(f"{where}: the comment does not cite {local}: each mapping keeps the evidence for it")
        if row.predicate == SKOS.exactMatch:
            exact_subjects.setdefault(row.object, []).append(row.subject)
    for target, subjects in sorted(exact_subjects.items()):
        if len(subjects) > 1:
            names = ", ".join(curie(subject) for subject in sorted(subjects))
            problems.append(f"{curie(target)}: skos:exactMatch from several subjects ({names})")
    return problems


def real_world_entities(graph: Graph) -> dict[URIRef, str]:
    """The project's entities typed (in the statements, with the ontology's subclasses) by a real-world class,
    with their English labels."""
    classes = set(REAL_WORLD_CLASSES)
    pending = list(classes)
    while pending:
        for subclass in graph.subjects(RDFS.subClassOf, pending.pop()):
            if subclass not in classes:
                classes.add(subclass)
                pending.append(subclass)
    entities = {}
    for kind in classes:
        for entity in graph.subjects(RDF.type, kind):
            if isinstance(entity, URIRef) and entity.startswith(ID):
                entities[entity] = label(graph, entity)
    return dict(sorted(entities.items()))


def read_table(path: Path, columns: tuple[str, ...], project: Project = Project()) -> list[tuple]:
    """The rows of a small TSV table with the header `columns`, whose first cell is an `id:` CURIE (expanded);
    a malformed header or row raises InputError naming the file and line."""
    shown = project.relative(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    rows = list(csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or tuple(rows[0]) != columns:
        raise InputError(f"{shown}:1: expected the header {' | '.join(columns)}")
    table = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(columns) or not all(cell.strip() for cell in row):
            raise InputError(f"{shown}:{number}: expected {len(columns)} non-empty tab-separated cells")
        prefix, _, local = row[0].partition(":")
        if prefix != "id" or not local:
            raise InputError(f"{shown}:{number}: {columns[0]} {row[0]!r} is not an id: CURIE")
        table.append((ID[local], *row[1:]))
    return table


def read_unverified(path: Path, project: Project = Project()) -> list[Unlinked]:
    """The entities listed in links-unverified.tsv, with why they are not linked."""
    return [Unlinked(*row) for row in read_table(path, UNVERIFIED_COLUMNS, project)]


def missing(dataset: Graph, project: Project = Project()) -> tuple[list[Unlinked], list[Unlinked]]:
    """(listed, unlisted): the real-world entities without a link that links-unverified.tsv lists, with its
    reason, and those it does not list (each a defect: neither linked nor explained)."""
    linked = {row.subject for row in mappings(dataset)}
    listed = read_unverified(project.links_unverified, project) if project.links_unverified.is_file() else []
    reasons = {row.subject: row.reason for row in listed}
    found, unlisted = [], []
    for entity, name in real_world_entities(dataset).items():
        if entity in linked:
            continue
        if entity in reasons:
            found.append(Unlinked(entity, name, reasons[entity]))
        else:
            unlisted.append(Unlinked(entity, name, ""))
    return found, unlisted


def check_unverified(statements: Graph, linked: set[URIRef], listed: list[Unlinked]) -> list[str]:
    """What is wrong with links-unverified.tsv, one line each: a subject that is not an entity of the graph,
    a label that is not one of its labels, a subject that is linked after all."""
    problems = []
    for row in listed:
        labels = {str(name) for name in statements.objects(row.subject, RDFS.label)}
        if not labels:
            problems.append(f"{curie(row.subject)}: not an entity of the graph")
        elif row.label not in labels:
            problems.append(f"{curie(row.subject)}: subject_label {row.label!r} is not a label of it")
        if row.subject in linked:
            problems.append(f"{curie(row.subject)}: listed as unverified but linked in the SSSOM table")
    return problems


def unverified_problems(dataset: Dataset, project: Project = Project()) -> list[str]:
    """check_unverified on the project's links-unverified.tsv (none without the file)."""
    if not project.links_unverified.is_file():
        return []
    listed = read_unverified(project.links_unverified, project)
    linked = {row.subject for row in mappings(dataset)}
    return check_unverified(dataset.graph(STATEMENTS_GRAPH), linked, listed)


def linked_items(dataset: Graph) -> dict[URIRef, URIRef]:
    """Wikidata item -> the project entity linked to it by skos:exactMatch."""
    exact = (row for row in mappings(dataset) if row.predicate == SKOS.exactMatch)
    return {row.object: row.subject for row in exact if row.object.startswith(WD)}
