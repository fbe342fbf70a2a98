"""Stage 5, export: every format round-trips to its source graph, JSON-LD is compacted, writes are atomic."""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pyld import jsonld
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, XSD

from kg.build import Built
from kg.errors import InputError, OutputError, UsageError
from kg.export import FORMATS, ExactTurtleSerializer, export, export_files, load_context, publish, serialize
from kg.files import write_all_atomic
from kg.load import Project, new_dataset
from kg.namespaces import (
    ID, INFERRED_GRAPH, KG, LINKS_GRAPH, ONTOLOGY_GRAPH, PREFIXES, PROJECT_ROOT, PYCOUNTRY_GRAPH, SOURCES_GRAPH,
    STATEMENTS_GRAPH, WIKIDATA_GRAPH,
)
from kg.store import MemoryStore, Store, create_store
from conftest import copy_of, strictly_read

CONTEXT = PROJECT_ROOT / "ontology" / "context.jsonld"
CASES = [(fmt, inferred) for fmt in FORMATS for inferred in (False, True)]
PARSERS = {"turtle": "turtle", "jsonld": "json-ld", "nt": "nt", "trig": "trig", "xml": "xml"}


def _reparse(data: bytes, fmt: str) -> Graph:
    if fmt == "trig":
        dataset = Dataset(default_union=True)
        dataset.parse(data=data, format="trig")
        return dataset
    return Graph().parse(data=data, format=PARSERS[fmt])


# the graphs an export holds, named here rather than taken from kg.export: the asserted ones, the links and
# outside-data graphs when the build has them (the project's has the links and pycountry graphs), and the
# inferred one with `inferred`
ASSERTED_GRAPHS = (ONTOLOGY_GRAPH, STATEMENTS_GRAPH, SOURCES_GRAPH)
LINKED_IF_PRESENT = (LINKS_GRAPH, PYCOUNTRY_GRAPH, WIKIDATA_GRAPH)


def _expected_graphs(dataset: Dataset, inferred: bool) -> list[URIRef]:
    present = [name for name in LINKED_IF_PRESENT if len(dataset.graph(name))]
    return [*ASSERTED_GRAPHS, *present, *([INFERRED_GRAPH] if inferred else [])]


def _union(dataset: Dataset, names: list[URIRef]) -> Graph:
    union = Graph()
    for name in names:
        union += dataset.graph(name)
    return union


def _flat_export(dataset: Dataset, inferred: bool = False) -> Graph:
    """What a flat export of the built `dataset` holds."""
    return _union(dataset, _expected_graphs(dataset, inferred))


def _named(reparsed: Dataset) -> dict[URIRef, Graph]:
    return {graph.identifier: graph for graph in reparsed.contexts() if len(graph)}


@pytest.mark.parametrize(("fmt", "inferred"), CASES, ids=[f"{f}{'+inferred' if i else ''}" for f, i in CASES])
def test_export_reparses_to_the_built_graphs(any_built: Built, fmt: str, inferred: bool) -> None:
    dataset = any_built.dataset
    expected = _expected_graphs(dataset, inferred)
    assert all(len(dataset.graph(name)) for name in expected)
    back = _reparse(serialize(dataset, fmt, CONTEXT, inferred), fmt)
    if fmt == "trig":
        graphs = _named(back)
        assert sorted(graphs) == sorted(expected)  # each graph under its own name, no other
        for name in expected:
            assert isomorphic(graphs[name], dataset.graph(name)), name
    else:
        assert isomorphic(back, _flat_export(dataset, inferred))


_DIGESTS = """
import hashlib, sys
from pathlib import Path
from kg.export import FORMATS, serialize
from kg.build import load_dataset
from kg.load import Project
from kg.reason import add_inferred, infer
project = Project(Path(sys.argv[1]))
dataset = load_dataset(project)
add_inferred(dataset, infer(dataset))
for fmt in FORMATS:
    for inferred in (False, True):
        print(fmt, inferred, hashlib.sha256(serialize(dataset, fmt, project.context, inferred)).hexdigest())
"""


