"""`kg ask`: plain questions in English and French mapped onto the catalogue, with the evidence, or an honest failure.

The paraphrases (tests/fixtures/ask/paraphrases.tsv) each name a case of tests/test_catalogue.py: the query, its
parameters and the answer set derived there by hand from the source; the answer must be exactly that. None of them
repeats a catalogue example question (they are what the intents are learnt from), so the tests are not circular.
"""

from __future__ import annotations

import csv
import json
import pickle
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Literal, URIRef
from conftest import copy_project
from test_catalogue import CASES, Boolean, value

from kg.ask import EXIT_CODES, Asker, answer, tokens
from kg.build import Built
from kg.cli import app
from kg.errors import UsageError
from kg.namespaces import ID, PREFIXES, PROJECT_ROOT, RDFS, SKOS
from kg.query import load_catalogue, why
from kg.store import as_store

PARAPHRASES = Path(__file__).parent / "fixtures" / "ask" / "paraphrases.tsv"
CATALOGUE = load_catalogue(PROJECT_ROOT / "queries")
CASES_BY_ID = {case.test_id: case for case in CASES}


def _paraphrases() -> list[dict[str, str]]:
    lines = [line for line in PARAPHRASES.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


PARAPHRASE_ROWS = _paraphrases()


def _folded(question: str) -> tuple[str, ...]:
    return tuple(token.folded for token in tokens(question))


def test_paraphrases_are_many_and_half_french() -> None:
    languages = Counter(row["lang"] for row in PARAPHRASE_ROWS)
    assert len(PARAPHRASE_ROWS) >= 100
    assert set(languages) == {"en", "fr"}
    assert min(languages.values()) >= 50, languages


def test_every_catalogue_query_has_paraphrases_in_both_languages() -> None:
    covered = {(CASES_BY_ID[row["case"]].query, row["lang"]) for row in PARAPHRASE_ROWS}
    missing = sorted((name, lang) for name in CATALOGUE for lang in ("en", "fr") if (name, lang) not in covered)
    assert missing == []


def test_paraphrases_are_not_the_catalogue_examples() -> None:
    examples = {_folded(question) for query in CATALOGUE.values() for _, question in query.examples}
    repeated = [row["question"] for row in PARAPHRASE_ROWS if _folded(row["question"]) in examples]
    assert repeated == []
    assert len({_folded(row["question"]) for row in PARAPHRASE_ROWS}) == len(PARAPHRASE_ROWS), "duplicates"


# The entities the cases and the queries' defaults name by label, and the IRIs they name (written here, not
# looked up with kg.query.resolve_entity, which kg.ask itself uses).
NAMED = {"United Nations Command": ID.UnitedNationsCommand, "Ukraine": ID.Ukraine, "Eastern Europe": ID.EasternEurope,
         "Canada": ID.Canada, "NATO": ID.NATO, "Air Task Force Prestwick": ID.AirTaskForcePrestwick}


def _entity(given: str) -> str:
    """The IRI of a case's entity parameter: a label of NAMED, or a CURIE of the project's prefixes."""
    prefix, _, local = given.partition(":")
    return str(NAMED[given] if given in NAMED else PREFIXES[prefix] + local)


def _expected_params(case_query: str, params: dict[str, str]) -> dict[str, str]:
    """The case's parameters with the query's defaults filled in, entities as IRIs, strings case-folded."""
    query = CATALOGUE[case_query]
    expected = {}
    for param in query.params:
        given = params.get(param.name, param.default)
        if given is None:
            continue
        expected[param.name] = _entity(given) if param.type == "entity" else given
    return expected



def _answered_as_case(built_project: Built, question: str, case: str):
    """The answer to `question`, checked to be the catalogue case `case` (tests/test_catalogue.py, derived by hand
    from the source): its query, its parameters and exactly its rows."""
    expected = CASES_BY_ID[case]
    got = answer(built_project, question)
    assert (got.status, got.query) == ("answered", expected.query), got.as_text()
    assert got.params == _expected_params(expected.query, expected.params)
    index = [got.columns.index(column) for column in expected.columns]
    assert Counter(tuple(value(terms[i]) for i in index) for terms in got.terms) == Counter(expected.expected)
    return got

@pytest.mark.parametrize(
    "row", [pytest.param(row, id=f"{row['lang']}:{row['question']}") for row in PARAPHRASE_ROWS]
)
def test_paraphrase_gets_the_exact_answer(enriched_built: Built, row: dict[str, str]) -> None:
    """Over the build with the fixture enrichment cache, as the catalogue's cases are (federated queries allowed)."""
    case = CASES_BY_ID[row["case"]]
    got = answer(enriched_built, row["question"], allow_service=True)
    assert got.language == row["lang"]
    assert got.status in ("answered", "no-rows"), got.as_text()
    assert got.query == case.query, got.as_text()
    params = {k: v.casefold() if _is_string(case.query, k) else v for k, v in got.params.items()}
    expected = {k: v.casefold() if _is_string(case.query, k) else v
                for k, v in _expected_params(case.query, case.params).items()}
    assert params == expected
    index = [got.columns.index(column) for column in case.columns]
    rows = [tuple(value(terms[i]) for i in index) for terms in got.terms]
    assert Counter(rows) == Counter(case.expected)
    assert got.status == ("answered" if case.rows else "no-rows")
    assert len(got.quotes) == len(got.rows)


def _is_string(query: str, name: str) -> bool:
    return any(p.name == name and p.type == "string" for p in CATALOGUE[query].params)


# --- every answered row carries its evidence -----------------------------------------------------------------------

US_OPERATIONS = {
    "id:NORADCooperation": [("C07", "we work together in NORAD")],
    "id:CaribbeanDrugInterdiction": [
        ("C20", "Canadian ships and aircraft cooperate with the U.S. in the Caribbean"),
        ("C21", "to interdict illegal drugs destined for North American markets"),
    ],
    "id:NorthKoreaSanctionsEnforcement": [
        ("C38", "Canada works with the United States and Allies to enforce sanctions on North Korea"),
    ],
}


@pytest.mark.parametrize("question", [
    "Which operations does Canada conduct with the US?",
    "Quelles opérations le Canada mène-t-il avec les États-Unis ?",
])
def test_us_operations_come_with_their_quotes(built_project: Built, question: str) -> None:
    got = answer(built_project, question)
    quotes = {value(terms[0]): [(q["id"], q["quote"]) for q in row] for terms, row in zip(got.terms, got.quotes)}
    assert quotes == US_OPERATIONS


# --- honest failure ------------------------------------------------------------------------------------------------

UNANSWERABLE = [
    ("Welche Operationen führt Kanada mit den USA durch?", "unanswerable"),
    ("¿Qué operaciones realiza Canadá con Estados Unidos?", "unanswerable"),
    ("Does Canada have nuclear weapons?", "unanswerable"),
    # no budget is stated: not the crises' "more than $4.6 billion", as an example "How much did Canada spend on
    # the crises?" made it for a while
    ("How much does Canada spend on defence each year?", "unanswerable"),
    ("Combien le Canada dépense-t-il pour le NORAD ?", "unanswerable"),
    # more that the fact sheet does not say, from an audit of 116 questions a journalist would ask
    ("Quel est le budget de défense annuel du Canada ?", "unanswerable"),
    ("How many Canadian troops are in Latvia?", "unanswerable"),
    ("Combien de soldats canadiens sont déployés en Lettonie ?", "unanswerable"),
    ("Who is the commander of NORAD?", "unanswerable"),
    ("Qui commande actuellement le NORAD ?", "unanswerable"),
    ("Does Canada meet NATO's 2% spending target?", "unanswerable"),
    ("Le Canada atteint-il l'objectif de 2 % de l'OTAN ?", "unanswerable"),
    ("How many F-35 jets is Canada buying?", "unanswerable"),
    ("Did Canada send fighter jets to Ukraine?", "unanswerable"),
    ("How much has Canada given to Latvia?", "unanswerable"),
    ("What is Canada doing in Haiti?", "not-covered"),
    ("Le Canada a-t-il des troupes en Afghanistan ?", "not-covered"),
    ("Quelle est la position du Canada sur Taïwan ?", "not-covered"),
    ("Le Canada possède-t-il des armes nucléaires ?", "unanswerable"),
    ("What is the capital of Latvia?", "unanswerable"),
    ("Who won the hockey game last night?", "unanswerable"),  # mostly unknown words: not even the topic is clear
    ("Quel temps fera-t-il demain à Ottawa ?", "unanswerable"),
    ("What is the population of Kuwait?", "unanswerable"),
    ("How much does a Leopard II tank cost?", "unanswerable"),
    ("Canada", "unanswerable"),
    ("What is the weather like?", "unanswerable"),
    ("Does Canada work with Mexico?", "not-covered"),
    ("Quelle est la capitale de la Lettonie ?", "unanswerable"),
]


@pytest.mark.parametrize("question, message", [
    ("", "the question is empty"),
    (" \t ", "the question is empty"),
    ("Where? " * 142 + "Where??", "the question is longer than 1000 characters"),  # 1001 characters
])
def test_an_empty_or_overlong_question_is_a_usage_error(built_project: Built, question: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        answer(built_project, question)


@pytest.mark.parametrize("question,status", UNANSWERABLE)
def test_unanswerable_question_fails_honestly(built_project: Built, question: str, status: str) -> None:
    got = answer(built_project, question)
    assert got.status == status, got.as_text()
    assert got.rows == [] and got.query == ""
    assert len(got.suggestions) == 3
    assert EXIT_CODES[got.status] == 3
    if status == "unanswerable":
        expected = {"en": "I can't answer that from this graph.",
                    "fr": "Je ne peux pas répondre à cette question à partir de ce graphe."}
        assert got.message == expected[got.language]


@pytest.mark.parametrize("question", ["?!", "asdf qwer zxcv", "?", "Why?"])
def test_no_suggestions_when_no_example_question_shares_a_word(built_project: Built, question: str) -> None:
    """The first examples alphabetically would be no closer than any others: none, and it says so."""
    got = answer(built_project, question)
    assert (got.status, got.suggestions) == ("unanswerable", [])
    assert got.message == "I can't answer that from this graph. None of the questions I can answer is close to this one."
    assert EXIT_CODES[got.status] == 3


REFUSED_WITH_SUGGESTIONS = [question for question, _ in UNANSWERABLE] + [
    "What is the source of this fact?",  # provenance's example, whose fact nothing names: refused, and closest to
    "What is the source of the weather?",  # these, as is its French example to the next
    "Quelle est la source de cette météo ?",
    "Does Wikidata agree with the weather?",  # close to examples of iso-codes-wikidata (SERVICE: refused without
    "Which ISO codes does Wikidata give for Mexico?",  # --allow-service) and nato-members-mentioned (no rows before
]  # kg enrich)


@pytest.mark.parametrize("question", REFUSED_WITH_SUGGESTIONS)
def test_every_suggestion_is_a_question_it_answers(built_project: Built, question: str) -> None:
    """A suggestion that is then refused ("What is the source of this fact?" suggested itself), needs
    --allow-service (the ISO codes checked against Wikidata) or finds nothing (before kg enrich) is no help."""
    got = answer(built_project, question)
    assert got.status in ("unanswerable", "not-covered") and got.suggestions, got.as_text()
    assert question not in got.suggestions
    for suggestion in got.suggestions:
        assert answer(built_project, suggestion).status == "answered", suggestion


def test_unanswerable_in_french_answers_in_french(built_project: Built) -> None:
    got = answer(built_project, "Pourquoi ?")
    assert (got.language, got.suggestions) == ("fr", [])
    assert got.message == ("Je ne peux pas répondre à cette question à partir de ce graphe. "
                           "Aucune des questions auxquelles je peux répondre n'est proche de celle-ci.")
    got = answer(built_project, "Quel temps fera-t-il demain à Ottawa ?")
    assert got.language == "fr" and len(got.suggestions) == 3
    assert all(question in {q for _, q in _all_examples("fr")} for question in got.suggestions)


# The examples that are refused, and why: provenance's name no fact ("this fact"), or a year it cannot apply (the
# fact sheet does not say NORAD was founded in 1958: it is derived, and provenance takes the fact, not the year).
REFUSED_EXAMPLES = {
    "What is the source of this fact?", "Quelle est la source de ce fait ?",
    "Where does the fact sheet say that NORAD was founded in 1958?",
    "Où la fiche d'information dit-elle que le NORAD a été fondé en 1958 ?",
}


@pytest.mark.parametrize(("name", "question"), [
    pytest.param(name, question, id=f"{name}:{question}")
    for name, query in CATALOGUE.items() for _, question in query.examples
])
def test_every_example_is_answered_by_its_own_query(enriched_built: Built, name: str, question: str) -> None:
    """The catalogue teaches kg ask by its examples: each must reach the query it stands under (an example added to
    one query can take another's questions away), but for the few that are refused on purpose."""
    got = answer(enriched_built, question, allow_service=True)
    if question in REFUSED_EXAMPLES:
        assert got.status == "unanswerable", got.as_text()
    else:
        assert (got.query, got.status in ("answered", "no-rows")) == (name, True), got.as_text()


def _all_examples(language: str) -> list[tuple[str, str]]:
    return [(name, q) for name, query in CATALOGUE.items() for lang, q in query.examples if lang == language]


@pytest.mark.parametrize("question, words", [
    ("Does Canada work with Mexico?", "“Mexico”"),
    ("Le Canada travaille-t-il avec le Mexique ?", "« Mexique »"),
])
def test_a_name_the_fact_sheet_never_mentions_is_named(built_project: Built, question: str, words: str) -> None:
    got = answer(built_project, question)
    assert got.status == "not-covered" and got.rows == [] and got.terms == []
    assert words in got.message and ("never mentions" in got.message or "ne mentionne jamais" in got.message)


@pytest.mark.parametrize("question", [
    "When was NORAD started?",  # the graph has NORAD's founding (C08)
    "Quand l'OTAN a-t-elle été créée ?",
    "Quels sont les engagements du Canada envers l'Ukraine ?",
    "Parle-moi du NORAD",
    "How many troops has Canada stationed in Latvia?",
    "Does Canada have nuclear weapons?",
])
def test_an_everyday_word_it_does_not_know_is_no_claim_of_absence(built_project: Built, question: str) -> None:
    """The coarse stems miss synonyms and inflections ("started", « créée »): refusing is honest, saying the fact
    sheet never mentions the word is not."""
    got = answer(built_project, question)
    assert got.status == "unanswerable" and got.rows == []
    assert got.message in ("I can't answer that from this graph.",
                           "Je ne peux pas répondre à cette question à partir de ce graphe.")


# --- ambiguity -----------------------------------------------------------------------------------------------------


def _with_label(built: Built, node: URIRef, name: str) -> Built:
    """A copy of the built dataset where `node` also has the hidden label `name`."""
    from kg.load import new_dataset

    copy = new_dataset()
    for context in built.dataset.graphs():
        target = copy.graph(context.identifier)
        for triple in context:
            target.add(triple)
    copy.graph(ID.test).add((node, SKOS.hiddenLabel, Literal(name, lang="en")))
    return Built(copy, built.report)


def test_a_name_of_two_entities_asks_which(built_project: Built) -> None:
    built = _with_label(built_project, ID.Latvia, "Jordan")
    got = answer(built, "What does Canada do in Jordan?")
    assert got.status == "ambiguous"
    assert got.message == "Which did you mean by “Jordan”?"
    assert got.options == ["Jordan (id:Jordan)", "Latvia (id:Latvia)"]
    assert got.rows == [] and EXIT_CODES[got.status] == 4


def test_two_queries_scoring_alike_ask_which(built_project: Built, tmp_path: Path) -> None:
    """Two catalogue queries taught the same question: neither is chosen, both are offered."""
    for name in ("partners", "memberships"):
        text = (PROJECT_ROOT / "queries" / f"{name}.rq").read_text(encoding="utf-8")
        (tmp_path / f"{name}.rq").write_text(f"# example-en: Who are the friends of Canada?\n{text}", encoding="utf-8")
    got = answer(built_project, "Who are the friends of Canada?", queries=tmp_path)
    assert got.status == "ambiguous", got.as_text()
    assert got.message == "Which question did you mean?"
    assert got.options == [
        "Memberships of a state (memberships)", "Partners and the number of activities with each (partners)",
    ]
    assert got.rows == [] and EXIT_CODES[got.status] == 4


# --- entity recognition --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("question", [
    *(f"Which operations does Canada conduct with {name}?"
      for name in ("US", "U.S.", "USA", "the States", "United States", "États-Unis", "Etats-Unis", "É.-U.")),
    "which operations does canada conduct with united states of america",  # all lower case: names need no capitals
])
def test_the_united_states_by_any_name(built_project: Built, question: str) -> None:
    got = answer(built_project, question)
    assert got.params == {"partner": str(ID.UnitedStates), "document": str(ID.factsheet)}


