"""Stage 3, validate: SHACL (pyshacl) and the quality-check queries, both on the asserted graphs only.

Validating the materialised graph would let inferred types hide missing ones and change results, so pyshacl
sees statements + sources with the ontology mixed in (`ont_graph`, `inference='none'`), and each
`queries/qc/*.rq` runs over ontology + statements + sources + the links and outside-facts graphs (so that
owl:sameAs is caught there too); every row it returns is a violation.
Warnings and infos are reported but do not make the data non-conforming.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.collection import Collection
from rdflib.query import Result
from rdflib.term import Node

from kg.errors import InputError
from kg.load import curie, merged, named
from kg.namespaces import LINKED_GRAPHS, ONTOLOGY_GRAPH, RDF, SH, SOURCES_GRAPH, STATEMENTS_GRAPH
from kg.query import CatalogueQuery, load_catalogue, run_sparql


@dataclass(frozen=True)
class Finding:
    """One validation result: the node at fault, the property path, severity, message, what found it, the value."""

    focus: Node
    path: str  # the SHACL path as SPARQL property-path text with CURIEs ('' when the shape has none)
    severity: str  # Violation, Warning or Info
    message: str
    source: str  # the shape's CURIE, or `qc/NAME.rq`
    value: Node | None


@dataclass(frozen=True)
class Report:
    """The outcome of validation: conforms is False when any finding is a Violation."""

    conforms: bool
    findings: tuple[Finding, ...]

    def to_json(self) -> dict:
        """A JSON-ready dict; nodes as N-Triples-style text (IRIs bare)."""
        items = [asdict(f) | {"focus": _term_text(f.focus), "value": _term_text(f.value)} for f in self.findings]
        return {"conforms": self.conforms, "findings": items}


def _term_text(node: Node | None) -> str | None:
    if node is None:
        return None
    return str(node) if isinstance(node, URIRef) else node.n3()


# What the quality checks read: the asserted graphs, the linked ones included (not the inferred graph; the shapes
# read only the ontology, statements and sources).
QC_GRAPHS = (ONTOLOGY_GRAPH, STATEMENTS_GRAPH, SOURCES_GRAPH, *LINKED_GRAPHS)


def validate(dataset: Dataset, shapes: Graph, qc_dir: Path) -> Report:
    """Run the SHACL shapes and the QC queries over the asserted graphs of `dataset`."""
    return report_of(shacl_findings(dataset, shapes) + qc_findings(dataset, qc_dir))


def report_of(findings: list[Finding]) -> Report:
    """The report of `findings`: conforming unless one is a Violation; violations first, then by source."""
    order = {"Violation": 0, "Warning": 1, "Info": 2}
    ordered = sorted(findings, key=lambda f: (order.get(f.severity, 3), f.source, str(f.focus), f.path, f.message))
    return Report(all(f.severity != "Violation" for f in ordered), tuple(ordered))


def shacl_findings(dataset: Dataset, shapes: Graph) -> list[Finding]:
    """pyshacl's results on statements + sources, the ontology as ont_graph, no inference."""
    return findings_of(shacl_report(dataset, shapes), shapes)


def shacl_report(dataset: Dataset, shapes: Graph) -> Graph:
    """pyshacl's validation report graph (see `shacl_findings`)."""
    from pyshacl import validate as shacl  # imported here: slow to import, needed only by builds

    from kg.store import fix_rdflib_sparql

    fix_rdflib_sparql()  # (its SPARQL-based constraints run on rdflib's engine)

    data = merged(dataset, STATEMENTS_GRAPH, SOURCES_GRAPH)  # a fresh copy: pyshacl may work in place
    _, results, _ = shacl(
        data,
        shacl_graph=shapes,
        ont_graph=dataset.graph(ONTOLOGY_GRAPH),
        inference="none",
        inplace=True,
        allow_warnings=True,
    )
    return results


def findings_of(results: Graph, shapes: Graph) -> list[Finding]:
    """The findings of a pyshacl report graph, one per top-level result."""
    return [
        Finding(
            focus=results.value(result, SH.focusNode),
            path=path_text(results, results.value(result, SH.resultPath)),
            severity=_local(results.value(result, SH.resultSeverity)),
            message=_message(results, result),
            source=shape_name(shapes, results.value(result, SH.sourceShape)),
            value=results.value(result, SH.value),
        )
        for result in results.objects(None, SH.result)  # top-level results only, not sh:detail ones
    ]


