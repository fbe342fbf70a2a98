"""Links to Wikidata: the SSSOM table (data/links.sssom.tsv) as the `graph/links` named graph (the tests validate
the table with the `sssom` library and check this graph against the library's); and which real-world entities
are linked, listed unverified, or neither.

The RDF is sssom's own (the SSSOM/RDF serialisation, a standard form rather than one made up here): one
`owl:Axiom` per mapping, with owl:annotatedSource, owl:annotatedProperty and owl:annotatedTarget, the
justification, the confidence and the evidence (rdfs:comment), under the mapping set, so that every link keeps its
evidence in the graph. Each axiom is named `id:link/ENTITY-QID` (sssom makes it a blank node), and the plain
`subject skos:exactMatch object` triple is added beside it, so that queries join on it directly.
skos:exactMatch and skos:closeMatch do not merge nodes under OWL RL, where owl:sameAs would.
"""

from __future__ import annotations

import csv
import re
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, ORG, OWL, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from kg.errors import InputError
from kg.load import Project, curie, label
from kg.namespaces import ID, KG, LINKS_GRAPH, SEMAPV, SSSOM, STATEMENTS_GRAPH, WD

# The classes whose instances are things of the world that Wikidata may describe (subclasses included).
REAL_WORLD_CLASSES = (KG.Place, ORG.Organization, KG.ArmedGroup, KG.EquipmentType, KG.Currency)
LINK_PREDICATES = (SKOS.exactMatch, SKOS.closeMatch)
EXTERNAL_ID = re.compile(r"http://www\.wikidata\.org/entity/Q[1-9]\d*|https://sws\.geonames\.org/[1-9]\d*/")
UNVERIFIED_COLUMNS = ("subject_id", "subject_label", "reason")
# The semapv terms SSSOM allows as mapping_justification (sssom_schema's pattern for the slot; a test keeps the
# two equal): kg refuses any other, a guess included.
JUSTIFICATIONS = tuple(SEMAPV[term] for term in (
    "MappingReview", "ManualMappingCuration", "LogicalReasoning", "LexicalMatching", "CompositeMatching",
    "UnspecifiedMatching", "SemanticSimilarityThresholdMatching", "LexicalSimilarityThresholdMatching",
    "MappingChaining", "MappingInversion", "StructuralMatching", "InstanceBasedMatching",
    "BackgroundKnowledgeBasedMatching",
))

# The SSSOM slots read_links knows, as sssom's RDF writer renders them: slot -> (predicate, kind of value).
# Mapping-set slots describe the set; mapping slots given in the metadata block apply to every mapping (sssom
# propagates them the same way).
_SET_SLOTS = {
    "mapping_set_title": (DCTERMS.title, "text"),
    "mapping_set_description": (DCTERMS.description, "text"),
    "license": (DCTERMS.license, "iri"),
}
_MAPPING_SLOTS = {
    "subject_id": (OWL.annotatedSource, "curie"),
    "subject_label": (SSSOM.subject_label, "text"),
    "predicate_id": (OWL.annotatedProperty, "curie"),
    "object_id": (OWL.annotatedTarget, "curie"),
    "object_label": (SSSOM.object_label, "text"),
    "mapping_justification": (SSSOM.mapping_justification, "curie"),
    "confidence": (SSSOM.confidence, "double"),
    "comment": (RDFS.comment, "text"),
    "mapping_date": (DCTERMS.created, "date"),
    "subject_source": (SSSOM.subject_source, "iri"),
    "object_source": (SSSOM.object_source, "iri"),
}
_REQUIRED_COLUMNS = ("subject_id", "predicate_id", "object_id", "mapping_justification")
_REQUIRED_SET_SLOTS = ("mapping_set_id", "license")  # what SSSOM requires of a mapping set


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
    """A real-world entity without a link: its label and why (empty reason: listed nowhere, a defect), and its
    line in links-unverified.tsv (0: not read from it)."""

    subject: URIRef
    label: str
    reason: str
    line: int = 0

    def to_json(self) -> dict:
        return {"subject": curie(self.subject), "label": self.label, "reason": self.reason}


