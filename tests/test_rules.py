"""kg.rules: the SPARQL rules' closure equals owlrl's (kg.reason, the reference) less asserted triples and junk.

Proven on the project's graph, the pipeline fixture, a fixture using every supported kind of axiom and a
synthetic project of the scale benchmark, on the memory store (rdflib) and on Oxigraph. No owlrl inference is out of scope on these graphs: the sets are equal.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import PIPELINE
from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import ORG, RDF, RDFS, XSD

from kg.errors import InconsistencyError, InputError, UsageError
from kg.build import load_dataset
from kg.load import Project, new_dataset, parse_turtle
from kg.namespaces import ID, INFERRED_GRAPH, KG, ONTOLOGY_GRAPH, PROJECT_ROOT, RULES_DIR, STATEMENTS_GRAPH
from kg.reason import infer
from kg.rules import STRATA, load_rules, materialise, parse_rule, stratum
from kg.store import Store, create_store

EVERY_AXIOM = PROJECT_ROOT / "tests" / "fixtures" / "rules" / "every-axiom.ttl"
STORES = ["memory", "oxigraph"]


def open_store(kind: str, tmp_path: Path) -> Store:
    return create_store("memory" if kind == "memory" else f"oxigraph:{tmp_path / 'store'}")


def statements_only(path: Path) -> Dataset:
    dataset = new_dataset()
    parse_turtle(path, dataset.graph(STATEMENTS_GRAPH))
    return dataset


def turtle_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def with_statements(statements: Path) -> Dataset:
    """The fixture project's ontology with other statements."""
    dataset = new_dataset()
    parse_turtle(PIPELINE / "project" / "ontology" / "defence-kg.ttl", dataset.graph(ONTOLOGY_GRAPH))
    parse_turtle(statements, dataset.graph(STATEMENTS_GRAPH))
    return dataset


def rules_closure(dataset: Dataset, kind: str, tmp_path: Path, engine: str = "auto", rules: Path = RULES_DIR) -> set:
    """What the rules put into the inferred graph of a store loaded with `dataset`."""
    store = open_store(kind, tmp_path)
    store.load(dataset)
    materialise(store, rules, engine)
    return set(store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }} }}").graph)


def generated(root: Path) -> Dataset:
    """A small synthetic project of bench/generate.py (one document, with the project's own data)."""
    from test_generate import generate

    generate.generate(root, generate.TRIPLES_PER_DOCUMENT)
    return load_dataset(Project(root))


GRAPHS = {
    "project": lambda tmp: load_dataset(Project()),
    "pipeline-fixture": lambda tmp: load_dataset(Project(PIPELINE / "project")),
    "every-axiom": lambda tmp: statements_only(EVERY_AXIOM),
    "reflexive-feedback": lambda tmp: statements_only(EVERY_AXIOM.with_name("reflexive-feedback.ttl")),
    "generated": lambda tmp: generated(tmp / "generated"),
}


@pytest.fixture(scope="module")
def references() -> dict:
    """graph name -> (its dataset, owlrl's closure of it), filled by the first test of each graph."""
    return {}


# Every store with every engine, but rdflib's SPARQL Update on the generated graph (4 k triples, 45 s): the
# SPARQL engine is for stores that cannot hand their triples over (a server), and runs on Oxigraph here; and but
# the compiled engine on a schema that statements change, which it refuses (the build then uses the SPARQL one).
CASES = [
    (graph, kind, engine)
    for graph in GRAPHS for kind in STORES for engine in ("sparql", "compiled")
    if (graph, kind, engine) != ("generated", "memory", "sparql")
    and (graph, engine) != ("reflexive-feedback", "compiled")
]


@pytest.mark.parametrize(("graph", "kind", "engine"), CASES)
def test_rules_closure_equals_owlrl(graph: str, kind: str, engine: str, references: dict, tmp_path: Path) -> None:
    if graph not in references:  # owlrl once per graph, not once per store and engine
        dataset = GRAPHS[graph](tmp_path)
        references[graph] = dataset, set(infer(dataset))
    dataset, reference = references[graph]
    ours = rules_closure(dataset, kind, tmp_path, engine)
    assert reference, "the reference closure is empty: the comparison would prove nothing"
    missing, extra = sorted(reference - ours), sorted(ours - reference)
    assert not missing and not extra, f"missing (owlrl only): {missing[:20]}\nextra (rules only): {extra[:20]}"


