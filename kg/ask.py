"""Plain-language questions, in English or French, answered from the query catalogue: never a guess.

`answer(built, question)` recognises the entities the question names (from the graph's rdfs:label, skos:prefLabel,
skos:altLabel and skos:hiddenLabel, folded: case, accents, punctuation such as "U.S.", plurals), picks the catalogue
query whose example questions (`# example-en:` / `# example-fr:` in each queries/*.rq header) are most like the
question once entities are replaced by placeholders (TF-IDF cosine over stemmed words and word pairs), binds the
recognised entities to the query's parameters when their types fit (`# param-range:`), runs it with kg.query and
attaches to each row the quotes of the claims behind it (kg.query.why). A new .rq file with examples teaches a new
question without code. No model and no network: the same question always gets the same answer. A question asking
for an amount ("how much", « combien ») goes only to the queries whose examples ask for one. A question about a
name alone ("What does Canada do about North Korea?") that its closest query finds nothing for, or that no query is
close to, gets the closest query whose answer is about things done and names it (`_about_the_names`).

When it cannot map a question (score below MIN_SCORE, no fitting parameter, not English or French, a year or an
entity the closest query would leave out rather than apply) it says so and lists the three closest catalogue
questions that it answers (none, and it says so, when no example question shares a word with it); a word the source
and the catalogue never use stops it too, and when the word looks like a name ("Mexico") the reply says the fact
sheet never mentions it; a name of two entities, or two queries scoring alike, gets a question back. A question
whose query cannot run here (a federated one, without allow_service) is unanswerable too, saying why. A question
of keywords alone (no function word: "NORAD founding date") is answered only when one query stands out
(KEYWORD_MIN, KEYWORD_MARGIN).

Statuses and `kg ask` exit codes: "answered" and "no-rows" (the query ran; nothing matched) exit 0;
"not-covered" and "unanswerable" exit 3; "ambiguous" exits 4.

HTTP seam: `answer()` only reads the built dataset and the catalogue (its one side effect is the per-process
index kept by `asker()` per version of the data, safe to share: only its memo of which example questions get an
answer grows, each entry always the same) and `Answer.as_json()` is the stable JSON object, so the `kg serve`
endpoint's `/ask?q=` route (JSON, and an HTML form rendering `Answer.as_text()`) is a thin wrapper over
`answer(built, request.query_params["q"])`.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, SKOS

from kg.errors import OutputError, QueryError, UsageError
from kg.load import curie, label, named
from kg.namespaces import BASE, KG, LINKED_GRAPHS, PROJECT_ROOT, RDF, RDFS
from kg.query import CatalogueQuery, Param, load_catalogue, resolve_entity, run_query, why
from kg.store import as_store

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.query import Result

    from kg.build import Built

MIN_SCORE = 0.4  # cosine below which no catalogue question is close enough to answer
TIE_MARGIN = 0.02  # two queries scoring within this of each other are a tie: ask which was meant
# A question of keywords only ("NORAD founding date": no function word says what is asked) is answered when one
# query is clearly closest: scoring at least KEYWORD_MIN, KEYWORD_MARGIN above every other query.
KEYWORD_MIN = 0.2
KEYWORD_MARGIN = 0.15
UNEXPECTED_PENALTY = 0.75  # per named entity that a query would ignore and that its examples never name
CONTEXT_PENALTY = 0.95  # per bound entity that the query's examples only name as context
STEM_LENGTH = 5  # words are compared on their first letters (a cheap stemmer that works for English and French)
EXIT_CODES = {"answered": 0, "no-rows": 0, "not-covered": 3, "unanswerable": 3, "ambiguous": 4}
_REFUSED = ("not-covered", "unanswerable")  # the statuses that list the closest questions instead

_NAME_PREDICATES = (RDFS.label, SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel)
_LOOKED_UP = (RDFS.label, SKOS.altLabel)  # the names queries/find-entity.rq matches
_DOCUMENT_RANGE = ("kg:SourceDocument",)  # the `# param-range:` of a listing's scope, the document it reads
_NOT_ENTITIES = (RDF.Property, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, OWL.Ontology,
                 KG.Claim)
_ACRONYM_DOTS = re.compile(r"\b(?:\w\.){2,}")  # U.S. -> US, U.S.A. -> USA
_WORD = re.compile(r"\w+")
_YEAR = re.compile(r"(1[89]|20)[0-9][0-9]")  # ASCII digits only: "20٢٠" is not a year a query can take

# The words that say how a year limits the answer. The catalogue's year parameters are starting years
# (financial-commitments-since: "since 2015"), so only a year after one of _SINCE fits one ("after 2019" is
# "since 2020"); a year before which, between which, or in which something happened is a filter no query applies.
_SINCE_WORDS = "since depuis from partir"  # "à partir de 2016"
_AFTER_WORDS = "after après"
_BEFORE_WORDS = "before avant until till prior jusqu"
_BETWEEN_WORDS = "between entre"
_YEAR_LINK_WORDS = "to de d en in l a à and et the year année"  # may stand between a qualifier and its year

# Words that mark a language (and carry no topic): language detection counts them, the coverage check skips them.
_ENGLISH_WORDS = ("""a about all and any are as at be been by can did do does doing done for from give had has have
how i in into is it its list me many much of on or our please show since tell that the their them there these they
this those to us was we were what when where which who whom whose why with you after against before between during
over through under within without will would shall should could may might must""")
_FRENCH_WORDS = ("""a au aux avec ce ces cette comment combien d dans de depuis des donne du elle elles en est et
il ils l la le les leur leurs liste moi montre ne nous on ont ou par pas pour qu quand que quel quelle quelles quels
pourquoi qui quoi s sa se ses son sont sur t un une y après avant chez contre entre pendant sans sous vers fait font
faire sujet propos concernant""")  # (do, and "about": "au sujet de", "à propos de")

_TEXTS = {
    "en": {
        "query": "Query", "params": "Parameters", "none": "none (the query's defaults)", "rows": "Answers",
        "no-rows": "No answer: the graph holds nothing that matches.",
        "unanswerable": "I can't answer that from this graph.",
        "not-applied": "I can't answer that from this graph: the closest query ({query}) cannot apply {names}.",
        "not-covered": "The fact sheet never mentions {words}, so I can't answer that from this graph.",
        "not-run": "I can't answer that from this graph: the closest query cannot run here ({reason}).",
        "closest": "Closest questions I can answer:",
        "no-closest": "None of the questions I can answer is close to this one.", "ambiguous-entity": "Which did you mean by “{text}”?",
        "ambiguous-query": "Which question did you mean?",
        "counted": "Note: these are the ones the fact sheet states, which need not be all there are.",
        "first-rows": "These are the first {shown} of {total} answers; the query {query} gives them all.",
        "no-amount": "Note: the fact sheet states no amount for these; this is what it says they are.",
        "sparql": "SPARQL", ":": ":",
    },
    "fr": {
        "query": "Requête", "params": "Paramètres", "none": "aucun (valeurs par défaut de la requête)",
        "rows": "Réponses", "no-rows": "Aucune réponse : rien dans le graphe ne correspond.",
        "unanswerable": "Je ne peux pas répondre à cette question à partir de ce graphe.",
        "not-applied": "Je ne peux pas répondre à cette question à partir de ce graphe : la requête la plus proche "
                       "({query}) ne peut pas appliquer {names}.",
        "not-covered": "La fiche d'information ne mentionne jamais {words} : je ne peux pas répondre à cette question "
                       "à partir de ce graphe.",
        "not-run": "Je ne peux pas répondre à cette question à partir de ce graphe : la requête la plus proche ne peut "
                   "pas s'exécuter ici ({reason}).",
        "closest": "Questions les plus proches auxquelles je peux répondre :",
        "no-closest": "Aucune des questions auxquelles je peux répondre n'est proche de celle-ci.",
        "ambiguous-entity": "Que vouliez-vous dire par « {text} » ?",
        "ambiguous-query": "Quelle question vouliez-vous poser ?",
        "counted": "Remarque : ce sont ceux que la fiche d'information énonce, qui ne sont pas forcément tous.",
        "first-rows": "Voici les {shown} premières réponses sur {total} ; la requête {query} les donne toutes.",
        "no-amount": "Remarque : la fiche d'information n'énonce aucun montant pour ces réponses ; voici ce qu'elle en dit.",
        "sparql": "SPARQL", ":": " :",
    },
}


# --- words ---------------------------------------------------------------------------------------------------------


class Token(NamedTuple):
    """One word of a text: as written (for case checks and display) and folded (for matching). (A named tuple: a
    graph's names are tokenised by the hundred thousand, and a frozen dataclass takes nearly three times as long
    to make.)"""

    text: str
    folded: str
    start: int
    end: int


def tokens(text: str) -> list[Token]:
    """The words of `text`, folded (see `_fold`). Offsets point into `text` as written."""
    acronyms = {match.start(): match.end() for match in _ACRONYM_DOTS.finditer(text)}
    words = []
    for match in _WORD.finditer(_undotted(text)):
        folded = _fold(match.group(0))
        if folded:
            end = acronyms.get(match.start(), match.end())
            words.append(Token(text[match.start():end].rstrip(), folded, match.start(), end))
    return words


def folded_words(texts: Iterable[str]) -> set[str]:
    """The folded words of `texts`, as `tokens` folds them: each distinct word folded once (a large graph's texts
    repeat few words)."""
    written: set[str] = set()
    for text in texts:
        written.update(_WORD.findall(_undotted(text)))
    return {folded for folded in map(_fold, written) if folded}


def _undotted(text: str) -> str:
    """`text` with its acronyms' dots blanked ("U.S." is "US  "): offsets kept."""
    return _ACRONYM_DOTS.sub(lambda match: match.group(0).replace(".", "").ljust(len(match.group(0))), text)


