"""Stage 5, export: the dataset as Turtle, JSON-LD (compacted with ontology/context.jsonld), N-Triples, TriG, RDF/XML.

Flat formats hold the union of the asserted graphs (ontology, statements, sources, and the links, pycountry
and enrichment graphs when present) and, with `inferred`, the
inferred graph; TriG keeps each as its named graph. Turtle and TriG use rdflib's serialisers with one change:
a number or boolean is written in shorthand only when that keeps its lexical form (rdflib writes
"9700000000"^^xsd:decimal as 9700000000.0, a different RDF term); JSON-LD, a JSON number or boolean only when it reads
back as the same literal (rdflib wrote "abc"^^xsd:integer as the string "abc"). The lexical forms kept are those rdflib holds:
it rewrites some as it makes a literal, so "007"^^xsd:integer, "1.5E3"^^xsd:double, "1"^^xsd:boolean were
"7", "1500.0", "true" when the data was read; language tags are written in lower case (Oxigraph's, as RDF
allows). The same data gives the same bytes
(`canonical`: RDFC-1.0 blank-node labels; N-Triples sorted, graphs, nodes and triples in a fixed order).
Files are written all or none: each serialisation is made in memory, written to a temporary file beside its
target and moved over it with os.replace, the files replaced kept until every move succeeded and put back if
one fails, so a failure leaves every target absent or as it was (write_all_atomic).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path

from rdflib import BNode, Dataset, Graph, Literal, URIRef, plugin
from rdflib.namespace import XSD
from rdflib.plugins.serializers.jsonld import Converter, JsonLDSerializer
from rdflib.plugins.serializers.trig import TrigSerializer
from rdflib.plugins.shared.jsonld.context import Context
from rdflib.plugins.serializers.turtle import TurtleSerializer
from rdflib.serializer import Serializer
from rdflib.term import Node

from kg.errors import InputError, OutputError, UsageError
from kg.files import write_all_atomic, write_atomic
from kg.load import merged, new_dataset
from kg.namespaces import INFERRED_GRAPH, LINKED_GRAPHS, ONTOLOGY_GRAPH, SOURCES_GRAPH, STATEMENTS_GRAPH
from kg.void import DATASET_GRAPH, describe
from kg.store import MemoryStore, OxigraphStore, Store, from_oxigraph, normalised, to_oxigraph

# the Turtle shorthand tokens that read back as the same literal (rdflib rewrites every xsd:double shorthand)
_EXACT_SHORTHAND = {
    XSD.integer: re.compile(r"[+-]?[0-9]+"),
    XSD.decimal: re.compile(r"[+-]?[0-9]*\.[0-9]+"),
    XSD.boolean: re.compile(r"true|false"),
}
_SHORTHAND_TYPES = {*_EXACT_SHORTHAND, XSD.double}


class _ExactLiterals:
    """Serializer mixin: typed literals whose shorthand would change their lexical form are written in full."""

    def label(self, node: Node, position: int) -> str:
        if isinstance(node, Literal) and node.datatype in _SHORTHAND_TYPES:
            pattern = _EXACT_SHORTHAND.get(node.datatype)
            if pattern is None or not pattern.fullmatch(str(node)):
                return node._literal_n3(use_plain=False, qname_callback=lambda dt: self.get_pname(dt, False))
        return super().label(node, position)  # type: ignore[misc]


class ExactTurtleSerializer(_ExactLiterals, TurtleSerializer):
    """rdflib's Turtle serializer, keeping the lexical form of every number and boolean it writes."""


class ExactTrigSerializer(_ExactLiterals, TrigSerializer):
    """rdflib's TriG serializer, keeping the lexical form of every number and boolean it writes and writing the
    graphs in order of name."""

    def __init__(self, store: Graph) -> None:
        super().__init__(store)
        self.contexts.sort(key=lambda graph: str(graph.identifier))  # (rdflib lists them in hash order)


# the lexical forms of a number or boolean that read back unchanged from a JSON number or boolean (JSON has no
# "+5" or "007"); None: none (a JSON number 1500.0 is xsd:integer "1500" to one JSON-LD reader, xsd:double "1.5E3"
# to another, "1500.0" to rdflib)
_EXACT_JSON = {
    XSD.integer: re.compile(r"0|-?[1-9][0-9]*"),
    XSD.boolean: re.compile(r"true|false"),
    XSD.double: None,
}