def test_rules_on_a_sparql_server_equal_owlrl(sparql_server: Store) -> None:
    """A server store cannot hand its triples over, so it gets the SPARQL engine, inside the server: on
    Virtuoso the project's closure equals owlrl's."""
    dataset = load_dataset(Project())
    sparql_server.load(dataset)
    materialise(sparql_server)
    inferred = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }} }}"
    ours = set(sparql_server.query(inferred).graph)
    reference = set(infer(dataset))
    assert reference and ours == reference, f"missing: {sorted(reference - ours)[:10]}\nextra: {sorted(ours - reference)[:10]}"


def test_property_chains_and_transitivity_reach_the_project_answers(tmp_path: Path) -> None:
    """Hand-checked consequences in the project's data: the SNMG are part of NATO (org:subOrganizationOf), so
    patrolling with them is partnering with NATO (chain); a supported activity is influenced by its claim."""
    inferred = rules_closure(load_dataset(Project()), "oxigraph", tmp_path)
    assert (ID.SNMGPatrols, KG.withPartner, ID.NATO) in inferred
    assert (ID.StandingNATOMaritimeGroups, ORG.transitiveSubOrganizationOf, ID.NATO) in inferred


def test_a_new_axiom_is_honoured_without_a_new_rule(tmp_path: Path) -> None:
    """The rules read the TBox from the store: a subclass axiom added to the data takes effect."""
    dataset = statements_only(EVERY_AXIOM)
    living = URIRef("https://example.org/LivingThing")
    dataset.graph(STATEMENTS_GRAPH).add((URIRef("https://example.org/Animal"), RDFS.subClassOf, living))
    inferred = rules_closure(dataset, "oxigraph", tmp_path)
    assert (URIRef("https://example.org/rex"), RDF.type, living) in inferred


@pytest.mark.parametrize("kind", STORES)
def test_disjoint_classes_sharing_a_node_are_inconsistent(kind: str, tmp_path: Path) -> None:
    store = open_store(kind, tmp_path)
    store.load(with_statements(PIPELINE / "inconsistent-statements.ttl"))
    with pytest.raises(InconsistencyError) as caught:
        materialise(store)
    message = str(caught.value)
    assert "id:NATO" in message and "kg:Country" in message and "kg:Organisation" in message


def test_a_member_of_nothing_is_inconsistent(tmp_path: Path) -> None:
    statements = turtle_file(
        tmp_path, "nothing.ttl", "<https://w3id.org/defence-kg/id/Ghost> a <http://www.w3.org/2002/07/owl#Nothing> .\n"
    )
    store = open_store("oxigraph", tmp_path)
    store.load(with_statements(statements))
    with pytest.raises(InconsistencyError, match=r"id:Ghost .*Nothing"):
        materialise(store)


def test_unsupported_owl_vocabulary_is_refused(tmp_path: Path) -> None:
    statements = turtle_file(
        tmp_path,
        "haskey.ttl",
        "@prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix ex: <https://example.org/> .\n"
        "ex:Person owl:hasKey ( ex:name ) . ex:a ex:p ex:b ; owl:sameAs ex:c .\n",
    )
    store = open_store("oxigraph", tmp_path)
    store.load(statements_only(statements))
    with pytest.raises(InputError, match=r"owl:hasKey \(.*\), owl:sameAs \(.*\), which the SPARQL rules do not implement"):
        materialise(store)


EX = "@prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n" \
    "@prefix ex: <https://example.org/> .\n"
ENGINES = ["sparql", "compiled"]


@pytest.mark.parametrize("kind", STORES)
@pytest.mark.parametrize("engine", ENGINES)
def test_unsupported_owl_vocabulary_in_an_axiom_is_refused_where_it_is(kind: str, engine: str, tmp_path: Path) -> None:
    """owl:sameAs as a superproperty makes ex:a and ex:b the same (owlrl then gives ex:a ex:name "B"): no
    rule does that, so the rules refuse, naming the axiom, rather than miss it."""
    statements = turtle_file(
        tmp_path, "same.ttl", EX + 'ex:exactMatch rdfs:subPropertyOf owl:sameAs . ex:a ex:exactMatch ex:b . ex:b ex:name "B" .\n'
    )
    with pytest.raises(InputError, match=(
        r"the graph uses owl:sameAs \(<https://example.org/exactMatch> rdfs:subPropertyOf owl:sameAs, in the statements\), "
        r"which the SPARQL rules do not implement"
    )):
        rules_closure(statements_only(statements), kind, tmp_path, engine)


