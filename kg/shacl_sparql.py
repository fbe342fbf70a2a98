"""Validation that scales: the SHACL shapes translated to SPARQL, graph-wide queries that return violations.

pyshacl (kg.validate, the reference) checks every focus node in Python, and runs a SPARQL-based constraint
once per focus node: 11 s at 20 k triples, 133 s at 200 k. Here the constraints of a targeted shape become
SELECTs over the whole store that return its violations (`?this`, and `?value` where SHACL reports one), so
the store's indexes and joins do the work. Each join of the focus nodes with their values costs about the
same for one constraint as for ten, so a property shape gets one query for all its value constraints (a flag
per constraint says which ones a row breaks) and one for all its counts; sh:class, uniqueLang, hasValue and
lessThan get one each. Values are checked before they are joined with the focus nodes (the join is then of
the violations only), and on Oxigraph the queries run on threads (see `in_parallel`). Same data as
kg.validate: ontology + statements + sources (the ontology's subclass axioms let targets and sh:class see
subclasses), no inference. Results are kg.validate.Finding values, named and worded as kg.validate names
pyshacl's (test_shacl_sparql proves them equal on every fixture and on the project's data, on Oxigraph and
Virtuoso).

Translated: targets sh:targetClass/targetNode/targetSubjectsOf/targetObjectsOf; every SHACL path form; the
components sh:class, datatype, nodeKind, in, languageIn, pattern, minLength, maxLength, min/maxInclusive,
min/maxExclusive, hasValue, minCount, maxCount, uniqueLang, lessThan, node, not, and, or, xone,
qualifiedValueShape with qualifiedMin/MaxCount, and SPARQL-based constraints (sh:sparql) whose SELECT binds
$this in a triple pattern (run once over the graph, which is then the same as binding it first). Inside a nested
shape (sh:node, sh:or...), counts other than minCount 1 and maxCount 0 are not translated; nor is a shape with
sh:targetNode and a path that may have length zero (a target node absent from the data is its own value there).
A shape using anything untranslated is validated by pyshacl instead, that shape only (`Validation.fallback`
names them).
Queries avoid FILTER (NOT) EXISTS over more than one triple pattern (Oxigraph 0.5 evaluates those with cost
growing as the square of the data: 15 s for 15 k claims at 200 k triples): MINUS and joins instead, and a
nested shape's sequence path raises Untranslatable. Where a store cannot run a form, probes say so
(StoreFacts) and it gets another: Virtuoso 7.2 cannot compile an EXISTS bound to a variable, so there each value
constraint, and each set of values counted, gets a query that filters by its condition; its SHA256(STR(x)) is
wrong beyond Latin-1, so there a SPARQL-based constraint that hashes runs in rdflib on the triples it reads.
Known differences: a shape without sh:message reports "violates sh:minCount" (the component), where pyshacl
words its own message ("Less than 1 values on ex:x->ex:p"): findings are equal but for that text. sh:pattern
runs as an XPath regex, where `$` does not match before a final line break (Python's, in pyshacl, does): a value
ending in a newline fails `^...$` here, as SHACL intends. And on a store that folds integer datatypes (Oxigraph:
"65"^^xsd:positiveInteger is stored as "65"^^xsd:integer, the type gone before any query runs), sh:datatype
xsd:integer or a type derived from it accepts any xsd:integer within the type's bounds: 65 meets
xsd:positiveInteger and "3"^^xsd:positiveInteger meets xsd:integer, where pyshacl rejects both; -1 is rejected by
both. An exact verdict needs the literals as written, which the store no longer
has; the project's own data and shapes use xsd:integer itself, so their verdict is the same on every store.
sh:datatype follows XSD 1.1 where pyshacl follows rdflib's Python parsers (see `_LEXICAL`), which differ: rdflib
checks no xsd:gYear ("12" passes pyshacl, not here) and reads decimals as Python does ("NaN" passes pyshacl);
Python's datetime refuses hour 24 and years beyond 9999, which Oxigraph's xsd:dateTime cast accepts (rdflib's,
on the memory store, refuses them as pyshacl). rdflib rewrites an ill-formed xsd:boolean as it parses ("TRUE" to
"true", "yes" to "false"), keeping only a flag pyshacl reads: a store filled from rdflib never sees the ill-formed
form and accepts it, while Oxigraph reading the Turtle itself (kg.instore) keeps it and rejects it, as pyshacl.
Oxigraph reading Turtle also keeps a lexical form with spaces around it (" 1"^^xsd:integer) as ill-typed (it
cannot compare it either) and rejects it, where rdflib strips the spaces, as XSD allows.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from rdflib import Graph, Literal, URIRef, Variable
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, XSD
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.query import Result
from rdflib.term import Node

from kg.errors import QueryError, StoreError
from kg.load import curie, new_dataset
from kg.namespaces import ONTOLOGY_GRAPH, PREFIXES, SH, SOURCES_GRAPH, STATEMENTS_GRAPH
from kg.sparql import prepare
from kg.store import OxigraphStore, SparqlStore, Store, fix_rdflib_sparql
from kg.validate import Finding, path_text, shacl_findings, shape_name

DATA_GRAPHS = (ONTOLOGY_GRAPH, STATEMENTS_GRAPH, SOURCES_GRAPH)
T = TypeVar("T")
Bound = tuple[URIRef, str, int, str]  # (component, operator, limit, the values counted: a condition on ?value,
# "" for all)

# sh:datatype D holds for a literal of datatype D that is well-formed (SHACL 4.1.1). Decided by XSD 1.1's lexical
# space where a regex is exact (an integer-derived type: the integer's form, then the type's bounds); by the
# store's cast to D where the space has rules a regex cannot state (days of a month, ranges), on a store whose
# cast refuses an ill-formed sample (see `exact_casts`); for a type whose every string is well-formed, by the
# datatype alone. Any other datatype is Untranslatable.
_LEXICAL = {
    XSD.integer: r"^[+-]?[0-9]+$",
    XSD.decimal: r"^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)$",
    XSD.gYear: r"^-?([1-9][0-9]{3,}|0[0-9]{3})(Z|[+-]((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?$",
    XSD.boolean: r"^(true|false|1|0)$",
}
_ANY_STRING = (XSD.string, XSD.anyURI)  # XSD 1.1: anyURI's lexical space is every string
_CAST_SAMPLES = {  # datatype: (a well-formed lexical form, an ill-formed one the store's cast must refuse)
    XSD.date: ("2020-02-29", "2021-02-29"),
    XSD.dateTime: ("2020-02-29T23:59:59", "2021-02-29T00:00:00"),
    XSD.time: ("23:59:59", "24:59:00"),
    XSD.double: ("-1.5E3", "1,5"),
    XSD.float: ("-1.5E3", "1,5"),
}
_INTEGER_BOUNDS = {
    XSD.positiveInteger: (1, None),
    XSD.nonNegativeInteger: (0, None),
    XSD.negativeInteger: (None, -1),
    XSD.nonPositiveInteger: (None, 0),
    XSD.long: (-(2**63), 2**63 - 1),
    XSD.int: (-(2**31), 2**31 - 1),
    XSD.short: (-(2**15), 2**15 - 1),
    XSD.byte: (-(2**7), 2**7 - 1),
    XSD.unsignedLong: (0, 2**64 - 1),
    XSD.unsignedInt: (0, 2**32 - 1),
    XSD.unsignedShort: (0, 2**16 - 1),
    XSD.unsignedByte: (0, 2**8 - 1),
}
# (Virtuoso 7.2's blank nodes are IRIs too, nodeID://...: isIRI alone took them for IRIs)
_NODE_KINDS = {
    SH.IRI: "(isIRI({v}) && !isBlank({v}))",
    SH.Literal: "isLiteral({v})",
    SH.BlankNode: "isBlank({v})",
    SH.BlankNodeOrIRI: "!isLiteral({v})",
    SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
    SH.IRIOrLiteral: "!isBlank({v})",
}
_TRUE = Literal(True)
_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
_HASHES = re.compile(r"\b(MD5|SHA1|SHA256|SHA384|SHA512)\s*\(", re.IGNORECASE)
_COUNTS = (SH.minCount, SH.maxCount, SH.qualifiedValueShape)
_COMPARISONS = {SH.minInclusive: ">=", SH.minExclusive: ">", SH.maxInclusive: "<=", SH.maxExclusive: "<"}
# Parameters that are not constraints of their own (they qualify another, or describe the shape).
_NOT_COMPONENTS = {
    SH.path, SH.message, SH.severity, SH.name, SH.description, SH.order, SH.group, SH.deactivated,
    SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.property, SH.flags,
    SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint, RDF.type,
}


@dataclass(frozen=True)
class StoreFacts:
    """What the translation needs to know of the store's data: its subclass pairs (so that a class target or
    sh:class reads as `?x rdf:type ?t` with ?t among the class and its subclasses: index look-ups, where
    `rdf:type/rdfs:subClassOf*` made Oxigraph walk the hierarchy once per node), whether it folds
    integer datatypes (see `folds_integers`), whether it binds conditions to flags (see `binds_conditions`),
    whether its hash functions are right (see `hashes_text`) and which datatypes its casts check (see
    `exact_casts`)."""

    superclasses: dict[Node, set[Node]]
    folds_integers: bool
    binds_conditions: bool = True
    hashes_text: bool = True
    casts: frozenset[URIRef] = frozenset()

    @classmethod
    def of(cls, store: Store, graphs: list[URIRef]) -> StoreFacts:
        dataset = " ".join(f"FROM <{g}>" for g in graphs)
        # the direct pairs, closed here: Virtuoso refuses `rdfs:subClassOf+` with neither end bound
        rows = run_generated(store, f"SELECT ?sub ?super {dataset} WHERE {{ ?sub rdfs:subClassOf ?super }}", "classes")
        hierarchy = Graph()
        for sub, sup in rows:
            hierarchy.add((sub, RDFS.subClassOf, sup))
        below = {sup: set(hierarchy.transitive_subjects(RDFS.subClassOf, sup)) for sup in set(hierarchy.objects())}
        return cls(below, folds_integers(store), binds_conditions(store), hashes_text(store), exact_casts(store))

    def subclasses(self, cls: Node) -> list[str]:
        """`cls` and every class below it, in SPARQL syntax."""
        return sorted({_n3(cls), *(_n3(c) for c in self.superclasses.get(cls, ()))})


class Untranslatable(Exception):
    """A shape uses something this module does not translate: pyshacl validates that shape."""


@dataclass(frozen=True)
class Check:
    """Constraints as one query. A row is one finding of each outcome whose flag variable is true in it (or of
    every outcome without a flag): several constraints on the same values share a query this way."""

    source: str  # the shape's name, as kg.validate names it
    path: str
    severity: str
    query: str
    outcomes: tuple[tuple[str | None, str], ...]  # (flag variable or None, message); SPARQL-based constraints:
    # a template ({?var} / {$var} filled from the row)
    focus_query: str = ""  # SPARQL-based constraints: the shape's focus nodes, to keep the rows whose ?this is one
    in_python: str = ""  # a SPARQL-based constraint the store cannot compute: a CONSTRUCT of the triples it reads,
    # which rdflib then runs `query` (without a dataset clause) on


@dataclass
class Plan:
    """What validation runs: the checks, and the shapes left to pyshacl."""

    checks: list[Check] = field(default_factory=list)
    fallback: list[Node] = field(default_factory=list)


@dataclass(frozen=True)
class Validation:
    findings: list[Finding]
    fallback: list[str]  # names of the shapes pyshacl validated


def _values(path: str, condition: str = "") -> str:
    """A group binding ?value to each value node of ?this along `path` (?this itself when there is no path)
    that meets `condition` (every one when it is ""), each pair once. A sub-SELECT, so that Oxigraph joins it
    with the focus nodes by hashing, not by one look-up per focus node (three to four times faster)."""
    if not path:
        return "BIND (?this AS ?value)"
    kept = f" FILTER ({condition})" if condition else ""
    return f"{{ SELECT DISTINCT ?this ?value WHERE {{ ?this {path} ?value{kept} }} }}"


def _n3(node: Node) -> str:
    return f"<{node}>" if isinstance(node, URIRef) else node.n3()


def _same_term(v: str, member: Node) -> str:
    """A condition true when `v` is the term `member`. A string by its parts, not by sameTerm: Virtuoso keeps a
    loaded simple literal as an xsd:string, which its sameTerm tells from the query's simple literal."""
    if isinstance(member, Literal) and not member.language and member.datatype in (None, XSD.string):
        string = Literal(str(member)).n3()
        return f'(isLiteral({v}) && lang({v}) = "" && datatype({v}) = {_n3(XSD.string)} && STR({v}) = {string})'
    return f"sameTerm({v}, {_n3(member)})"


