"""SHACL shapes (ontology/shapes.ttl) against their fixtures, the project's data, and themselves.

Fixtures: tests/fixtures/shapes/<topic>_PASS.ttl and <topic>_XFAIL.ttl, each a small self-contained Turtle
file (a fixture that needs the source text gives its document node its own `schema:text` and `kg:sha256`).
Every file in the folder is a test case; adding a fixture needs no new code.

- `_PASS`: validates with no finding at all (no violation, no warning).
- `_XFAIL`: the set of (focus node, path, severity) of its findings equals the set of its expect lines:

      # expect: FOCUS | PATH | SEVERITY
      # expect: FOCUS | PATH | SEVERITY | COMPONENT

  Fields are separated by " | " (a "|" with spaces around it; a bare "|" belongs to a path). FOCUS is a CURIE using the fixture's own @prefix declarations (or an <IRI>), or `_:` for a blank node (whose label
  rdflib makes anew at each parse); PATH is the result path as
  `kg.validate.path_text` writes it (`kg:p`, `^kg:p`, `a/b`, `(a|b)`) or `-` when the result has none
  (a node-level constraint); SEVERITY is Violation, Warning or Info. COMPONENT, when given, is the result's
  sh:sourceConstraintComponent as a CURIE (`sh:DatatypeConstraintComponent`): the findings on that focus node,
  path and severity are then compared with their components, so that each constraint on one value is proven
  by its own finding (without it, one finding of either constraint would meet the line).

Validation goes through `kg.validate.shacl_findings`, the pipeline's one SHACL code path (asserted graph,
ontology as ont_graph, inference 'none').
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SKOS
from rdflib.term import Node

from kg.build import load_dataset
from kg.load import Project, curie, load_shapes, new_dataset, parse_turtle
from kg.namespaces import KG, OA, ONTOLOGY_GRAPH, PROJECT_ROOT, SH, SHAPE, STATEMENTS_GRAPH
from kg.validate import Finding, findings_of, path_text, shacl_findings, shacl_report

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "shapes"
FIXTURE_FILES = sorted(FIXTURES.glob("*.ttl"))
XFAIL_FILES = [path for path in FIXTURE_FILES if path.stem.endswith("_XFAIL")]
_EXPECT = re.compile(r"^#\s*expect:\s*(.*?)\s*$")
_FIELD_SEPARATOR = re.compile(r"\s+\|\s+")  # " | " between fields; a bare "|" is a path alternative
SEVERITIES = {"Violation", "Warning", "Info"}

Expected = tuple[Node, str, str, str | None]  # (focus node, path text or "", severity, component CURIE or None)
BLANK = Literal("_:")  # the focus of an expect line for a blank node, and of a finding on one


@cache
def shapes() -> Graph:
    return load_shapes(Project())


@cache
def ontology() -> Graph:
    return parse_turtle(Project().ontology, Graph())


def fixture_graph(path: Path) -> Graph:
    return parse_turtle(path, Graph())


@cache
def report(path: Path) -> Graph:
    """pyshacl's report for one fixture (the fixture is the statements graph), as the pipeline runs it."""
    dataset = new_dataset()
    tbox = dataset.graph(ONTOLOGY_GRAPH)
    tbox += ontology()
    parse_turtle(path, dataset.graph(STATEMENTS_GRAPH))
    return shacl_report(dataset, shapes())


@cache
def findings(path: Path) -> tuple[Finding, ...]:
    """The pipeline's SHACL findings for one fixture."""
    return tuple(findings_of(report(path), shapes()))


def expected(path: Path) -> set[Expected]:
    """The `# expect:` lines of a fixture, focus CURIEs expanded with the fixture's own prefixes."""
    names = fixture_graph(path).namespace_manager
    rows = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _EXPECT.match(line)
        if match is None:
            continue
        fields = [field.strip() for field in _FIELD_SEPARATOR.split(match.group(1))]
        assert len(fields) in (3, 4), f"{path.name}:{number}: expected 'FOCUS | PATH | SEVERITY [| COMPONENT]', got {line!r}"
        focus, shown_path, severity, *component = fields
        assert severity in SEVERITIES, f"{path.name}:{number}: unknown severity {severity!r}"
        node = BLANK if focus == "_:" else URIRef(focus[1:-1]) if focus.startswith("<") else names.expand_curie(focus)
        rows.add((node, "" if shown_path == "-" else shown_path, severity, component[0] if component else None))
    return rows