def _local(severity: Node | None) -> str:
    return str(severity).rpartition("#")[2] if severity is not None else "Violation"


def _message(results: Graph, result: Node) -> str:
    """The English (or any) sh:resultMessage, else the constraint component that fired."""
    messages = sorted(results.objects(result, SH.resultMessage), key=lambda m: getattr(m, "language", None) != "en")
    if messages:
        return str(messages[0])
    return f"violates {curie(results.value(result, SH.sourceConstraintComponent))}"


def shape_name(shapes: Graph, shape: Node | None) -> str:
    """A shape's CURIE; a blank-node property shape is named by its parent shape and path."""
    if shape is None:
        return ""
    if isinstance(shape, BNode):
        parent = shapes.value(None, SH.property, shape)
        if parent is not None:
            return f"{shape_name(shapes, parent)} / {path_text(shapes, shapes.value(shape, SH.path))}"
    return curie(shape)


def path_text(graph: Graph, path: Node | None) -> str:
    """A SHACL property path as SPARQL path syntax with CURIEs (`kg:p`, `^kg:p`, `a/b`, `(a|b)`, `p*`, `(a/b)*`)."""
    if path is None:
        return ""
    if isinstance(path, URIRef):
        return curie(path)
    if (path, RDF.first, None) in graph:
        return "/".join(path_text(graph, step) for step in Collection(graph, path))
    for predicate, template in (
        (SH.inversePath, "^{}"),
        (SH.zeroOrMorePath, "{}*"),
        (SH.oneOrMorePath, "{}+"),
        (SH.zeroOrOnePath, "{}?"),
    ):
        inner = graph.value(path, predicate)
        if inner is not None:
            text = path_text(graph, inner)
            # an operator binds tighter than `/` and takes one IRI or bracket: (a/b)*, ^(a/b), (a+)*
            primary = isinstance(inner, URIRef) or graph.value(inner, SH.alternativePath) is not None
            return template.format(text if primary else f"({text})")
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        return "(" + "|".join(path_text(graph, step) for step in Collection(graph, alternatives)) + ")"
    return curie(path)


_QC_SEVERITIES = {"error": "Violation", "warning": "Warning", "info": "Info"}


def qc_findings(dataset: Dataset, qc_dir: Path) -> list[Finding]:
    """The quality checks run over the asserted graphs of `dataset`: ontology, statements, sources and the linked
    graphs (see `run_qc`)."""
    asserted = merged(dataset, *QC_GRAPHS)
    return run_qc(qc_dir, lambda query: run_sparql(asserted, query.text, str(query.path)))


def run_qc(qc_dir: Path, run: Callable[[CatalogueQuery], Result]) -> list[Finding]:
    """One finding per row of each quality-check query (`run` runs it), of the severity its header declares:
    the first column is the node at fault, and ROBOT-style `?property` and `?value` columns give the path and
    value."""
    findings = []
    for query in load_catalogue(qc_dir).values():
        if query.severity not in _QC_SEVERITIES:
            allowed = "|".join(_QC_SEVERITIES)
            raise InputError(f"{query.path}: the header needs '# severity: {allowed}', not {query.severity!r}")
        for row in run(query):
            prop = row.get("property")
            findings.append(
                Finding(
                    focus=row[0],
                    path="" if prop is None else curie(prop),
                    severity=_QC_SEVERITIES[query.severity],
                    message=query.title,
                    source=f"qc/{query.path.name}",
                    value=row.get("value"),
                )
            )
    return findings


def render(report: Report, graph: Graph) -> str:
    """The report for people: one line per finding with the focus node's label, the path and the message."""
    if not report.findings:
        return "conforms: no findings\n"
    lines = []
    for f in report.findings:
        shown = named(graph, f.focus)
        where = f" {f.path}" if f.path else ""
        value = f" [value: {curie(f.value)}]" if f.value is not None else ""
        lines.append(f"{f.severity}: {shown}{where}: {f.message}{value}  <{f.source}>")
    counts = {s: sum(f.severity == s for f in report.findings) for s in ("Violation", "Warning", "Info")}
    summary = ", ".join(f"{n} {s.lower()}(s)" for s, n in counts.items() if n)
    verdict = "conforms" if report.conforms else "does not conform"
    return "\n".join(lines) + f"\n{verdict}: {summary}\n"