@functools.lru_cache(maxsize=1 << 16)  # (a large graph's names repeat their words: 1.3 M folds of a few thousand)
def _fold(word: str) -> str:
    """A word for matching: accents stripped (NFKD), case-folded, plural -s / -ies and the French plural verb ending
    -ent reduced."""
    if not word.isascii():
        word = "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))
    folded = word.casefold().replace("_", "")
    if len(folded) > 4 and folded.endswith("ies"):  # bodies -> body
        folded = folded[:-3] + "y"
    elif len(folded) > 3 and folded.endswith("s") and not folded.endswith("ss"):
        folded = folded[:-1]
    if len(folded) > 5 and folded.endswith("ent"):  # French third-person plural: menent -> mene
        folded = folded[:-2]
    return folded


# Articles, possessives and the like: they say nothing about which question is asked (unlike "with", "since",
# "where", "is", "do"), so they are left out of the intent features.
_FILLER_WORDS = """a an it its me of please that the their these this those ce ces cette d de des du elle elles il
ils l la le les leur leurs s sa se ses son t un une y"""

# The words that ask for an amount: only a query whose examples ask for one can answer them (the list of equipment
# types donated is no answer to « Combien le Canada a-t-il donné à l'Ukraine ? », however alike the rest of the words).
# Not those asking for a count ("how many", « combien de pays »), which a list answers.
_AMOUNT_PHRASES = ("how much", "combien")
_COUNT_PHRASES = ("combien de", "combien d'")
_AMOUNT_OF_MONEY = ("combien d'argent",)  # a count's words, but an amount
_HOW_MANY = ("how many", *_COUNT_PHRASES)  # a count: its answer is the list the fact sheet states, and says so

_ENGLISH = frozenset(t.folded for t in tokens(_ENGLISH_WORDS))
_FRENCH = frozenset(t.folded for t in tokens(_FRENCH_WORDS))
_FILLER = frozenset(t.folded for t in tokens(_FILLER_WORDS))
_SINCE, _AFTER, _BEFORE, _BETWEEN, _YEAR_LINKS = (
    frozenset(t.folded for t in tokens(words))
    for words in (_SINCE_WORDS, _AFTER_WORDS, _BEFORE_WORDS, _BETWEEN_WORDS, _YEAR_LINK_WORDS)
)


def stem(word: str) -> str:
    return word[:STEM_LENGTH]


_AMOUNTS, _COUNTS, _MONEY, _HOW_MANY_WORDS = (
    [tuple(t.folded for t in tokens(phrase)) for phrase in phrases]
    for phrases in (_AMOUNT_PHRASES, _COUNT_PHRASES, _AMOUNT_OF_MONEY, _HOW_MANY)
)


def _at(folded: tuple[str, ...], index: int, phrases: list[tuple[str, ...]]) -> bool:
    return any(folded[index:index + len(phrase)] == phrase for phrase in phrases)


def asks_an_amount(words: list[Token]) -> bool:
    """Whether the words ask how much (`_AMOUNT_PHRASES`), not how many."""
    folded = tuple(w.folded for w in words)
    return any(_at(folded, i, _MONEY) or (_at(folded, i, _AMOUNTS) and not _at(folded, i, _COUNTS))
               for i in range(len(folded)))


def asks_a_count(words: list[Token]) -> bool:
    """Whether the words ask how many (`_HOW_MANY`), not how much money."""
    folded = tuple(w.folded for w in words)
    return any(_at(folded, i, _HOW_MANY_WORDS) and not _at(folded, i, _MONEY) for i in range(len(folded)))


# What follows an apostrophe in English ("NATO's", "don't", "I'd", "we'll"); French elides before it ("l'OTAN").
_ENGLISH_CLITICS = frozenset({"s", "t", "d", "ll", "re", "ve", "m"})


def detect_language(text: str, words: list[Token]) -> str | None:
    """'fr' or 'en' by which language's function words the question uses more (English on a tie); None if neither.
    A letter after an apostrophe is English ("NATO's"), whatever the French words it looks like."""
    english = french = 0
    for word in words:
        if word.start and text[word.start - 1] in "'’" and word.folded in _ENGLISH_CLITICS:
            english += 1
            continue
        english += word.folded in _ENGLISH
        french += word.folded in _FRENCH
    if not english and not french:
        return None
    return "fr" if french > english else "en"