def _members(shapes: Graph, node: Node) -> list[Node]:
    return list(Collection(shapes, node))


def _english(shapes: Graph, node: Node) -> str | None:
    messages = sorted(
        (m for m in shapes.objects(node, SH.message) if isinstance(m, Literal)),
        key=lambda m: (m.language != "en", str(m)),
    )
    return str(messages[0]) if messages else None


class _Translator:
    """Turns shapes into SPARQL: conditions a node must meet, and queries returning the violations."""

    def __init__(self, shapes: Graph, store: StoreFacts) -> None:
        self.shapes = shapes
        self.folds_integers = store.folds_integers
        self.binds_conditions = store.binds_conditions
        self.hashes_text = store.hashes_text
        self.casts = store.casts
        self._subclasses = store.subclasses
        self._names = itertools.count()
        self._expanding: set[Node] = set()  # the shapes `conforms` is expanding, to refuse a recursive one
        # the parameters of the shapes graph's own constraint components (SHACL 6): not translated
        self._custom = {
            shapes.value(parameter, SH.path)
            for component in shapes.subjects(RDF.type, SH.ConstraintComponent)
            for parameter in shapes.objects(component, SH.parameter)
        }

    def var(self) -> str:
        return f"?v{next(self._names)}"

    def path(self, shape: Node) -> str:
        path = self.shapes.value(shape, SH.path)
        return path_text(self.shapes, path) if path is not None else ""

    # ---- conditions: a SPARQL boolean expression true when {v} meets the constraint ------------------

    def value_condition(self, shape: Node, component: URIRef, parameter: Node, v: str, focus: str) -> str:
        """The condition a value node `v` (of focus node `focus`) meets to satisfy `shape`'s value-based
        `component`."""
        s = self.shapes
        if component == SH["class"]:
            kind = self.var()
            return f"EXISTS {{ {v} rdf:type {kind} FILTER ({kind} IN ({', '.join(self._subclasses(parameter))})) }}"
        if component == SH.datatype:
            return self.datatype_condition(parameter, v)
        if component == SH.nodeKind:
            if parameter not in _NODE_KINDS:
                raise Untranslatable(f"sh:nodeKind {parameter}")
            return _NODE_KINDS[parameter].format(v=v)
        if component == SH["in"]:
            return "(" + " || ".join([_same_term(v, m) for m in _members(s, parameter)] or ["false"]) + ")"
        if component == SH.languageIn:
            tags = " || ".join(f'langMatches(lang({v}), "{m}")' for m in _members(s, parameter))
            return f"(isLiteral({v}) && ({tags or 'false'}))"
        if component == SH.pattern:
            flags = s.value(shape, SH.flags)
            extra = f", {Literal(str(flags)).n3()}" if flags is not None else ""
            return f"(!isBlank({v}) && REGEX(STR({v}), {Literal(str(parameter)).n3()}{extra}))"
        if component in (SH.minLength, SH.maxLength):
            operator = ">=" if component == SH.minLength else "<="
            return f"(!isBlank({v}) && STRLEN(STR({v})) {operator} {int(parameter)})"
        if component in _COMPARISONS:
            return f"COALESCE({v} {_COMPARISONS[component]} {_n3(parameter)}, false)"
        if component == SH.lessThan:
            other = self.var()
            return f"NOT EXISTS {{ {focus} {_n3(parameter)} {other} FILTER (!COALESCE({v} < {other}, false)) }}"
        if component == SH.node:
            return self.conforms(parameter, v)
        if component == SH["not"]:
            return f"!({self.conforms(parameter, v)})"
        if component == SH["and"]:
            return "(" + " && ".join(self.conforms(m, v) for m in _members(s, parameter)) + ")"
        if component == SH["or"]:
            return "(" + " || ".join(self.conforms(m, v) for m in _members(s, parameter)) + ")"
        if component == SH.xone:
            count = " + ".join(f"IF({self.conforms(m, v)}, 1, 0)" for m in _members(s, parameter))
            return f"(({count}) = 1)"
        raise Untranslatable(f"component {component}")

    def conforms(self, shape: Node, v: str) -> str:
        """A condition true when node `v` conforms to `shape` (every active constraint of it and of its
        properties). A shape that refers back to itself would expand forever: pyshacl validates it."""
        if shape in self._expanding:
            raise Untranslatable(f"recursive shape {shape}")
        self._expanding.add(shape)
        parts = []
        try:
            for prop in [shape, *self.properties(shape)]:
                if self.deactivated(prop):
                    continue
                path = self.path(prop)  # a member of sh:xone/sh:or may itself be a property shape
                for component, parameter in self.components(prop):
                    parts.append(self.nested(prop, component, parameter, path, v))
        finally:
            self._expanding.discard(shape)
        return "(" + " && ".join(parts) + ")" if parts else "true"

    def properties(self, shape: Node) -> list[Node]:
        """The property shapes of `shape`, when they apply to the shape's focus node itself. Those of a property
        shape apply to its value nodes (and report them as focus nodes): not translated."""
        found = sorted(self.shapes.objects(shape, SH.property), key=str)
        if found and self.shapes.value(shape, SH.path) is not None:
            raise Untranslatable("sh:property on a property shape")
        return found

    def deactivated(self, shape: Node) -> bool:
        return (shape, SH.deactivated, _TRUE) in self.shapes

    def datatype_condition(self, datatype: Node, v: str) -> str:
        """`v` is a well-formed literal of `datatype` (see `_LEXICAL`). On a store that keeps integer-derived
        datatypes as xsd:integer (Oxigraph), such a type is checked as an xsd:integer within the type's bounds."""
        if datatype == RDF.langString:
            return f'(isLiteral({v}) && lang({v}) != "")'
        # (the language first: Virtuoso 7.2's datatype() of a tagged literal is an error, which dropped the finding)
        kinds = f'lang({v}) = "" && datatype({v}) = {_n3(datatype)}'
        if datatype in _INTEGER_BOUNDS:
            low, high = _INTEGER_BOUNDS[datatype]
            bounds = "".join(
                f" && {v} {operator} {limit}" for operator, limit in ((">=", low), ("<=", high)) if limit is not None
            )
            if self.folds_integers:
                kinds = f'lang({v}) = "" && datatype({v}) IN ({_n3(datatype)}, {_n3(XSD.integer)})'
            return f'(isLiteral({v}) && {kinds} && REGEX(STR({v}), "{_LEXICAL[XSD.integer]}"){bounds})'
        if datatype in _LEXICAL:
            return f'(isLiteral({v}) && {kinds} && REGEX(STR({v}), "{_LEXICAL[datatype]}"))'
        if datatype in self.casts:  # an ill-formed literal's cast is an error, which COALESCE makes false
            return f"(isLiteral({v}) && {kinds} && COALESCE(isLiteral({_n3(datatype)}(STR({v}))), false))"
        if datatype in _ANY_STRING:
            return f"(isLiteral({v}) && {kinds})"
        raise Untranslatable(f"sh:datatype {datatype}: no exact check of its lexical forms on this store")

    def nested(self, shape: Node, component: URIRef, parameter: Node, path: str, v: str) -> str:
        """Condition for one constraint of a nested shape, `v` its focus node."""
        path_node = self.shapes.value(shape, SH.path)
        if path_node is not None and (path_node, RDF.first, None) in self.shapes:
            raise Untranslatable("a sequence path in a nested shape (a many-pattern EXISTS)")
        if component in (SH.minCount, SH.maxCount, SH.uniqueLang, SH.qualifiedValueShape, SH.hasValue, SH.sparql):
            count = int(parameter) if component in (SH.minCount, SH.maxCount) else None
            if path and component == SH.minCount and count == 1:
                return f"EXISTS {{ {v} {path} {self.var()} }}"
            if path and component == SH.maxCount and count == 0:
                return f"NOT EXISTS {{ {v} {path} {self.var()} }}"
            raise Untranslatable(f"{component} {parameter} in a nested shape")
        if not path:
            return self.value_condition(shape, component, parameter, v, v)
        value = self.var()
        condition = self.value_condition(shape, component, parameter, value, v)
        return f"NOT EXISTS {{ {v} {path} {value} FILTER (!{condition}) }}"

    def components(self, shape: Node) -> list[tuple[URIRef, Node]]:
        """(component parameter, value) of `shape`'s own constraints, in a stable order."""
        pairs = []
        for predicate, value in self.shapes.predicate_objects(shape):
            if predicate in _NOT_COMPONENTS:
                continue
            if predicate in self._custom:
                raise Untranslatable(f"custom constraint component parameter {predicate}")
            if not str(predicate).startswith(str(SH)):
                continue  # annotations (rdfs:comment, ...)
            if predicate in (SH.uniqueLang, SH.deactivated) and not value.toPython():
                continue
            pairs.append((predicate, value))
        return sorted(pairs, key=lambda pair: (str(pair[0]), str(pair[1])))

    # ---- queries: the violations of one constraint of a targeted shape --------------------------------

    def targets(self, shape: Node) -> str:
        """A group binding ?this to each focus node of `shape`, once."""
        s = self.shapes
        parts = []
        classes = sorted(s.objects(shape, SH.targetClass), key=str)
        if classes:
            types = " ".join(sorted({t for c in classes for t in self._subclasses(c)}))
            parts.append(f"{{ VALUES ?type {{ {types} }} ?this rdf:type ?type }}")
        nodes = sorted(s.objects(shape, SH.targetNode), key=str)
        if nodes:
            parts.append(f"{{ VALUES ?this {{ {' '.join(_n3(n) for n in nodes)} }} }}")
        parts += [f"{{ ?this {_n3(p)} ?any }}" for p in sorted(s.objects(shape, SH.targetSubjectsOf), key=str)]
        parts += [f"{{ ?any {_n3(p)} ?this }}" for p in sorted(s.objects(shape, SH.targetObjectsOf), key=str)]
        return "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(parts) + " } }"

    def checks(self, node_shape: Node, graphs: str) -> list[Check]:
        """Every constraint of a targeted node shape and of its property shapes, as checks: per shape, its
        value constraints in one query and its counts in another (a query reads the values once, which costs
        about the same for one constraint as for ten)."""
        target = self.targets(node_shape)
        found = []
        for shape in [node_shape, *self.properties(node_shape)]:
            if self.deactivated(shape):
                continue
            path = self.path(shape)  # a targeted sh:PropertyShape has one too
            self.properties(shape)  # refuses a property shape's own property shapes
            if (node_shape, SH.targetNode, None) in self.shapes and _may_be_empty(self.shapes, shape):
                # a target node absent from the data is its own value along such a path (SHACL), but a query
                # matching `?this path ?value` before ?this is bound only finds the nodes in the data
                raise Untranslatable("sh:targetNode with a path that may have length zero")
            severity = str(self.shapes.value(shape, SH.severity) or SH.Violation).rpartition("#")[2]
            message = _english(self.shapes, shape)
            name = shape_name(self.shapes, shape)

            def text(component: URIRef) -> str:
                return message or f"violates {curie(component)}"

            values, counts = [], []
            for component, parameter in self.components(shape):
                if component == SH.sparql:
                    found.append(self.sparql_check(node_shape, shape, parameter, name, path, severity, graphs))
                elif component in _COUNTS:
                    counts.append(component)
                elif component in (SH.uniqueLang, SH.hasValue, SH.lessThan) or (component == SH["class"] and path):
                    query = self.query(component, parameter, path, target, graphs)
                    found.append(Check(name, path, severity, query, ((None, text(component)),)))
                else:
                    values.append((component, parameter))
            groups = [values] if self.binds_conditions else [[value] for value in values]
            for group in (group for group in groups if group):
                query, flags = self.value_query(shape, group, path, target, graphs)
                found.append(Check(name, path, severity, query, tuple(zip(flags, (text(c) for c, _ in group)))))
            if counts:
                if not path:
                    raise Untranslatable(f"{counts[0]} on a node shape")
                for query, outcomes in self.count_queries(shape, path, target, graphs):
                    found.append(Check(name, path, severity, query, tuple((flag, text(c)) for flag, c in outcomes)))
        return found

    def query(self, component: URIRef, parameter: Node, path: str, target: str, graphs: str) -> str:
        """The SELECT of ?this [?value] for a constraint that gets a query of its own (on a property shape:
        sh:class, uniqueLang, hasValue, lessThan), one row per violation as pyshacl reports them."""
        if component == SH.uniqueLang:
            if not path:
                raise Untranslatable("sh:uniqueLang on a node shape")
            # grouped, not a join of the values with each other (Oxigraph at 200 k triples: 0.39 s, not 0.75 s),
            # and before the join with the focus nodes (0.07 s, not 0.13 s)
            return (
                f"SELECT ?this ?lang {graphs} WHERE {{ {{ SELECT ?this ?lang WHERE {{ ?this {path} ?a "
                f'FILTER (lang(?a) != "") BIND (LCASE(lang(?a)) AS ?lang) }} '
                f"GROUP BY ?this ?lang HAVING (COUNT(DISTINCT ?a) > 1) }} {target} }}"
            )
        if component == SH["class"]:
            # the values without a type among the class and its subclasses, by an anti-join (MINUS), not by a
            # look-up per value (FILTER NOT EXISTS): half the time at 2 M triples
            typed = f"VALUES ?kind {{ {' '.join(self._subclasses(parameter))} }} ?value rdf:type ?kind"
            violations = f"SELECT DISTINCT ?this ?value WHERE {{ ?this {path} ?value MINUS {{ {typed} }} }}"
            return f"SELECT ?this ?value {graphs} WHERE {{ {{ {violations} }} {target} }}"
        if component == SH.hasValue:
            if not path:
                return f"SELECT ?this {graphs} WHERE {{ {target} FILTER (!sameTerm(?this, {_n3(parameter)})) }}"
            return f"SELECT ?this {graphs} WHERE {{ {target} MINUS {{ ?this {path} {_n3(parameter)} }} }}"
        # sh:lessThan: one result per pair of values, as pyshacl
        return (
            f"SELECT ?this ?value {graphs} WHERE {{ {target} {_values(path)} "
            f"?this {_n3(parameter)} ?other FILTER (!COALESCE(?value < ?other, false)) }}"
        )

    def value_query(
        self, shape: Node, values: list[tuple[URIRef, Node]], path: str, target: str, graphs: str
    ) -> tuple[str, list[str | None]]:
        """One SELECT of ?this ?value for the value constraints of `shape`, with a flag per constraint that is
        true where the value violates it (unbound where its condition is an error, which is no violation, as
        in a FILTER); rows where none is true are not returned. A lone constraint needs no flag: its query
        filters by its condition. The values are checked before they are joined with the focus nodes, so that
        the join is of the violations only (usually none)."""
        if len(values) == 1:
            component, parameter = values[0]
            violations = f"!{self.value_condition(shape, component, parameter, '?value', '?this')}"
            head = f"SELECT ?this ?value {graphs} WHERE {{"
            if not path:
                return f"{head} {target} {_values(path)} FILTER ({violations}) }}", [None]
            return f"{head} {_values(path, violations)} {target} }}", [None]
        flags = [f"?violates{i}" for i in range(len(values))]
        binds = " ".join(
            f"BIND (!{self.value_condition(shape, component, parameter, '?value', '?this')} AS {flag})"
            for flag, (component, parameter) in zip(flags, values)
        )
        checked = f"{binds} FILTER ({' || '.join(f'COALESCE({flag}, false)' for flag in flags)})"
        head = f"SELECT ?this ?value {' '.join(flags)} {graphs} WHERE {{"
        if not path:
            return f"{head} {target} BIND (?this AS ?value) {checked} }}", flags
        violations = f"SELECT DISTINCT ?this ?value {' '.join(flags)} WHERE {{ ?this {path} ?value {checked} }}"
        return f"{head} {{ {violations} }} {target} }}", flags

    def count_queries(
        self, shape: Node, path: str, target: str, graphs: str
    ) -> list[tuple[str, list[tuple[str | None, URIRef]]]]:
        """The SELECTs of ?this for the counts of `shape` (minCount, maxCount, qualified counts), each with a flag
        per bound that is true where the focus node's count breaks it, and the component each flag stands for:
        one for all the bounds, or, on a store that cannot bind a condition (see `binds_conditions`), one per
        set of values counted, those meeting a qualified shape picked by a filter."""
        s = self.shapes
        bounds: list[Bound] = []
        for component, operator in ((SH.minCount, "<"), (SH.maxCount, ">")):
            bounds += [(component, operator, int(limit), "") for limit in s.objects(shape, component)]
        for qualified in sorted(s.objects(shape, SH.qualifiedValueShape), key=str):
            if s.value(shape, SH.qualifiedValueShapesDisjoint) == Literal(True):
                raise Untranslatable("sh:qualifiedValueShapesDisjoint")
            condition = self.conforms(qualified, "?value")
            for bound, operator in ((SH.qualifiedMinCount, "<"), (SH.qualifiedMaxCount, ">")):
                limits = s.objects(shape, bound)
                bounds += [(SH.qualifiedValueShape, operator, int(limit), condition) for limit in limits]
        bounds = [b for b in bounds if not (b[1] == "<" and b[2] <= 0)]  # a minimum of 0 always holds
        if self.binds_conditions:
            return [self.count_query(bounds, path, target, graphs)] if bounds else []
        counted: dict[str, list[Bound]] = {}
        for component, operator, limit, condition in bounds:
            counted.setdefault(condition, []).append((component, operator, limit, ""))
        return [self.count_query(group, path, target, graphs, only) for only, group in counted.items()]

    def count_query(
        self, bounds: list[Bound], path: str, target: str, graphs: str, only: str = ""
    ) -> tuple[str, list[tuple[str | None, URIRef]]]:
        """One SELECT of ?this for `bounds` on the values along `path` (those meeting condition `only`, all when
        it is ""). A lone minimum of 1 is a MINUS and a lone maximum of 0 a join (no grouping); maxima alone are
        counted before the join with the focus nodes (a node without values meets them), so that only the nodes
        with too many are joined."""
        alone = [(None, bounds[0][0])]
        if len(bounds) == 1 and bounds[0][1:3] == ("<", 1):
            condition = bounds[0][3] or only
            kept = f"FILTER ({condition})" if condition else ""
            return f"SELECT ?this {graphs} WHERE {{ {target} MINUS {{ ?this {path} ?value {kept} }} }}", alone
        if len(bounds) == 1 and bounds[0][1:] == (">", 0, ""):
            kept = f"FILTER ({only})" if only else ""
            valued = f"SELECT DISTINCT ?this WHERE {{ ?this {path} ?value {kept} }}"
            return f"SELECT ?this {graphs} WHERE {{ {target} {{ {valued} }} }}", alone
        conditions = sorted({condition for *_, condition in bounds if condition})
        # BOUND first: a focus node without values has ?value unbound, where an EXISTS would match anything
        qualifies = " ".join(
            f"BIND (IF(BOUND(?value) && COALESCE({condition}, false), 1, 0) AS ?qualifies{i})"
            for i, condition in enumerate(conditions)
        )
        tests = [
            f"{f'SUM(?qualifies{conditions.index(condition)})' if condition else 'COUNT(?value)'} {operator} {limit}"
            for _, operator, limit, condition in bounds
        ]
        flags = [f"?violates{i}" for i in range(len(bounds))]
        # xsd:boolean: Virtuoso 7.2 returns a bare comparison as 1 or 0
        projected = " ".join(f"(xsd:boolean({test}) AS {flag})" for test, flag in zip(tests, flags))
        grouped = f"GROUP BY ?this HAVING ({' || '.join(tests)})"
        outcomes = list(zip(flags, (b[0] for b in bounds)))
        if all(operator == ">" for _, operator, _, _ in bounds):
            counts = f"SELECT ?this {projected} WHERE {{ {_values(path, only)} {qualifies} }} {grouped}"
            return f"SELECT ?this {' '.join(flags)} {graphs} WHERE {{ {{ {counts} }} {target} }}", outcomes
        counted = f"{target} OPTIONAL {_values(path, only)} {qualifies}"
        return f"SELECT ?this {projected} {graphs} WHERE {{ {counted} }} {grouped}", outcomes

    def sparql_check(
        self, owner: Node, shape: Node, constraint: Node, name: str, path: str, severity: str, graphs: str
    ) -> Check:
        """A SPARQL-based constraint run once over the whole graph, its rows kept for the focus nodes; one whose
        $this must be bound first (see `_filtering_is_pre_binding`) is Untranslatable."""
        s = self.shapes
        select = s.value(constraint, SH.select)
        if select is None or s.value(constraint, SH.deactivated) == Literal(True):
            raise Untranslatable("sh:sparql without sh:select")
        if "$PATH" in str(select) or "$currentShape" in str(select) or "$shapesGraph" in str(select):
            raise Untranslatable("pre-bound variables other than $this")
        prefixes = []
        for declaring in s.objects(constraint, SH.prefixes):
            for declaration in s.objects(declaring, SH.declare):
                prefixes.append(f"PREFIX {s.value(declaration, SH.prefix)}: <{s.value(declaration, SH.namespace)}>")
        inner = re.sub(r"\$this\b", "?this", str(select))
        # Run over the whole graph, the rows then kept for focus nodes only (see validate_in_store): joined with
        # the targets or filtered by them in SPARQL, Oxigraph re-ran the grouped query once per focus node.
        query = "\n".join(prefixes) + f"\nSELECT * {graphs} WHERE {{ {inner} }}"
        try:
            algebra = prepare("\n".join(prefixes) + "\n" + inner, f"sh:select of {name}").algebra
        except QueryError as exc:
            raise Untranslatable(str(exc)) from None
        if not _filtering_is_pre_binding(algebra):
            raise Untranslatable("a SPARQL constraint whose $this must be bound before it runs")
        message = _english(s, constraint) or _english(s, shape) or f"violates {name}"
        focus = f"SELECT ?this {graphs} WHERE {{ {self.targets(owner)} }}"
        fetch = ""
        if not self.hashes_text and _HASHES.search(inner):
            query = "\n".join(prefixes) + f"\nSELECT * WHERE {{ {inner} }}"
            read = " ".join(f"<{p}>" for p in sorted(_predicates(query)))
            fetch = f"CONSTRUCT {{ ?s ?p ?o }} {graphs} WHERE {{ VALUES ?p {{ {read} }} ?s ?p ?o }}"
        return Check(name, path, severity, query, ((None, message),), focus_query=focus, in_python=fetch)