def test_the_same_data_gives_the_same_bytes_in_every_format(project: Project) -> None:
    # two processes: another hash seed (rdflib's order) and another parse (its blank-node labels)
    runs = [
        subprocess.run([sys.executable, "-c", _DIGESTS, str(project.root)], capture_output=True, text=True,
                       check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    ]
    assert runs[0].count("\n") == 2 * len(FORMATS)
    assert runs[0] == runs[1]


@pytest.mark.parametrize("kind", ["memory", "oxigraph"])
def test_only_the_memory_store_s_json_ld_is_relabelled_canonically(built_fixture: Built, kind: str, monkeypatch) -> None:
    """The memory store (the project's build) is exported with canonical blank-node labels; a store for large data
    is not: relabelling 2 M triples in rdflib took longer than the export and over 12 GB (the same export,
    the same graph, either way)."""
    import kg.export
    from kg.export import serialize_store
    from kg.store import create_store

    store = create_store(kind)
    store.load(built_fixture.dataset)
    relabelled, sorted_copies = [], []
    monkeypatch.setattr(kg.export, "canonical", lambda dataset: relabelled.append(kind) or dataset)
    monkeypatch.setattr(kg.export, "_in_order", lambda graph: sorted_copies.append(kind) or graph)
    data = serialize_store(store, "jsonld", CONTEXT)
    assert relabelled == ([kind] if kind == "memory" else [])
    assert sorted_copies == relabelled  # (nor is a large store's export copied in order)
    assert isomorphic(_reparse(data, "jsonld"), _flat_export(built_fixture.dataset, False))


# literals an export could change; each guards against a way of breaking it. (rdflib rewrites some lexical forms
# when it makes a literal, "007"^^xsd:integer as "7", "1"^^xsd:boolean as "true": such a form never reaches an
# export, so no case here can test it.)
TRICKY = [
    Literal("9700000000", datatype=XSD.decimal),  # rdflib's Turtle shorthand would write 9700000000.0
    Literal("5", datatype=XSD.decimal),  # ... and 5.0
    Literal("2.50", datatype=XSD.decimal),  # not 2.5: a decimal read as a number
    Literal("true", datatype=XSD.boolean),
    Literal("2023", datatype=XSD.gYear),
    Literal("Canada", lang="fr-Latn-CA"),  # a language tag with its script and region subtags
    Literal("fr", lang="fr"),
    Literal("x y", datatype=URIRef("https://example.org/datatype/unknown-to-rdflib")),  # kept, not a plain string
    Literal('back\\slash "quoted"\nnew line'),
    Literal("tab\tcarriage\r\nreturn"),  # \r: XML reads a raw one as \n
    Literal("line\u2028separator\x85next line, \U0001f600"),  # line breaks to str.splitlines, not to N-Triples
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_literal_keeps_its_lexical_form(fmt: str) -> None:
    dataset = new_dataset()
    statements = dataset.graph(STATEMENTS_GRAPH)
    for index, literal in enumerate(TRICKY):
        statements.add((ID[f"n{index}"], KG.value, literal))
    back = _reparse(serialize(dataset, fmt, CONTEXT), fmt)
    assert set(back.objects(None, KG.value)) == set(TRICKY)


# literals whose lexical form is not one of their datatype (data that does not conform still reaches the exports)
# and numbers JSON could write natively; each on a property the context does not coerce, and on ones it coerces
# to its datatype (oa:start, xsd:integer) or to another (sssom:confidence, xsd:double)
ILL_TYPED = [
    Literal("abc", datatype=XSD.integer),
    Literal("1.5", datatype=XSD.integer),
    Literal("x", datatype=XSD.decimal),
    Literal("x", datatype=XSD.gYear),
    Literal("1,5", datatype=XSD.double),
]
WELL_TYPED_NUMBERS = [
    Literal("12", datatype=XSD.integer), Literal("-3", datatype=XSD.integer), Literal("0.5", datatype=XSD.double),
    Literal("false", datatype=XSD.boolean),
]
OA_START, CONFIDENCE = URIRef("http://www.w3.org/ns/oa#start"), URIRef("https://w3id.org/sssom/confidence")


@pytest.mark.parametrize("kind", ["memory", "oxigraph"])
def test_json_ld_keeps_ill_typed_literals(kind: str) -> None:
    from kg.export import serialize_store
    from kg.store import create_store

    dataset = new_dataset()
    statements = dataset.graph(STATEMENTS_GRAPH)
    for index, literal in enumerate(ILL_TYPED + WELL_TYPED_NUMBERS):
        for predicate in (KG.value, OA_START, CONFIDENCE):
            statements.add((ID[f"n{index}"], predicate, literal))
    store = create_store(kind)
    store.load(dataset)
    document = serialize_store(store, "jsonld", CONTEXT)
    assert isomorphic(_reparse(document, "jsonld"), statements)
    expanded = jsonld.to_rdf(json.loads(document), {"format": "application/n-quads"})  # another JSON-LD reader
    assert isomorphic(Graph().parse(data=expanded, format="nquads"), statements)
    nodes = {node["@id"]: node for node in json.loads(document)["@graph"]}
    assert {"@type": "xsd:integer", "@value": "abc"} in _as_list(nodes["id:n0"]["kg:value"])
    assert nodes["id:n0"]["start"] == "abc"  # (coerced by the context: the short form)


# characters XML 1.0 cannot hold: the control characters other than tab, LF and CR, and U+FFFE, U+FFFF
NOT_IN_XML = ["\x00", "\x01", "\x0c", "\x1f", "\ufffe", "\uffff"]
STORE_KINDS = ["memory", "oxigraph"]


def _in_store(kind: str, literals: list[Literal]) -> Store:
    """A store of `kind` holding (id:nI kg:value literal I) in the statements graph."""
    dataset = new_dataset()
    for index, literal in enumerate(literals):
        dataset.graph(STATEMENTS_GRAPH).add((ID[f"n{index}"], KG.value, literal))
    store = create_store(kind)
    store.load(dataset)
    return store


@pytest.mark.parametrize("kind", STORE_KINDS)
@pytest.mark.parametrize("fmt", ["turtle", "jsonld", "nt", "trig"])
def test_the_formats_that_escape_control_characters_keep_them(fmt: str, kind: str) -> None:
    from kg.export import serialize_store

    literals = [Literal(f"a{character}b") for character in NOT_IN_XML]
    back = _reparse(serialize_store(_in_store(kind, literals), fmt, CONTEXT), fmt)
    assert set(back.objects(None, KG.value)) == set(literals)


@pytest.mark.parametrize("kind", STORE_KINDS)
@pytest.mark.parametrize("character", NOT_IN_XML)
def test_rdf_xml_refuses_a_character_xml_cannot_hold(character: str, kind: str) -> None:
    from kg.export import serialize_store

    store = _in_store(kind, [Literal("fine"), Literal(f"a{character}b", lang="en")])
    code = f"U+{ord(character):04X}"
    with pytest.raises(OutputError, match=re.escape(
        f"the data cannot be written as xml: the triple <{ID.n1}> <{KG.value}> ... holds the character {code}, "
        "which XML 1.0 cannot hold (turtle, nt, trig and jsonld can)"
    )):
        serialize_store(store, "xml", CONTEXT)


def test_a_build_with_a_character_xml_cannot_hold_replaces_no_export(built_fixture: Built, tmp_path: Path) -> None:
    write_all_atomic(export_files(built_fixture.dataset, tmp_path, CONTEXT, "key"))
    before = _files(tmp_path)
    dataset = copy_of(built_fixture.dataset)
    dataset.graph(STATEMENTS_GRAPH).add((ID.Canada, KG.value, Literal("page\x0cbreak")))
    with pytest.raises(OutputError, match="holds the character U\\+000C"):
        write_all_atomic(export_files(dataset, tmp_path, CONTEXT, "key2"))
    assert _files(tmp_path) == before  # the Turtle, JSON-LD... of the new build too, and nothing left behind


def test_inferred_flag_adds_exactly_the_inferred_graph(built_fixture: Built) -> None:
    dataset = built_fixture.dataset
    asserted = _reparse(serialize(dataset, "nt", CONTEXT, inferred=False), "nt")
    full = _reparse(serialize(dataset, "nt", CONTEXT, inferred=True), "nt")
    assert isomorphic(asserted, _union(dataset, [ONTOLOGY_GRAPH, STATEMENTS_GRAPH, SOURCES_GRAPH]))
    assert isomorphic(full, _union(dataset, [ONTOLOGY_GRAPH, STATEMENTS_GRAPH, SOURCES_GRAPH, INFERRED_GRAPH]))
    assert len(full) > len(asserted)  # the fixture infers triples it does not assert


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_literal_subject_or_reflexive_same_as_in_exports(any_built: Built, fmt: str) -> None:
    back = _reparse(serialize(any_built.dataset, fmt, CONTEXT, inferred=True), fmt)
    triples = list(back.quads() if fmt == "trig" else back)
    assert triples
    assert not [t for t in triples if isinstance(t[0], Literal)]
    assert not [t for t in triples if t[1] == OWL.sameAs and t[0] == t[2]]


def _keys(value: object) -> Iterator[str]:
    """Every key of every object in a JSON value, at any depth."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from _keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _keys(inner)


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def test_jsonld_is_compacted_and_expands_to_the_same_triples(any_built: Built) -> None:
    document = json.loads(serialize(any_built.dataset, "jsonld", CONTEXT, inferred=True))
    assert document["@context"] == load_context(CONTEXT)
    nodes = document["@graph"]
    # the context's terms name classes and properties, its prefixes shorten IRIs (claim:C01, id:Canada)
    claims = [node for node in nodes if "Claim" in _as_list(node.get("@type"))]
    assert claims and all(node["@id"].startswith("claim:C") for node in claims)
    supported = [node for node in nodes if "supportedBy" in node]
    assert supported and all(node["@id"].startswith("id:") for node in supported)
    assert all(str(value).startswith("claim:C") for node in supported for value in _as_list(node["supportedBy"]))
    namespaces = tuple(str(namespace) for namespace in PREFIXES.values())
    assert not [key for key in _keys(nodes) if key.startswith(namespaces)]  # no full IRI of a prefix as a key
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads"})
    expanded = Graph().parse(data=nquads, format="nquads")
    assert isomorphic(expanded, _flat_export(any_built.dataset, inferred=True))


def test_each_claim_holds_its_selectors_in_the_json_ld(built_project: Built) -> None:
    """A blank node one value refers to is written in its place: each claim's TextQuoteSelector and
    TextPositionSelector are inside the claim, as Web Annotation writes them, not top-level nodes to look up (the
    quote is the source's text between the offsets); no top-level blank node is left that one value refers to."""
    source = (PROJECT_ROOT / "data" / "sources" / "canada-us-defence-factsheet.txt").read_text(encoding="utf-8")
    nodes = json.loads(serialize(built_project.dataset, "jsonld", CONTEXT))["@graph"]
    claims = {node["identifier"]: node for node in nodes if "Claim" in _as_list(node.get("@type"))}
    assert len(claims) == 52
    for identifier, claim in claims.items():
        by_type = {selector["@type"]: selector for selector in claim["hasSelector"]}
        assert set(by_type) == {"TextQuoteSelector", "TextPositionSelector"}, identifier
        quote, position = by_type["TextQuoteSelector"], by_type["TextPositionSelector"]
        assert "@id" not in quote and "@id" not in position, identifier
        assert quote["exact"] == source[int(position["start"]):int(position["end"])], identifier
    text = json.dumps(nodes)
    left = [node["@id"] for node in nodes if str(node.get("@id", "")).startswith("_:")]
    assert not [label for label in left if text.count(json.dumps({"@id": label})) == 1]


@pytest.mark.parametrize("nodes, expected", [
    pytest.param(  # nested: a selector's own blank node goes inside it too
        [{"@id": "claim:C1", "p": [{"@id": "_:a"}, {"@id": "_:b"}]}, {"@id": "_:a", "v": 1},
         {"@id": "_:b", "q": {"@id": "_:c"}}, {"@id": "_:c", "v": 2}],
        [{"@id": "claim:C1", "p": [{"v": 1}, {"q": {"v": 2}}]}], id="once"),
    pytest.param(  # two values refer to it: writing it twice would make two blank nodes of one
        [{"@id": "id:A", "p": {"@id": "_:t"}}, {"@id": "id:B", "p": {"@id": "_:t"}}, {"@id": "_:t", "v": 1}],
        [{"@id": "id:A", "p": {"@id": "_:t"}}, {"@id": "id:B", "p": {"@id": "_:t"}}, {"@id": "_:t", "v": 1}],
        id="twice"),
    pytest.param(  # only a cycle refers to them: nested in each other, neither would be written
        [{"@id": "_:x", "p": {"@id": "_:y"}}, {"@id": "_:y", "p": {"@id": "_:x"}}, {"@id": "_:z", "p": {"@id": "_:z"}}],
        [{"@id": "_:x", "p": {"@id": "_:y"}}, {"@id": "_:y", "p": {"@id": "_:x"}}, {"@id": "_:z", "p": {"@id": "_:z"}}],
        id="cycle"),
    pytest.param(  # an @id-typed term's value is a string, which cannot hold a node
        [{"@id": "id:S", "q": "_:s"}, {"@id": "_:s", "v": 1}], [{"@id": "id:S", "q": "_:s"}, {"@id": "_:s", "v": 1}],
        id="string"),
])
def test_a_blank_node_is_embedded_only_where_one_value_refers_to_it(nodes: list, expected: list) -> None:
    from kg.export import _embed_blank_nodes

    document = {"@context": {"p": "urn:x:p", "q": {"@id": "urn:x:q", "@type": "@id"}, "v": "urn:x:v",
                             "id": "urn:x:id:", "claim": "urn:x:claim:"}}
    assert _embed_blank_nodes(json.loads(json.dumps(nodes))) == expected
    before = Graph().parse(data=json.dumps({**document, "@graph": nodes}), format="json-ld")
    after = Graph().parse(data=json.dumps({**document, "@graph": expected}), format="json-ld")
    assert isomorphic(before, after)


def test_context_maps_every_project_prefix() -> None:
    context = load_context(CONTEXT)
    assert {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}.items() <= context.items()


def test_unknown_format_is_a_usage_error(built_fixture: Built) -> None:
    with pytest.raises(UsageError, match="turtle"):
        serialize(built_fixture.dataset, "n3000", CONTEXT)


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_serializer_failure_writes_nothing(
    built_fixture: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("serializer failed")

    target = tmp_path / "out.ttl"
    monkeypatch.setattr(ExactTurtleSerializer, "serialize", broken)
    with pytest.raises(OutputError, match="the data cannot be written as turtle: serializer failed"):
        export(MemoryStore(built_fixture.dataset), "turtle", target, CONTEXT)
    assert not target.exists()
    assert _leftovers(tmp_path) == []


def test_failure_while_replacing_keeps_the_old_file(
    built_fixture: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.nt"
    target.write_text("old content\n", encoding="utf-8")

    def broken_replace(source: object, destination: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("kg.files.os.replace", broken_replace)
    with pytest.raises(OutputError, match=f"cannot write {target}: disk full"):
        export(MemoryStore(built_fixture.dataset), "nt", target, CONTEXT)
    assert target.read_text(encoding="utf-8") == "old content\n"
    assert _leftovers(tmp_path) == []


def test_a_file_in_place_of_the_directory_is_an_output_error(built_fixture: Built, tmp_path: Path) -> None:
    blocker = tmp_path / "dist"
    blocker.write_text("a file, not a directory\n", encoding="utf-8")
    with pytest.raises(OutputError, match=f"cannot write {blocker / 'out.ttl'}: {blocker} is a file, not a directory"):
        export(MemoryStore(built_fixture.dataset), "turtle", blocker / "out.ttl", CONTEXT)
    assert blocker.read_text(encoding="utf-8") == "a file, not a directory\n"


def test_export_replaces_an_existing_file(built_fixture: Built, tmp_path: Path) -> None:
    target = tmp_path / "out.nt"
    target.write_text("old content\n", encoding="utf-8")
    export(MemoryStore(built_fixture.dataset), "nt", target, CONTEXT)
    assert isomorphic(Graph().parse(target, format="nt"), _flat_export(built_fixture.dataset))
    assert _leftovers(tmp_path) == []


def test_a_build_writes_every_export_or_none(built_fixture: Built, tmp_path: Path) -> None:
    # RDF/XML cannot write a predicate it cannot split into a namespace and a local name
    dataset = copy_of(built_fixture.dataset)
    dataset.graph(STATEMENTS_GRAPH).add((ID.Canada, URIRef("http://example.org/p/"), Literal("x")))
    write_all_atomic(export_files(built_fixture.dataset, tmp_path, CONTEXT, "key"))
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    with pytest.raises(OutputError, match="the data cannot be written as xml: Can't split 'http://example.org/p/'"):
        write_all_atomic(export_files(dataset, tmp_path, CONTEXT, "key"))
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before  # the Turtle, JSON-LD... too


def _files(directory: Path) -> dict[str, bytes]:
    """Every file in `directory` (hidden ones too: a temporary file or a backup left behind) and its bytes."""
    return {path.name: path.read_bytes() for path in directory.iterdir()}


def _fail_on_rename(monkeypatch: pytest.MonkeyPatch, failing: int) -> None:
    """os.replace, as kg.export calls it, fails with EIO on its `failing`-th call (and only then)."""
    renames: list[object] = []

    def flaky(source: object, destination: object) -> None:
        renames.append(destination)
        if len(renames) == failing:
            raise OSError(errno.EIO, "Input/output error")
        real_replace(source, destination)

    real_replace = os.replace
    monkeypatch.setattr("kg.files.os.replace", flaky)


EXPORT_FILES = 1 + 2 * len(FORMATS)  # void.ttl, and each format without and with the inferred graph


@pytest.mark.parametrize("failing", range(1, EXPORT_FILES + 1))
def test_a_failed_rename_puts_back_the_files_already_replaced(
    built_fixture: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: int
) -> None:
    write_all_atomic(export_files(built_fixture.dataset, tmp_path, CONTEXT, "key"))
    (tmp_path / "notes.txt").write_text("not an export\n", encoding="utf-8")
    before = _files(tmp_path)
    dataset = copy_of(built_fixture.dataset)
    dataset.graph(STATEMENTS_GRAPH).add((ID.Canada, KG.value, Literal("new")))
    _fail_on_rename(monkeypatch, failing)
    with pytest.raises(OutputError, match=r"cannot write .*: Input/output error$"):
        write_all_atomic(export_files(dataset, tmp_path, CONTEXT, "key2"))
    assert _files(tmp_path) == before  # no file of the new build, no temporary file or backup


@pytest.mark.parametrize("failing", [1, 3, EXPORT_FILES])
def test_a_failed_rename_removes_the_new_files_already_moved(
    built_fixture: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: int
) -> None:
    _fail_on_rename(monkeypatch, failing)
    with pytest.raises(OutputError, match="Input/output error"):
        write_all_atomic(export_files(built_fixture.dataset, tmp_path, CONTEXT, "key"))
    assert _files(tmp_path) == {}


def test_publish_keeps_an_earlier_build_whole_if_removing_its_exports_fails(
    built_fixture: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_all_atomic(export_files(built_fixture.dataset, tmp_path, CONTEXT, "key"))
    (tmp_path / "validation-report.txt").write_text("old report\n", encoding="utf-8")
    before = _files(tmp_path)
    reports = {tmp_path / "validation-report.txt": lambda: b"new report\n"}
    real_unlink = Path.unlink

    def flaky_unlink(path: Path, missing_ok: bool = False) -> None:
        if path.name == "defence-kg.trig":  # one of the earlier build's exports, removed after the report moved
            raise OSError(errno.EACCES, "Permission denied")
        real_unlink(path, missing_ok)

    monkeypatch.setattr(Path, "unlink", flaky_unlink)
    with pytest.raises(OutputError, match=f"cannot remove {tmp_path / 'defence-kg.trig'}: Permission denied"):
        publish(tmp_path, reports)
    assert _files(tmp_path) == before
    monkeypatch.setattr(Path, "unlink", real_unlink)
    publish(tmp_path, reports)
    assert _files(tmp_path) == {"validation-report.txt": b"new report\n"}


def test_a_new_export_gets_the_umask_s_mode_and_a_replaced_one_keeps_its_own(built_fixture: Built, tmp_path: Path) -> None:
    mask = os.umask(0o027)
    try:
        export(MemoryStore(built_fixture.dataset), "nt", tmp_path / "new.nt", CONTEXT)
        kept = tmp_path / "kept.nt"
        kept.write_text("old\n", encoding="utf-8")
        kept.chmod(0o604)
        export(MemoryStore(built_fixture.dataset), "nt", kept, CONTEXT)
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "new.nt").stat().st_mode) == 0o640  # (mkstemp's would be 0600)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o604 and kept.read_text(encoding="utf-8") != "old\n"


def test_a_symbolic_link_is_followed_and_kept(built_fixture: Built, tmp_path: Path) -> None:
    target, link = tmp_path / "target.nt", tmp_path / "link.nt"
    target.write_text("old\n", encoding="utf-8")
    link.symlink_to(target.name)
    export(MemoryStore(built_fixture.dataset), "nt", link, CONTEXT)
    assert link.is_symlink() and os.readlink(link) == "target.nt"
    assert isomorphic(Graph().parse(target, format="nt"), _flat_export(built_fixture.dataset))
    assert _leftovers(tmp_path) == []


def test_a_fifo_is_written_in_place(built_fixture: Built, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.nt"
    os.mkfifo(fifo)
    with ThreadPoolExecutor(1) as reader:
        received = reader.submit(fifo.read_bytes)
        export(MemoryStore(built_fixture.dataset), "nt", fifo, CONTEXT)
        data = received.result(timeout=30)
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # not replaced by a regular file
    assert isomorphic(Graph().parse(data=data, format="nt"), _flat_export(built_fixture.dataset))


def test_a_directory_is_not_an_output_file(built_fixture: Built, tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=f"cannot write {tmp_path}: it is a directory"):
        export(MemoryStore(built_fixture.dataset), "nt", tmp_path, CONTEXT)


@pytest.mark.parametrize(("text", "message"), [
    (None, "cannot read the JSON-LD context (No such file or directory)"),
    ("{bad", ":1:2: malformed JSON: Expecting property name enclosed in double quotes"),
    ('{"context": {}}', "no JSON-LD context (an object with an @context object)"),
])
def test_a_missing_or_broken_context_is_named(tmp_path: Path, text: str | None, message: str) -> None:
    path = tmp_path / "context.jsonld"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(f"{path}{'' if message.startswith(':') else ': '}{message}")):
        load_context(path)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_store_s_export_reads_back_as_the_memory_store_s(project_store: Store, enriched_built: Built, fmt: str) -> None:
    """Virtuoso labels its blank nodes `nodeID://b10426`: written as they were, its N-Triples, TriG and RDF/XML
    exports were files no parser reads, and its JSON-LD lost the quotes' selectors."""
    from kg.export import serialize_store

    expected = strictly_read(serialize_store(MemoryStore(enriched_built.dataset), fmt, CONTEXT), fmt)
    assert isomorphic(strictly_read(serialize_store(project_store, fmt, CONTEXT), fmt), expected)


def test_the_description_gives_each_graph_the_project_did_not_make_its_own_terms(built_project: Built) -> None:
    """The exports are CC BY 4.0 for what the project made; the ISO 3166 facts from pycountry are LGPL-2.1-only (its
    LICENSE file), the Wikidata facts CC0, and the fact sheet's text keeps its publisher's rights."""
    from kg.namespaces import DCTERMS, PYCOUNTRY_GRAPH, SOURCES_GRAPH, STATEMENTS_GRAPH, WIKIDATA_GRAPH
    from kg.void import DATASET, describe

    graphs = (STATEMENTS_GRAPH, SOURCES_GRAPH, PYCOUNTRY_GRAPH, WIKIDATA_GRAPH)
    void = describe(built_project.dataset, graphs, {"defence-kg.ttl": ("turtle", False)}, "key")
    assert void.value(STATEMENTS_GRAPH, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert void.value(PYCOUNTRY_GRAPH, DCTERMS.license) == URIRef("https://spdx.org/licenses/LGPL-2.1-only.html")
    assert void.value(WIKIDATA_GRAPH, DCTERMS.license) == URIRef("https://creativecommons.org/publicdomain/zero/1.0/")
    assert void.value(SOURCES_GRAPH, DCTERMS.license) is None
    for described in (DATASET, URIRef(f"{DATASET}/defence-kg.ttl")):
        rights = " ".join(str(text) for text in void.objects(described, DCTERMS.rights))
        assert "Government of Canada" in rights and "pycountry package LGPL-2.1-only" in rights, described
    alone = describe(built_project.dataset, (STATEMENTS_GRAPH, SOURCES_GRAPH), {}, "key")
    assert "pycountry" not in " ".join(str(text) for text in alone.objects(DATASET, DCTERMS.rights))