@pytest.mark.parametrize("spelling", ["NATO", "Nato", "OTAN", "Otan", "l'OTAN", "the Alliance"])
def test_nato_by_any_name(built_project: Built, spelling: str) -> None:
    got = answer(built_project, f"Which operations does Canada conduct with {spelling}?")
    assert got.params == {"partner": str(ID.NATO), "document": str(ID.factsheet)}


def test_lower_case_us_in_a_capitalised_question_is_the_pronoun(built_project: Built) -> None:
    from kg.ask import asker

    question = "Tell us about Canada"
    mentions = asker(built_project).entities.mentions(question, tokens(question))
    assert [m.nodes for m in mentions] == [(ID.Canada,)]


def test_longest_name_wins(built_project: Built) -> None:
    from kg.ask import asker

    question = "What about the NATO multinational battle group in Latvia and North Korea?"
    mentions = asker(built_project).entities.mentions(question, tokens(question))
    assert [m.nodes for m in mentions] == [(ID.NATOBattleGroupLatvia,), (ID.NorthKorea,)]


def test_hidden_labels_are_search_aids_only(built_project: Built) -> None:
    """Every skos:hiddenLabel belongs to a node that also has English and French rdfs:labels."""
    graph = built_project.dataset
    for node in set(graph.subjects(SKOS.hiddenLabel, None)):
        languages = {label.language for label in graph.objects(node, RDFS.label)}
        assert {"en", "fr"} <= languages, node


