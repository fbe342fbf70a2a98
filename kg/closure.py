"""The instance rules of kg.rules evaluated in Python over the store's triples: one pass, bulk writes.

The rules stay the SPARQL files of `ontology/rules/`; what changes is how their instance strata run. Run as
SPARQL updates, every rule of every round scans the data and every inference is written through SPARQL
Update: 40 s for 2 M triples in an in-memory Oxigraph, 96 s on disk. Here each rule is split the way scalable
OWL RL reasoners split them (Hogan et al.'s SAOR, "T-split" rules):

- its schema atoms (axioms: `?p rdfs:subPropertyOf ?super`, `?p a owl:TransitiveProperty`, ...) are answered
  once by the store, after the schema stratum has closed the TBox, giving one instantiated rule per row
  (`?x kg:withPartner ?y` gives `?x kg:involves ?y`);
- its data atoms are then matched in Python, a predicate at a time (see Closure): a rule with one data atom
  maps the (subject, object) pairs of its predicate (and object, for `?x a C`) to its conclusions, a rule
  with several (transitivity, property chains) is a hash join on the variables they share; the evaluation is
  semi-naive: each round matches only the triples the round before added, against everything known.

Only the triples a rule can match or conclude are read (not labels, quotes, offsets...), and the inferences go
to the inferred graph in one bulk write. Assumptions, checked: data atoms have a constant
predicate once the schema atoms are bound, a filter on a data variable is `!isLiteral(?v)`, and no inference is
itself an axiom (the schema would change under the rules' feet); a rule set outside them raises Unsupported,
and kg.rules runs the SPARQL updates instead. test_rules proves both ways equal to owlrl's closure.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from rdflib import URIRef
from rdflib.namespace import OWL, RDF, RDFS
from rdflib.term import Node

from kg.namespaces import PREFIXES

if TYPE_CHECKING:
    from kg.rules import Rule

SCHEMA_NAMESPACES = (str(RDFS), str(OWL))
_FILTER = re.compile(r"FILTER\s*(\((?:[^()]|\([^()]*\)|\((?:[^()]|\([^()]*\))*\))*\))", re.S)
_NOT_LITERAL = re.compile(r"\(\s*!\s*isLiteral\s*\(\s*\?(\w+)\s*\)\s*\)$")
_VARIABLE = re.compile(r"\?(\w+)")

Term = Hashable  # a store's own term object (rdflib's, or pyoxigraph's)
Triple = tuple[Term, Term, Term]


class Unsupported(Exception):
    """The rules fall outside what this evaluation assumes (see the module docstring)."""


class TripleAccess(Protocol):
    """What a store offers for this evaluation: its triples in its own term objects, and a bulk write."""

    literal_type: type  # the class of the store's literals

    def pairs(self, graphs: Sequence[URIRef], predicate: Term, obj: Term | None) -> Iterable[tuple[Term, Term]]:
        """(subject, object) of every triple of `graphs` with `predicate` (and object `obj` if not None)."""

    def add_triples(self, graph: URIRef, triples: Iterable[Triple]) -> None:
        """Add `triples` to named graph `graph`."""

    def native(self, node: Node) -> Term:
        """The store's term for an rdflib term."""


@dataclass(frozen=True)
class Pattern:
    """A triple pattern: each position a variable name (str) or a constant term (wrapped in a 1-tuple)."""

    positions: tuple[str | tuple[Term], ...]

    def match(self, triple: Triple, binding: dict[str, Term]) -> dict[str, Term] | None:
        """`binding` extended so that the pattern equals `triple`, or None."""
        extended = dict(binding)
        for position, term in zip(self.positions, triple):
            if isinstance(position, tuple):
                if position[0] != term:
                    return None
            elif extended.setdefault(position, term) != term:
                return None
        return extended

    def fill(self, binding: dict[str, Term]) -> Triple:
        return tuple(p[0] if isinstance(p, tuple) else binding[p] for p in self.positions)  # type: ignore[return-value]

    @property
    def predicate(self) -> Term:
        return self.positions[1][0]  # type: ignore[index]