@pytest.mark.parametrize("kind", STORES)
@pytest.mark.parametrize("engine", ENGINES)
def test_an_anonymous_property_in_a_chain_is_refused(kind: str, engine: str, tmp_path: Path) -> None:
    """A chain member `[ owl:inverseOf ex:parent ]` is a blank node: owlrl reasons with statements that have it
    as predicate (ex:a and ex:b are siblings through ex:p), which no store holds; the rules refuse by name."""
    statements = turtle_file(
        tmp_path, "chain.ttl",
        EX + "ex:sibling owl:propertyChainAxiom ( ex:parent [ owl:inverseOf ex:parent ] ) .\n"
        "ex:a ex:parent ex:p . ex:b ex:parent ex:p .\n",
    )
    with pytest.raises(InputError, match=(
        r"an anonymous property \[ owl:inverseOf <https://example.org/parent> \] in <https://example.org/sibling> "
        r"owl:propertyChainAxiom \( \.\.\. \), in the statements: the rules only reason over named properties"
    )):
        rules_closure(statements_only(statements), kind, tmp_path, engine)


def test_a_malformed_rule_file_is_named(tmp_path: Path) -> None:
    rule = tmp_path / "broken.rq"
    rule.write_text("# a comment\nSELECT ?x WHERE { ?x a ?y }\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.rq: a rule is 'CONSTRUCT"):
        parse_rule(rule)


def test_every_rule_file_has_its_stratum() -> None:
    strata = {rule.name: stratum(rule) for rule in load_rules()}
    assert strata["scm-sco"] == "schema" and strata["prp-trp"] == "properties" and strata["prp-rng"] == "types"
    assert strata["cax-sco"] == "types" and set(strata.values()) == set(STRATA)


def rules_with(tmp_path: Path, name: str, text: str) -> Path:
    """The project's rules plus one more."""
    directory = tmp_path / "rules"
    shutil.copytree(RULES_DIR, directory)
    (directory / name).write_text(text, encoding="utf-8")
    return directory


SELF_LOOPS = (
    "CONSTRUCT { ?x a <https://example.org/SelfRelated> } WHERE { ?p a owl:SymmetricProperty . ?x ?p ?y FILTER (?x = ?y) }\n"
)


@pytest.mark.parametrize("kind", STORES)
def test_a_rule_the_compiled_evaluation_cannot_run_falls_back_to_sparql(kind: str, tmp_path: Path) -> None:
    """A filter on data variables other than !isLiteral is outside kg.closure's assumptions: asked for, the
    compiled evaluation refuses by name; by default the SPARQL updates run, and the rule still fires."""
    statements = turtle_file(
        tmp_path,
        "loop.ttl",
        "@prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix ex: <https://example.org/> .\n"
        "ex:knows a owl:SymmetricProperty . ex:narcissus ex:knows ex:narcissus . ex:echo ex:knows ex:narcissus .\n",
    )
    rules = rules_with(tmp_path, "self-loop.rq", SELF_LOOPS)
    with pytest.raises(InputError, match=r"compiled rule evaluation cannot run these rules: rule self-loop: filter"):
        rules_closure(statements_only(statements), kind, tmp_path / "a", "compiled", rules)
    inferred = rules_closure(statements_only(statements), kind, tmp_path / "b", "auto", rules)
    self_related = URIRef("https://example.org/SelfRelated")
    assert {s for s, p, o in inferred if o == self_related} == {URIRef("https://example.org/narcissus")}
    assert (URIRef("https://example.org/narcissus"), URIRef("https://example.org/knows"), URIRef("https://example.org/echo")) in inferred


@pytest.mark.parametrize("kind", STORES)
def test_an_inferred_axiom_is_refused_by_the_compiled_evaluation(kind: str, tmp_path: Path) -> None:
    """A subproperty of rdfs:subClassOf makes the data infer axioms: the compiled evaluation, which binds the
    axioms first, refuses; the SPARQL strata run again until nothing changes, so the inferred axiom is closed
    by the schema rules (ex:A rdfs:subClassOf ex:C) and applied (x becomes a B and a C), as owlrl does."""
    statements = turtle_file(
        tmp_path,
        "meta.ttl",
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix ex: <https://example.org/> .\n"
        "ex:kindOf rdfs:subPropertyOf rdfs:subClassOf . ex:A ex:kindOf ex:B . ex:B rdfs:subClassOf ex:C . ex:x a ex:A .\n",
    )
    with pytest.raises(InputError, match=r"rules infer axioms with predicate .*subClassOf"):
        rules_closure(statements_only(statements), kind, tmp_path / "a", "compiled")
    inferred = rules_closure(statements_only(statements), kind, tmp_path / "b")
    a, b, c, x = (URIRef(f"https://example.org/{name}") for name in ("A", "B", "C", "x"))
    assert inferred == {(a, RDFS.subClassOf, b), (a, RDFS.subClassOf, c), (x, RDF.type, b), (x, RDF.type, c)}
    assert inferred == set(infer(statements_only(statements)))