# --- JSON, explain and the command line ----------------------------------------------------------------------------

runner = CliRunner()


def test_json_is_stable(built_project: Built) -> None:
    got = answer(built_project, "Which operations does Canada conduct with the US?").as_json()
    assert list(got) == ["question", "language", "status", "message", "query", "title", "params", "rows", "total",
                         "quotes", "options", "suggestions"]
    assert got["query"] == "operations-with" and got["status"] == "answered" and got["language"] == "en"
    assert len(got["rows"]) == len(got["quotes"]) == got["total"] == 3
    json.dumps(got)


def kg_ask(*args: str) -> object:
    return runner.invoke(app, ["ask", *args], env={"COLUMNS": "250"})


@pytest.mark.parametrize("question", [
    "Which operations does Canada conduct with the US?",
    "Quelles opérations le Canada mène-t-il avec les États-Unis ?",
])
def test_cli_prints_the_us_operations_with_quotes(built_project: Built, question: str) -> None:
    result = kg_ask(question)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "operations-with" in out
    for quotes in US_OPERATIONS.values():
        for claim, quote in quotes:
            assert f"{claim}: “{quote}”" in out
    english = ["Canada–US cooperation in NORAD", "interdiction of illegal drugs in the Caribbean",
               "enforcement of sanctions on North Korea"]
    french = ["coopération canado-américaine au sein du NORAD",
              "interception de drogues illicites dans les Caraïbes",
              "application des sanctions contre la Corée du Nord"]
    names = french if question.startswith("Quelles") else english
    for name in names:
        assert name in out