@dataclass(frozen=True)
class Instance:
    """One rule with its schema atoms bound: `head` wherever the `body` patterns match and `not_literal`
    variables are bound to non-literals."""

    name: str
    head: Pattern
    body: tuple[Pattern, ...]
    not_literal: frozenset[str]


def _constant(token: str) -> URIRef:
    if token == "a":
        return RDF.type
    if token.startswith("<") and token.endswith(">"):
        return URIRef(token[1:-1])
    prefix, colon, local = token.partition(":")
    if colon and prefix in PREFIXES:
        return URIRef(PREFIXES[prefix] + local)
    raise Unsupported(f"rule term {token!r} is neither a variable, an IRI nor a known prefixed name")


def _is_schema(atom: str) -> bool:
    """An axiom pattern: its predicate (or, for `a`, its class) is RDFS or OWL vocabulary."""
    _, predicate, obj = atom.split()
    term = obj if predicate == "a" else predicate
    return not term.startswith("?") and str(_constant(term)).startswith(SCHEMA_NAMESPACES)


Select = Callable[[list[str], str], Iterable[dict[str, Node]]]


def instances(rule: Rule, select: Select, native: Callable[[Node], Term]) -> list[Instance]:
    """The instantiations of a kg.rules.Rule: its schema atoms and the filters on their variables answered
    by `select(variables, group graph pattern)`, a SPARQL SELECT DISTINCT over the store's rule graphs."""
    schema = [atom for atom in rule.atoms if _is_schema(atom)]
    data = [atom for atom in rule.atoms if not _is_schema(atom)]
    schema_vars = {v for atom in schema for v in _VARIABLE.findall(atom)}
    schema_filters, not_literal = [], set()
    for expression in _FILTER.findall(rule.filters):
        names = set(_VARIABLE.findall(expression))
        if names <= schema_vars:
            schema_filters.append(f"FILTER {expression}")
        elif (found := _NOT_LITERAL.match(expression.strip())) is not None:
            not_literal.add(found.group(1))
        else:
            raise Unsupported(f"rule {rule.name}: filter {expression} on a data variable")
    if not data:
        raise Unsupported(f"rule {rule.name} has no data atom")
    rows = select(sorted(schema_vars), f"{' . '.join(schema)} {' '.join(schema_filters)}") if schema else [{}]

    def pattern(text: str, row: dict[str, Node]) -> Pattern:
        positions: list[str | tuple[Term]] = []
        for token in text.split():
            if token.startswith("?"):
                name = token[1:]
                positions.append((native(row[name]),) if name in row else name)
            else:
                positions.append((native(_constant(token)),))
        if not isinstance(positions[1], tuple):
            raise Unsupported(f"rule {rule.name}: the predicate of {text!r} is not bound by an axiom")
        return Pattern(tuple(positions))

    return [
        Instance(rule.name, pattern(rule.head, row), tuple(pattern(atom, row) for atom in data), frozenset(not_literal))
        for row in rows
    ]


def schema_keys(rules: list[Rule], native: Callable[[Node], Term]) -> set[tuple[Term, Term | None]]:
    """The (predicate, object or None) keys of the rules' axiom patterns: an inference with one changes the TBox."""
    keys = set()
    for rule in rules:
        for atom in filter(_is_schema, rule.atoms):
            _, predicate, obj = atom.split()
            keys.add((native(_constant(predicate)), None if obj.startswith("?") else native(_constant(obj))))
    return keys


Pairs = set[tuple[Term, Term]]  # (subject, object) of the triples of one predicate