@pytest.mark.parametrize("kind", STORES)
@pytest.mark.parametrize("engine", ENGINES)
def test_types_that_make_statements_are_reasoned_to_the_end(kind: str, engine: str, tmp_path: Path) -> None:
    """ex:hasMember, the inverse of rdf:type, turns the types (ex:alice a ex:Person, from a domain) into
    statements (ex:Person ex:hasMember ex:alice): the SPARQL strata run again after the types, as the compiled
    evaluation's single fixpoint does."""
    statements = turtle_file(
        tmp_path, "members.ttl",
        EX + "@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .\n"
        "ex:hasMember owl:inverseOf rdf:type . ex:memberOf rdfs:domain ex:Person . ex:alice ex:memberOf ex:club .\n",
    )
    alice, person = URIRef("https://example.org/alice"), URIRef("https://example.org/Person")
    inferred = rules_closure(statements_only(statements), kind, tmp_path, engine)
    assert inferred == {(alice, RDF.type, person), (person, URIRef("https://example.org/hasMember"), alice)}
    assert inferred == set(infer(statements_only(statements)))


@pytest.mark.parametrize("kind", STORES)
def test_an_inferred_axiom_with_unsupported_owl_is_refused(kind: str, tmp_path: Path) -> None:
    """ex:kindOf makes ex:exact a subproperty of owl:sameAs, so ex:a owl:sameAs ex:b is inferred: refused as if
    asserted, naming the inferred triple."""
    statements = turtle_file(
        tmp_path, "meta-same.ttl",
        EX + "ex:kindOf rdfs:subPropertyOf rdfs:subPropertyOf . ex:exact ex:kindOf owl:sameAs . ex:a ex:exact ex:b .\n",
    )
    with pytest.raises(InputError, match=(
        r"the graph uses owl:sameAs \(<https://example.org/a> owl:sameAs <https://example.org/b>, in the closure\)"
    )):
        rules_closure(statements_only(statements), kind, tmp_path)


def test_an_unknown_rule_engine_is_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"unknown rule engine 'fast'; use one of auto, sparql, compiled"):
        materialise(open_store("memory", tmp_path), engine="fast")


JUNK_MEDIATED = EX + """@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:Agent rdfs:subClassOf owl:Thing . ex:Person rdfs:subClassOf ex:Agent . ex:ann a ex:Person .
ex:p rdfs:domain owl:Thing ; rdfs:range rdfs:Resource . ex:a ex:p ex:b . rdfs:Resource rdfs:subClassOf ex:Anything .
ex:unitLabel rdfs:subPropertyOf rdfs:label . xsd:decimal ex:unitLabel "decimal" .
ex:unitOf rdfs:subPropertyOf ex:hasType . ex:typeOf owl:inverseOf ex:hasType . xsd:decimal ex:unitOf ex:Numeric .
"""


@pytest.mark.parametrize("kind", STORES)
@pytest.mark.parametrize("engine", ENGINES)
def test_junk_takes_part_in_the_reasoning_and_is_dropped(kind: str, engine: str, tmp_path: Path) -> None:
    """kg.reason's junk (`ex:Person rdfs:subClassOf owl:Thing`, `ex:b a rdfs:Resource`, `xsd:decimal rdfs:label
    "decimal"`) is not in the rules' inferred graph, but what owlrl derives through it is: ex:b is a resource,
    hence an ex:Anything; xsd:decimal ex:hasType ex:Numeric (a subproperty), hence ex:Numeric ex:typeOf
    xsd:decimal (the inverse)."""
    dataset = statements_only(turtle_file(tmp_path, "junk.ttl", JUNK_MEDIATED))
    ours = rules_closure(dataset, kind, tmp_path, engine)
    ex = "https://example.org/"
    expected = {
        (URIRef(ex + "ann"), RDF.type, URIRef(ex + "Agent")),
        (URIRef(ex + "b"), RDF.type, URIRef(ex + "Anything")),
        (URIRef(ex + "p"), RDFS.range, URIRef(ex + "Anything")),
        (URIRef(ex + "Numeric"), URIRef(ex + "typeOf"), XSD.decimal),
    }
    assert ours == expected
    assert ours == set(infer(dataset))