def actual(path: Path, pinned: set[tuple[Node, str, str]]) -> set[Expected]:
    """The fixture's findings as expect rows, with their constraint component where (focus, path, severity) is
    `pinned` by an expect line that names one."""
    results = report(path)
    rows = set()
    for finding, result in zip(findings(path), results.objects(None, SH.result), strict=True):
        key = (BLANK if isinstance(finding.focus, BNode) else finding.focus, finding.path, finding.severity)
        component = results.value(result, SH.sourceConstraintComponent)
        rows.add((*key, curie(component) if key in pinned else None))
    return rows


def shown(rows: set[Expected]) -> str:
    lines = [" | ".join([f"  {curie(row[0])}", row[1] or "-", *filter(None, row[2:])]) for row in rows]
    return "\n".join(sorted(lines)) or "  (none)"


# --------------------------------------------------------------------------------------------------
# The fixtures
# --------------------------------------------------------------------------------------------------


def test_fixture_folder_is_not_empty():
    assert XFAIL_FILES and any(path.stem.endswith("_PASS") for path in FIXTURE_FILES)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda path: path.stem)
def test_fixture(path: Path):
    """A _PASS fixture has no finding; an _XFAIL fixture has exactly the findings its expect lines list."""
    rows = expected(path)
    if path.stem.endswith("_PASS"):
        assert not rows, f"{path.name}: a _PASS fixture has no '# expect:' lines"
        assert findings(path) == (), f"{path.name} should have no finding, has:\n{shown(actual(path, set()))}"
    else:
        assert path.stem.endswith("_XFAIL"), f"{path.name}: a fixture is named <topic>_PASS or <topic>_XFAIL"
        assert rows, f"{path.name}: an _XFAIL fixture lists its expected findings in '# expect:' lines"
        got = actual(path, {row[:3] for row in rows if row[3] is not None})
        assert got == rows, (
            f"{path.name}:\nmissing (expected, not found):\n{shown(rows - got)}\n"
            f"unexpected (found, not expected):\n{shown(got - rows)}"
        )


def test_quote_slice_finding_names_the_claim_and_the_text():
    """The quote check's focus node is the document; its value is the claim, its message quotes both texts."""
    path = FIXTURES / "quote-slice_XFAIL.ttl"
    graph = fixture_graph(path)
    claim = graph.namespace_manager.expand_curie("ex:C902")
    found = [f for f in findings(path) if f.source.startswith("shape:QuoteSliceShape")]
    assert [f.value for f in found] == [claim]
    assert '"Canada leads NATO\'s battle group in Latvia"' in found[0].message  # what the text says there
    assert '"Canada led NATO\'s battle group in Latvia"' in found[0].message  # what the quote says


def test_quote_context_findings_name_each_claim_and_side():
    """Both findings have the document as focus node and path: only their values and messages tell the prefix
    constraint's (C902) from the suffix constraint's (C903)."""
    path = FIXTURES / "quote-context_XFAIL.ttl"
    names = fixture_graph(path).namespace_manager
    found = {(f.value, f.message.split(" of claim ")[0]) for f in findings(path)}
    assert found == {(names.expand_curie("ex:C902"), "The oa:prefix"), (names.expand_curie("ex:C903"), "The oa:suffix")}


def test_checksum_finding_gives_both_digests():
    path = FIXTURES / "source-checksum_XFAIL.ttl"
    (finding,) = findings(path)
    assert finding.value == Literal("0" * 64)
    assert "a6e898440093a31a67b5476da893121c6b524df498d030ae5441cb4474dbcfe6" in finding.message