def test_cli_json_and_explain(built_project: Built) -> None:
    result = kg_ask("What does Canada do in Iraq?", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["query"] == "activities-in-region" and document["params"] == {"region": str(ID.Iraq)}
    explained = kg_ask("What does Canada do in Iraq?", "--explain")
    assert explained.exit_code == 0
    assert "SELECT" in explained.output and "SPARQL:" in explained.output


def test_cli_unanswerable_exits_3(built_project: Built) -> None:
    result = kg_ask("Quelle est la couleur du ciel ?")
    assert result.exit_code == 3
    assert result.stdout.splitlines()[0] == "Je ne peux pas répondre à cette question à partir de ce graphe."
    assert kg_ask("?!").exit_code == 3


@pytest.mark.parametrize("question, refusal", [
    ("Do the ISO codes of the countries agree with Wikidata?", "I can't answer that from this graph: the closest query "
     "cannot run here (query iso-codes-wikidata: SERVICE is not allowed"),
    ("Les codes ISO des pays concordent-ils avec Wikidata ?", "Je ne peux pas répondre à cette question à partir de ce "
     "graphe : la requête la plus proche ne peut pas s'exécuter ici (query iso-codes-wikidata: SERVICE is not allowed"),
])
def test_cli_a_federated_question_without_allow_service_is_refused_saying_why(
    built_project: Built, question: str, refusal: str
) -> None:
    """A question whose query needs SERVICE was an error (exit 2; /ask a 400 Bad Request): the question is fine, the
    graph cannot answer it here, so it is unanswerable (exit 3), with the reason and the closest questions."""
    result = kg_ask(question, "--format", "json")
    assert result.exit_code == 3, result.output
    document = json.loads(result.stdout)
    assert document["status"] == "unanswerable" and document["message"].startswith(refusal)
    assert document["rows"] == [] and document["query"] is None and document["suggestions"]
    assert answer(built_project, question, allow_service=True).query == "iso-codes-wikidata"


def test_cli_counts_the_question_without_its_padding(built_project: Built) -> None:
    """The question's 28 characters, not its 1228 with the spaces, as /ask counts (kg ask refused it as too long)."""
    result = kg_ask(" " * 600 + "What does Canada do in Iraq?" + " " * 600, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["query"] == "activities-in-region"


def test_cli_lang_forces_the_reply_language_as_lang_does_over_http(built_project: Built) -> None:
    french = kg_ask("--lang", "fr", "Which operations does Canada conduct with the US?")
    assert french.exit_code == 0, french.output
    assert french.stdout.splitlines()[:2] == ["Requête : operations-with (Operations and activities with a partner)",
                                              "Paramètres : partner = États-Unis (id:UnitedStates), document = Defending "
                                              "common interests in our North American homeland & abroad (id:factsheet)"]
    german = kg_ask("--lang", "de", "What does Canada lead?")
    assert german.exit_code == 2 and "unknown language 'de'; use one of en, fr" in german.output


def test_cli_rejects_an_unknown_format() -> None:
    result = kg_ask("What does Canada lead?", "--format", "xml")
    assert result.exit_code == 2
    assert "unknown format 'xml'" in result.output


# --- the catalogue teaches: a new .rq file is a new question, without code -----------------------------------------


NEW_QUERY = """# title: Bodies of water
# description: The seas and oceans the graph knows.
# example-en: Which seas and oceans does the graph know?
# example-fr: Quelles mers et quels océans le graphe connaît-il ?
PREFIX kg: <https://w3id.org/defence-kg/ontology#>
SELECT ?water WHERE { ?water a kg:BodyOfWater }
"""


@pytest.mark.parametrize("question", [
    "What seas and oceans are in the graph?", "Quels océans et mers connaît le graphe ?",
])
def test_a_new_query_file_teaches_a_new_question(built_project: Built, tmp_path: Path, question: str) -> None:
    (tmp_path / "waters.rq").write_text(NEW_QUERY, encoding="utf-8")
    for name in ("partners", "timeline"):
        (tmp_path / f"{name}.rq").write_text((PROJECT_ROOT / "queries" / f"{name}.rq").read_text(encoding="utf-8"))
    got = answer(built_project, question, queries=tmp_path)
    assert got.query == "waters", got.as_text()
    assert {value(terms[0]) for terms in got.terms} == {"id:AtlanticOcean", "id:MediterraneanSea"}
    assert all(got.quotes)  # C36 supports both


def test_param_range_names_its_parameter(tmp_path: Path) -> None:
    from kg.errors import InputError
    from kg.query import parse_catalogue_query

    path = tmp_path / "broken.rq"
    path.write_text("# title: t\n# param: place entity = id:Arctic\n# param-range: region kg:Place\nSELECT * {}\n")
    with pytest.raises(InputError, match=r"broken.rq:3: malformed '# param-range:' line"):
        parse_catalogue_query(path)
    path.write_text("# title: t\n# param: place entity = id:Arctic\n# param-range: place kg:Place kg:State\nASK {}\n")
    assert parse_catalogue_query(path).params[0].range == ("kg:Place", "kg:State")


def test_an_unknown_reply_language_is_a_usage_error(built_project: Built) -> None:
    from kg.errors import UsageError

    with pytest.raises(UsageError, match="unknown language 'de'; use one of en, fr"):
        answer(built_project, "What does Canada lead?", lang="de")
    assert answer(built_project, "What does Canada lead?", lang="fr").language == "fr"


# --- a part of the question that the query cannot apply is never replaced by the query's default ---------------


@pytest.mark.parametrize("question, left_out", [
    ("What financial commitments has Canada made before 2020?", "“before 2020”"),
    ("What financial commitments has Canada made between 2016 and 2020?", "“between 2016 and 2020”"),
    ("What financial commitments has Canada made from 2016 to 2020?", "“from 2016 to 2020”"),
    ("Quels engagements financiers le Canada a-t-il pris avant 2020 ?", "« avant 2020 »"),
    ("Quels engagements financiers le Canada a-t-il pris entre 2016 et 2020 ?", "« entre 2016 et 2020 »"),
])
def test_a_year_range_the_query_cannot_apply_is_refused(built_project: Built, question: str, left_out: str) -> None:
    """financial-commitments-since takes a starting year only: "before 2020" read as "since 2020" gave the 2022
    support to Ukraine (C22), "between 2016 and 2020" dropped 2020."""
    got = answer(built_project, question)
    assert got.status == "unanswerable" and got.rows == [] and got.query == ""
    assert "(financial-commitments-since)" in got.message and left_out in got.message, got.message


@pytest.mark.parametrize("question", [
    "What financial commitments has Canada made after 2016?",
    "Quels engagements financiers le Canada a-t-il pris après 2016 ?",
])
def test_after_a_year_is_since_the_next_one(built_project: Built, question: str) -> None:
    """C45 "Since 2016, Canada has contributed more than $4.6 billion" began in 2016, not after it; C22 "Since 2022,
    Canada has committed $9.7 billion" did."""
    got = answer(built_project, question)
    assert got.params == {"year": "2017"}
    assert [value(terms[0]) for terms in got.terms] == ["id:UkraineSupport"]


@pytest.mark.parametrize("question, left_out", [
    ("What did Canada do in 2022?", "“2022”"),
    ("What happened in 1958?", "“1958”"),
])
def test_a_year_no_query_takes_is_refused_not_dropped(built_project: Built, question: str, left_out: str) -> None:
    """Neither the Arctic activities (the default region) nor every dated fact answers a question about one year."""
    got = answer(built_project, question)
    assert got.status == "unanswerable" and got.rows == []
    assert left_out in got.message, got.message


@pytest.mark.parametrize("question", [
    "What does Canada do in NORAD?", "Que fait le Canada dans le NORAD ?", "Que fait le Canada au sein du NORAD ?",
])
def test_an_entity_the_region_cannot_take_does_not_give_the_default_region(built_project: Built, question: str) -> None:
    """NORAD is not a place: activities-in-region must not answer with its default, the Arctic."""
    got = answer(built_project, question)
    assert str(ID.Arctic) not in got.params.values(), got.as_text()
    assert got.status == "unanswerable" or str(ID.NORAD) in got.params.values(), got.as_text()


def test_non_ascii_digits_are_not_a_year(built_project: Built) -> None:
    """"20٢٠" was taken as the year '20٢٠'; ignoring it would give the default 2015: neither is what was asked."""
    got = answer(built_project, "How much money has Canada committed since 20٢٠?")
    assert got.rows == [] and got.query == "" and got.exit_code == 3


@pytest.mark.parametrize("question, param, node", [
    ("What equipment has Canada donated to latvia?", "recipient", ID.Latvia),
    ("Which operations does Canada conduct with nato?", "partner", ID.NATO),
    ("Que fait le Canada avec l'otan ?", "partner", ID.NATO),
])
def test_a_lower_case_name_in_a_capitalised_question_is_recognised(
    built_project: Built, question: str, param: str, node: URIRef,
) -> None:
    """Only a name made of everyday words ("us") needs its capitals; the default (Ukraine, the United States) was
    answered instead."""
    assert answer(built_project, question).params[param] == str(node)


@pytest.mark.parametrize("question", [
    "What's NATO's mission?", "Canada's partners", "Don't list Canada's partners, list NORAD's missions",
])
def test_english_possessives_and_contractions_are_english(built_project: Built, question: str) -> None:
    """The 's, 't of English were counted as the French elisions s', t' and switched the reply to French."""
    assert answer(built_project, question).language == "en"


def test_french_elisions_are_still_french(built_project: Built) -> None:
    assert answer(built_project, "Quelle est la mission de l'OTAN ?").language == "fr"


@pytest.mark.parametrize("question", ["What is the founding of NORAD?", "Qu'est-ce que la fondation du NORAD ?"])
def test_a_name_known_by_its_search_aid_is_found(built_project: Built, question: str) -> None:
    """"founding of NORAD" is a skos:hiddenLabel, which find-entity does not match: it got the hidden name and no
    row; it is given the node's label."""
    got = answer(built_project, question)
    assert got.query == "find-entity", got.as_text()
    assert [value(terms[0]) for terms in got.terms] == ["id:NORADFounding"]


@pytest.mark.parametrize("question, case", [
    ("What does Canada do about North Korea?", "sanctions"),  # C38 (and C39, C40), next to Venezuela's (C15)
    ("What does Canada do in North Korea?", "sanctions"),
    ("What does Canada do about Venezuela?", "sanctions"),
    ("What does Canada do about Russia?", "threats-countered"),  # "deterring Russian aggression" (C33)
    ("What does Canada do for Ukraine?", "contributions-to-region[Ukraine]"),  # C22-C30
    ("What does Canada do about Ukraine?", "contributions-to-region[Ukraine]"),
    ("What is Canada doing about North Korea?", "sanctions"),  # "doing", as "do", is no topic word
    ("What is Canada doing in Ukraine?", "contributions-to-region[Ukraine]"),
    # French: « fait » (do) and « au sujet de », « à propos de » (about) were taken for topic words
    ("Que fait le Canada au sujet de la Corée du Nord ?", "sanctions"),
    ("Que fait le Canada contre la Corée du Nord ?", "sanctions"),
    ("Que fait le Canada à propos de la Russie ?", "threats-countered"),
    ("Que fait le Canada pour l'Ukraine ?", "contributions-to-region[Ukraine]"),
    # no query's examples are close: the answer about what is done still names it
    ("What does Canada do about DAESH?", "threats-countered"),  # C48
    ("Que fait le Canada contre Daech ?", "threats-countered"),
    ("Que donne le Canada à l'Ukraine ?", "contributions-to-region[Ukraine]"),  # « donne »: a function word
])
def test_a_name_no_activity_is_located_in_gets_what_is_done_about_it(
    built_project: Built, question: str, case: str
) -> None:
    """activities-in-region (the closest query: "What does Canada do in the Arctic?") has no row for North Korea,
    Venezuela, Russia or Ukraine, and the answer was "No answer"; the question names nothing but the place, so the
    closest query whose answer is about things done and names it answers instead."""
    _answered_as_case(built_project, question, case)


@pytest.mark.parametrize("question", ["What does Canada do in Syria?", "Que fait le Canada en Syrie ?"])
def test_an_answer_limited_to_the_name_comes_first(built_project: Built, question: str) -> None:
    """« en Syrie » got the crises (every one, C45's in Iraq and Syria among them), "in Syria" the contributions to
    Syria: of the queries that answer about a name, one taking it as its parameter answers about it alone. Syria
    receives one: "more than \\$4.6 billion in response to the crises in Iraq and Syria" (C45)."""
    got = answer(built_project, question)
    assert (got.status, got.query, got.params) == ("answered", "contributions-to-region", {"region": str(ID.Syria)})
    assert [(value(t[0]), value(t[2])) for t in got.terms] == [("id:MiddleEastCrisisResponse", "id:Canada")]


@pytest.mark.parametrize("question, quoted", [
    ("What does Canada do in NORAD?", 1),  # the closest query's empty answer: none of the others names NORAD
    ("What does Canada do about North Korea?", 2),  # activities-in-region's empty answer, then the sanctions
])
def test_the_quotes_are_looked_up_for_the_answers_given_only(
    built_project: Built, monkeypatch: pytest.MonkeyPatch, question: str, quoted: int
) -> None:
    """Looking for a query whose answer names North Korea ran each candidate with its quotes (kg.query.why, most of
    the time of a query): about 2 s for a question that no query answers, against 0.4 s with the rows alone."""
    import kg.ask

    calls = []
    monkeypatch.setattr(kg.ask, "why", lambda graph, outcome, *query: calls.append(outcome) or why(graph, outcome, *query))
    answer(built_project, question)
    assert len(calls) == quoted


def test_what_canada_does_about_north_korea_is_quoted(built_project: Built) -> None:
    """Each of the three ways the sanctions on North Korea are enforced comes with the claim stating them."""
    got = answer(built_project, "What does Canada do about North Korea?")
    target = got.columns.index("target")
    quotes = [{(q["id"], q["quote"]) for q in row} for terms, row in zip(got.terms, got.quotes)
              if value(terms[target]) == "id:NorthKorea"]
    assert len(quotes) == 3
    assert all(("C38", "Canada works with the United States and Allies to enforce sanctions on North Korea") in q
               for q in quotes)


def test_of_two_queries_alike_the_one_with_rows_answers(built_project: Built) -> None:
    """« pour la Jordanie » fits operations-with (a partner) as well as activities-in-region: the question came back
    (which did you mean?), though only the second has rows: capacity building in Jordan (C50), which the CAF
    support."""
    got = answer(built_project, "Que fait le Canada pour la Jordanie ?")
    assert (got.status, got.query, got.params) == ("answered", "activities-in-region", {"region": str(ID.Jordan)})
    assert sorted((value(t[0]), value(t[2]), value(t[4])) for t in got.terms) == [
        ("id:CapacityBuildingContribution", "id:CanadianArmedForces", "supports an activity located there"),
        ("id:MiddleEastCapacityBuilding", None, "located there"),
    ]


@pytest.mark.parametrize("question", [
    "What sanctions does Canada enforce on North Korea?", "Quelles sanctions visent la Corée du Nord ?",
])
def test_sanctions_on_a_state_they_target_are_answered(built_project: Built, question: str) -> None:
    """sanctions takes no parameter and its examples name no state, so naming North Korea cost it the penalty for
    an entity it would ignore, and the question was refused; its answer names North Korea (C38)."""
    got = _answered_as_case(built_project, question, "sanctions")
    assert got.message == "", got.as_text()


@pytest.mark.parametrize("question, case", [
    ("How many types of equipment has Canada donated to Ukraine?", "equipment-donated[default-Ukraine]"),  # C23-C29
    ("Combien de pays sont membres de l'OTAN ?", "members"),  # Canada, a founding member (C04)
    ("How many sanctions does Canada enforce?", "sanctions"),
    # found through the names (the closest query has no rows): the note was left out on that way
    ("How many ships does Canada have in the Indo-Pacific?", "deployments-by-region"),
])
def test_how_many_is_answered_by_the_list_to_count(built_project: Built, question: str, case: str) -> None:
    """A count ("how many", « combien de ») is no amount: the list answers it (they were refused once "how much"
    was kept for the queries whose examples ask it, as "how many" was too), and says that it holds what the fact
    sheet states: "1" member of NATO is Canada, the one it names, not how many there are."""
    got = _answered_as_case(built_project, question, case)
    assert got.message == {
        "en": "Note: these are the ones the fact sheet states, which need not be all there are.",
        "fr": "Remarque : ce sont ceux que la fiche d'information énonce, qui ne sont pas forcément tous.",
    }[got.language]


def test_a_count_the_source_states_is_its_own_answer(built_project: Built) -> None:
    """"Over 40,000" trained (C31) is the figure asked for: no note that the rows may not be all there are."""
    got = answer(built_project, "How many Ukrainian personnel has Canada trained?")
    assert (got.status, got.query, got.message) == ("answered", "personnel-trained", "")
    assert [value(t[got.columns.index("count")]) for t in got.terms] == [40000]


@pytest.mark.parametrize("question", [
    "How much money has Canada given to Jordan?", "Combien le Canada a-t-il donné à la Jordanie ?",
])
def test_how_much_answered_without_a_figure_says_the_source_states_none(built_project: Built, question: str) -> None:
    """Jordan receives CAF troops and equipment for capacity building (C48, C50), with no amount: the row says what
    was given, and the answer says that no amount is stated (it used to list the rows with no word of it)."""
    got = _answered_as_case(built_project, question, "contributions-to-region[Jordan]")
    assert got.message == {
        "en": "Note: the fact sheet states no amount for these; this is what it says they are.",
        "fr": "Remarque : la fiche d'information n'énonce aucun montant pour ces réponses ; voici ce qu'elle en dit.",
    }[got.language]


def test_how_much_with_a_stated_figure_gives_it_first(built_project: Built) -> None:
    """"$9.7 billion in multifaceted support to Ukraine" (C22): the amount asked for, on the first row, with no
    note (contributions-to-region gave no amount at all, although its examples ask how much)."""
    got = _answered_as_case(built_project, "How much has Canada pledged to Ukraine?", "contributions-to-region[Ukraine]")
    assert got.message == ""
    first = dict(zip(got.columns, got.terms[0]))
    assert (value(first["commitment"]), value(first["value"]), value(first["unit"])) == (
        "id:UkraineSupport", Decimal("9700000000"), "CAD")


@pytest.mark.parametrize("question", [
    "Who provides tactical airlift?",
    "Qui assure le transport aérien tactique ?",
    "What does Air Task Force Prestwick provide?",
])
def test_who_provides_tactical_airlift_is_prestwick_first(built_project: Built, question: str) -> None:
    """"Canada's Air Task Force Prestwick provides tactical airlift to CAF operations in Central and Eastern Europe,
    and around the globe" (C37): the contributions by kind, the row naming what the question names first, with its
    quote. These were refused (no example asked who provides a kind; the last was listed as unanswerable)."""
    got = _answered_as_case(built_project, question, "contributions")
    first = dict(zip(got.columns, got.terms[0]))
    assert (value(first["contribution"]), value(first["contributed"]), value(first["actor"])) == (
        "id:PrestwickTacticalAirlift", "id:TacticalAirlift", "id:AirTaskForcePrestwick")
    assert [quote["id"] for quote in got.quotes[0]] == ["C37"]


@pytest.mark.parametrize("question", ["How long has NORAD existed?", "Depuis combien d'années le NORAD existe-t-il ?"])
def test_how_long_has_norad_existed_is_its_derived_founding_first(built_project: Built, question: str) -> None:
    """"NORAD celebrated its 65th anniversary in 2023" (C12): the founding dates, NORAD's first, 1958 and marked
    derived (the source never states the year). This was refused."""
    got = _answered_as_case(built_project, question, "founding-dates")
    first = dict(zip(got.columns, got.terms[0]))
    assert (value(first["organisation"]), value(first["year"]), value(first["derived"])) == (
        "id:NORAD", "1958", Boolean(True))


@pytest.mark.parametrize("question", [
    "How much has Canada contributed in response to the crises in Iraq and Syria?",
    "Combien le Canada a-t-il donné en réponse aux crises en Irak et en Syrie ?",
])
def test_how_much_in_response_to_the_crises_is_the_crises_answer(built_project: Built, question: str) -> None:
    """Once "how much" asked only the queries whose examples ask it, the crises (whose response C45 states as
    "more than \\$4.6 billion") no longer answered this: its examples ask it now."""
    got = _answered_as_case(built_project, question, "crises")
    assert "C45" in {quote["id"] for quotes in got.quotes for quote in quotes}
    assert got.message == ""  # the rows hold the amount (they held none, and the answer said none was stated)


@pytest.mark.parametrize("question", ["Who publishes this fact sheet?", "Qui a publié cette fiche ?"])
def test_who_publishes_is_the_source_document_with_its_signature(built_project: Built, question: str) -> None:
    """It was timeline (or a choice of timeline and relationships): the publisher is the Government of Canada,
    which the closing wordmark states (C52), and the row quotes it (queries/why/source-document.rq); the
    currency of its figures, C51, too."""
    got = _answered_as_case(built_project, question, "source-document")
    assert [[quote["id"] for quote in quotes] for quotes in got.quotes] == [["C51", "C52"]]


@pytest.mark.parametrize(("question", "query", "name"), [
    # sanctions lists every sanctions regime (on Venezuela, C15, and on North Korea, C38): none is about Latvia
    ("Which sanctions does Canada impose or enforce on Latvia?", "sanctions", "Latvia"),
    # alignments, whose example "Does Canada work with the US on Venezuela?" shares "work with", lists Venezuela's
    # alignments: they were the answer, with a note; the Arctic partners (C19) and the partners on North Korea
    # (C38) are no alignment
    ("Who does Canada work with in the Arctic?", "alignments", "the Arctic"),
    ("Avec qui le Canada travaille-t-il au sujet de la Corée du Nord ?", "alignments", "Corée du Nord"),
])
def test_rows_about_other_things_are_no_answer(built_project: Built, question: str, query: str, name: str) -> None:
    """A query without parameters whose rows name neither an entity of the question nor anything one statement
    from it answers another question: refused, saying which name it cannot apply, rather than its rows given
    with a note that they are not narrowed to it."""
    got = answer(built_project, question)
    assert (got.status, got.rows, got.query) == ("unanswerable", [], ""), got.as_text()
    assert f"({query})" in got.message and name in got.message, got.message


@pytest.mark.parametrize(("question", "query", "params", "first"), [
    # "donations of ... drone cameras" (C27), to Ukraine (C22-C29): the donation of drone cameras comes first
    ("Has Canada sent drone cameras to Ukraine?", "equipment-donated", {"recipient": "Ukraine"},
     "id:DonationDroneCameras"),
    # "an air defence system (NASAMS)" (C23)
    ("What air defence system did Canada give Ukraine?", "equipment-donated", {"recipient": "Ukraine"},
     "id:DonationNASAMS"),
    # "Canadian ships and aircraft cooperate with the U.S. in the Caribbean" (C20)
    ("What do Canadian ships do in the Caribbean?", "activities-in-region", {"region": "Caribbean"},
     "id:CaribbeanDrugInterdiction"),
    # "As a Pacific nation" (C41)
    ("Is Canada a Pacific nation?", "nation-of", {"state": "Canada"}, "id:Pacific"),
])
def test_a_query_whose_parameters_the_question_fills_answers_about_one_more_name(
    built_project: Built, question: str, query: str, params: dict[str, str], first: str
) -> None:
    """A query with every parameter taken from the question answers although the question names one more thing,
    when its rows are about it (a row's node or one statement from one), and those rows come first: they were
    refused ("cannot apply “drone cameras”"). One parameter left to its default still refuses ("What does Canada
    do in NATO?" is not about the Arctic)."""
    got = answer(built_project, question)
    assert (got.status, got.query) == ("answered", query), got.as_text()
    assert got.params == {name: str(ID[local]) for name, local in params.items()}
    assert value(got.terms[0][0]) == first


@pytest.mark.parametrize(("question", "name"), [
    ("What does Canada do in the Arctic with NATO?", "NATO"),  # its Arctic activities are with Arctic partners
    ("Is Canada a Caribbean nation?", "Caribbean"),  # an Arctic and a Pacific nation (C17, C41); not said of it
])
def test_rows_not_about_the_one_more_name_are_no_answer(built_project: Built, question: str, name: str) -> None:
    got = answer(built_project, question)
    assert (got.status, got.rows) == ("unanswerable", []), got.as_text()
    assert name in got.message


def test_rows_one_statement_from_the_entity_are_about_it(built_project: Built) -> None:
    """Venezuela is named by no row of alignments (their goal is "a stable and democratic Venezuela", C16), but the
    diplomacy is towards it: the rows are about it, and answer."""
    got = answer(built_project, "Whose efforts are aligned with Canada's efforts on Venezuela?")
    assert (got.status, got.query) == ("answered", "alignments"), got.as_text()


@pytest.mark.parametrize("question, case", [
    ("How much has Canada committed to Ukraine?", "contributions-to-region[Ukraine]"),
    ("How much does Canada give to Ukraine?", "contributions-to-region[Ukraine]"),
    ("Combien le Canada a-t-il donné à l'Ukraine ?", "contributions-to-region[Ukraine]"),
    ("Combien le Canada a-t-il engagé pour l'Ukraine ?", "contributions-to-region[Ukraine]"),
    ("How much money has Canada committed to the Middle East?", "contributions-to-region[default-MiddleEast]"),
])
def test_how_much_is_given_to_a_place_is_what_goes_to_it(built_project: Built, question: str, case: str) -> None:
    """"How much ... to Ukraine?" was commitments, all 16 of them, whatever the recipient (its example named Ukraine
    without a parameter to take it); « Combien ... donné à l'Ukraine ? » was equipment-donated, seven types of
    equipment and no amount. "How much" and « combien » ask for an amount: what goes to the place, with the figure
    the source states in the quotes (C22 for Ukraine). For the Middle East the source states no amount: its "more
    than $4.6 billion" (C45) responds to the crises in Iraq and Syria, which no sentence places in the Middle East,
    so the answer is the troops and equipment of C47-C50, without a figure, rather than a figure it cannot trace."""
    expected = CASES_BY_ID[case]
    got = answer(built_project, question)
    region = _entity(expected.params.get("region", "id:MiddleEast"))
    assert (got.status, got.query, got.params) == ("answered", "contributions-to-region", {"region": region})
    assert Counter(value(terms[0]) for terms in got.terms) == Counter(row[0] for row in expected.expected)
    figures = [quote["quote"] for quotes in got.quotes for quote in quotes if quote["id"] in ("C22", "C45")]
    assert figures == (["Since 2022, Canada has committed \\$9.7 billion in multifaceted support to Ukraine"]
                       if region == str(ID.Ukraine) else [])


@pytest.mark.parametrize("question", [
    "Which countries are NATO members?",
    "Quels pays sont membres de l'OTAN ?",
    "Which countries are members of NATO?",
])
def test_nato_members_are_answered_from_the_fact_sheet(built_project: Built, question: str) -> None:
    """"Canada is a founding member of NATO" (C04): members answers, with NATO as the organisation and Canada
    as its one stated member. It was memberships of Canada, an answer to another question that happened to
    share its rows, and before that nato-members-mentioned, Wikidata's members, which has no rows before kg
    enrich ("No answer")."""
    got = answer(built_project, question)
    assert (got.status, got.query, got.params) == ("answered", "members", {"organisation": str(ID.NATO)})
    assert [(value(t[1]), value(t[3])) for t in got.terms] == [("id:Canada", "id:FoundingMember")]
    assert [[q["id"] for q in quotes] for quotes in got.quotes] == [["C04"]]
    assert got.message == ""


@pytest.mark.parametrize("question", [
    "What is the Canada–US relationship?",
    "What is the Canada–US defence relationship?",
    "What relationship does Canada have with the U.S.?",
    "Quelle est la relation entre le Canada et les États-Unis ?",
    "Quelle relation le Canada entretient-il avec les É.-U. ?",
])
def test_the_canada_us_relationship_is_the_relationships_answer(built_project: Built, question: str) -> None:
    """"Canada and the United States share a deep, enduring relationship" (C01) that "helped assure the security of
    our common North American homeland" (C02): "What is the Canada–US defence relationship?" got the timeline,
    noting that no row mentions the United States, "…have with the U.S.?" the operations with the US."""
    got = answer(built_project, question)
    assert (got.status, got.query, got.params) == ("answered", "relationships", {"party": str(ID.UnitedStates)})
    assert [(value(t[0]), value(t[1]), value(t[2])) for t in got.terms] == [
        ("id:CanadaUSRelationship", "id:Canada", "deep, enduring")]
    assert "C01" in [q["id"] for q in got.quotes[0]]


@pytest.mark.parametrize("question, language, query, params", [
    ("NORAD founding date", "en", "founding-dates", {}),
    ("NATO missions", "en", "missions", {"organisation": str(ID.NATO)}),
    ("Timeline", "en", "timeline", {}),
    ("Chronologie", "fr", "timeline", {}),
    ("Missions OTAN", "fr", "missions", {"organisation": str(ID.NATO)}),  # NATO's name in French only
    ("Missions NATO", "en", "missions", {"organisation": str(ID.NATO)}),  # ... and in English only
])
def test_keywords_that_one_query_stands_out_for_are_answered(
    built_project: Built, question: str, language: str, query: str, params: dict[str, str]
) -> None:
    """No function word says what is asked, so a question of keywords was always refused, even when the one query
    they fit was its first suggestion; "Chronologie" is French (a word of the French examples only), and so is
    "Missions OTAN": "missions" is a word of both languages and "OTAN" a name, which did not count (English)."""
    got = answer(built_project, question)
    assert (got.status, got.language, got.query, got.params) == ("answered", language, query, params)


def test_founding_date_keywords_get_both_founding_years(built_project: Built) -> None:
    """NATO's "founding in 1949" (C06); NORAD's 65th anniversary in 2023 (C12): 1958."""
    got = answer(built_project, "NORAD founding date")
    organisation, year = got.columns.index("organisation"), got.columns.index("year")
    assert sorted((value(t[organisation]), value(t[year])) for t in got.terms) == [("id:NATO", "1949"),
                                                                                ("id:NORAD", "1958")]


@pytest.mark.parametrize("question, suggestion", [
    ("Canada commitments", "What has Canada committed, and how much?"),  # commitments, their total, since a year
    ("Canada", "Is Canada a founding member of NATO?"),  # anything Canada does
])
def test_keywords_several_queries_fit_alike_are_refused_with_suggestions(
    built_project: Built, question: str, suggestion: str
) -> None:
    got = answer(built_project, question)
    assert (got.status, got.query, got.rows) == ("unanswerable", "", [])
    assert suggestion in got.suggestions


@pytest.mark.parametrize("question, case, entity, claim", [
    # sanctions, by target: North Korea's three ways of enforcing them (C38-C40), then Venezuela's imposition (C15)
    ("What does Canada do about Venezuela?", "sanctions", ID.Venezuela, "C15"),
    # threats-countered, by threat: DAESH (C48) twice, then "deterring Russian aggression against the Alliance" (C33)
    ("What does Canada do about Russia?", "threats-countered", ID.Russia, "C33"),
])
def test_the_rows_naming_an_entity_the_query_ignores_come_first(
    built_project: Built, question: str, case: str, entity: URIRef, claim: str
) -> None:
    """A query without parameters answers for the entity its rows name, in the query's order, where the row about
    the entity came after the others; it now comes first, and the others follow (none is left out)."""
    got = _answered_as_case(built_project, question, case)
    assert entity in got.terms[0] and claim in {q["id"] for q in got.quotes[0]}
    assert all(entity not in terms for terms in got.terms[1:])


@pytest.mark.parametrize("question, case", [
    ("What does Canada contribute to United Nations Command?", "contributions-to-region[UnitedNationsCommand]"),
    ("What does Canada do for the United Nations Command?", "contributions-to-region[UnitedNationsCommand]"),
    ("Que fournit le Canada au Commandement des Nations Unies ?", "contributions-to-region[UnitedNationsCommand]"),
    ("What does Canada contribute to the Global Coalition to Defeat DAESH?",
     "contributions-to-region[GlobalCoalitionToDefeatDAESH]"),
])
def test_contributions_to_an_organisation_are_answered(built_project: Built, question: str, case: str) -> None:
    """contributions-to-region took a place only, so an organisation that receives a contribution (United Nations
    Command, C39; the Global Coalition to Defeat DAESH, C48) could not be asked about: the question was refused."""
    assert _answered_as_case(built_project, question, case).query == "contributions-to-region"


# --- on every store ----------------------------------------------------------------------------------------------

EXAMPLES_AND_PARAPHRASES = sorted(
    {question for query in CATALOGUE.values() for _, question in query.examples}
    | {row["question"] for row in PARAPHRASE_ROWS}
)
_READERS: dict[str, Built] = {}


def _reader(store) -> Built:
    """The store's data as kg ask and kg serve's pages read it on that store (`--store`): its view, whose queries the
    store's own engine answers; one per store, so that its Asker is made once."""
    if store.spec not in _READERS:
        _READERS[store.spec] = Built(store.view(), report=None)
    return _READERS[store.spec]


@pytest.fixture(scope="module")
def memory_answers(enriched_built: Built) -> dict[str, dict]:
    return {question: answer(enriched_built, question, allow_service=True).as_json() for question in EXAMPLES_AND_PARAPHRASES}


def test_every_question_is_answered_alike_on_every_store(project_store, memory_answers: dict[str, dict]) -> None:
    """kg ask --store and kg serve's /ask on a store: the catalogue's examples and the held-out paraphrases get the
    reference build's answers (rows, quotes, messages), the queries and quotes run by the store's own engine."""
    built = _reader(project_store)
    differing = [
        question for question in EXAMPLES_AND_PARAPHRASES
        if answer(built, question, allow_service=True).as_json() != memory_answers[question]
    ]
    assert differing == []


def test_a_view_is_queried_by_its_own_store(project_store) -> None:
    """as_store gives a view's own store, whose engine evaluates the queries (not rdflib's, reading the view a
    triple pattern at a time)."""
    if project_store.spec == "memory":
        pytest.skip("the memory store's view is its dataset, which a MemoryStore wraps")
    assert as_store(project_store.view()) is project_store


def test_a_long_answer_shows_its_first_rows_and_says_how_many_there_are(
    enriched_built: Built, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listing longer than MAX_ROWS (a large graph's) shows its first rows with their quotes, and says how many
    rows the query gave and which query gives them all; `terms` keeps every row, in the order shown."""
    whole = answer(enriched_built, "Which operations does Canada conduct with the US?")
    monkeypatch.setattr("kg.ask.MAX_ROWS", 2)
    cut = answer(enriched_built, "Which operations does Canada conduct with the US?")
    assert (cut.status, len(whole.rows), len(cut.rows), len(cut.quotes)) == ("answered", 3, 2, 2)
    assert (cut.rows, cut.quotes, cut.terms) == (whole.rows[:2], whole.quotes[:2], whole.terms)
    assert cut.message == "These are the first 2 of 3 answers; the query operations-with gives them all."
    assert cut.as_json()["total"] == 3 and whole.message == ""
    french = answer(enriched_built, "Quelles opérations le Canada mène-t-il avec les États-Unis ?")
    assert french.message == ("Voici les 2 premières réponses sur 3 ; la requête operations-with les donne toutes.")


def test_a_catalogue_query_without_example_questions_is_never_chosen_and_breaks_nothing(tmp_path: Path) -> None:
    """The pipeline fixture's claims-by-section has no `# example-…:` line: kg ask failed on any question with a
    KeyError (no topic was recorded for that query) instead of answering from the other query."""
    project = copy_project(tmp_path / "project")
    assert not load_catalogue(project.queries)["claims-by-section"].examples
    result = runner.invoke(app, ["--root", str(project.root), "ask", "--format", "json", "What does Canada do with the US?"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["query"] == "partner-activities"


def test_kg_ask_keeps_a_stores_index_for_the_next_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first `kg --store oxigraph:PATH ask` makes the Asker (on 2 M triples, half a minute of reading names and
    words) and saves it in the build cache, under the store's build key and the catalogue; the next command reads
    it and answers alike. An unreadable file is made anew, a changed catalogue gets an index of its own (the old one
    goes), and the memory store saves none."""
    project = copy_project(tmp_path / "project")

    def kg(*args: str) -> object:
        return runner.invoke(app, ["--root", str(project.root), *args])

    spec = f"oxigraph:{tmp_path / 'store'}"
    built = kg("--store", spec, "build", "--reasoner", "rules", "--validator", "sparql", "--out", str(tmp_path / "out"))
    assert built.exit_code == 0, built.output
    made = []
    make = Asker.__init__
    monkeypatch.setattr(Asker, "__init__", lambda self, *args: made.append(1) or make(self, *args))
    question = "What does Canada do with the US?"
    first = kg("--store", spec, "ask", "--format", "json", question)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["query"] == "partner-activities" and len(made) == 1
    saved = list((project.root / ".kg-cache" / "ask").glob("*.pickle"))
    assert len(saved) == 1
    assert kg("--store", spec, "ask", "--format", "json", question).stdout == first.stdout and len(made) == 1
    saved[0].write_bytes(b"not a pickle")
    assert kg("--store", spec, "ask", "--format", "json", question).stdout == first.stdout and len(made) == 2
    assert isinstance(pickle.loads(saved[0].read_bytes()), Asker)
    with (project.queries / "partner-activities.rq").open("a", encoding="utf-8") as query:
        query.write("# (a changed catalogue)\n")
    assert kg("--store", spec, "ask", "--format", "json", question).stdout == first.stdout and len(made) == 3
    assert [p.name for p in (project.root / ".kg-cache" / "ask").glob("*.pickle")] not in ([], [saved[0].name])
    assert len(list((project.root / ".kg-cache" / "ask").glob("*.pickle"))) == 1
    shutil.rmtree(project.root / ".kg-cache")
    in_memory = kg("ask", "--format", "json", question)
    assert json.loads(in_memory.stdout) == json.loads(first.stdout) and len(made) == 4
    assert not (project.root / ".kg-cache" / "ask").exists()


def test_kg_ask_reads_the_store_it_is_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`kg --store oxigraph:PATH ask` answers from that store (the memory build's answer, from Oxigraph), and refuses
    a store that is not there rather than answering from the memory build."""
    monkeypatch.setenv("KG_CACHE_DIR", str(tmp_path / "cache"))
    spec = f"oxigraph:{tmp_path / 'store'}"
    question = "Quelles opérations le Canada mène-t-il avec les États-Unis ?"
    missing = runner.invoke(app, ["--store", f"oxigraph:{tmp_path / 'none'}", "ask", question])
    assert (missing.exit_code, missing.stdout) == (2, "")
    assert "no oxigraph store at" in missing.stderr
    built = runner.invoke(app, ["--store", spec, "build", "--out", str(tmp_path / "dist")])
    assert built.exit_code == 0, built.output
    on_store = runner.invoke(app, ["--store", spec, "ask", "--format", "json", question])
    in_memory = runner.invoke(app, ["ask", "--format", "json", question])
    assert on_store.exit_code == in_memory.exit_code == 0, on_store.output
    assert json.loads(on_store.stdout) == json.loads(in_memory.stdout)
    assert json.loads(on_store.stdout)["total"] == 3