def read_links(path: Path, project: Project = Project()) -> Graph:
    """The SSSOM table at `path` as the RDF sssom's own writer makes of it (tests/test_links.py checks both that
    the sssom library validates the project's table and that this graph is isomorphic to the library's), with
    each axiom named by mapping_iri and the plain mapping triple beside it.

    Read with csv and yaml rather than sssom, whose import alone takes about 1.5 s of every build. A slot this
    reader does not know, an undeclared prefix, a missing cell or slot, a bad confidence or date, a predicate
    other than skos:exactMatch or skos:closeMatch, a justification SSSOM does not allow, or two mappings between
    the same pair raise InputError naming the file (and line).
    """
    import yaml  # here, not at the top: kg.link is imported by every command, yaml (11 ms) only by builds

    shown = project.relative(path)
    lines = read_lines(path, project)
    header = [line[1:] for line in lines if line.startswith("#")]
    body = [line for line in lines if not line.startswith("#")]
    try:
        metadata = yaml.safe_load("\n".join(header)) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"{shown}: the metadata block is not YAML: {exc}") from None
    except ValueError as exc:  # a value YAML reads as a date or time that does not exist (2026-13-45)
        raise InputError(f"{shown}: the metadata block holds an impossible date or time: {exc}") from None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("curie_map"), dict):
        raise InputError(f"{shown}: the metadata block must be a mapping with a curie_map")
    prefixes = {str(prefix): str(base) for prefix, base in metadata.pop("curie_map").items()}
    missing_slots = [slot for slot in _REQUIRED_SET_SLOTS if not metadata.get(slot)]
    if missing_slots:
        raise InputError(f"{shown}: the metadata block has no {', '.join(missing_slots)} (SSSOM requires it)")
    mapping_set = metadata.pop("mapping_set_id")
    unknown = sorted(set(metadata) - set(_SET_SLOTS) - set(_MAPPING_SLOTS))
    if unknown:
        raise InputError(f"{shown}: metadata slot(s) {', '.join(unknown)} not read by kg")
    graph = Graph()
    node = URIRef(str(mapping_set))
    graph.add((node, RDF.type, SSSOM.MappingSet))
    for slot, value in metadata.items():
        if slot in _SET_SLOTS:
            predicate, kind = _SET_SLOTS[slot]
            graph.add((node, predicate, _term(kind, value, prefixes, f"{shown}: {slot}")))
    reader = csv.DictReader(body, delimiter="\t", quoting=csv.QUOTE_NONE)
    columns = tuple(reader.fieldnames or ())
    unknown = [column for column in columns if column not in _MAPPING_SLOTS]
    if unknown or not set(_REQUIRED_COLUMNS) <= set(columns):
        raise InputError(f"{shown}: expected a header of SSSOM columns including {', '.join(_REQUIRED_COLUMNS)}"
                         + (f" (not read by kg: {', '.join(unknown)})" if unknown else ""))
    propagated = {slot: value for slot, value in metadata.items() if slot in _MAPPING_SLOTS}
    for row in reader:
        where = f"{shown}:{len(lines) - len(body) + reader.line_num}"  # the metadata block comes first
        if None in row or None in row.values():
            raise InputError(f"{where}: expected {len(columns)} tab-separated cells")
        cells = propagated | {column: cell for column, cell in row.items() if cell != ""}
        missing_cells = [column for column in _REQUIRED_COLUMNS if column not in cells]
        if missing_cells:
            raise InputError(f"{where}: empty {', '.join(missing_cells)}")
        terms = {slot: _term(_MAPPING_SLOTS[slot][1], cell, prefixes, f"{where}: {slot}")
                 for slot, cell in cells.items()}
        subject, predicate, target = terms["subject_id"], terms["predicate_id"], terms["object_id"]
        if predicate not in LINK_PREDICATES:
            raise InputError(f"{where}: predicate_id {cells['predicate_id']!r} is not skos:exactMatch or "
                             "skos:closeMatch, the only links kg makes")
        if terms["mapping_justification"] not in JUSTIFICATIONS:
            raise InputError(f"{where}: mapping_justification {cells['mapping_justification']!r} is not one of "
                             "the semapv terms SSSOM allows (semapv:ManualMappingCuration, ...)")
        axiom = mapping_iri(subject, target)
        if (axiom, RDF.type, OWL.Axiom) in graph:
            raise InputError(f"{where}: more than one mapping from {curie(subject)} to {curie(target)}")
        graph.add((node, SSSOM.mappings, axiom))
        graph.add((axiom, RDF.type, OWL.Axiom))
        for slot, term in terms.items():
            graph.add((axiom, _MAPPING_SLOTS[slot][0], term))
        graph.add((subject, predicate, target))
    return graph