def _may_be_empty(shapes: Graph, shape: Node) -> bool:
    """Whether `shape`'s path may have length zero (a zero-or-more or zero-or-one path, alone or in every step
    of a sequence or in one alternative), so that a node is one of its own values."""

    def empty(path: Node) -> bool:
        if isinstance(path, URIRef):
            return False
        if (path, RDF.first, None) in shapes:
            return all(empty(step) for step in _members(shapes, path))
        if (path, SH.zeroOrMorePath, None) in shapes or (path, SH.zeroOrOnePath, None) in shapes:
            return True
        alternatives = shapes.value(path, SH.alternativePath)
        if alternatives is not None:
            return any(empty(step) for step in _members(shapes, alternatives))
        inner = shapes.value(path, SH.inversePath) or shapes.value(path, SH.oneOrMorePath)
        return inner is not None and empty(inner)

    path = shapes.value(shape, SH.path)
    return path is not None and empty(path)


def plan(shapes: Graph, graphs: list[URIRef], store: StoreFacts) -> Plan:
    """The checks for every targeted node shape; a shape with anything untranslatable goes to pyshacl."""
    translator = _Translator(shapes, store)
    dataset = " ".join(f"FROM <{g}>" for g in graphs)
    result = Plan()
    targeted = {s for p in _TARGETS for s in shapes.subjects(p, None)}
    classes = _class_types(shapes)
    implicit = {
        s
        for s, c in shapes.subject_objects(RDF.type)
        if c in classes and any((s, RDF.type, kind) in shapes for kind in (SH.NodeShape, SH.PropertyShape))
    }
    for node_shape in sorted(targeted | implicit, key=str):
        if (node_shape, SH.deactivated, Literal(True)) in shapes:
            continue
        try:
            if node_shape in implicit:
                raise Untranslatable("implicit class target")
            result.checks += translator.checks(node_shape, dataset)
        except Untranslatable:
            result.fallback.append(node_shape)
    return result


