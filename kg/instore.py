"""The in-store build: the project's files loaded straight into the store, reasoned there by kg.rules and
validated there by kg.shacl_sparql, so that no step goes through rdflib's parser (about 40 k triples/s) or
holds the graph in Python. `kg --store oxigraph:PATH build --reasoner rules --validator sparql` runs it.

Same named graphs as kg.load (ontology, statements, the text of every kg:sourceFile in sources, and the linked
graphs: links, pycountry facts, enrichment cache) and same checks as kg.validate: the shapes, then the
quality-check queries over the asserted graphs. Oxigraph parses the Turtle files itself (bulk load); another
store gets them through kg.load and Store.load.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

from kg.errors import InputError
from kg.build import add_linked_graphs, load_dataset
from kg.load import Project, load_shapes, read_source, syntax_error
from kg.namespaces import KG, ONTOLOGY_GRAPH, SCHEMA, SOURCES_GRAPH, STATEMENTS_GRAPH
from kg.rules import materialise
from kg.shacl_sparql import Validation, in_parallel, run_generated, validate_in_store
from kg.store import OxigraphStore, Store
from kg.validate import QC_GRAPHS, Finding, Report, report_of, run_qc

T = TypeVar("T")


@dataclass(frozen=True)
class InStoreBuild:
    """What the in-store build did: the rule rounds to the fixpoint, the validation report, the shapes that
    pyshacl had to validate (none for ontology/shapes.ttl), and the seconds each step took (`load`, `reason`,
    `validate`, the last two side by side on Oxigraph, `persist` for an Oxigraph on disk, `build`, the whole)."""

    rounds: int
    report: Report
    fallback: list[str]
    seconds: dict[str, float]


def load_files(store: Store, project: Project) -> None:
    """Replace the store's dataset with the project's: ontology, statements, source texts and linked graphs
    (Oxigraph parses the Turtle files itself; another store gets them all through kg.load)."""
    if not isinstance(store, OxigraphStore):
        store.load(load_dataset(project))
        return
    store.update("CLEAR ALL")
    for path, graph in ((project.ontology, ONTOLOGY_GRAPH), (project.statements, STATEMENTS_GRAPH)):
        try:
            store.add_turtle(path, graph)
        except SyntaxError as exc:  # Oxigraph's parse error carries the line, and shows a bad code point as it is
            raise syntax_error(project.relative(path), exc) from None
        except OSError as exc:
            raise InputError(f"{project.relative(path)}: cannot read ({exc.strerror or exc})") from None
    documents = store.query_trusted(f"SELECT ?doc ?file WHERE {{ ?doc <{KG.sourceFile}> ?file }}", [STATEMENTS_GRAPH])
    texts = " ".join(
        f"{doc.n3()} <{SCHEMA.text}> {Literal(read_source(project, str(file))).n3()} ." for doc, file in documents
    )
    store.update(f"INSERT DATA {{ GRAPH <{SOURCES_GRAPH}> {{ {texts} }} }}")
    # kg.load's own code makes, checks and adds the linked graphs (a few hundred triples) over the store: the
    # checks look up the labels and types of the tables' subjects in the statements in place, never a copy
    add_linked_graphs(store.rdflib_dataset(), project)


def build_in_store(store: Store, project: Project) -> InStoreBuild:
    """Load, reason (rules, InconsistencyError as kg.reason) and validate (shapes as SPARQL, QC) in `store`.

    Validation reads the asserted graphs only (kg.validate: inferred types would hide missing ones). On
    Oxigraph, whose queries name their graphs, it runs in a second thread while the rules reason: Oxigraph
    evaluates a query without Python's lock, and the compiled rules are Python, so the two share the
    machine's cores (the build takes about the longer of the two instead of their sum). A server's queries
    read its whole dataset, so there it runs first, before the inferred graph exists.

    An Oxigraph store on disk is built in memory, then replaced by the result in one bulk write (`persist`
    in the seconds): its writes cost five times those in memory, and a failed build leaves it as it was."""
    start = time.perf_counter()
    work = OxigraphStore(None, create=True) if isinstance(store, OxigraphStore) and store.on_disk else store
    load_files(work, project)
    loaded = time.perf_counter()
    if isinstance(work, OxigraphStore):
        with ThreadPoolExecutor(max_workers=1) as pool:
            validating = pool.submit(_timed(validate, work, project))
            rounds, reasoned = _timed(materialise, work)()
            (validation, quality), validated = validating.result()
    else:
        (validation, quality), validated = _timed(validate, work, project)()
        rounds, reasoned = _timed(materialise, work)()
    took = {"load": loaded - start, "reason": reasoned, "validate": validated}
    if work is not store:
        persisting = time.perf_counter()
        store.replace_with(work)  # type: ignore[attr-defined]
        took["persist"] = time.perf_counter() - persisting
    took["build"] = time.perf_counter() - start
    return InStoreBuild(rounds, report_of(validation.findings + quality), validation.fallback, took)


def _timed(work: Callable[..., T], *args: object) -> Callable[[], tuple[T, float]]:
    """`work(*args)` as a call that returns its result and the seconds it took."""

    def timed() -> tuple[T, float]:
        start = time.perf_counter()
        return work(*args), time.perf_counter() - start

    return timed


def validate(store: Store, project: Project) -> tuple[Validation, list[Finding]]:
    """The shapes as SPARQL and the quality-check queries over the asserted graphs in `store`, side by side
    (both only read the store)."""
    shapes = load_shapes(project)
    present = set(store.graphs())
    qc_graphs = tuple(graph for graph in QC_GRAPHS if graph in present)  # (those present, as the shapes)
    validation, quality = in_parallel(
        store,
        [
            lambda: validate_in_store(store, shapes),
            lambda: run_qc(project.qc, lambda query: run_generated(store, query.text, str(query.path), qc_graphs)),
        ],
    )
    return validation, quality


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
