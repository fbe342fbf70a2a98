"""The in-store build: the project's files loaded straight into the store, reasoned there by kg.rules and
validated there by kg.shacl_sparql, so that no step goes through rdflib's parser (about 40 k triples/s) or
holds the graph in Python. `kg --store oxigraph:PATH build --reasoner rules --validator sparql` runs it.

Same named graphs as kg.load (ontology, statements, the text of every kg:sourceFile in sources) and same
checks as kg.validate: the shapes, then the quality-check queries over the asserted graphs. Oxigraph parses
the Turtle files itself (bulk load); another store gets them through kg.load and Store.load.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

from kg.errors import InputError
from kg.load import Project, load_dataset, load_shapes, read_source
from kg.namespaces import KG, ONTOLOGY_GRAPH, SCHEMA, SOURCES_GRAPH, STATEMENTS_GRAPH
from kg.rules import materialise
from kg.shacl_sparql import DATA_GRAPHS, in_parallel, run_generated, validate_in_store
from kg.store import OxigraphStore, Store
from kg.validate import Report, report_of, run_qc


@dataclass(frozen=True)
class InStoreBuild:
    """What the in-store build did: the rule rounds to the fixpoint, the validation report, the shapes that
    pyshacl had to validate (none for ontology/shapes.ttl)."""

    rounds: int
    report: Report
    fallback: list[str]


def load_files(store: Store, project: Project) -> None:
    """Replace the store's dataset with the project's: ontology, statements and source texts (Oxigraph parses
    the Turtle files itself; another store gets them through kg.load)."""
    if not isinstance(store, OxigraphStore):
        store.load(load_dataset(project))
        return
    store.update("CLEAR ALL")
    for path, graph in ((project.ontology, ONTOLOGY_GRAPH), (project.statements, STATEMENTS_GRAPH)):
        try:
            store.add_turtle(path, graph)
        except SyntaxError as exc:  # Oxigraph's parse error carries the line
            raise InputError(f"{project.relative(path)}:{exc.lineno}: malformed Turtle: {exc.msg}") from None
        except OSError as exc:
            raise InputError(f"{project.relative(path)}: cannot read ({exc.strerror or exc})") from None
    documents = store.query_trusted(f"SELECT ?doc ?file WHERE {{ ?doc <{KG.sourceFile}> ?file }}", [STATEMENTS_GRAPH])
    texts = " ".join(
        f"{doc.n3()} <{SCHEMA.text}> {Literal(read_source(project, str(file))).n3()} ." for doc, file in documents
    )
    store.update(f"INSERT DATA {{ GRAPH <{SOURCES_GRAPH}> {{ {texts} }} }}")


def build_in_store(store: Store, project: Project) -> InStoreBuild:
    """Load, reason (rules, InconsistencyError as kg.reason) and validate (shapes as SPARQL, QC) in `store`."""
    load_files(store, project)
    rounds = materialise(store)
    shapes = load_shapes(project)
    validation, quality = in_parallel(  # the quality checks alongside the shapes: both only read the store
        store,
        [
            lambda: validate_in_store(store, shapes),
            lambda: run_qc(project.qc, lambda query: run_generated(store, query.text, str(query.path), DATA_GRAPHS)),
        ],
    )
    return InStoreBuild(rounds, report_of(validation.findings + quality), validation.fallback)


def labels_of(store: Store, report: Report) -> Graph:
    """The rdfs:labels of the report's focus nodes (what kg.validate.render shows), fetched from the store."""
    nodes = sorted({f.focus for f in report.findings if isinstance(f.focus, URIRef)})
    graph = Graph()
    if nodes:
        values = " ".join(f"<{node}>" for node in nodes)
        rows = store.query(f"SELECT ?node ?label WHERE {{ VALUES ?node {{ {values} }} ?node rdfs:label ?label }}")
        for node, label in rows:
            if isinstance(label, Literal):
                graph.add((node, RDFS.label, label))
    return graph