# --- entities ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mention:
    """A span of the question that names one or more nodes (more than one: ambiguous), or a year."""

    start: int  # token indexes, end exclusive
    end: int
    text: str
    nodes: tuple[URIRef, ...] = ()
    is_class: bool = False
    year: str = ""
    name: str = ""  # the name as the graph's labels write it ("États-Unis" for "Etats-Unis"); "" if only hidden
    since: bool = False  # a year: a starting year ("since 2015", "after 2014"), the only kind a parameter takes
    language: str = ""  # "en" or "fr" when the name is written so only in that language's labels ("OTAN")


class EntityIndex:
    """Every name (label, prefLabel, altLabel, hiddenLabel) of every individual and class of the project (IRIs
    under its base: what Wikidata calls the linked items, from the enrichment cache, names nothing here), folded.
    `common`: folded words that are also everyday words ("us", "states"), for which a capital tells a name apart."""

    def __init__(self, graph: Graph, common: frozenset[str] = frozenset()) -> None:
        self.common = common
        classes = set(graph.subjects(RDF.type, OWL.Class)) | set(graph.subjects(RDF.type, RDFS.Class))
        self.names: dict[tuple[str, ...], dict[URIRef, tuple[bool, ...]]] = {}
        # a folded name as the graph writes it, for string parameters: only the names find-entity looks up
        # (rdfs:label, skos:altLabel), not the search aids (skos:hiddenLabel) a query never matches
        self.spellings: dict[tuple[str, ...], list[str]] = {}
        self.languages: dict[tuple[str, ...], set[str | None]] = {}  # the languages of the labels writing a name so
        self.classes = classes
        excluded = {node for kind in _NOT_ENTITIES for node in graph.subjects(RDF.type, kind)}
        # read by the store itself, sorted: a name's spellings are listed in the order of _NAME_PREDICATES, then by
        # node and name
        order = {predicate: index for index, predicate in enumerate(_NAME_PREDICATES)}
        # (str: rdflib's own comparison of URIRefs is Python code, a third of the sort at 2 M triples)
        names = sorted(as_store(graph).names_by(_NAME_PREDICATES),
                       key=lambda n: (order[n[1]], str(n[0]), n[2], n[3] or ""))
        for node, predicate, name, language in names:
            if not node.startswith(BASE) or node in excluded or language not in (None, "en", "fr"):
                continue
            words = tokens(name)
            if not words or any(_YEAR.fullmatch(w.folded) for w in words):
                continue  # "since 2016" is read as a year, for parameters such as financial-commitments-since
            key = tuple(w.folded for w in words)
            proper = tuple(w.text[:1].isupper() for w in words)
            known = self.names.setdefault(key, {})
            self.languages.setdefault(key, set()).add(language)
            # the laxest spelling wins: a name also written in lower case needs no capitals
            known[node] = tuple(a and b for a, b in zip(known[node], proper)) if node in known else proper
            if predicate in _LOOKED_UP:
                self.spellings.setdefault(key, []).append(name)
        self.longest = max((len(key) for key in self.names), default=0)

    def mentions(self, text: str, words: list[Token]) -> list[Mention]:
        """Longest names first, then leftmost; a span overlapping a chosen one is dropped. Years too. In a question
        that uses capitals, a name whose capitalised words are all everyday words must have its capitals ("tell
        us" is not the US); any other name is recognised in any case ("latvia", "nato")."""
        strict = any(c.isupper() for c in text) and not text.isupper()
        found = []
        for start in range(len(words)):
            for end in range(start + 1, min(len(words), start + self.longest) + 1):
                span = words[start:end]
                key = tuple(w.folded for w in span)
                nodes = [
                    node for node, proper in self.names.get(key, {}).items()
                    if not strict or self._written_as_a_name([w for w, p in zip(span, proper) if p])
                ]
                if nodes:
                    found.append((start, end, tuple(sorted(nodes))))
        chosen: list[Mention] = []
        taken: set[int] = set()
        for start, end, nodes in sorted(found, key=lambda f: (f[0] - f[1], f[0])):
            if taken & set(range(start, end)):
                continue
            taken |= set(range(start, end))
            surface = text[words[start].start:words[end - 1].end]
            individuals = tuple(n for n in nodes if n not in self.classes)  # a name of both means the individual
            spellings = self.spellings.get(tuple(w.folded for w in words[start:end]), [])
            spelling = next((n for n in spellings if n.casefold() == surface.casefold()), min(spellings, default=""))
            languages = self.languages[tuple(w.folded for w in words[start:end])]
            language = next(iter(languages)) if len(languages) == 1 else None
            chosen.append(Mention(start, end, surface, individuals or nodes, not individuals, name=spelling,
                                  language=language or ""))
        chosen += _years(text, words, taken)
        return sorted(chosen, key=lambda m: m.start)

    def _written_as_a_name(self, capitalised: list[Token]) -> bool:
        """Whether the words a name capitalises are capitalised in the question, or need not be (not all common)."""
        return all(w.text[:1].isupper() for w in capitalised) or not all(w.folded in self.common for w in capitalised)


def _years(text: str, words: list[Token], taken: set[int]) -> list[Mention]:
    """The years outside names, each with the words that qualify it ("before 2020", "between 2016 and 2020") as its
    text; `since` only for a starting year, which a year parameter can take."""
    years: list[Mention] = []
    starts: dict[int, int] = {}  # year token -> where its qualifier starts in `text`
    for index, word in enumerate(words):
        if index in taken or not _YEAR.fullmatch(word.folded):
            continue
        before = index - 1
        while before >= 0 and index - before <= 3 and words[before].folded in _YEAR_LINKS:
            before -= 1
        qualifier = words[before].folded if before >= 0 else ""
        starts[index] = words[before].start if qualifier in _SINCE | _AFTER | _BEFORE | _BETWEEN else word.start
        year = str(int(word.folded) + 1) if qualifier in _AFTER else word.folded  # "after 2019": since 2020
        mention = Mention(index, index + 1, text[starts[index]:word.end], year=year, since=qualifier in _SINCE | _AFTER)
        if years and years[-1].start == before:  # "2016 and 2020", "from 2016 to 2020": a range, no starting year
            first = years.pop()
            span = text[starts[first.start]:word.end]
            years.append(Mention(first.start, first.end, span, year=first.year))
            mention = Mention(index, index + 1, span, year=word.folded)
        years.append(mention)
    return years


# --- intents -------------------------------------------------------------------------------------------------------


def _features(words: list[str]) -> Counter:
    """Stemmed words and adjacent pairs (pairs keep a little word order: "with {param}")."""
    return Counter(words) + Counter(f"{a} {b}" for a, b in itertools.pairwise(words))


@dataclass(frozen=True)
class Binding:
    """One way to fill a query's parameters: per parameter a mention, or None for its default."""

    query: CatalogueQuery
    values: tuple[Mention | None, ...]

    def used(self) -> set[Mention]:
        return {m for m in self.values if m is not None}