@pytest.mark.parametrize("kind", STORES)
@pytest.mark.parametrize("engine", ENGINES)
def test_owl_thing_with_a_superclass_is_refused(kind: str, engine: str, tmp_path: Path) -> None:
    """owlrl's scm-cls makes a declared class a subclass of owl:Thing, so of ex:Everything when owl:Thing is
    equivalent to it (ex:Declared rdfs:subClassOf ex:Everything); the rules, without scm-cls, refuse."""
    statements = turtle_file(
        tmp_path, "top.ttl", EX + "ex:Everything owl:equivalentClass owl:Thing . ex:Declared a owl:Class .\n"
    )
    with pytest.raises(InputError, match=(
        r"owl:Thing rdfs:subClassOf <https://example.org/Everything>, in the closure: owlrl makes every class a "
        r"subclass of owl:Thing .* which here makes every class a subclass of <https://example.org/Everything>; "
        r"the rules do not implement scm-cls"
    )):
        rules_closure(statements_only(statements), kind, tmp_path, engine)


@pytest.mark.parametrize(("axiom", "consequence"), [
    ("ex:Empty rdfs:subClassOf owl:Nothing", "<https://example.org/Empty> a subclass of every class"),
    ("ex:p rdfs:domain owl:Nothing", "<https://example.org/p> given as rdfs:domain every class"),
])
def test_owl_nothing_as_a_superclass_or_domain_is_refused(axiom: str, consequence: str, tmp_path: Path) -> None:
    """owlrl's scm-cls makes owl:Nothing a subclass of every declared class, so ex:Empty a subclass of
    ex:Declared, or ex:p's domain ex:Declared: the rules refuse."""
    statements = turtle_file(tmp_path, "bottom.ttl", EX + f"{axiom} . ex:Declared a owl:Class .\n")
    with pytest.raises(InputError, match=rf"in the statements: .* which here makes {re.escape(consequence)}; "):
        rules_closure(statements_only(statements), "oxigraph", tmp_path)