def _class_types(shapes: Graph) -> set[Node]:
    """The types that make a shape a class too, targeting its instances (pyshacl's: rdfs:Class, owl:Class and
    the shapes graph's direct subclasses of rdfs:Class)."""
    return {RDFS.Class, OWL.Class, *shapes.subjects(RDFS.subClassOf, RDFS.Class)}


def run_generated(store: Store, text: str, where: str, graphs: tuple[URIRef, ...] = ()) -> Result:
    """Run a query of the project's own (generated, or a quality check), over `graphs` when given (else the
    query's FROM or the whole dataset): on Oxigraph and a SPARQL server without rdflib's parse
    (query_trusted); the memory store runs `text` through Store.query, over its whole dataset when `graphs`
    are asked for (it has no way to narrow it)."""
    if isinstance(store, (OxigraphStore, SparqlStore)):
        return store.query_trusted(text, graphs)
    return store.query(text, where=where)


def folds_integers(store: Store) -> bool:
    """Whether the store turns the datatypes derived from xsd:integer into xsd:integer (Oxigraph does, when it
    loads data and when it evaluates a query), so that sh:datatype cannot tell them apart there."""
    probe = f'SELECT (datatype("1"^^<{XSD.positiveInteger}>) AS ?type) WHERE {{}}'
    return next(iter(store.query(probe, where="datatype probe")))[0] == XSD.integer