class Asker:
    """The entity index, the catalogue's example questions as weighted features, and the graph's vocabulary."""

    def __init__(self, graph: Graph, catalogue: dict[str, CatalogueQuery]) -> None:
        self.graph = graph
        self.catalogue = catalogue
        store = as_store(graph)
        # the fact sheet's words: the linked graphs (the links' evidence, Wikidata's facts) are not the fact sheet
        literals = store.literals([g for g in store.graphs() if g not in LINKED_GRAPHS])
        texts = self._texts(literals)
        self.entities = EntityIndex(graph, _lower_case_words(texts) | _ENGLISH | _FRENCH)
        self.ranges = {  # each `# param-range:` as class IRIs
            param.range: [resolve_entity(graph, name) for name in param.range]
            for query in catalogue.values() for param in query.params if param.range
        }
        self.examples: list[tuple[CatalogueQuery, str, str, Counter]] = []  # query, language, question, features
        self.expected: dict[str, set[URIRef]] = {}  # per query: the entities its examples name without binding them
        read = []
        for query in catalogue.values():
            for language, question in query.examples:
                words = tokens(question)
                mentions = self.entities.mentions(question, words)
                binding = Binding(query, tuple(self._example_value(p, mentions) for p in query.params))
                self.expected.setdefault(query.name, set()).update(
                    n for m in mentions if m not in binding.used() for n in m.nodes
                )
                read.append((query, language, question, words, mentions, binding.used()))
        named = Counter(node for nodes in self.expected.values() for node in nodes)
        # the asker's own subject (Canada, named by most examples): context in any answer, never worth a note
        self.narrators = {node for node, count in named.items() if 4 * count >= len(self.expected)}
        self.topics: dict[str, set[str]] = {}  # per query: what its examples are about (see `_topic`)
        self.amounts = {query.name for query, _, _, words, *_ in read if asks_an_amount(words)}  # see best_bindings
        for query, language, question, words, mentions, bound in read:
            # an entity that one example names as context is context in all: NATO in memberships' "Which countries
            # are NATO members?", as in "Is Canada a founding member of NATO?" (the member is Canada, the default)
            bound = {m for m in bound if not set(m.nodes) & self.expected[query.name]}
            self.examples.append((query, language, question, _features(self._template(words, mentions, bound))))
            self.topics.setdefault(query.name, set()).update(self._topic(words, mentions, bound))
        documents = len(self.examples)
        frequency = Counter(term for *_, features in self.examples for term in features)
        self.idf = {term: math.log((documents + 1) / (count + 1)) + 1 for term, count in frequency.items()}
        self.vectors = [self._vector(features) for *_, features in self.examples]
        merged: dict[tuple[str, str], Counter] = {}
        for query, language, _, features in self.examples:
            merged[query.name, language] = merged.get((query.name, language), Counter()) + features
        self.merged = {key: self._vector(features) for key, features in merged.items()}
        self.vocabulary = {stem(w.folded) for w in tokens(" ".join(sorted(_distinct_words(texts))))}
        self._answered: dict[tuple[str, bool], bool] = {}  # see `answers`
        self._answer_nodes: dict[str, set[URIRef]] = {}  # see `answer_nodes`
        self.stems = {language: set() for language in _TEXTS}  # the stems each language uses: see keyword_language
        for _, language, question, _ in self.examples:
            self.stems[language].update(stem(w.folded) for w in tokens(question))
        for language, stems in self.stems.items():
            stems.update(stem(word) for word in folded_words(text for text, tag in literals if tag == language))

    def __getstate__(self) -> dict:
        # saved without the graph it reads (a store's view, or the memory build): `asker` gives it back
        return {name: value for name, value in self.__dict__.items() if name != "graph"}

    def keyword_language(self, words: list[Token], mentions: list[Mention]) -> str:
        """The language of a question with no function words: 'fr' if more of its words (outside names) are French
        only (in the French examples and labels, not the English ones: "Chronologie") than English only, a name
        counting for the one language whose labels write it so ("OTAN" is NATO's French label)."""
        inside = {i for m in mentions for i in range(m.start, m.end)}
        votes = Counter(
            language for i, w in enumerate(words) if i not in inside
            for language, other in (("en", "fr"), ("fr", "en"))
            if stem(w.folded) in self.stems[language] and stem(w.folded) not in self.stems[other]
        )
        votes.update(m.language for m in mentions if m.language)
        return "fr" if votes["fr"] > votes["en"] else "en"

    # parameters

    def _fits(self, param: Param, mention: Mention) -> bool:
        """Whether `mention` can be the value of `param`: a year for a year, a node of the declared range."""
        if param.type in ("gYear", "integer"):
            return mention.since
        if not mention.nodes or len(mention.nodes) > 1:
            return False
        if param.type == "string":
            return True
        node = mention.nodes[0]
        if not param.range:
            return not mention.is_class
        ranges = self.ranges[param.range]
        if mention.is_class:
            return URIRef(OWL.Class) in ranges
        return any((node, RDF.type, c) in self.graph for c in ranges)

    def _example_value(self, param: Param, mentions: list[Mention]) -> Mention | None:
        """Which mention of an example question is the parameter: the default's, else the last that fits."""
        fitting = [m for m in mentions if self._fits(param, m)]
        default = (param.default or "").strip()
        for mention in fitting:
            if default in (mention.year, mention.text) or any(curie(n) == default for n in mention.nodes):
                return mention
        return fitting[-1] if fitting else None

    def bindings(self, query: CatalogueQuery, mentions: list[Mention]) -> list[Binding]:
        """Every way to fill the query's parameters from the mentions (each used once); none if a required one
        cannot be filled."""
        choices = []
        for param in query.params:
            fitting: list[Mention | None] = [m for m in mentions if self._fits(param, m)]
            if not param.required:
                fitting.append(None)
            if not fitting:
                return []
            choices.append(fitting)
        combos = itertools.product(*choices)
        return [Binding(query, combo) for combo in combos if len({m for m in combo if m}) == sum(map(bool, combo))]

    # scoring

    @staticmethod
    def _template(words: list[Token], mentions: list[Mention], bound: set[Mention]) -> list[str]:
        """The question as stems, with a bound mention as {param}, another entity as {entity}, a year as {year};
        class names stay words (they say what is asked about)."""
        by_start = {m.start: m for m in mentions}
        out: list[str] = []
        index = 0
        while index < len(words):
            mention = by_start.get(index)
            if mention is None:
                if words[index].folded not in _FILLER:
                    out.append(stem(words[index].folded))
                index += 1
                continue
            if mention in bound:
                out.append("{param}")
            elif mention.year:
                out.append("{year}")
            elif mention.is_class:
                out.extend(stem(w.folded) for w in words[mention.start:mention.end] if w.folded not in _FILLER)
            else:
                out.append("{entity}")
            index = mention.end
        return out

    def _topic(self, words: list[Token], mentions: list[Mention], bound: set[Mention]) -> set[str | URIRef]:
        """What a question is about: the stems of its words that are not function words, numbers or names (a class
        name stays a word unless a parameter takes it: "missions", but not "states" when the query lists the names
        of any class's members), and the entities it names other than the narrator (Canada, named by most) and
        those a parameter takes (an example's value of a parameter is only an example)."""
        named = {i for m in mentions if m in bound or not m.is_class for i in range(m.start, m.end)}
        stems: set[str | URIRef] = {
            stem(w.folded) for i, w in enumerate(words)
            if i not in named and w.folded not in _ENGLISH | _FRENCH | _FILLER and not w.folded.isdigit()
        }
        entities = {m.nodes[0] for m in mentions if m.nodes and not m.is_class and m not in bound}
        return stems | (entities - self.narrators)

    def about(self, query: CatalogueQuery, topic: set[str | URIRef], mentions: list[Mention]) -> bool:
        """Whether `query` is about something the question is about (`topic`, see `_topic`): its examples share a
        word or an entity with it or, for a question whose topic is only names, a parameter takes one of them
        ("What is “U.S.”?"; but not NORAD in "How old is NORAD?": nothing asks how old)."""
        if not topic or topic & self.topics.get(query.name, set()):  # (a query without examples is about nothing)
            return True
        return all(isinstance(t, URIRef) for t in topic) and any(
            m.nodes[0] in topic and self._fits(param, m) for m in mentions if m.nodes for param in query.params
        )

    def _vector(self, features: Counter) -> dict[str, float]:
        weights = {term: count * self.idf.get(term, 0.0) for term, count in features.items()}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {term: w / norm for term, w in weights.items()}

    def score(self, features: Counter, query: CatalogueQuery) -> float:
        """Cosine of the question with the closest of `query`'s example questions, or with all of them in one
        language taken together (a question may borrow its words from several examples)."""
        vector = self._vector(features)
        candidates = [v for (owner, *_), v in zip(self.examples, self.vectors) if owner is query]
        candidates += [v for (name, _), v in self.merged.items() if name == query.name]
        return max((sum(vector.get(t, 0.0) * w for t, w in example.items()) for example in candidates), default=0.0)

    def best_bindings(
        self, words: list[Token], mentions: list[Mention], topical: bool = True, lenient: bool = False
    ) -> list[tuple[float, int, Binding]]:
        """Per query, its best binding: (score, number of mentions bound, binding), best first. A question with topic
        words is only for the queries whose examples share one: the function words and placeholders alone ("what
        are {entity} ...") made "What are the missions?" Canada's goals and « Où le Canada dirige-t-il ? » its
        contributions (« Où le Canada fournit-il des troupes ? »); `topical=False` drops that condition (see
        `names_only`). A question asking how much or how many is only for the queries whose examples ask it too.
        `lenient`: see `_penalty`."""
        topic = self._topic(words, mentions, set())
        amount = asks_an_amount(words)
        ranked = []
        for query in self.catalogue.values():
            if (topical and not self.about(query, topic, mentions)) or (amount and query.name not in self.amounts):
                continue
            options = [
                (self.score(_features(self._template(words, mentions, b.used())), query)
                 * self._penalty(mentions, b, lenient), len(b.used()), b)
                for b in self.bindings(query, mentions)
            ]
            if options:
                ranked.append(max(options, key=lambda o: (o[0], o[1])))
        return sorted(ranked, key=lambda o: (-o[0], -o[1], o[2].query.name))

    def names_only(self, words: list[Token], mentions: list[Mention]) -> set[URIRef]:
        """The entities a question is about when they are all it is about ("What does Canada do about North
        Korea?": no topic word says what is asked of North Korea); empty otherwise."""
        topic = self._topic(words, mentions, set())
        return topic if all(isinstance(t, URIRef) for t in topic) else set()

    def _penalty(self, mentions: list[Mention], binding: Binding, lenient: bool = False) -> float:
        """Less for every entity the question names that the query would ignore (neither bound nor usual), and a
        little less for binding an entity that the query's examples name only as context (Canada, the narrator).
        `lenient`: an entity that the answer of a query without parameters names is not ignored (the sanctions
        regimes name North Korea); that answer is the query's whole result, run once (see `answer_nodes`)."""
        bound, usual = binding.used(), self.expected.get(binding.query.name, set())
        ignored = [m for m in self.unapplied(mentions, binding) if not m.year]
        if lenient and ignored and not binding.query.params:
            named = self.answer_nodes(binding.query)
            ignored = [m for m in ignored if m.nodes[0] not in named]
        context = [m for m in mentions if m.nodes and not m.is_class and m in bound and m.nodes[0] in usual]
        return UNEXPECTED_PENALTY ** len(ignored) * CONTEXT_PENALTY ** len(context)

    def answer_nodes(self, query: CatalogueQuery) -> set[URIRef]:
        """The nodes that the answer of `query` (one without parameters) names; none for a query that cannot run
        here (SERVICE). Kept per query, as the data of this Asker is fixed."""
        if query.name not in self._answer_nodes:
            try:
                outcome = run_query(self.graph, query, {}, False, where=f"query {query.name}")
            except QueryError:
                self._answer_nodes[query.name] = set()
            else:
                self._answer_nodes[query.name] = {
                    term for row in outcome.bindings for term in row.values() if isinstance(term, URIRef)
                }
        return self._answer_nodes[query.name]

    def unapplied(self, mentions: list[Mention], binding: Binding) -> list[Mention]:
        """The years and entities of the question that `binding` leaves out: not bound and, for an entity, not one
        that the query's examples name as context (Canada in "what does Canada do in the Arctic?")."""
        bound, usual = binding.used(), self.expected.get(binding.query.name, set())
        return [
            m for m in mentions
            if m not in bound and (m.year or (m.nodes and not m.is_class and m.nodes[0] not in usual))
        ]

    def applies(self, mentions: list[Mention], binding: Binding) -> bool:
        """Whether `binding` answers the question asked: no year left out (an unapplied year changes the answer set
        unseen), and, for a query that takes parameters, no entity left out either (its parameter would answer
        another question: "What does Canada do in NATO?" is not about the Arctic, its default region). A query
        without parameters lists everything, and the answer says which names no row mentions; so does one whose
        only default is the source document it reads (the scope of the listing, not a topic of the question)."""
        unapplied = self.unapplied(mentions, binding)
        defaulted = any(value is None and param.range != _DOCUMENT_RANGE
                        for param, value in zip(binding.query.params, binding.values))
        return not any(m.year for m in unapplied) and not (unapplied and defaulted)

    def closest(self, question: str, language: str, allow_service: bool, n: int = 3) -> list[str]:
        """The example questions closest to `question` (in `language`, one per query, sharing a stem with it) that
        are answered: one refused ("What is the source of this fact?" names no fact) or answered with nothing would
        be no help. None when no example shares a stem: the first examples alphabetically would be no closer."""
        words = tokens(question)
        vector = self._vector(_features(self._template(words, self.entities.mentions(question, words), set())))
        scored = []
        for (query, example_language, example, _), features in zip(self.examples, self.vectors):
            score = sum(vector.get(t, 0.0) * w for t, w in features.items())
            if example_language == language and score > 0:
                scored.append((-score, example, query.name))
        chosen: dict[str, str] = {}  # query -> its closest answered example
        for _, example, name in sorted(scored):
            if len(chosen) == n:
                break
            if name not in chosen and self.answers(example, allow_service):
                chosen[name] = example
        return list(chosen.values())

    def answers(self, question: str, allow_service: bool) -> bool:
        """Whether `question` gets rows (status "answered"); kept per question, as the data of this Asker is fixed."""
        known = self._answered.get((question, allow_service))
        if known is None:
            known = _answer(self, question, None, allow_service).status == "answered"
            self._answered[question, allow_service] = known
        return known

    # coverage

    def _texts(self, literals: set[tuple[str, str | None]]) -> list[str]:
        """The texts of the graph's `literals` (labels, definitions, claims, the source text) and the catalogue's
        titles, descriptions and examples: the vocabulary (a question word outside it is about something the fact
        sheet does not cover) and the everyday words."""
        texts = [text for text, _ in literals]
        for query in self.catalogue.values():
            texts += [query.title, query.description, *(q for _, q in query.examples)]
        return texts

    def content(self, words: list[Token], mentions: list[Mention]) -> list[Token]:
        """The words that carry the topic: not part of a name, not a function word, not a number, 4+ letters."""
        inside = {i for m in mentions for i in range(m.start, m.end)}
        return [
            w for i, w in enumerate(words)
            if i not in inside and len(w.folded) >= 4 and not (w.folded.isascii() and w.folded.isdigit()) and w.folded not in _ENGLISH | _FRENCH
        ]

    def unknown(self, content: list[Token]) -> list[Token]:
        """The content words that neither the graph nor the catalogue ever uses."""
        return [w for w in content if stem(w.folded) not in self.vocabulary]