def _term(kind: str, value: object, prefixes: dict[str, str], where: str) -> Node:
    """The RDF term sssom writes for a slot `value` of `kind` (curie, iri, text, double, date)."""
    text = str(value)
    if kind == "text":
        return Literal(text)
    if kind == "date":
        try:
            valid = re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) and date.fromisoformat(text)
        except ValueError:  # the shape of a date, but not one (2026-13-45)
            valid = False
        if not valid:
            raise InputError(f"{where} {text!r} is not a date (YYYY-MM-DD)")
        return Literal(text, datatype=XSD.date)
    if kind == "double":
        try:
            number = float(text)
        except ValueError:
            number = -1.0
        if not 0.0 <= number <= 1.0:
            raise InputError(f"{where} {text!r} is not a number between 0 and 1")
        return Literal(number)
    prefix, _, local = text.partition(":")
    if prefix in prefixes:
        return URIRef(prefixes[prefix] + local)
    if kind == "iri" and re.match(r"https?://", text):
        return URIRef(text)
    raise InputError(f"{where} {text!r} uses the undeclared prefix {prefix!r} (curie_map)")


def mapping_iri(subject: URIRef, target: URIRef) -> URIRef:
    """The IRI of the mapping axiom from `subject` to `target`: id:link/LOCAL-QID. sssom makes each axiom a blank
    node; a name lets people cite a link, and keeps graph comparison (exports, tests) fast."""
    return ID[f"link/{subject.removeprefix(ID)}-{target.rstrip('/').rsplit('/', 1)[-1]}"]