def exact_casts(store: Store) -> frozenset[URIRef]:
    """The datatypes of _CAST_SAMPLES whose cast the store evaluates and refuses for an ill-formed lexical form
    (Oxigraph's for all of them; rdflib's has no xsd:date or xsd:time), so that a cast tells whether a
    literal of one is well-formed."""
    exact = set()
    for datatype, (good, bad) in _CAST_SAMPLES.items():
        casts = f'BIND (<{datatype}>("{good}") AS ?good) BIND (<{datatype}>("{bad}") AS ?bad)'
        try:
            rows = list(store.query(f"SELECT ?good ?bad WHERE {{ {casts} }}", where="cast probe"))
        except (QueryError, StoreError):  # Oxigraph refuses a cast it does not know as an unknown function
            continue
        if rows and rows[0][0] is not None and rows[0][1] is None:
            exact.add(datatype)
    return frozenset(exact)


def binds_conditions(store: Store) -> bool:
    """Whether the store can bind a condition with an EXISTS to a variable and filter by it (the flags by which
    one query checks several constraints): Virtuoso 7.2 cannot compile that ("Internal Optimized compiler
    error"), so there each value constraint and each set of values counted gets a query of its own that
    filters by its condition. The probe stops at the first quad (it matches itself)."""
    probe = (
        "SELECT ?flag WHERE { ?s ?p ?o BIND (EXISTS { ?s ?p ?o } AS ?flag) FILTER (COALESCE(?flag, false)) } LIMIT 1"
    )
    try:
        store.query(probe, where="condition probe")
    except StoreError:
        return False
    return True