def _distinct_words(texts: list[str]) -> set[str]:
    return {word for text in texts for word in _WORD.findall(text)}  # (fold each word once, not each use)


def _lower_case_words(texts: list[str]) -> frozenset[str]:
    """The folded words that `texts` write in lower case somewhere: everyday words, even when also part of a name."""
    return frozenset(t.folded for t in tokens(" ".join(sorted(w for w in _distinct_words(texts) if w.islower()))))


# --- answers -------------------------------------------------------------------------------------------------------


@dataclass
class Answer:
    """What `kg ask` prints and `/ask` returns; `as_json()` is the stable form."""

    question: str
    language: str
    status: str
    message: str = ""
    query: str = ""
    title: str = ""
    params: dict[str, str] = field(default_factory=dict)  # name -> value as given to kg.query (IRI, year, text)
    param_labels: dict[str, str] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)  # column -> label (IRIs) or lexical form
    quotes: list[list[dict[str, str]]] = field(default_factory=list)  # per row: [{"id", "quote", "claim", "source"}]
    options: list[str] = field(default_factory=list)  # ambiguity: what to choose from
    suggestions: list[str] = field(default_factory=list)  # closest catalogue questions
    sparql: str = ""
    # the raw result rows (rdflib terms), for tests and callers: all of them, in the order of `rows`, which shows
    # the first MAX_ROWS
    terms: list[tuple] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]

    def as_json(self) -> dict:
        return {
            "question": self.question,
            "language": self.language,
            "status": self.status,
            "message": self.message,
            "query": self.query or None,
            "title": self.title or None,
            "params": self.params,
            "rows": self.rows,
            "total": len(self.terms),  # (more than the rows when a long listing is cut at MAX_ROWS)
            "quotes": self.quotes,
            "options": self.options,
            "suggestions": self.suggestions,
        }

    @property
    def texts(self) -> dict[str, str]:
        """The reply's fixed words ("Query", "Closest questions I can answer:"), in its language."""
        return _TEXTS[self.language]

    def row_texts(self) -> list[str]:
        """Each row for people: its first value, then the others that add something (see `_row_text`)."""
        return [_row_text(self.columns, row) for row in self.rows]

    def as_text(self, explain: bool = False) -> str:
        text = self.texts
        lines = []
        if self.query:
            lines.append(f"{text['query']}{text[':']} {self.query} ({self.title})")
            shown = [f"{name} = {self.param_labels.get(name, value)}" for name, value in self.params.items()]
            lines.append(f"{text['params']}{text[':']} {', '.join(shown) if shown else text['none']}")
        if self.message:
            lines.append(self.message)
        if self.rows:
            lines.append(f"{text['rows']} ({len(self.rows)}){text[':']}")
            for number, (row, quotes) in enumerate(zip(self.row_texts(), self.quotes), start=1):
                lines.append(f"{number}. {row}")
                lines += [f"   {q['id']}: “{q['quote']}”" for q in quotes]
        if self.options:
            lines += [f"  - {option}" for option in self.options]
        if self.suggestions:
            lines.append(text["closest"])
            lines += [f"  - {question}" for question in self.suggestions]
        if explain and self.sparql:
            lines += ["", f"{text['sparql']}{text[':']}", self.sparql.rstrip()]
        return "\n".join(lines) + "\n"