def add_links(dataset: Dataset, project: Project = Project()) -> None:
    """Load the project's SSSOM table (if any) into the links graph, after checking it against the statements;
    then check links-unverified.tsv (if any) against both (see unverified_problems)."""
    if project.links.is_file():
        target = dataset.graph(LINKS_GRAPH)
        target += read_links(project.links, project)
        problems = check_mappings(dataset.graph(STATEMENTS_GRAPH), mappings(target))
        if problems:
            raise InputError(f"{project.relative(project.links)}: " + "\n  ".join(problems))
    problems = unverified_problems(dataset, project)
    if problems:
        raise InputError("\n".join(problems))


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
    Wikidata entity IRI (or a GeoNames feature); skos:exactMatch is one-to-one (no two subjects to the same
    object, no subject to two objects); each mapping's evidence names the identifier it supports.
    """
    problems = []
    exact_subjects: dict[URIRef, list[URIRef]] = {}
    exact_objects: dict[URIRef, list[URIRef]] = {}
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
            exact_objects.setdefault(row.subject, []).append(row.object)
    for target, subjects in sorted(exact_subjects.items()):
        if len(subjects) > 1:
            names = ", ".join(curie(subject) for subject in sorted(subjects))
            problems.append(f"{curie(target)}: skos:exactMatch from several subjects ({names})")
    for subject, targets in sorted(exact_objects.items()):
        if len(targets) > 1:
            names = ", ".join(curie(target) for target in sorted(targets))
            problems.append(f"{curie(subject)}: skos:exactMatch to several objects ({names})")
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


def read_lines(path: Path, project: Project = Project()) -> list[str]:
    """The lines of the UTF-8 text file `path` (a byte order mark is skipped); a file that cannot be read or
    is not UTF-8 raises InputError naming it (and the line)."""
    shown = project.relative(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{shown}: cannot read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{shown}:{line}: not UTF-8 ({exc.reason})") from None


def read_table(path: Path, columns: tuple[str, ...], project: Project = Project()) -> list[tuple]:
    """The rows of a small TSV table with the header `columns`, whose first cell is an `id:` CURIE (expanded);
    a malformed header or row, or a subject listed twice, raises InputError naming the file and line."""
    shown = project.relative(path)
    lines = read_lines(path, project)
    rows = list(csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))
    if not rows or tuple(rows[0]) != columns:
        raise InputError(f"{shown}:1: expected the header {' | '.join(columns)}")
    table = []
    first_lines: dict[URIRef, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(columns) or not all(cell.strip() for cell in row):
            raise InputError(f"{shown}:{number}: expected {len(columns)} non-empty tab-separated cells")
        prefix, _, local = row[0].partition(":")
        if prefix != "id" or not local:
            raise InputError(f"{shown}:{number}: {columns[0]} {row[0]!r} is not an id: CURIE")
        if ID[local] in first_lines:
            raise InputError(f"{shown}:{number}: {row[0]} is listed twice (first on line {first_lines[ID[local]]})")
        first_lines[ID[local]] = number
        table.append((ID[local], *row[1:]))
    return table


def read_unverified(path: Path, project: Project = Project()) -> list[Unlinked]:
    """The entities listed in links-unverified.tsv, with why they are not linked."""
    rows = read_table(path, UNVERIFIED_COLUMNS, project)
    return [Unlinked(*row, line=number) for number, row in enumerate(rows, start=2)]  # (a row per line, after the header)


def missing(dataset: Graph, project: Project = Project()) -> tuple[list[Unlinked], list[Unlinked]]:
    """(listed, unlisted): every entity without a link that links-unverified.tsv lists, with its reason (one
    of another class, such as DAESH, a kg:Threat, included: the list explains it all the same), and the
    real-world entities it does not list (each a defect: neither linked nor explained)."""
    linked = {row.subject for row in mappings(dataset)}
    listed = read_unverified(project.links_unverified, project) if project.links_unverified.is_file() else []
    found = [Unlinked(row.subject, label(dataset, row.subject), row.reason) for row in listed
             if row.subject not in linked]
    reasons = {row.subject for row in listed}
    unlisted = [Unlinked(entity, name, "") for entity, name in real_world_entities(dataset).items()
                if entity not in linked and entity not in reasons]
    return sorted(found, key=lambda row: str(row.subject)), unlisted


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
    """check_unverified on the project's links-unverified.tsv (none without the file), each problem with the
    file and line of its row: `data/links-unverified.tsv:5: id:Atlantis: not an entity of the graph`."""
    if not project.links_unverified.is_file():
        return []
    shown = project.relative(project.links_unverified)
    statements = dataset.graph(STATEMENTS_GRAPH)
    linked = {row.subject for row in mappings(dataset)}
    return [
        f"{shown}:{row.line}: {problem}"
        for row in read_unverified(project.links_unverified, project)
        for problem in check_unverified(statements, linked, [row])
    ]


def linked_items(dataset: Graph) -> dict[URIRef, URIRef]:
    """Wikidata item -> the project entity linked to it by skos:exactMatch."""
    exact = (row for row in mappings(dataset) if row.predicate == SKOS.exactMatch)
    return {row.object: row.subject for row in exact if row.object.startswith(WD)}