# --------------------------------------------------------------------------------------------------
# The project's data
# --------------------------------------------------------------------------------------------------


@cache
def project_findings() -> tuple[Finding, ...]:
    return tuple(shacl_findings(load_dataset(Project()), shapes()))


def test_project_data_conforms():
    problems = [f for f in project_findings() if f.severity == "Violation"]
    assert not problems, "\n".join(f"{curie(f.focus)} {f.path}: {f.message} <{f.source}>" for f in problems)


def test_every_class_used_in_the_data_has_a_node_shape():
    statements = parse_turtle(Project().statements, Graph())
    used = set(statements.objects(None, RDF.type))
    targeted = set(shapes().objects(None, SH.targetClass))
    assert not used - targeted, f"classes without a shape: {sorted(curie(c) for c in used - targeted)}"


# Nodes that are not domain nodes: the provenance machinery, and (for support only) the concept schemes.
NOT_DOMAIN = {KG.SourceDocument, KG.Claim, OA.TextQuoteSelector, OA.TextPositionSelector}


@pytest.mark.parametrize(
    ("shape", "exempt"),
    [(SHAPE.SupportShape, NOT_DOMAIN | {SKOS.ConceptScheme}), (SHAPE.LabelShape, NOT_DOMAIN)],
    ids=["support", "labels"],
)
def test_every_domain_node_is_a_target(shape: URIRef, exempt: set[URIRef]):
    """A node of a new class outside every listed target class would escape the support and label rules."""
    statements = parse_turtle(Project().statements, Graph())
    hierarchy = statements + ontology()
    targets = set(shapes().objects(shape, SH.targetClass))
    missed = []
    for node in set(statements.subjects(RDF.type, None)):
        types = set(statements.objects(node, RDF.type))
        if types & exempt:
            continue
        supers = {c for t in types for c in hierarchy.transitive_objects(t, RDFS.subClassOf)}
        if not supers & targets:
            missed.append(f"{curie(node)} ({', '.join(sorted(curie(t) for t in types))})")
    assert not missed, f"not a target of {curie(shape)}: {sorted(missed)}"


# --------------------------------------------------------------------------------------------------
# The shapes themselves
# --------------------------------------------------------------------------------------------------


def node_shapes() -> list[URIRef]:
    return sorted(s for s in shapes().subjects(RDF.type, SH.NodeShape) if isinstance(s, URIRef))


def _referenced(graph: Graph, shape: Node) -> set[Node]:
    """The shapes `shape` uses as value shapes: sh:node, sh:qualifiedValueShape, sh:not, sh:or/and/xone members."""
    found = set(graph.objects(shape, SH.node)) | set(graph.objects(shape, SH.qualifiedValueShape))
    found |= set(graph.objects(shape, SH["not"]))
    for operator in (SH["or"], SH["and"], SH.xone):
        for members in graph.objects(shape, operator):
            found.update(Collection(graph, members))
    return found


def exercised_by(finding: Finding) -> set[str]:
    """CURIEs of the named shapes a finding proves: the shape that owns its source, and value shapes it uses."""
    owner, _, shown_path = finding.source.partition(" / ")
    names = {owner}
    graph = shapes()
    owner_node = graph.namespace_manager.expand_curie(owner) if owner.startswith("shape:") else None
    if owner_node is not None:
        candidates = [owner_node] if not shown_path else [
            prop for prop in graph.objects(owner_node, SH.property)
            if path_text(graph, graph.value(prop, SH.path)) == shown_path
        ]
        for candidate in candidates:
            names |= {curie(s) for s in _referenced(graph, candidate) if isinstance(s, URIRef)}
    return names


def test_every_node_shape_has_an_xfail_fixture():
    """A shape that loses its fixture (or stops firing on it) fails here."""
    proven = set().union(*(exercised_by(f) for path in XFAIL_FILES for f in findings(path)))
    missing = [curie(s) for s in node_shapes() if curie(s) not in proven]
    assert not missing, f"node shapes that no _XFAIL fixture makes fire: {missing}"