def _row_text(columns: list[str], row: dict[str, str]) -> str:
    """The row's first value, then the others that add something (labels repeat their node and are skipped)."""
    first, *rest = columns
    extra = [f"{c}: {row[c]}" for c in rest if row.get(c) and not c.endswith("Label") and row[c] != row[first]]
    return row[first] + (f" ({'; '.join(extra)})" if extra else "")


_ASKERS: dict[int, tuple[Graph, Path, Hashable, Asker]] = {}
_ASKERS_LOCK = threading.Lock()


def asker(built: Built, queries: Path = PROJECT_ROOT / "queries", version: Hashable = None,
          saved_in: Path | None = None) -> Asker:
    """The Asker of a built dataset and catalogue, made once per process and per `version` of the data: kg serve
    passes kg.pages.data_version, which an update (changing the dataset in place) moves on. With `saved_in` (the
    build cache's directory), the Asker of a store's build is also kept there, for the next command (see
    `_saved_or_made`)."""
    graph = built.dataset
    with _ASKERS_LOCK:  # (kg serve makes one at start-up: a question asked meanwhile waits for it)
        cached = _ASKERS.get(id(graph))
        if cached is None or cached[0] is not graph or cached[1] != queries or cached[2] != version:
            cached = (graph, queries, version, _saved_or_made(graph, queries, saved_in))
            _ASKERS[id(graph)] = cached
    return cached[3]


def _saved_or_made(graph: Graph, queries: Path, saved_in: Path | None) -> Asker:
    """The Asker of `graph` and the catalogue in `queries`: read from `saved_in`/ask/ when the graph is a store's
    build (Oxigraph on disk, a SPARQL server: the data of a build key never changes) and an earlier command saved
    it for that build key and catalogue, else made now, and saved there for a store's build. On 2 M triples
    making it takes about 30 s (the names and the words of the whole graph) and reading it back under a second;
    the memory store's build is small and changes in place under kg serve's updates, so it is never saved."""
    from kg.files import files_key, read_cached, write_cached

    build_key = as_store(graph).build_key() if saved_in is not None else None
    if build_key is None:
        return Asker(graph, load_catalogue(queries))
    # the catalogue's files: the examples, parameters and texts the Asker holds
    key = files_key(f"{build_key}\0{queries.resolve()}", [(path.name, path) for path in sorted(queries.glob("*.rq"))])
    target = saved_in / "ask" / f"{key}.pickle"
    saved = read_cached(target, Asker)
    if saved is not None:
        saved.graph = graph
        return saved
    made = Asker(graph, load_catalogue(queries))
    try:
        write_cached(target, made)  # (one build's index is kept, as one build is in the cache)
    except (OSError, OutputError):  # a cache that cannot be written (read-only, full) costs the next command time
        pass
    return made