class _ExactJsonLdConverter(Converter):
    """rdflib's JSON-LD converter, writing an xsd:integer, xsd:double or xsd:boolean literal as a JSON number or
    boolean only when that reads back as the same literal, else as {"@type": datatype, "@value": lexical form}.
    (rdflib writes its Python value: "abc"^^xsd:integer, which has none, became the string "abc", an xsd:string.)
    A property the context coerces to the literal's datatype keeps its short form (rdflib writes the lexical form)."""

    def to_raw_value(self, graph: Graph, s: Node, o: Node, nodemap: dict) -> object:
        if isinstance(o, Literal) and o.datatype in _EXACT_JSON:
            pattern = _EXACT_JSON[o.datatype]
            if pattern is None or not pattern.fullmatch(str(o)):
                return {self.context.type_key: self.context.to_symbol(o.datatype), self.context.value_key: str(o)}
        return super().to_raw_value(graph, s, o, nodemap)


class ExactJsonLdSerializer(JsonLDSerializer):
    """rdflib's JSON-LD serializer, compacted with the context object `context` (required), keeping every literal
    exactly (_ExactJsonLdConverter)."""

    def serialize(self, stream, base: str | None = None, encoding: str | None = None, **kwargs: object) -> None:
        context = kwargs["context"]
        document = _ExactJsonLdConverter(Context(context, base=base), True, False).convert(self.store)
        if isinstance(document, list):  # (as rdflib's from_rdf: several graphs, or none)
            document = {"@graph": document}
        document["@context"] = context
        stream.write(json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8"))


plugin.register("kg-turtle", Serializer, __name__, "ExactTurtleSerializer")
plugin.register("kg-trig", Serializer, __name__, "ExactTrigSerializer")
plugin.register("kg-json-ld", Serializer, __name__, "ExactJsonLdSerializer")

# format name -> (rdflib serializer, file extension)
FORMATS = {
    "turtle": ("kg-turtle", "ttl"),
    "jsonld": ("kg-json-ld", "jsonld"),
    "nt": ("nt", "nt"),
    "trig": ("kg-trig", "trig"),
    "xml": ("xml", "rdf"),
}
ASSERTED = (ONTOLOGY_GRAPH, STATEMENTS_GRAPH, SOURCES_GRAPH, *LINKED_GRAPHS, DATASET_GRAPH)
OPTIONAL = (*LINKED_GRAPHS, DATASET_GRAPH)  # in an export only when the dataset has them
# what Oxigraph writes itself (pyoxigraph.RdfFormat); JSON-LD is compacted with the project's context, which
# Oxigraph's writer cannot do
OXIGRAPH_FORMATS = {"nt": "N_TRIPLES", "turtle": "TURTLE", "trig": "TRIG", "xml": "RDF_XML"}


def selected_graphs(dataset: Dataset, inferred: bool) -> tuple:
    """The named graphs an export holds: the asserted ones (the links and outside-data graphs only when the
    dataset has them), and the inferred one if asked."""
    return _selected([g for g in OPTIONAL if len(dataset.get_context(g))], inferred)  # (.graph() would add it)


def _selected(held: Collection[URIRef], inferred: bool) -> tuple:
    """selected_graphs, given the graphs the dataset holds (non-empty)."""
    present = tuple(g for g in ASSERTED if g not in OPTIONAL or g in held)
    return present + ((INFERRED_GRAPH,) if inferred else ())


def export_graph(dataset: Dataset, fmt: str, inferred: bool = False) -> Graph:
    """What a `fmt` export serialises: a Dataset of the selected named graphs for TriG, else their union."""
    graphs = selected_graphs(dataset, inferred)
    return _named_graphs(dataset, graphs) if fmt == "trig" else merged(dataset, *graphs)


def canonical(dataset: Dataset, extra: Mapping[URIRef, Graph] | None = None) -> Dataset:
    """A copy of the named graphs of `dataset` that every serialiser writes the same way each time: its blank nodes
    get the labels of W3C RDF Dataset Canonicalization (RDFC-1.0, run by Oxigraph), and its quads are added in
    canonical N-Quads order. (rdflib's parser labels blank nodes at random and its serialisers follow hash order,
    so two builds of the same data wrote different bytes; rdflib's own to_canonical_graph takes 0.2 s on the
    project but minutes on a 200 k-triple graph, where RDFC-1.0 in Oxigraph takes a few seconds.) `extra`: more
    named graphs for the copy (the dataset description), by name."""
    import pyoxigraph as ox

    named = {graph.identifier: graph for graph in dataset.contexts() if isinstance(graph.identifier, URIRef)}
    quads = ox.Dataset(  # (built from the terms: no copy in rdflib, no N-Quads to write and read)
        ox.Quad(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o), ox.NamedNode(name))
        for name, graph in {**named, **(extra or {})}.items() for s, p, o in graph
    )
    quads.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    document = b"\n".join(sorted(ox.serialize(quads, format=ox.RdfFormat.N_QUADS).splitlines()))
    copy = new_dataset()
    graphs: dict[str, Graph] = {}
    for quad in ox.parse(document, format=ox.RdfFormat.N_QUADS):
        name = quad.graph_name.value
        graph = graphs.get(name) or graphs.setdefault(name, copy.graph(URIRef(name)))
        graph.add((from_oxigraph(quad.subject), from_oxigraph(quad.predicate), normalised(from_oxigraph(quad.object))))
    return copy