def hashes_text(store: Store) -> bool:
    """Whether the store's SHA256(STR(x)) is the SHA-256 of x's UTF-8 (Virtuoso 7.2's is not once x has a
    character beyond Latin-1, as the source text does: a SPARQL-based constraint that hashes runs in Python
    there, see `Check.in_python`)."""
    probe = 'SELECT (SHA256(STR(?text)) AS ?hash) WHERE { VALUES ?text { "\u2013" } }'
    answer = next(iter(store.query(probe, where="hash probe")))[0]
    return str(answer) == hashlib.sha256("\u2013".encode()).hexdigest()


def _predicates(query: str) -> set[URIRef]:
    """The predicates of `query`'s triple patterns; Untranslatable when one is a variable or a path (which
    triples it reads is then not known)."""
    found: set[URIRef] = set()

    def walk(node: object) -> None:
        if isinstance(node, CompValue) and node.name == "BGP":
            for _, predicate, _ in node["triples"]:
                if not isinstance(predicate, URIRef):
                    raise Untranslatable(f"a hashing SPARQL constraint reading by {predicate}")
                found.add(predicate)
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, (list, tuple)):
            for child in node:
                walk(child)

    walk(prepareQuery(query, initNs=PREFIXES).algebra)
    return found


_THIS = Variable("this")
_PASSED_THROUGH = {"SelectQuery", "Project", "Distinct", "Reduced", "OrderBy", "Filter", "Extend", "Graph", "ToMultiSet"}
_NOT_ALLOWED = {"Minus", "values", "ServiceGraphPattern", "Slice"}  # SHACL forbids the first three (5.3.1)