MAX_QUESTION = 1000  # characters; a question is a sentence, not a document
MAX_ROWS = 100  # rows an answer shows (with their quotes), of a listing that a large graph makes long


def answer(
    built: Built,
    question: str,
    lang: str | None = None,
    queries: Path = PROJECT_ROOT / "queries",
    allow_service: bool = False,
    version: Hashable = None,
    saved_in: Path | None = None,
) -> Answer:
    """Answer `question` from the catalogue (see the module docstring); `lang` forces the reply's language;
    `allow_service` lets a federated query's SERVICE be answered from the enrichment cache (kg.query.run_query),
    otherwise a question such a query answers is unanswerable, and the reply says why; `version` and `saved_in`:
    see `asker`."""
    if lang not in (None, *_TEXTS):
        raise UsageError(f"unknown language {lang!r}; use one of {', '.join(_TEXTS)}")
    question = question.strip()  # (kg ask and /ask alike: the length is the question's, not its padding's)
    if not question:
        raise UsageError("the question is empty")
    if len(question) > MAX_QUESTION:  # (matching grows faster than the question: 10 k characters took 6 s)
        raise UsageError(f"the question is longer than {MAX_QUESTION} characters")
    ask = asker(built, queries, version, saved_in)
    result = _answer(ask, question, lang, allow_service)
    result.message = " ".join(filter(None, (result.message, _figure_note(result))))  # (whichever way it was found)
    if result.status in _REFUSED:
        result.suggestions = ask.closest(question, result.language, allow_service)
        if not result.suggestions:
            result.message += " " + _TEXTS[result.language]["no-closest"]
    return result


def _answer(ask: Asker, question: str, lang: str | None, allow_service: bool) -> Answer:
    """`answer` without the suggestions."""
    words = tokens(question)
    mentions = ask.entities.mentions(question, words)
    detected = detect_language(question, words)
    keywords = detected is None  # (a question in another language is stopped by its words the graph never uses)
    language = lang or detected or ask.keyword_language(words, mentions)
    text = _TEXTS[language]
    result = Answer(question=question, language=language, status="unanswerable", message=text["unanswerable"])
    ambiguous = next((m for m in mentions if len(m.nodes) > 1), None)
    if ambiguous is not None:
        result.status, result.message = "ambiguous", text["ambiguous-entity"].format(text=ambiguous.text)
        result.options = [f"{label(ask.graph, n, language)} ({curie(n)})" for n in ambiguous.nodes]
        return result
    content = ask.content(words, mentions)
    unknown = ask.unknown(content)
    if unknown:  # answering around words it does not know would be a guess: the "capital" of Latvia
        names = [w.text for w in unknown if _looks_like_a_name(question, w)]
        # no more unknown words than known ones plus one, and names among them: the fact sheet never mentions those
        # (an everyday word may just be one the coarse stems miss: "started" for "founded", so no such claim)
        if names and 2 * len(unknown) <= len(content) + 1:
            result.status, result.message = "not-covered", text["not-covered"].format(words=_quoted(names, language))
        return result
    ranked = ask.best_bindings(words, mentions)
    minimum = KEYWORD_MIN if keywords else MIN_SCORE
    if not ranked or ranked[0][0] < minimum:  # (running queries to score them: only when nothing else answers)
        ranked = ask.best_bindings(words, mentions, lenient=True)
    if not ranked or ranked[0][0] < minimum:  # no query's examples are close, but one may tell what is done about it
        return _about_the_names(ask, result, words, mentions, allow_service) or result
    applicable = [option for option in ranked if ask.applies(mentions, option[2])]
    if not applicable or applicable[0][0] < minimum:  # the closest query would leave out part of the question
        closest = ranked[0][2]
        names = _quoted([m.text for m in ask.unapplied(mentions, closest)], language)
        result.message = text["not-applied"].format(query=closest.query.name, names=names)
        return result
    if keywords:  # nothing but their closeness says which query keywords mean: one must stand out
        others = [score for score, _, b in ranked if b.query is not applicable[0][2].query]
        if others and applicable[0][0] - others[0] < KEYWORD_MARGIN:
            return result
    ranked = applicable
    tied = [b for score, _, b in ranked if score >= ranked[0][0] - TIE_MARGIN]
    runs = {b: _run(ask, _blank(result), b, mentions, allow_service) for b in tied}
    answered = [b for b in tied if runs[b].status == "answered"]
    if len(tied) > 1 and len(answered) != 1:  # (one answered, the others with nothing to say: no choice to offer)
        if not answered:  # none has rows: a query about the names may (which then needs no choice either)
            instead = _about_the_names(ask, runs[tied[0]], words, mentions, allow_service)
            if instead is not None:
                return instead
        result.status, result.message = "ambiguous", text["ambiguous-query"]
        result.options = [f"{b.query.title} ({b.query.name})" for b in answered or tied]
        return result
    chosen = runs[answered[0] if answered else tied[0]]
    if chosen.status == "no-rows":
        return _about_the_names(ask, chosen, words, mentions, allow_service) or chosen
    return chosen


def _figure_note(result: Answer) -> str:
    """What an answer must say when its question asks for a figure its rows do not hold (none for a figure the
    source states: "over 40,000" trained, "$9.7 billion"): a count answered by a list (« Combien de pays sont
    membres de l'OTAN ? » is one, Canada, which is what the fact sheet says, not how many there are), an amount
    by what was given ("How much money has Canada given to Jordan?": troops and equipment)."""
    if result.status != "answered" or _states_a_figure(result):
        return ""
    words = tokens(result.question)
    if asks_a_count(words):
        return result.texts["counted"]
    return result.texts["no-amount"] if asks_an_amount(words) else ""


def _number(count: int, language: str) -> str:
    """A count as the language writes it: 30,092 in English, 30 092 in French (a narrow no-break space)."""
    return f"{count:,}".replace(",", "\u202f" if language == "fr" else ",")


def _states_a_figure(answer: Answer) -> bool:
    """Whether a row holds a number (a count or an amount the source states), which answers "how many" itself."""
    return any(isinstance(term, Literal) and isinstance(term.toPython(), (int, float, Decimal))
               and not isinstance(term.toPython(), bool) for row in answer.terms for term in row)


def _blank(result: Answer) -> Answer:
    """A new answer to the same question, in the same language, before any query has run."""
    return Answer(result.question, result.language, result.status, result.message)