def _named_graphs(dataset: Dataset, graphs: Collection[URIRef] | None = None) -> Dataset:
    """A Dataset holding the named graphs `graphs` of `dataset` (all of them if None)."""
    selection = new_dataset()
    for graph in dataset.contexts():
        if isinstance(graph.identifier, URIRef) and (graphs is None or graph.identifier in graphs):
            selection.graph(graph.identifier).__iadd__(graph)
    return selection


def load_context(path: Path) -> dict:
    """The JSON-LD context object (the value of `@context`) from ontology/context.jsonld; InputError naming the
    file if it cannot be read or holds no context."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the JSON-LD context ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 (byte {exc.start}: {exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: malformed JSON: {exc.msg}") from None
    if not isinstance(document, dict) or not isinstance(document.get("@context"), dict):
        raise InputError(f"{path}: no JSON-LD context (an object with an @context object)")
    return document["@context"]


def serialize(dataset: Dataset, fmt: str, context: Path, inferred: bool = False, stable: bool = True) -> bytes:
    """The export in `fmt` as bytes (UTF-8): with `stable`, the same bytes for the same data (see `canonical`),
    else in rdflib's order (canonical labels cost more than the export itself on a large graph)."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if stable:
        return serialized(export_graph(canonical(dataset), fmt, inferred), fmt, context)
    return serialized(writable_blank_nodes(export_graph(dataset, fmt, inferred)), fmt, context, ordered=False)


# a blank node label every format writes as it is: N-Triples' and Turtle's BLANK_NODE_LABEL, RDF/XML's rdf:nodeID
# (an XML name), JSON-LD's "_:" identifiers
_WRITABLE_BLANK = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def writable_blank_nodes(graph: Graph) -> Graph:
    """`graph`, its blank nodes relabelled (in a copy) where a label cannot be written: a SPARQL server's own
    (Virtuoso's `nodeID://b10426`) made N-Triples, TriG and RDF/XML no parser reads. Each such label gets one
    derived from it, so a node keeps one label across the graphs of a TriG export. (Canonical labels, as
    `canonical` gives, are writable: the build's exports skip this scan.)"""
    def writable(node: Node) -> Node:
        if isinstance(node, BNode) and not _WRITABLE_BLANK.fullmatch(node):
            return BNode("b" + hashlib.sha256(node.encode("utf-8")).hexdigest()[:24])
        return node

    def quads() -> Iterator[tuple[Node, Node, Node, Node | None]]:
        if isinstance(graph, Dataset):
            return ((s, p, o, name.identifier if isinstance(name, Graph) else name) for s, p, o, name in graph.quads())
        return ((s, p, o, None) for s, p, o in graph)

    if all(writable(s) is s and writable(o) is o for s, _, o, _ in quads()):  # (nothing to copy: the usual case)
        return graph
    copy = new_dataset() if isinstance(graph, Dataset) else Graph()
    for prefix, namespace in graph.namespaces():
        copy.bind(prefix, namespace, override=True)
    for s, p, o, name in quads():
        (copy if name is None else copy.graph(name)).add((writable(s), p, writable(o)))
    return copy