def _constraint_shapes() -> list[tuple[Node, Node]]:
    """(owner, shape) for every shape that states constraints: the named node shapes and their property shapes."""
    graph = shapes()
    pairs = []
    for node_shape in node_shapes():
        if any(graph.value(node_shape, p) is not None for p in (SH.targetClass, SH.targetSubjectsOf)):
            pairs.append((node_shape, node_shape))
            pairs.extend((node_shape, prop) for prop in graph.objects(node_shape, SH.property))
    return pairs


_NODE_LEVEL = (SH["class"], SH.nodeKind, SH.xone, SH["or"], SH["and"], SH["not"], SH.node, SH["in"])


def _states_constraints(owner: Node, shape: Node) -> bool:
    """Whether `shape` states constraints itself: a property shape, or a node shape with node-level ones (one with
    only property shapes leaves them to those)."""
    return shape != owner or any(shapes().value(shape, p) is not None for p in _NODE_LEVEL)


def test_every_constraint_shape_fires_on_an_xfail_fixture():
    """Each property shape, and each node shape with a constraint of its own, is the sh:sourceShape of a finding
    on some _XFAIL fixture: a shape that no fixture breaks is untested (35 of 125 were, though each node shape
    had a fixture)."""
    fired = {report(path).value(result, SH.sourceShape) for path in XFAIL_FILES
             for result in report(path).objects(None, SH.result)}
    graph = shapes()
    unbroken = [f"{curie(owner)} / {path_text(graph, graph.value(shape, SH.path)) or '(node)'}"
                for owner, shape in _constraint_shapes() if _states_constraints(owner, shape) and shape not in fired]
    assert not unbroken, f"shapes that no _XFAIL fixture breaks: {unbroken}"


def test_every_constraint_has_a_message_for_a_person():
    graph = shapes()
    for owner, shape in _constraint_shapes():
        if not _states_constraints(owner, shape):
            continue  # the property shapes carry the messages
        holders = [shape, *graph.objects(shape, SH.sparql)]
        messages = [m for h in holders for m in graph.objects(h, SH.message) if isinstance(m, Literal)]
        where = f"{curie(owner)} / {path_text(graph, graph.value(shape, SH.path)) or '(node)'}"
        assert any(m.language == "en" for m in messages), f"{where}: no English sh:message"
        warning = graph.value(shape, SH.severity) == SH.Warning
        for message in messages:
            assert str(message).startswith("(warning)") == warning, (
                f"{where}: a Warning's message starts with '(warning)', and only a Warning's"
            )


def test_sparql_constraints_run_once_per_document():
    """pyshacl runs a SPARQL constraint once per focus node: keep them on the one-node document target."""
    graph = shapes()
    for owner, shape in _constraint_shapes():
        if graph.value(shape, SH.sparql) is not None:
            targets = set(graph.objects(owner, SH.targetClass)) | set(graph.objects(owner, SH.targetSubjectsOf))
            assert targets == {KG.SourceDocument}, f"{curie(owner)}: a SPARQL constraint on a many-node target"


@pytest.mark.parametrize("order", ["fr first", "en first"])
def test_a_finding_gives_the_english_message_of_a_bilingual_shape(order: str) -> None:
    """A shape may say its message in French and English: the finding gives the English one, whichever the shapes
    file lists first (pyshacl reports both)."""
    messages = ['"Il faut un nom."@fr', '"A name is needed."@en']
    if order == "en first":
        messages.reverse()
    shapes = Graph().parse(format="turtle", data=f"""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <https://example.org/> .
        ex:Named a sh:NodeShape ; sh:targetClass ex:T ;
            sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:message {", ".join(messages)} ] .""")
    dataset = new_dataset()
    dataset.graph(STATEMENTS_GRAPH).parse(format="turtle", data="<https://example.org/x> a <https://example.org/T> .")
    assert [f.message for f in shacl_findings(dataset, shapes)] == ["A name is needed."]