def _about_the_names(
    ask: Asker, empty: Answer, words: list[Token], mentions: list[Mention], allow_service: bool
) -> Answer | None:
    """For a question about nothing but names that no query answers (its closest query has no rows, "What does
    Canada do about North Korea?": no activity is located there; or none is close, "What does Canada do about
    DAESH?"), the closest other query, whatever its examples are about, whose answer is about things done (a row
    names a kg:Activity) and names every name in a row or takes it as a parameter (sanctions: North Korea is the
    target of the sanctions Canada enforces, C38; not the founding dates for "What does Canada do in NORAD?"); one
    taking them first, as its answer is about them alone. None if the question has topic words (then no rows is the
    answer: "What equipment has Canada donated to Latvia?") or no query has such an answer."""
    names = ask.names_only(words, mentions)
    if not names:
        return None
    bindings = [b for _, _, b in ask.best_bindings(words, mentions, topical=False)
                if b.query.name != empty.query and ask.applies(mentions, b)]
    for binding in sorted(bindings, key=lambda b: not names <= {m.nodes[0] for m in b.used() if m.nodes}):
        given = _given(ask.graph, binding, empty.language, {})
        try:  # (the rows alone, without the quotes: most queries tried are not the answer)
            outcome = run_query(ask.graph, binding.query, given, allow_service, where=f"query {binding.query.name}")
        except QueryError:
            continue
        rows = [set(row.values()) for row in outcome.bindings]
        bound = {m.nodes[0] for m in binding.used() if m.nodes}
        done = any(isinstance(term, URIRef) and (term, RDF.type, KG.Activity) in ask.graph for row in rows for term in row)
        if done and any(names <= bound | row for row in rows):
            found = _run(ask, _blank(empty), binding, mentions, allow_service)
            if found.status == "answered":  # (not one whose rows leave out another name of the question)
                return found
    return None


def _given(graph: Graph, binding: Binding, language: str, labels: dict[str, str]) -> dict[str, str]:
    """The values of the query's parameters, as kg.query takes them, from `binding` or the defaults; `labels` gets
    how each entity is shown."""
    given: dict[str, str] = {}
    for param, mention in zip(binding.query.params, binding.values):
        if mention is None:
            continue
        if mention.year:
            given[param.name] = mention.year
        elif param.type == "string":  # a name only a search aid gives (hiddenLabel): the label, which queries match
            given[param.name] = mention.name or label(graph, mention.nodes[0], language)
        else:
            given[param.name] = str(mention.nodes[0])
            labels[param.name] = _param_shown(graph, mention.nodes[0], language)
    for param in binding.query.params:  # defaults are shown too: the answer must say what it was about
        if param.name not in given and param.default is not None:
            given[param.name] = param.default
            if param.type == "entity":
                node = resolve_entity(graph, param.default)
                given[param.name] = str(node)
                labels[param.name] = _param_shown(graph, node, language)
    return given


def _param_shown(graph: Graph, node: URIRef, language: str) -> str:
    """How an answer names a parameter's entity: as reports do (kg.load.named), a document by its title, as
    documents have no label."""
    shown = named(graph, node, language)
    title = graph.value(node, DCTERMS.title)
    return f"{title} ({shown})" if shown == curie(node) and title is not None else shown


def _run(ask: Asker, result: Answer, binding: Binding, mentions: list[Mention], allow_service: bool) -> Answer:
    """Run the chosen query with its bound parameters; fill rows (those naming an entity of the question that the
    query ignores first), quotes and notes."""
    graph, language, query = ask.graph, result.language, binding.query
    given = _given(graph, binding, language, result.param_labels)
    try:
        outcome = run_query(graph, query, given, allow_service, where=f"query {query.name}")  # (not the server's path)
    except QueryError as error:  # SERVICE without allow_service: the question is fine, this graph can't run it here
        result.message = _TEXTS[language]["not-run"].format(reason=error)
        return result
    text = _TEXTS[language]
    missing = _left_out(ask, outcome, binding, mentions)
    if missing:  # rows about other things, not about it: another question's answer ("work with" in the Arctic:
        # Venezuela's alignments), so none is given
        result.status, result.message = "unanswerable", text["not-applied"].format(
            query=query.name, names=_quoted([m.text for m in missing], language))
        return result
    result.query, result.title, result.params = query.name, query.title, given
    body = query.text.splitlines()
    while body and (not body[0].strip() or body[0].lstrip().startswith("#")):  # the header: shown as query and params
        body.pop(0)
    types = {param.name: param.type for param in query.params}
    bound = [
        f"# bound: ?{name} = " + (f"<{value}>" if types[name] == "entity" else f'"{value}"')
        for name, value in given.items()
    ]
    result.sparql = "\n".join([*bound, *body])
    used = binding.used()
    usual = ask.narrators  # Canada in "what does Canada do ...": context, not a filter (not the Middle East)
    ignored = [m for m in mentions if m.nodes and not m.is_class and m not in used and m.nodes[0] not in usual]
    # the query does not filter on the entities it ignores: the rows naming them (subject or any column) come first,
    # the others after them in the query's order ("What does Canada do about Venezuela?": its sanctions, C15, before
    # those on North Korea)
    ordered = sorted(outcome.bindings, key=lambda row: sum(m.nodes[0] not in row.values() for m in ignored))
    result.columns = [str(v) for v in outcome.vars]
    result.terms = [tuple(row.get(v) for v in outcome.vars) for row in ordered]
    outcome.bindings = ordered[:MAX_ROWS]  # the rows shown, the only ones whose claims are looked up
    for row, support in zip(outcome.bindings, why(graph, outcome, query, given)):
        result.rows.append({str(v): _shown(graph, row.get(v), language) for v in outcome.vars})
        result.quotes.append([{"id": q.id, "quote": q.quote, "claim": q.claim, "source": q.source}
                              for q in support.claims])
    if not result.rows:
        result.status, result.message = "no-rows", text["no-rows"]
        return result
    result.status, result.message = "answered", ""
    if len(result.terms) > len(result.rows):
        result.message = text["first-rows"].format(
            shown=len(result.rows), total=_number(len(result.terms), language), query=query.name)
    return result


def _left_out(ask: Asker, outcome: Result, binding: Binding, mentions: list[Mention]) -> list[Mention]:
    """The entities of the question that `binding` leaves out (see `Asker.unapplied`) and that the rows are not
    about: neither a row's node nor one statement away from one (the narrator, whom most statements name, aside).
    Venezuela is what the diplomacy towards it is about, the drone cameras what their donation is about; the
    Arctic is not what Venezuela's alignments are about. None when there are no rows."""
    unapplied = [m for m in ask.unapplied(mentions, binding) if m.nodes and not m.is_class]
    in_rows = {term for row in outcome.bindings for term in row.values()}
    if not unapplied or not in_rows:  # no rows: the answer is that nothing matches, whatever it was about
        return []
    about = {term for term in in_rows - ask.narrators if isinstance(term, URIRef)}

    def near(node: URIRef) -> bool:  # (looked up from the few nodes asked about, not from every row's terms)
        return node in in_rows or any(
            other in about for other in itertools.chain(ask.graph.objects(node), ask.graph.subjects(None, node)))

    return [m for m in unapplied if not near(m.nodes[0])]


def _looks_like_a_name(text: str, word: Token) -> bool:
    """An acronym, or a word capitalised inside a sentence (not its first word), in a question not all in capitals."""
    if text.isupper():
        return False
    if len(word.text) > 1 and word.text.isupper():
        return True
    before = text[:word.start].rstrip()
    return word.text[:1].isupper() and bool(before) and before[-1] not in ".?!:¿¡«“\"'"


def _quoted(texts: list[str], language: str) -> str:
    """Words of the question quoted in the reply's language, each once."""
    return ", ".join(f"“{t}”" if language == "en" else f"« {t} »" for t in dict.fromkeys(texts))


def _shown(graph: Graph, term: object, language: str) -> str:
    """A result term for people: a node by its label in `language`, a literal by its lexical form, '' if unbound."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return label(graph, term, language)
    return str(term)