def _filtering_is_pre_binding(algebra: CompValue) -> bool:
    """Whether running a SPARQL constraint once over the whole graph, its rows then kept for the focus nodes,
    gives what SHACL's pre-binding of $this to each focus node gives: when every (sub-)SELECT that mentions
    ?this projects it and binds it in every solution by a triple pattern outside OPTIONAL, EXISTS and a lone
    UNION branch, and groups (if it groups) by it. A pattern testing for something missing (`FILTER NOT EXISTS
    { $this ... }` alone, an OPTIONAL counted) has no ?this to keep, where the pre-bound query has a row."""
    nodes = list(_descendants(algebra))
    if any(node.name in _NOT_ALLOWED for node in nodes):
        return False
    return all(
        _THIS in node["PV"] and _binds_this(node.p)
        for node in nodes
        if node.name == "Project" and any(_THIS in part.get("_vars", ()) for part in _descendants(node))
    )


def _binds_this(node: CompValue) -> bool:
    """Whether every solution of the pattern `node` has ?this bound by one of its triple patterns."""
    if node.name == "BGP":
        return any(_THIS in triple for triple in node.triples)
    if node.name in _PASSED_THROUGH:
        return _binds_this(node.p)
    if node.name == "Join":
        return _binds_this(node.p1) or _binds_this(node.p2)
    if node.name == "LeftJoin":
        return _binds_this(node.p1)
    if node.name == "Union":
        return _binds_this(node.p1) and _binds_this(node.p2)
    if node.name == "AggregateJoin":
        return _THIS in (node.p.expr or ()) and _binds_this(node.p.p)
    return False