class Closure:
    """Semi-naive evaluation of instantiated rules, a predicate at a time: the triples are held as
    predicate -> set of (subject, object), so that a one-atom rule maps a whole set of pairs to its conclusions
    in one comprehension and the new conclusions are a set difference (Python's C loops: a triple at a time
    took as long as the SPARQL updates). Only the triples a rule can read or conclude are loaded."""

    def __init__(
        self, rules: list[Instance], schema: set[tuple[Term, Term | None]], literal: type,
        hidden: Callable[[Term], bool] = lambda term: False,
    ) -> None:
        """`hidden(subject)`: the inferences about that subject take part in the closure but are not returned
        (kg.reason's junk: `xsd:decimal rdfs:label "decimal"`)."""
        self._hidden = hidden
        # Subjects and objects are numbered once read: pairs of ints hash and compare in a few nanoseconds,
        # where a store's term objects hash their text every time (pyoxigraph's), and literals are a set.
        self._literal = literal
        self._ids: dict[Term, int] = {}
        self._terms: list[Term] = []
        self._literals: set[int] = set()
        rules = [Instance(r.name, self._numbered(r.head), tuple(map(self._numbered, r.body)), r.not_literal) for r in rules]
        self._schema = {(p, None if o is None else self._id(o)) for p, o in schema}
        self._single: dict[Term, list[Instance]] = defaultdict(list)  # one atom, its object a variable
        self._keyed: dict[Term, dict[Term, list[Instance]]] = defaultdict(lambda: defaultdict(list))  # ... a constant
        self._joins: dict[Term, list[tuple[Instance, int]]] = defaultdict(list)
        for rule in rules:  # (every predicate is a constant: `instances` made sure)
            if len(rule.body) == 1:
                obj = rule.body[0].positions[2]
                if isinstance(obj, tuple):
                    self._keyed[rule.body[0].predicate][obj[0]].append(rule)
                else:
                    self._single[rule.body[0].predicate].append(rule)
            else:
                for index, atom in enumerate(rule.body):
                    self._joins[atom.predicate].append((rule, index))
        self._rules = rules
        self._known: dict[Term, Pairs] = defaultdict(set)
        # for the joins: predicate -> subject -> objects, and predicate -> object -> subjects
        self._by_subject: dict[Term, dict[Term, set[Term]]] = {p: defaultdict(set) for p in self._joins}
        self._by_object: dict[Term, dict[Term, set[Term]]] = {p: defaultdict(set) for p in self._joins}

    def _id(self, term: Term) -> int:
        number = self._ids.get(term)
        if number is None:
            number = self._ids[term] = len(self._terms)
            self._terms.append(term)
            if isinstance(term, self._literal):
                self._literals.add(number)
        return number

    def _numbered(self, pattern: Pattern) -> Pattern:
        """`pattern` with its constant subject and object numbered (its predicate stays a term: a key)."""
        return Pattern(tuple(
            p if isinstance(p, str) or position == 1 else (self._id(p[0]),) for position, p in enumerate(pattern.positions)
        ))

    def reads(self) -> set[tuple[Term, Term | None]]:
        """The (predicate, object or None for any) of the triples a rule matches or concludes: no other
        triple can take part (labels, quotes, offsets... are never read)."""
        patterns = {(rule.head.positions[1], rule.head.positions[2]) for rule in self._rules}
        patterns |= {(atom.positions[1], atom.positions[2]) for rule in self._rules for atom in rule.body}
        keys = {(p[0], self._terms[o[0]] if isinstance(o, tuple) else None) for p, o in patterns}
        return {(p, o) for p, o in keys if o is None or (p, None) not in keys}

    def run(self, asserted: Iterable[tuple[Term, Iterable[tuple[Term, Term]]]]) -> tuple[list[Triple], int]:
        """The triples the rules add to `asserted` ((predicate, its (subject, object) pairs) for the keys of
        `reads`), and the number of rounds to the fixpoint."""
        given: dict[Term, Pairs] = defaultdict(set)
        ids, terms, literals, literal = self._ids, self._terms, self._literals, self._literal
        for predicate, pairs in asserted:
            numbered = given[predicate]
            for subject, obj in pairs:  # self._id inlined: 2 M calls
                s = ids.get(subject)
                if s is None:
                    s = ids[subject] = len(terms)
                    terms.append(subject)
                o = ids.get(obj)
                if o is None:
                    o = ids[obj] = len(terms)
                    terms.append(obj)
                    if isinstance(obj, literal):
                        literals.add(o)
                numbered.add((s, o))
        delta = self._merge(given)
        # every term is read by now (a rule concludes nothing new): the hidden subjects are tested once each
        hidden = {number for number, term in enumerate(terms) if self._hidden(term)}
        inferred: list[Triple] = []
        rounds = 0
        while delta:
            rounds += 1
            derived: dict[Term, Pairs] = defaultdict(set)
            for predicate, pairs in delta.items():
                for rule in self._single.get(predicate, ()):
                    derived[rule.head.predicate] |= self._apply(rule, pairs)
                if predicate in self._keyed:  # e.g. `?x a C`: the pairs grouped by object once, not per class
                    by_object: dict[Term, Pairs] = defaultdict(set)
                    for pair in pairs:
                        by_object[pair[1]].add(pair)
                    for obj, rules in self._keyed[predicate].items():
                        for rule in rules if obj in by_object else ():
                            derived[rule.head.predicate] |= self._apply(rule, by_object[obj])
                for rule, index in self._joins.get(predicate, ()):
                    derived[rule.head.predicate] |= self._join_delta(rule, index, pairs)
            delta = self._merge(derived)
            for predicate, pairs in delta.items():
                self._check(predicate, pairs)
                inferred += ((terms[s], predicate, terms[o]) for s, o in pairs if not hidden or s not in hidden)
        return inferred, rounds

    def _merge(self, derived: dict[Term, Pairs]) -> dict[Term, Pairs]:
        """Add `derived` to what is known; return the part that was new, by predicate."""
        fresh = {}
        for predicate, pairs in derived.items():
            new = pairs - self._known[predicate]
            if new:
                self._known[predicate] |= new
                fresh[predicate] = new
                if predicate in self._by_subject:
                    for subject, obj in new:
                        self._by_subject[predicate][subject].add(obj)
                        self._by_object[predicate][obj].add(subject)
        return fresh

    def _apply(self, rule: Instance, pairs: Pairs) -> Pairs:
        """The (subject, object) pairs a one-atom rule concludes from the pairs of its atom's predicate."""
        subject, _, obj = rule.body[0].positions
        if isinstance(subject, tuple):
            pairs = {pair for pair in pairs if pair[0] == subject[0]}
        if isinstance(obj, tuple):
            pairs = {pair for pair in pairs if pair[1] == obj[0]}
        elif obj == subject:
            pairs = {pair for pair in pairs if pair[0] == pair[1]}
        if obj in rule.not_literal:
            literals = self._literals
            pairs = {pair for pair in pairs if pair[1] not in literals}
        # each position of the head: 0 (the atom's subject), 1 (its object) or a constant
        places = {name: index for index, name in ((1, obj), (0, subject)) if isinstance(name, str)}
        head_subject, _, head_object = (places[p] if isinstance(p, str) else p for p in rule.head.positions)
        if (head_subject, head_object) == (0, 1):
            return set(pairs)
        if (head_subject, head_object) == (1, 0):
            return {(o, s) for s, o in pairs}
        if head_subject == 0 and isinstance(head_object, tuple):
            return {(s, head_object[0]) for s, _ in pairs}
        if head_subject == 1 and isinstance(head_object, tuple):
            return {(o, head_object[0]) for _, o in pairs}
        if isinstance(head_object, int) and isinstance(head_subject, tuple):
            return {(head_subject[0], pair[head_object]) for pair in pairs}
        if isinstance(head_subject, tuple) and isinstance(head_object, tuple):
            return {(head_subject[0], head_object[0])} if pairs else set()
        return {(pair[head_subject], pair[head_object]) for pair in pairs}  # (0, 0) or (1, 1)

    def _join_delta(self, rule: Instance, index: int, pairs: Pairs) -> Pairs:
        """Semi-naive step of a rule of several atoms: atom `index` matched against `pairs` (new triples of its
        predicate), the others against everything known; the (subject, object) pairs it concludes."""
        plan = self._two_atom_plan(rule, index)
        if plan is not None:
            index_of, shared_at, subject_at, object_at = plan
            return {
                (terms[subject_at], terms[object_at])
                for s, o in pairs
                for t in index_of.get((s, o)[shared_at], ())
                for terms in ((s, o, t),)
            }
        atom = rule.body[index]
        rest = [other for position, other in enumerate(rule.body) if position != index]
        conclusions = set()
        for subject, obj in pairs:
            binding = atom.match((subject, atom.predicate, obj), {})
            for complete in self._join(rest, binding) if binding is not None else ():
                if not any(complete[v] in self._literals for v in rule.not_literal):
                    head = rule.head.fill(complete)
                    conclusions.add((head[0], head[2]))
        return conclusions

    def _two_atom_plan(self, rule: Instance, index: int) -> tuple[dict, int, int, int] | None:
        """For two atoms of three distinct variables sharing one (transitivity, chains of two), unfiltered,
        the head two of them: (the other atom's index by the shared term, where the shared term is in a new
        pair, where the head's subject and object are in (s, o, t)): each new pair (s, o) meets the other
        atom's known triples through the index, giving terms (s, o, t). Else None (the general join)."""
        atom, other = rule.body[index], rule.body[1 - index] if len(rule.body) == 2 else None
        if other is None or rule.not_literal:
            return None
        names, others, head = atom.positions[::2], other.positions[::2], rule.head.positions[::2]
        if not all(isinstance(name, str) for name in (*names, *others, *head)):
            return None
        shared = set(names) & set(others)
        if len(set(names)) != 2 or len(set(others)) != 2 or len(shared) != 1:
            return None
        (name,) = shared
        third = others[1] if others[0] == name else others[0]
        order = {names[0]: 0, names[1]: 1, third: 2}
        index_of = (self._by_subject if others[0] == name else self._by_object)[other.predicate]
        return index_of, names.index(name), order[head[0]], order[head[1]]

    def _join(self, atoms: list[Pattern], binding: dict[str, Term]) -> Iterable[dict[str, Term]]:
        """Every extension of `binding` matching all `atoms`, taking next an atom that shares a bound variable."""
        if not atoms:
            yield binding
            return
        atom = next((a for a in atoms if any(isinstance(p, str) and p in binding for p in a.positions[::2])), atoms[0])
        rest = [a for a in atoms if a is not atom]
        subject, predicate, obj = atom.positions
        subject_term = subject[0] if isinstance(subject, tuple) else binding.get(subject)
        object_term = obj[0] if isinstance(obj, tuple) else binding.get(obj)
        if subject_term is not None:
            candidates = [(subject_term, o) for o in self._by_subject[predicate[0]].get(subject_term, ())]
        elif object_term is not None:
            candidates = [(s, object_term) for s in self._by_object[predicate[0]].get(object_term, ())]
        else:
            candidates = list(self._known[predicate[0]])
        for s, o in candidates:
            extended = atom.match((s, predicate[0], o), binding)
            if extended is not None:
                yield from self._join(rest, extended)

    def _check(self, predicate: Term, pairs: Pairs) -> None:
        """Unsupported if a new triple is an axiom the rules read."""
        if (predicate, None) in self._schema:
            raise Unsupported(f"the rules infer axioms with predicate {predicate}: the TBox changes under the rules")
        classes = {obj for key_predicate, obj in self._schema if key_predicate == predicate and obj is not None}
        if classes and classes & {obj for _, obj in pairs}:
            raise Unsupported(f"the rules infer {predicate} {sorted(map(str, classes))} axioms: the TBox changes under the rules")