def serialize_store(store: Store, fmt: str, context: Path, inferred: bool = False) -> bytes:
    """The export of the dataset in `store` in `fmt`. Oxigraph writes N-Triples, Turtle, TriG and RDF/XML of its
    graphs itself (on 2 M triples, seconds, where copying them into rdflib takes minutes and gigabytes); JSON-LD
    and the other stores go through rdflib, reading the store in place where it can (Store.view). Only the
    memory store, which holds the project's build, gives canonical bytes (`serialize`): relabelling a large
    store's blank nodes canonically costs more than the export (at 200 k triples, JSON-LD from Oxigraph took
    42 s with it, 12 s without). Oxigraph's own writer writes the quads in its indexes' order with the
    blank-node labels the store holds, so the same store gives the same bytes, but two loads of the same data
    (which label blank nodes afresh) can differ in those labels; JSON-LD from a store other than memory follows
    rdflib's order."""
    if isinstance(store, OxigraphStore) and fmt in OXIGRAPH_FORMATS:
        data = store.serialize_graphs(_selected(store.graphs(), inferred), OXIGRAPH_FORMATS[fmt], fmt != "trig")
        return _readable_xml(data, lambda: export_graph(store.view(), fmt, inferred)) if fmt == "xml" else data
    return serialize(store.view(), fmt, context, inferred, stable=isinstance(store, MemoryStore))


def serialized(graph: Graph, fmt: str, context: Path, ordered: bool = True) -> bytes:
    """`graph` (an export_graph) in `fmt` as bytes (UTF-8), its triples and nodes in a fixed order if `ordered` (a
    copy sorted first: on a large store's export, where the blank-node labels are the store's anyway, it is left
    out); OutputError if the format cannot hold the data (RDF/XML needs a predicate IRI it can split into a
    namespace and a local name, and no control character: see _readable_xml; an IRI with a space is no IRI)."""
    options = {"context": load_context(context)} if fmt == "jsonld" else {}
    if ordered and fmt in _FOLLOW_STORE_ORDER:
        graph = _in_order(graph)
    try:
        data = graph.serialize(format=FORMATS[fmt][0], encoding="utf-8", **options)
    except Exception as exc:  # rdflib's serializers raise ValueError or a bare Exception
        raise OutputError(f"the data cannot be written as {fmt}: {exc}") from None
    if fmt == "xml":
        data = _readable_xml(data, lambda: graph)
    if not ordered:
        return data
    if fmt == "nt":  # sorted lines, as canonical N-Quads are (rdflib writes them in its store's order)
        return b"".join(sorted(data.splitlines(keepends=True)))
    return _nodes_in_order(data) if fmt == "jsonld" else data


# what XML 1.0 cannot hold, in UTF-8: the control characters other than tab, LF and CR, and U+FFFE, U+FFFF (rdflib's
# and Oxigraph's RDF/XML writers write them as they are, in a file no XML parser reads; the other formats escape them)
_NOT_XML = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")


def not_in_xml(data: bytes) -> str | None:
    """The first character of UTF-8 `data` that XML 1.0 cannot hold, or None."""
    found = _NOT_XML.search(data)
    return None if found is None else found.group().decode("utf-8")


def _readable_xml(data: bytes, graph: Callable[[], Graph]) -> bytes:
    """`data`, the RDF/XML of `graph()`, if it holds only characters XML 1.0 allows; else OutputError naming a
    triple that holds one it does not, and the character (the graph is read only then)."""
    character = not_in_xml(data)
    if character is None:
        return data
    holder = next((f"the triple {s.n3()} {p.n3()} ..." for s, p, o in graph() if character in f"{s}{p}{o}"), "it")
    raise OutputError(f"the data cannot be written as xml: {holder} holds the character U+{ord(character):04X}, "
                      "which XML 1.0 cannot hold (turtle, nt, trig and jsonld can)")


def _nodes_in_order(data: bytes) -> bytes:
    """A JSON-LD document from rdflib with each blank node that one node refers to written inside it (see
    `_embed_blank_nodes`) and its top-level nodes sorted by @id (rdflib lists them in hash order; the values
    inside a node follow the store's order, which `_in_order` makes sorted)."""
    document = json.loads(data)
    if isinstance(document, dict) and isinstance(document.get("@graph"), list):
        document["@graph"] = _embed_blank_nodes(document["@graph"])
        document["@graph"].sort(key=lambda node: (str(node.get("@id", "")), json.dumps(node, sort_keys=True)))
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8")