# owlrl reasons through a triple with a literal subject (kg.reason's junk), which no store holds: each case, the
# non-junk triple owlrl concludes from one (derived by hand from the rules prp-inv, prp-symp, prp-rng, prp-trp).
THROUGH_A_LITERAL = {
    # "lit" ex:q ex:x (prp-inv1), hence ex:x a ex:C (prp-rng on ex:q)
    "inverse, then range": (
        'ex:p owl:inverseOf ex:q . ex:q rdfs:range ex:C . ex:x ex:p "lit" .',
        ("x", RDF.type, "C"),
        r'<https://example.org/p> has literal values \(<https://example.org/x> <https://example.org/p> "lit"\) and is the inverse of '
        r'<https://example.org/q>: owlrl reasons through the literal subject this makes \("lit" <https://example.org/q> '
        r'<https://example.org/x>\) and concludes <https://example.org/x> a <https://example.org/C> '
        r'\(<https://example.org/q> rdfs:range <https://example.org/C>\)',
    ),
    # "lit" ex:p ex:x (prp-symp), then ex:x ex:p "lit" . "lit" ex:p ex:x gives ex:x ex:p ex:x (prp-trp)
    "symmetric and transitive": (
        'ex:p a owl:SymmetricProperty, owl:TransitiveProperty . ex:x ex:p "lit" .',
        ("x", "p", "x"),
        r"is symmetric: owlrl reasons through the literal subject .* and concludes <https://example.org/x> "
        r"<https://example.org/p> <https://example.org/x> \(<https://example.org/p> a owl:TransitiveProperty\)",
    ),
    # "lit" a ex:C (prp-rng), hence ex:C ex:hasMember "lit" (prp-inv1 on rdf:type's inverse)
    "range, then an inverse of rdf:type": (
        'ex:p rdfs:range ex:C . ex:hasMember owl:inverseOf rdf:type . ex:x ex:p "lit" .',
        ("C", "hasMember", "lit"),
        r'has range <https://example.org/C>: owlrl reasons through the literal subject this makes \("lit" a '
        r'<https://example.org/C>\) and concludes <https://example.org/C> <https://example.org/hasMember> "lit" '
        r'\(<https://example.org/hasMember> is the inverse of rdf:type\)',
    ),
    # owlrl types "3"^^xsd:integer as an xsd:integer and an xsd:decimal, hence an ex:Number (cax-sco), hence
    # ex:Number ex:hasMember 3
    "a datatype's superclass, then an inverse of rdf:type": (
        "xsd:decimal rdfs:subClassOf ex:Number . ex:hasMember owl:inverseOf rdf:type . ex:x ex:p 3 .",
        ("Number", "hasMember", Literal(3)),
        r'"3"\^\^<http://www.w3.org/2001/XMLSchema#integer> is typed xsd:integer \(<https://example.org/x> has it as a value\): owlrl reasons through '
        r'the literal subject this makes \("3"\^\^<http://www.w3.org/2001/XMLSchema#integer> a <https://example.org/Number>\) '
        r'\(by xsd:decimal '
        r'rdfs:subClassOf <https://example.org/Number>\) and concludes <https://example.org/Number> '
        r'<https://example.org/hasMember> "3"\^\^<http://www.w3.org/2001/XMLSchema#integer> '
        r'\(<https://example.org/hasMember> is the inverse of rdf:type\)',
    ),
    # "lit" ex:q ex:x (prp-inv1) and ex:x ex:b ex:z give "lit" ex:ch ex:z (prp-spo2), hence ex:z a ex:C (prp-rng)
    "inverse, then a chain": (
        "ex:ch owl:propertyChainAxiom ( ex:q ex:b ) ; rdfs:range ex:C . ex:p owl:inverseOf ex:q . "
        'ex:x ex:p "lit" ; ex:b ex:z .',
        ("z", RDF.type, "C"),
        r'inverse of <https://example.org/q>: owlrl reasons through the literal subject this makes \("lit" '
        r"<https://example.org/ch> <https://example.org/z>\) \(by <https://example.org/ch> owl:propertyChainAxiom "
        r"\( <https://example.org/q> <https://example.org/b> \)\) and concludes <https://example.org/z> a "
        r"<https://example.org/C> \(<https://example.org/ch> rdfs:range <https://example.org/C>\)",
    ),
}


def example_term(name: str) -> object:
    """A term of the THROUGH_A_LITERAL triples: an RDF term as is, "lit" the literal, else an ex: IRI."""
    return name if isinstance(name, (URIRef, Literal)) else Literal(name) if name == "lit" else URIRef(f"https://example.org/{name}")


@pytest.mark.parametrize("kind", STORES)
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", THROUGH_A_LITERAL)
def test_conclusions_through_a_literal_subject_are_refused(case: str, kind: str, engine: str, tmp_path: Path) -> None:
    """owlrl concludes a non-junk triple through a literal subject, which the rules cannot hold: rather than give
    a smaller closure without a word, they refuse, naming the axioms and a sample triple."""
    text, expected, message = THROUGH_A_LITERAL[case]
    rdf = "@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
    dataset = statements_only(turtle_file(tmp_path, "literal.ttl", EX + rdf + text + "\n"))
    assert set(infer(dataset)) == {tuple(map(example_term, expected))}
    with pytest.raises(InputError, match=message + r"; the rules cannot .*--reasoner owlrl"):
        rules_closure(dataset, kind, tmp_path, engine)


@pytest.mark.parametrize("kind", STORES)
@pytest.mark.parametrize("engine", ENGINES)
def test_a_literal_subject_concluding_only_junk_is_not_refused(kind: str, engine: str, tmp_path: Path) -> None:
    """A literal value of a symmetric property, or of the inverse of one with a domain, makes only junk in owlrl
    ("lit" ex:near ex:x, "lit" a ex:Place): the rules reason on, and their closure equals owlrl's."""
    dataset = statements_only(turtle_file(tmp_path, "literal.ttl", EX + (
        'ex:near a owl:SymmetricProperty . ex:x ex:near "lit" . ex:p owl:inverseOf ex:q . ex:q rdfs:domain ex:Place . '
        'ex:y ex:p "lit" , ex:z .\n'
    )))
    ex = "https://example.org/"
    expected = {(URIRef(ex + "z"), URIRef(ex + "q"), URIRef(ex + "y")), (URIRef(ex + "z"), RDF.type, URIRef(ex + "Place"))}
    assert set(infer(dataset)) == expected
    assert rules_closure(dataset, kind, tmp_path, engine) == expected