def _descendants(node: object) -> Iterator[CompValue]:
    """`node` and the algebra nodes below it (in expressions too: EXISTS patterns)."""
    if isinstance(node, CompValue):
        yield node
    if isinstance(node, dict):
        node = list(node.values())
    if isinstance(node, (list, tuple)):
        for child in node:
            yield from _descendants(child)


def _fill(template: str, row: dict[str, Node]) -> str:
    """pyshacl's message templating: {?var} and {$var} replaced by the bound value's text."""
    for name, value in row.items():
        template = re.sub(r"\{[?$]" + re.escape(name) + r"\}", lambda _: str(value), template)
    return template


def in_parallel(store: Store, jobs: Sequence[Callable[[], T]]) -> list[T]:
    """The results of `jobs` (queries to `store`), in order. On Oxigraph they run on threads, at least two:
    its queries release the GIL (the checks of shapes.ttl at 200 k triples: 0.55 s on two threads, 0.95 s on
    one); on other stores one by one (rdflib's engine holds the GIL, and a server gets one request at a time)."""
    if not isinstance(store, OxigraphStore) or len(jobs) < 2:
        return [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=min(len(jobs), max(2, os.cpu_count() or 1))) as pool:
        return list(pool.map(lambda job: job(), jobs))


def _violations(store: Store, check: Check) -> list[dict[Variable, Node]]:
    """The rows of `check`; for a SPARQL-based constraint, those whose ?this is a focus node of its shape."""
    if check.in_python:
        read = store.query(check.in_python, where=f"triples of {check.source}").graph
        fix_rdflib_sparql()
        rows = read.query(check.query, initNs=PREFIXES).bindings
    else:
        rows = run_generated(store, check.query, f"shape {check.source}").bindings
    if check.focus_query and rows:
        focus = {row[_THIS] for row in run_generated(store, check.focus_query, f"targets {check.source}")}
        # each distinct row once, as pyshacl reports them
        rows = list({tuple(sorted(row.items())): row for row in rows if row.get(_THIS) in focus}.values())
    return rows


def validate_in_store(store: Store, shapes: Graph) -> Validation:
    """The SHACL findings of the store's asserted data (ontology + statements + sources), shape by shape."""
    present = set(store.graphs())
    graphs = [g for g in DATA_GRAPHS if g in present]
    work = plan(shapes, graphs, StoreFacts.of(store, graphs))
    findings = []
    for check, rows in zip(work.checks, in_parallel(store, [partial(_violations, store, c) for c in work.checks])):
        for row in rows:
            named = {str(var): value for var, value in row.items() if value is not None}
            for flag, message in check.outcomes:
                if flag is not None and named.get(flag[1:]) != _TRUE:
                    continue
                findings.append(
                    Finding(
                        focus=named["this"],
                        path=check.path,
                        severity=check.severity,
                        message=_fill(message, named) if check.focus_query else message,
                        source=check.source,
                        value=named.get("value", named["this"] if check.focus_query and not check.path else None),
                    )
                )
    if work.fallback:
        findings += _pyshacl(store, shapes, work.fallback)
    return Validation(findings, [shape_name(shapes, s) for s in work.fallback])


def _pyshacl(store: Store, shapes: Graph, fallback: list[Node]) -> list[Finding]:
    """pyshacl's findings for the `fallback` shapes only, on the store's data: the whole shapes graph (whatever
    a shape refers to, its prefix declarations and bound prefixes included), less the targets of every other
    shape."""
    kept, classes = set(fallback), _class_types(shapes)
    subset = Graph()
    for prefix, namespace in shapes.namespaces():  # pyshacl's own messages write IRIs with them ("ex:Concept")
        subset.bind(prefix, namespace, replace=True)
    for triple in shapes:
        subject, predicate, value = triple
        if subject not in kept and (predicate in _TARGETS or (predicate == RDF.type and value in classes)):
            continue
        subset.add(triple)
    dataset = new_dataset()
    data = store.dataset()
    for graph in DATA_GRAPHS:
        dataset.graph(graph).__iadd__(data.graph(graph))
    return shacl_findings(dataset, subset)