def _embed_blank_nodes(nodes: list) -> list:
    """`nodes` (a flattened JSON-LD @graph) with each blank node that exactly one value refers to, as {"@id":
    "_:b"}, written in that value's place without its label: a claim's quote and offset selectors inside the
    claim, as Web Annotation writes them, rather than as top-level nodes to look up. The same triples (the blank
    node gets a fresh label when read); a blank node referred to twice, by a string, or only from a cycle of such
    nodes stays where it is, labelled."""
    blank = {node["@id"]: node for node in nodes if isinstance(node, dict) and str(node.get("@id", "")).startswith("_:")}
    places: dict[str, list[tuple[str, dict | list, str | int]]] = {}  # label -> (top-level holder, container, key)
    pinned: set[str] = set()  # referred to by a string (an @id-typed term's value), which cannot hold a node

    def visit(value: object, root: str, container: dict | list, key: str | int) -> None:
        if isinstance(value, dict) and set(value) == {"@id"} and value["@id"] in blank:
            places.setdefault(value["@id"], []).append((root, container, key))
        elif isinstance(value, str) and value in blank:
            pinned.add(value)
        elif isinstance(value, dict | list):
            for inner, item in (value.items() if isinstance(value, dict) else enumerate(value)):
                if inner != "@id":
                    visit(item, root, value, inner)

    for node in nodes:
        for key, value in node.items() if isinstance(node, dict) else ():
            if key != "@id":
                visit(value, str(node.get("@id", "")), node, key)
    once = {label: found[0] for label, found in places.items() if len(found) == 1 and label not in pinned}

    def rooted(label: str) -> bool:  # its chain of single referrers ends at a node that stays at the top level
        seen = set()
        while label in once and label not in seen:
            seen.add(label)
            label = once[label][0]
        return label not in once

    embedded = {label for label in once if rooted(label)}
    kept = [node for node in nodes if not (isinstance(node, dict) and node.get("@id") in embedded)]
    for label in embedded:  # the node itself, so that what is embedded in it moves with it
        _, container, key = once[label]
        del blank[label]["@id"]
        container[key] = blank[label]  # type: ignore[index]
    return kept


# the serialisers that write triples in the order the graph's store yields them (rdflib's Memory store: hash order)
_FOLLOW_STORE_ORDER = ("jsonld", "xml")


def _in_order(graph: Graph) -> Graph:
    """A copy of `graph` whose store (rdflib's SimpleMemory, nested dicts) yields its triples sorted."""
    ordered = Graph(store="SimpleMemory", bind_namespaces="none")
    for prefix, namespace in graph.namespaces():
        ordered.bind(prefix, namespace, override=True, replace=True)
    for triple in sorted(graph, key=lambda triple: tuple(term.n3() for term in triple)):
        ordered.add(triple)
    return ordered


def publish(directory: Path, files: Mapping[Path, Callable[[], bytes]]) -> None:
    """Write `files` and remove the exports of an earlier build in `directory` that this one does not write (an
    in-store build writes no Turtle...), all or none (write_all_atomic), so that dist/ never mixes two builds."""
    stale = [path for path in [*directory.glob("defence-kg*"), directory / "void.ttl"]
             if path not in files and path.is_file()]
    write_all_atomic(files, remove=stale)


def export(store: Store, fmt: str, path: Path, context: Path, inferred: bool = False) -> Path:
    """Serialise the dataset in `store` and write one export file atomically; returns the path written."""
    write_atomic(path, serialize_store(store, fmt, context, inferred))
    return path


def export_files(
    dataset: Dataset, directory: Path, context: Path, build_key: str, step: Callable[[str], None] = lambda name: None
) -> dict[Path, Callable[[], bytes]]:
    """Every format, without and with the inferred graph, as `directory`/defence-kg[+inferred].EXT, each holding
    the dataset description (kg.void) of build `build_key` in its graph, also written as `directory`/void.ttl:
    what `kg build` writes. Each selection of graphs is copied once and shared by the formats that serialise it,
    rather than once per format (the copies cost as much as two serialisations). Returns path -> its content,
    made when called."""
    variants = ((False, ""), (True, "+inferred"))
    names = {f"defence-kg{suffix}.{extension}": (fmt, inferred)
             for inferred, suffix in variants for fmt, (_, extension) in FORMATS.items()}
    description = describe(dataset, selected_graphs(dataset, True), names, build_key)
    dataset = canonical(dataset, {DATASET_GRAPH: description})
    files: dict[Path, Callable[[], bytes]] = {
        directory / "void.ttl": lambda: serialized(merged(dataset, DATASET_GRAPH), "turtle", context)
    }
    for inferred, suffix in variants:
        shared = {kind: export_graph(dataset, kind, inferred) for kind in ("trig", "flat")}
        for fmt, (_, extension) in FORMATS.items():

            def content(fmt: str = fmt, graph: Graph = shared["trig" if fmt == "trig" else "flat"],
                        name: str = f"export {fmt}{' ' + suffix if suffix else ''}") -> bytes:
                step(name)
                return serialized(graph, fmt, context)

            files[directory / f"defence-kg{suffix}.{extension}"] = content
    return files
