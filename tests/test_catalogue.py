"""The query catalogue (queries/*.rq): every competency question gives exactly the answer the source gives.

Each case names a query, its parameters (strings, as a user types them) and the expected rows, written by
hand from the fact sheet (data/sources/canada-us-defence-factsheet.txt): the comment above each case quotes
the sentence that justifies it. Rows are compared on the columns each case lists: IRIs as CURIEs, numbers
as numbers, booleans as booleans (never equal to 1 or 0), other literals by lexical form, unbound as None. Label columns are not
repeated here; `test_label_columns_are_in_their_language` checks them for every case.
A query without a case fails `test_every_query_has_an_expected_answer`.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from rdflib import BNode, Literal, URIRef, Variable
from rdflib.namespace import XSD

from conftest import copy_of

from kg.errors import InputError
from kg.load import curie, new_dataset
from kg.namespaces import ID, PROJECT_ROOT
from kg.query import load_catalogue, run_query, why
from kg.store import MemoryStore

QUERIES = PROJECT_ROOT / "queries"
SOURCE = PROJECT_ROOT / "data" / "sources" / "canada-us-defence-factsheet.txt"


@pytest.fixture(scope="session")
def kg_store(project_store):
    """The project's built dataset (asserted + inferred graphs, and the fixture enrichment cache) in each store: memory, oxigraph, sparql.
    Every answer must be the same on each."""
    return project_store


@pytest.fixture(scope="session")
def catalogue():
    return load_catalogue(QUERIES)


@dataclass(frozen=True)
class Boolean:
    """An xsd:boolean answer: unequal to the numbers 1 and 0 (Python's True == 1 would let an integer pass)."""

    value: bool


def value(term):
    """A result term as the cases write it: CURIE for an IRI, number, Boolean, lexical form, or None."""
    if term is None:
        return None
    if isinstance(term, URIRef):
        return curie(term)
    if isinstance(term, BNode):
        return "_:"
    if isinstance(term, Literal):
        if term.datatype == XSD.boolean:
            return Boolean(term.toPython())
        python = term.toPython()
        if isinstance(python, (int, float, Decimal)) and not isinstance(python, bool):
            return Decimal(str(python))
        return str(term)
    return str(term)


_ANSWERS: dict[tuple, tuple] = {}


def _answer(kg_store, catalogue, name, params):
    """(header, normalised rows, rdflib result) of a catalogue query, run once per store and parameter set."""
    key = (id(kg_store), name, tuple(sorted(params.items())))
    if key not in _ANSWERS:
        result = run_query(kg_store, catalogue[name], params, allow_service=True)
        header = tuple(str(v) for v in result.vars)
        # (from the bindings: iterating an rdflib Result skips a row with every column unbound)
        rows = [tuple(value(binding.get(var)) for var in result.vars) for binding in result.bindings]
        _ANSWERS[key] = (header, rows, result)
    return _ANSWERS[key]


@dataclass
class Case:
    query: str
    columns: tuple[str, ...]
    rows: list[tuple]
    params: dict[str, str] = field(default_factory=dict)
    ordered: bool = False
    id: str = ""
    xfail: str | None = None

    def __post_init__(self):
        for row in self.rows:
            assert len(row) == len(self.columns), f"{self.query}: row {row} does not match {self.columns}"

    @property
    def test_id(self) -> str:
        return self.query + (f"[{self.id}]" if self.id else "")

    @property
    def expected(self) -> list[tuple]:
        """The rows as `value` gives them: booleans compared strictly (a store's 1 is not true)."""
        return [tuple(Boolean(v) if isinstance(v, bool) else v for v in row) for row in self.rows]


N = None  # an unbound column
# How NORAD's founding year follows from C12 (the derived fact's own account, which both queries show).
NORAD_DERIVATION = "The source states that NORAD celebrated its 65th anniversary in 2023; 2023 − 65 = 1958."

# The exact header (projected variables, in order) of every query: the CLI's and the exports' contract.
HEADERS = {
    "operations-with": ("activity", "activityLabel", "actor", "actorLabel", "via", "viaLabel"),
    "memberships": ("membership", "organisation", "organisationLabel", "role", "roleLabel"),
    "members": ("membership", "member", "memberLabel", "role", "roleLabel"),
    "founding-dates": ("founding", "organisation", "organisationLabel", "year", "derived", "derivation"),
    "commitments": ("commitment", "commitmentLabel", "kind", "provider", "recipient", "value",
                    "valueIsLowerBound", "unit", "since"),
    "commitment-total": ("currency", "provider", "isoCode", "exactSum", "exactCount", "lowerBoundSum",
                         "lowerBoundCount", "combinedSum", "combinedIsLowerBound", "combinedQualifier"),
    "equipment-donated": ("donation", "equipmentType", "equipmentTypeLabel", "broaderType", "broaderTypeLabel",
                          "provider"),
    "personnel-trained": ("training", "provider", "trainee", "traineeLabel", "count", "countIsLowerBound", "unit",
                          "since"),
    "where-canada-leads": ("led", "ledLabel", "location", "locationLabel"),
    "seas-patrolled": ("patrol", "sea", "seaLabel", "actor", "actorLabel", "partner", "partnerLabel"),
    "deployments-by-region": ("activity", "actor", "actorLabel", "asset", "assetLabel", "assetClass", "region",
                              "regionLabel"),
    "sanctions": ("sanction", "sanctionLabel", "target", "targetLabel", "activity", "activityLabel", "actor",
                  "actorLabel", "role"),
    "threats-countered": ("threat", "threatLabel", "counteredBy", "counteredByLabel", "threatActor", "threatens"),
    "timeline": ("fact", "year", "kind", "label"),
    "derived-facts": ("fact", "label", "derivation", "claim", "claimId"),
    "provenance": ("fact", "relation", "claim", "claimId", "section", "quote", "start", "end", "document"),
    "targets": ("target", "label", "level", "targetYear", "concerns", "pursuedBy", "ledBy", "accomplished"),
    "goals": ("goal", "goalLabel", "pursuedBy", "pursuedByLabel", "targetYear"),
    "activities-by-location": ("activity", "activityLabel", "place", "placeLabel", "actor", "actorLabel"),
    "activities-in-region": ("activity", "activityLabel", "actor", "actorLabel", "relation"),
    "contributions-to-region": ("commitment", "commitmentLabel", "provider", "providerLabel", "value",
                                "valueIsLowerBound", "unit"),
    "equipment-by-type": ("activity", "activityLabel", "actor", "actorLabel", "equipment", "equipmentLabel", "use"),
    "equipment-hierarchy": ("type", "typeLabel", "broader", "broaderLabel", "depth"),
    "nation-of": ("region", "regionLabel"),
    "staff-nationalities": ("organisation", "organisationLabel", "nationality", "nationalityLabel",
                            "nationalityCount"),
    "claims-per-section": ("document", "section", "claims", "firstClaim", "lastClaim", "sectionStart"),
    "bilingual-labels": ("entity", "labelEn", "labelFr"),
    "find-entity": ("entity", "labelEn", "labelFr", "matched"),
    "alignments": ("activity", "activityLabel", "actor", "actorLabel", "alignedWith", "alignedWithLabel", "goal",
                   "alsoPartner"),
    "financial-commitments-since": ("commitment", "commitmentLabel", "provider", "providerLabel", "since", "amount",
                                    "amountIsLowerBound", "currency"),
    "partners": ("partner", "partnerLabel", "activities"),
    "crises": ("crisis", "crisisLabel", "place", "placeLabel", "relation", "response", "responder",
               "responderLabel", "value", "valueIsLowerBound", "unit"),
    "force-increases": ("increase", "actor", "location", "locationLabel", "factor", "factorIsLowerBound", "status"),
    "relationships": ("relationship", "otherParty", "characterisation", "helpedSecure", "scope"),
    "contributions": ("contribution", "contributed", "contributedLabel", "actor", "actorLabel", "to", "toLabel"),
    "missions": ("mission", "missionLabel", "counters", "supportedBy"),
    "activities-by-actor": ("activity", "activityLabel", "kind"),
    "source-document": ("document", "title", "publisher", "language", "sourceFile", "sha256", "currency",
                        "claims"),
    "countries": ("state", "stateLabel", "stateLabelFr"),
    "country-iso-codes": ("state", "stateLabel", "alpha2", "alpha3", "numeric", "isoNameEn", "isoNameFr"),
    "nato-members-mentioned": ("state", "stateLabel", "item", "statedInDocument"),
    "wikidata-labels": ("entity", "entityLabel", "match", "item", "wikidataLabelEn", "wikidataLabelFr"),
    "iso-codes-wikidata": ("state", "stateLabel", "item", "isoAlpha3", "wikidataAlpha3", "agree"),
}

B = 1_000_000_000

CASES = [
    #################################################################
    # operations-with
    #################################################################
    # "At home, we work together in NORAD" (C07); "Canadian ships and aircraft cooperate with the U.S. in the
    # Caribbean" (C20); "Canada works with the United States and Allies to enforce sanctions on North Korea" (C38).
    # Not: "Canada's diplomatic efforts ... align with the efforts of the United States" (C16): alignment.
    Case("operations-with", ("activity", "actor", "via"), [
        ("id:NORADCooperation", "id:Canada", N),
        ("id:CaribbeanDrugInterdiction", "id:Canada", N),
        ("id:NorthKoreaSanctionsEnforcement", "id:Canada", N),
    ], id="default-US"),
    # "has supported every NATO mission since its founding in 1949" (C05); "Canada leads NATO's multinational
    # battle group in Latvia" (C32); "Canadian ships sail with Standing NATO Maritime Groups" (C36: a part of
    # NATO, hence via); "Canadian Armed Forces contribute troops and equipment to support ... NATO Mission Iraq"
    # (C49).
    *[
        Case("operations-with", ("activity", "actor", "via"), [
            ("id:SupportForEveryNATOMission", "id:Canada", N),
            ("id:BattleGroupLeadership", "id:Canada", N),
            ("id:SNMGPatrols", "id:Canada", "id:StandingNATOMaritimeGroups"),
            ("id:NATOMissionIraqContribution", "id:CanadianArmedForces", N),
        ], params={"partner": partner}, id=f"NATO-as-{how}")
        for how, partner in (("label", "NATO"), ("curie", "id:NATO"), ("iri", str(ID.NATO)))
    ],
    # "Canada works with the United States and Allies to enforce sanctions on North Korea" (C38).
    Case("operations-with", ("activity", "actor", "via"), [
        ("id:NorthKoreaSanctionsEnforcement", "id:Canada", N),
    ], params={"partner": "id:Allies"}, id="Allies"),
    # "We regularly conduct defense operations and exercises, in collaboration with our Arctic partners" (C19).
    Case("operations-with", ("activity", "actor", "via"), [
        ("id:ArcticOperationsAndExercises", "id:Canada", N),
    ], params={"partner": "id:ArcticPartners"}, id="ArcticPartners"),
    #################################################################
    # memberships, founding dates
    #################################################################
    # "Canada is a founding member of NATO" (C04).
    Case("memberships", ("membership", "organisation", "role"), [
        ("id:CanadaNATOMembership", "id:NATO", "id:FoundingMember"),
    ]),
    # The same sentence read from NATO's side: the only member of NATO the fact sheet names is Canada (C04).
    Case("members", ("membership", "member", "role"), [
        ("id:CanadaNATOMembership", "id:Canada", "id:FoundingMember"),
    ]),
    # No sentence makes anything a member of NORAD (a command, binational, not a membership organisation).
    Case("members", ("membership", "member", "role"), [], params={"organisation": "NORAD"}, id="NORAD"),
    # "its founding in 1949" (C06, stated); "NORAD celebrated its 65th anniversary in 2023" (C12):
    # 2023 - 65 = 1958, derived, not stated.
    Case("founding-dates", ("founding", "organisation", "year", "derived", "derivation"), [
        ("id:NATOFounding", "id:NATO", "1949", False, N),
        ("id:NORADFounding", "id:NORAD", "1958", True, NORAD_DERIVATION),
    ], ordered=True),
    #################################################################
    # commitments and their total
    #################################################################
    # UKRAINE: "Since 2022, Canada has committed $9.7 billion in multifaceted support to Ukraine" (C22);
    # "Canada's military assistance includes donations of an air defence system (NASAMS), Leopard II tanks,
    # armoured personnel carriers, artillery, drone cameras, ammunition, and satellite communications
    # equipment" (C23-C29); "We are also providing cyber security assistance to Ukraine" (C30);
    # "Canada has trained over 40,000 Ukraine personnel since 2014" (C31).
    # NORTH KOREA: "contributing leadership and expertise to United Nations Command" (C39).
    # MIDDLE EAST: "Since 2016, Canada has contributed more than $4.6 billion in response to the crises in Iraq
    # and Syria" (C45); "Canadian Armed Forces contribute troops and equipment to support the Global Coalition
    # to Defeat DAESH, NATO Mission Iraq, and capacity-building activities in Iraq, Jordan, Lebanon, and
    # Kuwait" (C48-C50). "* Figures are in Canadian dollars" (C51).
    Case("commitments",
         ("commitment", "kind", "provider", "recipient", "value", "valueIsLowerBound", "unit", "since"), [
             ("id:UkraineSupport", "kg:FinancialCommitment", "id:Canada", "id:Ukraine", Decimal("9.7") * B, False,
              "CAD", "2022"),
             ("id:UkraineMilitaryAssistance", "kg:Assistance", "id:Canada", "id:Ukraine", N, N, N, N),
             ("id:DonationNASAMS", "kg:EquipmentDonation", "id:Canada", "id:Ukraine", N, N, N, N),
             ("id:DonationLeopardIITanks", "kg:EquipmentDonation", "id:Canada", "id:Ukraine", N, N, N, N),
             ("id:DonationArmouredPersonnelCarriers", "kg:EquipmentDonation", "id:Canada", "id:Ukraine", N, N, N, N),
             ("id:DonationArtillery", "kg:EquipmentDonation", "id:Canada", "id:Ukraine", N, N, N, N),
             ("id:DonationDroneCameras", "kg:EquipmentDonation", "id:Canada", "id:Ukraine", N, N, N, N),
             ("id:DonationAmmunition", "kg:EquipmentDonation", "id:Canada", "id:Ukraine", N, N, N, N),
             ("id:DonationSatelliteCommunicationsEquipment", "kg:EquipmentDonation", "id:Canada", "id:Ukraine",
              N, N, N, N),
             ("id:UkraineCyberSecurityAssistance", "kg:Assistance", "id:Canada", "id:Ukraine", N, N, N, N),
             ("id:UkraineTraining", "kg:Training", "id:Canada", "id:Ukraine", 40000, True, "personnel", "2014"),
             ("id:UNCContribution", "kg:ForceContribution", "id:Canada", "id:UnitedNationsCommand", N, N, N, N),
             ("id:MiddleEastCrisisResponse", "kg:FinancialCommitment", "id:Canada", N, Decimal("4.6") * B, True,
              "CAD", "2016"),
             ("id:CoalitionContribution", "kg:ForceContribution", "id:CanadianArmedForces",
              "id:GlobalCoalitionToDefeatDAESH", N, N, N, N),
             ("id:NATOMissionIraqContribution", "kg:ForceContribution", "id:CanadianArmedForces", N, N, N, N, N),
             ("id:CapacityBuildingContribution", "kg:ForceContribution", "id:CanadianArmedForces", N, N, N, N, N),
         ]),
    # Canada's $9.7 billion (exact, C22) + more than $4.6 billion (C45) = more than $14.3 billion: the sum
    # includes a lower bound, so it is itself a lower bound. "* Figures are in Canadian dollars" (C51).
    Case("commitment-total",
         ("currency", "provider", "isoCode", "exactSum", "exactCount", "lowerBoundSum", "lowerBoundCount",
          "combinedSum", "combinedIsLowerBound", "combinedQualifier"), [
             ("id:CanadianDollar", "id:Canada", "CAD", Decimal("9.7") * B, 1, Decimal("4.6") * B, 1,
              Decimal("14.3") * B, True, "more than"),
         ]),
    # "donations of an air defence system (NASAMS), Leopard II tanks, armoured personnel carriers, artillery,
    # drone cameras, ammunition, and satellite communications equipment" (C23-C29).
    Case("equipment-donated", ("donation", "equipmentType", "broaderType", "provider"), [
        ("id:DonationNASAMS", "id:NASAMS", "id:AirDefenceSystem", "id:Canada"),
        ("id:DonationLeopardIITanks", "id:LeopardIITank", "id:Tank", "id:Canada"),
        ("id:DonationArmouredPersonnelCarriers", "id:ArmouredPersonnelCarrier", "id:MilitaryEquipment", "id:Canada"),
        ("id:DonationArtillery", "id:Artillery", "id:MilitaryEquipment", "id:Canada"),
        ("id:DonationDroneCameras", "id:DroneCamera", "id:MilitaryEquipment", "id:Canada"),
        ("id:DonationAmmunition", "id:Ammunition", "id:MilitaryEquipment", "id:Canada"),
        ("id:DonationSatelliteCommunicationsEquipment", "id:SatelliteCommunicationsEquipment",
         "id:MilitaryEquipment", "id:Canada"),
    ], id="default-Ukraine"),
    # The fact sheet names no other recipient of equipment donations.
    Case("equipment-donated", ("donation",), [], params={"recipient": "id:Latvia"}, id="Latvia"),
    # "Canada has trained over 40,000 Ukraine personnel since 2014" (C31): "over" is a strict lower bound.
    Case("personnel-trained", ("training", "provider", "trainee", "count", "countIsLowerBound", "unit", "since"), [
        ("id:UkraineTraining", "id:Canada", "id:Ukraine", 40000, True, "personnel", "2014"),
    ]),
    #################################################################
    # leadership, seas, deployments
    #################################################################
    # "Canada leads NATO's multinational battle group in Latvia" (C32); "leading efforts to scale the battle
    # group to brigade level by 2026" (C35).
    Case("where-canada-leads", ("led", "location"), [
        ("id:NATOBattleGroupLatvia", "id:Latvia"),
        ("id:BrigadeScalingEffort", N),
    ]),
    # "Canadian ships sail with Standing NATO Maritime Groups, patrolling the Atlantic Ocean and Mediterranean
    # Sea" (C36): Canada's ships.
    Case("seas-patrolled", ("patrol", "sea", "actor", "partner"), [
        ("id:SNMGPatrols", "id:AtlanticOcean", "id:Canada", "id:StandingNATOMaritimeGroups"),
        ("id:SNMGPatrols", "id:MediterraneanSea", "id:Canada", "id:StandingNATOMaritimeGroups"),
    ]),
    # "Canadian ships and aircraft cooperate with the U.S. in the Caribbean" (C20); "Canadian ships sail with
    # Standing NATO Maritime Groups, patrolling the Atlantic Ocean and Mediterranean Sea" (C36); "deploying ships
    # and maritime patrol aircraft to monitor sanctions violations" (C40: no place stated, so none);
    # "has deployed ships, maritime patrol aircraft and Canadian Armed Forces personnel to the region" (C43,
    # Indo-Pacific; personnel are neither ships nor aircraft). Each is Canada's: "Canadian ships" (C20, C36),
    # "Canada works with ... deploying" (C38, C40), "Canada ... has deployed" (C43).
    Case("deployments-by-region", ("activity", "actor", "asset", "assetClass", "region"), [
        ("id:CaribbeanDrugInterdiction", "id:Canada", "id:Ship", "id:Ship", "id:Caribbean"),
        ("id:CaribbeanDrugInterdiction", "id:Canada", "id:Aircraft", "id:Aircraft", "id:Caribbean"),
        ("id:SNMGPatrols", "id:Canada", "id:Ship", "id:Ship", "id:AtlanticOcean"),
        ("id:SNMGPatrols", "id:Canada", "id:Ship", "id:Ship", "id:MediterraneanSea"),
        ("id:SanctionsMonitoringDeployment", "id:Canada", "id:Ship", "id:Ship", N),
        ("id:SanctionsMonitoringDeployment", "id:Canada", "id:MaritimePatrolAircraft", "id:Aircraft", N),
        ("id:IndoPacificDeployment", "id:Canada", "id:Ship", "id:Ship", "id:IndoPacific"),
        ("id:IndoPacificDeployment", "id:Canada", "id:MaritimePatrolAircraft", "id:Aircraft", "id:IndoPacific"),
    ]),
    #################################################################
    # sanctions, threats
    #################################################################
    # "the imposition of sanctions" (C15, Venezuela); "Canada works with the United States and Allies to enforce
    # sanctions on North Korea" (C38); "deploying ships and maritime patrol aircraft to monitor sanctions
    # violations" (C40); the sanctions are enforced "by contributing leadership and expertise to United Nations
    # Command" (C39) too. Canada carries out each ("Canada's diplomatic efforts, including ... the imposition of
    # sanctions", C15; "Canada works with", C38-C40).
    Case("sanctions", ("sanction", "target", "activity", "actor", "role"), [
        ("id:VenezuelaSanctions", "id:Venezuela", "id:VenezuelaSanctionsImposition", "id:Canada", "imposes"),
        ("id:NorthKoreaSanctions", "id:NorthKorea", "id:NorthKoreaSanctionsEnforcement", "id:Canada", "enforces"),
        ("id:NorthKoreaSanctions", "id:NorthKorea", "id:UNCContribution", "id:Canada", "enforces"),
        ("id:NorthKoreaSanctions", "id:NorthKorea", "id:SanctionsMonitoringDeployment", "id:Canada", "enforces"),
    ]),
    # "to warn against maritime threats from offshore" (C10); "to interdict illegal drugs destined for North
    # American markets" (C21); "deterring Russian aggression against the Alliance" (C33); "Canadian Armed Forces
    # contribute troops and equipment to support the Global Coalition to Defeat DAESH" (C48).
    Case("threats-countered", ("threat", "counteredBy", "threatActor", "threatens"), [
        ("id:MaritimeThreatsFromOffshore", "id:NORADMaritimeWarning", N, N),
        ("id:IllegalDrugs", "id:CaribbeanDrugInterdiction", N, N),
        ("id:RussianAggression", "id:NATOBattleGroupLatvia", "id:Russia", "id:NATO"),
        ("id:DAESH", "id:GlobalCoalitionToDefeatDAESH", N, N),
        ("id:DAESH", "id:CoalitionContribution", N, N),
    ]),
    #################################################################
    # time
    #################################################################
    # "since its founding in 1949" (C05, C06); "NORAD celebrated its 65th anniversary in 2023" (C12, and 1958
    # derived from it); "trained over 40,000 Ukraine personnel since 2014" (C31); "Since 2016, Canada has
    # contributed" (C45); "Since 2022, Canada has committed" (C22); "to brigade level by 2026" (C35, a target).
    Case("timeline", ("fact", "year", "kind"), [
        ("id:SupportForEveryNATOMission", "1949", "since"),
        ("id:NATOFounding", "1949", "stated"),
        ("id:NORADFounding", "1958", "derived"),
        ("id:UkraineTraining", "2014", "since"),
        ("id:MiddleEastCrisisResponse", "2016", "since"),
        ("id:UkraineSupport", "2022", "since"),
        ("id:NORADAnniversary65", "2023", "stated"),
        ("id:BrigadeLevelTarget", "2026", "target"),
    ], ordered=True),
    # The source never states NORAD's founding year; it follows from "NORAD celebrated its 65th anniversary in
    # 2023" (C12).
    Case("derived-facts", ("fact", "claim", "claimId", "derivation"), [
        ("id:NORADFounding", "claim:C12", "C12", NORAD_DERIVATION),
    ]),
    # C12 "NORAD celebrated its 65th anniversary in 2023" stands at code points 633-678 of the source.
    Case("provenance", ("fact", "relation", "claim", "claimId", "section", "quote", "start", "end", "document"), [
        ("id:NORADFounding", "derived from", "claim:C12", "C12", "NORAD",
         "NORAD celebrated its 65th anniversary in 2023", 633, 678, "id:factsheet"),
    ], params={"fact": "id:NORADFounding"}, id="NORADFounding"),
    # C20 "Canadian ships and aircraft cooperate with the U.S. in the Caribbean" (1171-1239) and C21 "to
    # interdict illegal drugs destined for North American markets" (1240-1302), under the heading "CARRIBBEAN"
    # (sic).
    Case("provenance", ("fact", "relation", "claim", "claimId", "section", "quote", "start", "end", "document"), [
        ("id:CaribbeanDrugInterdiction", "supported by", "claim:C20", "C20", "CARRIBBEAN",
         "Canadian ships and aircraft cooperate with the U.S. in the Caribbean", 1171, 1239, "id:factsheet"),
        ("id:CaribbeanDrugInterdiction", "supported by", "claim:C21", "C21", "CARRIBBEAN",
         "to interdict illegal drugs destined for North American markets", 1240, 1302, "id:factsheet"),
    ], params={"fact": "id:CaribbeanDrugInterdiction"}, ordered=True, id="CaribbeanDrugInterdiction"),
    # C07 "we work together in NORAD" (395-420).
    Case("provenance", ("fact", "claim", "quote", "start", "end"), [
        ("id:NORADCooperation", "claim:C07", "we work together in NORAD", 395, 420),
    ], params={"fact": "id:NORADCooperation"}, id="NORADCooperation"),
    # One sentence, three claims: "As part of Canada's whole-of-government approach to the Middle East" (C47,
    # 3026-3082), "Canadian Armed Forces contribute troops and equipment to support the Global Coalition to Defeat
    # DAESH" (C48, 3084-3185: the provider and what is contributed), "capacity-building activities in Iraq,
    # Jordan, Lebanon, and Kuwait" (C50, 3210-3275: what it supports).
    Case("provenance", ("fact", "claimId", "quote", "start", "end"), [
        ("id:CapacityBuildingContribution", "C47", "Canada's whole-of-government approach to the Middle East",
         3026, 3082),
        ("id:CapacityBuildingContribution", "C48",
         "Canadian Armed Forces contribute troops and equipment to support the Global Coalition to Defeat DAESH",
         3084, 3185),
        ("id:CapacityBuildingContribution", "C50", "capacity-building activities in Iraq, Jordan, Lebanon, and Kuwait",
         3210, 3275),
    ], params={"fact": "id:CapacityBuildingContribution"}, ordered=True, id="CapacityBuildingContribution"),
    #################################################################
    # goals and targets
    #################################################################
    # "Canada is ... leading efforts to scale the battle group to brigade level by 2026" (C35): a target, not an
    # accomplishment.
    Case("targets", ("target", "level", "targetYear", "concerns", "pursuedBy", "ledBy", "accomplished"), [
        ("id:BrigadeLevelTarget", "brigade level", "2026", "id:NATOBattleGroupLatvia", "id:BrigadeScalingEffort",
         "id:Canada", False),
    ]),
    # "towards a stable and democratic Venezuela" (C16); "aimed at demonstrating the strength of our solidarity"
    # (C33); "to scale the battle group to brigade level by 2026" (C35); "To forge and strengthen relationships
    # and promotes regional security and stability" (C44, the Indo-Pacific deployment); "to interdict illegal drugs
    # destined for North American markets" (C21, the Caribbean cooperation); "deploying ships and maritime patrol
    # aircraft to monitor sanctions violations" (C40).
    Case("goals", ("goal", "pursuedBy", "targetYear"), [
        ("id:DrugInterdiction", "id:CaribbeanDrugInterdiction", N),
        ("id:SanctionsViolationsMonitoring", "id:SanctionsMonitoringDeployment", N),
        ("id:StableDemocraticVenezuela", "id:VenezuelaDiplomacy", N),
        ("id:SolidarityDemonstration", "id:NATOBattleGroupLatvia", N),
        ("id:BrigadeLevelTarget", "id:BrigadeScalingEffort", "2026"),
        ("id:IndoPacificRelationships", "id:IndoPacificDeployment", N),
        ("id:IndoPacificSecurity", "id:IndoPacificDeployment", N),
    ]),
    #################################################################
    # places
    #################################################################
    # "monitoring the North" (C18); "operations and exercises, in collaboration with our Arctic partners" (C19);
    # "in the Caribbean" (C20); "battle group in Latvia" (C32); "more than doubling its military presence" (C34,
    # in Latvia); "patrolling the Atlantic Ocean and Mediterranean Sea" (C36); "CAF operations in Central and
    # Eastern Europe" (C37); "an active role in the Indo-Pacific region" (C42); "deployed ... to the region"
    # (C43); "approach to the Middle East" (C47); "NATO Mission Iraq" (C49); "capacity-building activities in
    # Iraq, Jordan, Lebanon, and Kuwait" (C50). The actors: "Canada's military" (C18) and "CAF operations" (C37)
    # are the Canadian Armed Forces'; NATO Mission Iraq is NATO's; the capacity-building activities name none
    # (the CAF contribute to them, C50); the others are Canada's ("we", "Canada", "its", "Canadian ships").
    Case("activities-by-location", ("activity", "place", "actor"), [
        ("id:ArcticMonitoring", "id:Arctic", "id:CanadianArmedForces"),
        ("id:ArcticOperationsAndExercises", "id:Arctic", "id:Canada"),
        ("id:CaribbeanDrugInterdiction", "id:Caribbean", "id:Canada"),
        ("id:BattleGroupLeadership", "id:Latvia", "id:Canada"),
        ("id:LatviaPresenceIncrease", "id:Latvia", "id:Canada"),
        ("id:SNMGPatrols", "id:AtlanticOcean", "id:Canada"),
        ("id:SNMGPatrols", "id:MediterraneanSea", "id:Canada"),
        ("id:CAFOperationsInEurope", "id:CentralEurope", "id:CanadianArmedForces"),
        ("id:CAFOperationsInEurope", "id:EasternEurope", "id:CanadianArmedForces"),
        ("id:IndoPacificEngagement", "id:IndoPacific", "id:Canada"),
        ("id:IndoPacificDeployment", "id:IndoPacific", "id:Canada"),
        ("id:MiddleEastApproach", "id:MiddleEast", "id:Canada"),
        ("id:NATOMissionIraq", "id:Iraq", "id:NATO"),
        ("id:MiddleEastCapacityBuilding", "id:Iraq", N),
        ("id:MiddleEastCapacityBuilding", "id:Jordan", N),
        ("id:MiddleEastCapacityBuilding", "id:Lebanon", N),
        ("id:MiddleEastCapacityBuilding", "id:Kuwait", N),
        # No claim places Iraq, Jordan, Lebanon or Kuwait in the Middle East (C50's activities are part of the
        # approach to it, C47, which is not the same), so neither activity is located in the Middle East too.
    ]),
    # "Canada's military plays a key role in monitoring the North" (C18); "We regularly conduct defense
    # operations and exercises, in collaboration with our Arctic partners" (C19).
    Case("activities-in-region", ("activity", "actor", "relation"), [
        ("id:ArcticMonitoring", "id:CanadianArmedForces", "located there"),
        ("id:ArcticOperationsAndExercises", "id:Canada", "located there"),
    ], id="default-Arctic"),
    # "Canada's Air Task Force Prestwick provides tactical airlift to CAF operations in Central and Eastern
    # Europe" (C37).
    Case("activities-in-region", ("activity", "actor", "relation"), [
        ("id:CAFOperationsInEurope", "id:CanadianArmedForces", "located there"),
        ("id:PrestwickTacticalAirlift", "id:AirTaskForcePrestwick", "supports an activity located there"),
    ], params={"region": "Eastern Europe"}, id="EasternEurope"),
    # "Canada plays an active role in the Indo-Pacific region, and has deployed ships, maritime patrol aircraft
    # and Canadian Armed Forces personnel to the region" (C42, C43); the deployment is part of the active role.
    Case("activities-in-region", ("activity", "actor", "relation"), [
        ("id:IndoPacificEngagement", "id:Canada", "located there"),
        ("id:IndoPacificDeployment", "id:Canada", "located there"),
    ], params={"region": "id:IndoPacific"}, id="IndoPacific"),
    # "NATO Mission Iraq" (C49, NATO's mission, which CAF troops and equipment support); "capacity-building
    # activities in Iraq, Jordan, Lebanon, and Kuwait" (C50, no actor stated, supported by the CAF).
    Case("activities-in-region", ("activity", "actor", "relation"), [
        ("id:NATOMissionIraq", "id:NATO", "located there"),
        ("id:MiddleEastCapacityBuilding", N, "located there"),
        ("id:NATOMissionIraqContribution", "id:CanadianArmedForces", "supports an activity located there"),
        ("id:CapacityBuildingContribution", "id:CanadianArmedForces", "supports an activity located there"),
    ], params={"region": "id:Iraq"}, id="Iraq"),
    # "Air Task Force Prestwick provides tactical airlift to CAF operations in Central and Eastern Europe, and
    # around the globe" (C37): the operations' stated reach is the world.
    Case("activities-in-region", ("activity", "actor", "relation"), [
        ("id:CAFOperationsInEurope", "id:CanadianArmedForces", "reaches there"),
        ("id:PrestwickTacticalAirlift", "id:AirTaskForcePrestwick", "supports an activity that reaches there"),
    ], params={"region": "id:World"}, id="World"),
    # No activity is located in North America: "At home" stands before C07's quote ("we work together in NORAD"),
    # in no claim. An answer of no rows (rdflib alone used to give one row with every column unbound).
    Case("activities-in-region", ("activity", "actor", "relation"), [], params={"region": "id:NorthAmerica"},
         id="NorthAmerica-nothing"),
    # "more than $4.6 billion in response to the crises in Iraq and Syria" (C45: a lower bound, in the Canadian
    # dollars of C51); "troops and equipment to
    # support ... NATO Mission Iraq, and capacity-building activities in Iraq, ..." (C49, C50).
    Case("contributions-to-region", ("commitment", "provider", "value", "valueIsLowerBound", "unit"), [
        ("id:MiddleEastCrisisResponse", "id:Canada", Decimal("4.6") * B, True, "CAD"),
        ("id:NATOMissionIraqContribution", "id:CanadianArmedForces", N, N, N),
        ("id:CapacityBuildingContribution", "id:CanadianArmedForces", N, N, N),
    ], params={"region": "id:Iraq"}, id="Iraq"),
    # "As part of Canada's whole-of-government approach to the Middle East, Canadian Armed Forces contribute troops
    # and equipment to support the Global Coalition to Defeat DAESH, NATO Mission Iraq, and capacity-building
    # activities in Iraq, Jordan, Lebanon, and Kuwait" (C47-C50). Not the "more than $4.6 billion in response to
    # the crises in Iraq and Syria" (C45): it stands under the MIDDLE EAST heading, but no sentence places Iraq or
    # Syria in the Middle East or makes that money part of the approach.
    Case("contributions-to-region", ("commitment", "provider"), [
        ("id:CoalitionContribution", "id:CanadianArmedForces"),
        ("id:NATOMissionIraqContribution", "id:CanadianArmedForces"),
        ("id:CapacityBuildingContribution", "id:CanadianArmedForces"),
    ], id="default-MiddleEast"),
    # UKRAINE: "Canada has committed $9.7 billion in multifaceted support to Ukraine" (C22: exact, in the Canadian
    # dollars of C51); "Canada's military
    # assistance includes donations of an air defence system (NASAMS), Leopard II tanks, armoured personnel
    # carriers, artillery, drone cameras, ammunition, and satellite communications equipment" (C23-C29); "We are
    # also providing cyber security assistance to Ukraine" (C30): what Ukraine receives.
    Case("contributions-to-region", ("commitment", "provider", "value", "valueIsLowerBound", "unit"), [
        ("id:UkraineSupport", "id:Canada", Decimal("9.7") * B, False, "CAD"),
        ("id:UkraineMilitaryAssistance", "id:Canada", N, N, N),
        ("id:DonationNASAMS", "id:Canada", N, N, N),
        ("id:DonationLeopardIITanks", "id:Canada", N, N, N),
        ("id:DonationArmouredPersonnelCarriers", "id:Canada", N, N, N),
        ("id:DonationArtillery", "id:Canada", N, N, N),
        ("id:DonationDroneCameras", "id:Canada", N, N, N),
        ("id:DonationAmmunition", "id:Canada", N, N, N),
        ("id:DonationSatelliteCommunicationsEquipment", "id:Canada", N, N, N),
        ("id:UkraineCyberSecurityAssistance", "id:Canada", N, N, N),
    ], params={"region": "Ukraine"}, id="Ukraine"),
    # The same, in order: the one with a stated figure first ($9.7 billion, C22, although "Canada's multifaceted
    # support" sorts after "Canada's military assistance"), then the others by English label, in code-point order
    # ("donation of Leopard II tanks" before "donation of ammunition").
    Case("contributions-to-region", ("commitment",), [
        ("id:UkraineSupport",), ("id:UkraineMilitaryAssistance",), ("id:UkraineCyberSecurityAssistance",),
        ("id:DonationLeopardIITanks",), ("id:DonationAmmunition",), ("id:DonationNASAMS",),
        ("id:DonationArmouredPersonnelCarriers",), ("id:DonationArtillery",), ("id:DonationDroneCameras",),
        ("id:DonationSatelliteCommunicationsEquipment",),
    ], params={"region": "Ukraine"}, ordered=True, id="Ukraine-figures-first"),
    # Iraq's in order: the response with its figure (more than $4.6 billion, C45) first, although "Canada's response
    # to the crises in Iraq and Syria" sorts after "CAF troops and equipment supporting ..." (C48-C50).
    Case("contributions-to-region", ("commitment",), [
        ("id:MiddleEastCrisisResponse",), ("id:NATOMissionIraqContribution",), ("id:CapacityBuildingContribution",),
    ], params={"region": "id:Iraq"}, ordered=True, id="Iraq-figures-first"),
    # "capacity-building activities in Iraq, Jordan, Lebanon, and Kuwait" (C50), with CAF troops and equipment (C48):
    # what Jordan receives, for which no amount is stated.
    Case("contributions-to-region", ("commitment", "provider", "value", "valueIsLowerBound", "unit"), [
        ("id:CapacityBuildingContribution", "id:CanadianArmedForces", N, N, N),
    ], params={"region": "id:Jordan"}, id="Jordan"),
    # Organisations receive too: "Canada works with the United States and Allies to enforce sanctions on North Korea"
    # (C38), "contributing leadership and expertise to United Nations Command" (C39).
    Case("contributions-to-region", ("commitment", "provider"), [
        ("id:UNCContribution", "id:Canada"),
    ], params={"region": "United Nations Command"}, id="UnitedNationsCommand"),
    # "Canadian Armed Forces contribute troops and equipment to support the Global Coalition to Defeat DAESH" (C48).
    Case("contributions-to-region", ("commitment", "provider"), [
        ("id:CoalitionContribution", "id:CanadianArmedForces"),
    ], params={"region": "id:GlobalCoalitionToDefeatDAESH"}, id="GlobalCoalitionToDefeatDAESH"),
    #################################################################
    # equipment types
    #################################################################
    # Aircraft and what is narrower: "Canadian ships and aircraft cooperate with the U.S. in the Caribbean" (C20);
    # "deploying ships and maritime patrol aircraft to monitor sanctions violations" (C40); "has deployed ships,
    # maritime patrol aircraft and Canadian Armed Forces personnel to the region" (C43).
    Case("equipment-by-type", ("activity", "actor", "equipment", "use"), [
        ("id:CaribbeanDrugInterdiction", "id:Canada", "id:Aircraft", "deploys"),
        ("id:SanctionsMonitoringDeployment", "id:Canada", "id:MaritimePatrolAircraft", "deploys"),
        ("id:IndoPacificDeployment", "id:Canada", "id:MaritimePatrolAircraft", "deploys"),
    ], id="default-Aircraft"),
    # "Leopard II tanks" (C24).
    Case("equipment-by-type", ("activity", "equipment", "use"), [
        ("id:DonationLeopardIITanks", "id:LeopardIITank", "donates"),
    ], params={"type": "id:Tank"}, id="Tank"),
    # "an air defence system (NASAMS)" (C23).
    Case("equipment-by-type", ("activity", "equipment", "use"), [
        ("id:DonationNASAMS", "id:NASAMS", "donates"),
    ], params={"type": "id:AirDefenceSystem"}, id="AirDefenceSystem"),
    # Equipment as a whole: the seven donations (C23-C29), ships and aircraft deployed (C20, C36, C40, C43) and
    # "troops and equipment" contributed three times (C48-C50). Canada donates ("Canada's military assistance
    # includes donations", C23) and deploys (as in deployments-by-region); "Canadian Armed Forces contribute" (C48-C50).
    Case("equipment-by-type", ("activity", "actor", "equipment", "use"), [
        ("id:DonationNASAMS", "id:Canada", "id:NASAMS", "donates"),
        ("id:DonationLeopardIITanks", "id:Canada", "id:LeopardIITank", "donates"),
        ("id:DonationArmouredPersonnelCarriers", "id:Canada", "id:ArmouredPersonnelCarrier", "donates"),
        ("id:DonationArtillery", "id:Canada", "id:Artillery", "donates"),
        ("id:DonationDroneCameras", "id:Canada", "id:DroneCamera", "donates"),
        ("id:DonationAmmunition", "id:Canada", "id:Ammunition", "donates"),
        ("id:DonationSatelliteCommunicationsEquipment", "id:Canada", "id:SatelliteCommunicationsEquipment", "donates"),
        ("id:CaribbeanDrugInterdiction", "id:Canada", "id:Ship", "deploys"),
        ("id:CaribbeanDrugInterdiction", "id:Canada", "id:Aircraft", "deploys"),
        ("id:SNMGPatrols", "id:Canada", "id:Ship", "deploys"),
        ("id:SanctionsMonitoringDeployment", "id:Canada", "id:Ship", "deploys"),
        ("id:SanctionsMonitoringDeployment", "id:Canada", "id:MaritimePatrolAircraft", "deploys"),
        ("id:IndoPacificDeployment", "id:Canada", "id:Ship", "deploys"),
        ("id:IndoPacificDeployment", "id:Canada", "id:MaritimePatrolAircraft", "deploys"),
        ("id:CoalitionContribution", "id:CanadianArmedForces", "id:MilitaryEquipment", "contributes"),
        ("id:NATOMissionIraqContribution", "id:CanadianArmedForces", "id:MilitaryEquipment", "contributes"),
        ("id:CapacityBuildingContribution", "id:CanadianArmedForces", "id:MilitaryEquipment", "contributes"),
    ], params={"type": "id:MilitaryEquipment"}, id="MilitaryEquipment"),
    # The types the source names: NASAMS is "an air defence system" (C23), Leopard IIs are tanks (C24), maritime
    # patrol aircraft are aircraft (C40, C43); the rest are equipment directly.
    Case("equipment-hierarchy", ("type", "broader", "depth"), [
        ("id:MilitaryEquipment", N, 0),
        ("id:AirDefenceSystem", "id:MilitaryEquipment", 1),
        ("id:Aircraft", "id:MilitaryEquipment", 1),
        ("id:Ammunition", "id:MilitaryEquipment", 1),
        ("id:ArmouredPersonnelCarrier", "id:MilitaryEquipment", 1),
        ("id:Artillery", "id:MilitaryEquipment", 1),
        ("id:DroneCamera", "id:MilitaryEquipment", 1),
        ("id:SatelliteCommunicationsEquipment", "id:MilitaryEquipment", 1),
        ("id:Ship", "id:MilitaryEquipment", 1),
        ("id:Tank", "id:MilitaryEquipment", 1),
        ("id:NASAMS", "id:AirDefenceSystem", 2),
        ("id:MaritimePatrolAircraft", "id:Aircraft", 2),
        ("id:LeopardIITank", "id:Tank", 2),
    ]),
    #################################################################
    # states, organisations, names
    #################################################################
    # "As an Arctic nation" (C17); "As a Pacific nation" (C41).
    Case("nation-of", ("region",), [("id:Arctic",), ("id:Pacific",)]),
    # "Commanded and staffed by Americans and Canadians" (C11).
    Case("staff-nationalities", ("organisation", "nationality", "nationalityCount"), [
        ("id:NORAD", "id:Canada", 2),
        ("id:NORAD", "id:UnitedStates", 2),
    ]),
    # The headings of the source, in order (CARRIBBEAN as printed), with the claims listed in claims.tsv and the
    # offset of each section's first quote (the signature's is its closing wordmark's, not the title's "Canada").
    Case("claims-per-section", ("document", "section", "claims", "firstClaim", "lastClaim", "sectionStart"), [
        ("id:factsheet", "(introduction)", 3, "C01", "C03", 68),
        ("id:factsheet", "NATO", 3, "C04", "C06", 277),
        ("id:factsheet", "NORAD", 6, "C07", "C12", 395),
        ("id:factsheet", "SOUTH AMERICA", 4, "C13", "C16", 696),
        ("id:factsheet", "THE ARCTIC", 3, "C17", "C19", 979),
        ("id:factsheet", "CARRIBBEAN", 2, "C20", "C21", 1171),
        ("id:factsheet", "UKRAINE", 10, "C22", "C31", 1314),
        ("id:factsheet", "EASTERN & CENTRAL EUROPE", 6, "C32", "C37", 1755),
        ("id:factsheet", "NORTH KOREA", 3, "C38", "C40", 2328),
        ("id:factsheet", "INDO-PACIFIC REGION", 4, "C41", "C44", 2584),
        ("id:factsheet", "MIDDLE EAST", 6, "C45", "C50", 2859),
        ("id:factsheet", "(footnote)", 1, "C51", "C51", 3280),
        ("id:factsheet", "(signature)", 1, "C52", "C52", 3313),
    ], ordered=True),
    # The twelve states the source names, with their French names as the Government of Canada writes them
    # ("Iraq" in French too; "Irak" is an alternative label).
    Case("bilingual-labels", ("entity", "labelEn", "labelFr"), [
        ("id:Canada", "Canada", "Canada"),
        ("id:UnitedStates", "United States", "États-Unis"),
        ("id:Ukraine", "Ukraine", "Ukraine"),
        ("id:Latvia", "Latvia", "Lettonie"),
        ("id:Venezuela", "Venezuela", "Venezuela"),
        ("id:NorthKorea", "North Korea", "Corée du Nord"),
        ("id:Iraq", "Iraq", "Iraq"),
        ("id:Syria", "Syria", "Syrie"),
        ("id:Jordan", "Jordan", "Jordanie"),
        ("id:Lebanon", "Lebanon", "Liban"),
        ("id:Kuwait", "Kuwait", "Koweït"),
        ("id:Russia", "Russia", "Russie"),
    ], id="default-State"),
    # "patrolling the Atlantic Ocean and Mediterranean Sea" (C36).
    Case("bilingual-labels", ("entity", "labelEn", "labelFr"), [
        ("id:AtlanticOcean", "Atlantic Ocean", "océan Atlantique"),
        ("id:MediterraneanSea", "Mediterranean Sea", "mer Méditerranée"),
    ], params={"class": "kg:BodyOfWater"}, id="BodyOfWater"),
    # "cooperate with the U.S." (C20): the United States.
    Case("find-entity", ("entity", "labelEn", "labelFr", "matched"), [
        ("id:UnitedStates", "United States", "États-Unis", "U.S."),
    ], params={"name": "u.s."}, id="U.S."),
    # NATO is OTAN in French.
    Case("find-entity", ("entity", "labelEn", "labelFr", "matched"), [
        ("id:NATO", "NATO", "OTAN", "OTAN"),
    ], params={"name": "otan"}, id="OTAN"),
    # "Leopard II tanks" (C24), also written Leopard 2.
    Case("find-entity", ("entity", "matched"), [
        ("id:LeopardIITank", "Leopard 2"),
    ], params={"name": "Leopard 2"}, id="Leopard-2"),
    # "Canada's military plays a key role" (C18) and "CAF operations" (C37): both name the Canadian Armed Forces.
    Case("find-entity", ("entity", "matched"), [
        ("id:CanadianArmedForces", "CAF"),
    ], params={"name": "CAF"}, id="CAF"),
    # "NORAD – the North American Aerospace Defense Command" (C08): the short name finds the full one.
    Case("find-entity", ("entity", "labelEn", "labelFr", "matched"), [
        ("id:NORAD", "North American Aerospace Defense Command",
         "Commandement de la défense aérospatiale de l'Amérique du Nord", "NORAD"),
    ], params={"name": "NORAD"}, id="NORAD-full-name"),
    # "Canada's diplomatic efforts ... align with the efforts of the United States and our South American
    # partners towards a stable and democratic Venezuela" (C16): aligned, not partners; Canada's efforts.
    Case("alignments", ("activity", "actor", "alignedWith", "goal", "alsoPartner"), [
        ("id:VenezuelaDiplomacy", "id:Canada", "id:UnitedStates", "id:StableDemocraticVenezuela", False),
        ("id:VenezuelaDiplomacy", "id:Canada", "id:SouthAmericanPartners", "id:StableDemocraticVenezuela", False),
    ]),
    #################################################################
    # money and partners over time
    #################################################################
    # "Since 2016, Canada has contributed more than $4.6 billion" (C45); "Since 2022, Canada has committed $9.7
    # billion" (C22).
    Case("financial-commitments-since",
         ("commitment", "provider", "since", "amount", "amountIsLowerBound", "currency"), [
        ("id:MiddleEastCrisisResponse", "id:Canada", "2016", Decimal("4.6") * B, True, "CAD"),
        ("id:UkraineSupport", "id:Canada", "2022", Decimal("9.7") * B, False, "CAD"),
    ], ordered=True, id="default-2015"),
    Case("financial-commitments-since", ("commitment", "since"), [
        ("id:UkraineSupport", "2022"),
    ], params={"year": "2020"}, id="2020"),
    Case("financial-commitments-since", ("commitment",), [
        ("id:MiddleEastCrisisResponse",), ("id:UkraineSupport",),
    ], params={"year": "2016"}, ordered=True, id="2016-inclusive"),
    Case("financial-commitments-since", ("commitment",), [], params={"year": "2023"}, id="2023"),
    # NATO: C05, C32, C36 (through the Standing NATO Maritime Groups), C49; the United States: C07, C20, C38;
    # Allies: C38; Arctic partners: C19; the Global Coalition: "troops and equipment to support the Global
    # Coalition to Defeat DAESH" (C48); the Standing NATO Maritime Groups: C36.
    Case("partners", ("partner", "activities"), [
        ("id:NATO", 4),
        ("id:UnitedStates", 3),
        ("id:Allies", 1),
        ("id:ArcticPartners", 1),
        ("id:GlobalCoalitionToDefeatDAESH", 1),
        ("id:StandingNATOMaritimeGroups", 1),
    ], ordered=True),
    # "Canada has contributed more than \$4.6 billion in response to the crises in Iraq and Syria" (C45) "and their
    # spillover effects on Jordan and Lebanon" (C46): a lower bound, in the Canadian dollars of C51.
    Case("crises", ("crisis", "place", "relation", "response", "responder", "value", "valueIsLowerBound", "unit"), [
        ("id:IraqCrisis", "id:Iraq", "location", "id:MiddleEastCrisisResponse", "id:Canada", Decimal("4.6") * B,
         True, "CAD"),
        ("id:SyriaCrisis", "id:Syria", "location", "id:MiddleEastCrisisResponse", "id:Canada", Decimal("4.6") * B,
         True, "CAD"),
        # No claim places Iraq or Syria in the Middle East (only the section heading stands near them), so neither
        # crisis is located in the Middle East too.
        ("id:CrisesSpillover", "id:Jordan", "affects", "id:MiddleEastCrisisResponse", "id:Canada",
         Decimal("4.6") * B, True, "CAD"),
        ("id:CrisesSpillover", "id:Lebanon", "affects", "id:MiddleEastCrisisResponse", "id:Canada",
         Decimal("4.6") * B, True, "CAD"),
    ]),
    # "Canada is more than doubling its military presence" (C34), in the paragraph on the battle group in
    # Latvia: more than double, and "is ... doubling", under way.
    Case("force-increases", ("increase", "actor", "location", "factor", "factorIsLowerBound", "status"), [
        ("id:LatviaPresenceIncrease", "id:Canada", "id:Latvia", 2, True, "schema:ActiveActionStatus"),
    ]),
    # "Canada and the United States share a deep, enduring relationship that has helped assure the security of
    # our common North American homeland and advanced our shared interests and values around the world" (C01-C03).
    Case("relationships", ("relationship", "otherParty", "characterisation", "helpedSecure", "scope"), [
        ("id:CanadaUSRelationship", "id:Canada", "deep, enduring", "id:NorthAmerica", "id:World"),
    ], id="default-US"),
    Case("relationships", ("relationship", "otherParty"), [
        ("id:CanadaUSRelationship", "id:UnitedStates"),
    ], params={"party": "Canada"}, id="Canada"),
    # "cyber security assistance to Ukraine" (C30); "tactical airlift to CAF operations" (C37); "contributing
    # leadership and expertise to United Nations Command" (C39); "troops and equipment to support the Global
    # Coalition to Defeat DAESH, NATO Mission Iraq, and capacity-building activities" (C48-C50); the donations of
    # each type of equipment to Ukraine (C23-C29). Who contributes: "Canada's Air Task Force Prestwick" (C37), the
    # "Canadian Armed Forces" (C48-C50), Canada the rest ("Canada's military assistance includes donations",
    # C23-C29; "We are also providing", C30; "Canada works with ... by contributing", C39).
    Case("contributions", ("contribution", "contributed", "actor", "to"), [
        ("id:DonationNASAMS", "id:NASAMS", "id:Canada", "id:Ukraine"),
        ("id:DonationLeopardIITanks", "id:LeopardIITank", "id:Canada", "id:Ukraine"),
        ("id:DonationArmouredPersonnelCarriers", "id:ArmouredPersonnelCarrier", "id:Canada", "id:Ukraine"),
        ("id:DonationArtillery", "id:Artillery", "id:Canada", "id:Ukraine"),
        ("id:DonationDroneCameras", "id:DroneCamera", "id:Canada", "id:Ukraine"),
        ("id:DonationAmmunition", "id:Ammunition", "id:Canada", "id:Ukraine"),
        ("id:DonationSatelliteCommunicationsEquipment", "id:SatelliteCommunicationsEquipment", "id:Canada", "id:Ukraine"),
        ("id:UkraineCyberSecurityAssistance", "id:CyberSecurity", "id:Canada", "id:Ukraine"),
        ("id:PrestwickTacticalAirlift", "id:TacticalAirlift", "id:AirTaskForcePrestwick", "id:CAFOperationsInEurope"),
        ("id:UNCContribution", "id:Leadership", "id:Canada", "id:UnitedNationsCommand"),
        ("id:UNCContribution", "id:Expertise", "id:Canada", "id:UnitedNationsCommand"),
        ("id:CoalitionContribution", "id:Troops", "id:CanadianArmedForces", "id:GlobalCoalitionToDefeatDAESH"),
        ("id:CoalitionContribution", "id:MilitaryEquipment", "id:CanadianArmedForces", "id:GlobalCoalitionToDefeatDAESH"),
        ("id:NATOMissionIraqContribution", "id:Troops", "id:CanadianArmedForces", "id:NATOMissionIraq"),
        ("id:NATOMissionIraqContribution", "id:MilitaryEquipment", "id:CanadianArmedForces", "id:NATOMissionIraq"),
        ("id:CapacityBuildingContribution", "id:Troops", "id:CanadianArmedForces", "id:MiddleEastCapacityBuilding"),
        ("id:CapacityBuildingContribution", "id:MilitaryEquipment", "id:CanadianArmedForces", "id:MiddleEastCapacityBuilding"),
    ]),
    # NORAD works "to ensure the security of our approaches and shared airspace and to warn against maritime
    # threats from offshore" (C09, C10).
    Case("missions", ("mission", "counters", "supportedBy"), [
        ("id:NORADAirspaceSecurity", N, N),
        ("id:NORADMaritimeWarning", "id:MaritimeThreatsFromOffshore", N),
    ], id="default-NORAD"),
    # "NATO Mission Iraq" (C49), supported by CAF troops and equipment.
    Case("missions", ("mission", "counters", "supportedBy"), [
        ("id:NATOMissionIraq", N, "id:NATOMissionIraqContribution"),
    ], params={"organisation": "NATO"}, id="NATO"),
    # "Canada's military plays a key role in monitoring the North" (C18); "CAF operations in Central and Eastern
    # Europe" (C37); "Canadian Armed Forces contribute troops and equipment to support ..." (C48-C50).
    Case("activities-by-actor", ("activity", "kind"), [
        ("id:ArcticMonitoring", "kg:Surveillance"),
        ("id:CAFOperationsInEurope", "kg:Operation"),
        ("id:CoalitionContribution", "kg:ForceContribution"),
        ("id:NATOMissionIraqContribution", "kg:ForceContribution"),
        ("id:CapacityBuildingContribution", "kg:ForceContribution"),
    ], id="default-CAF"),
    # "Canada's Air Task Force Prestwick provides tactical airlift" (C37).
    Case("activities-by-actor", ("activity", "kind"), [
        ("id:PrestwickTacticalAirlift", "kg:Activity"),
    ], params={"actor": "Air Task Force Prestwick"}, id="Prestwick"),
    # The fact sheet: its heading is the title; "Canada" closes it (C52); "* Figures are in Canadian dollars"
    # (C51); the checksum is that of the source file.
    Case("source-document", ("document", "title", "publisher", "language", "sourceFile", "sha256", "currency",
                             "claims"), [
        ("id:factsheet", "Defending common interests in our North American homeland & abroad",
         "id:GovernmentOfCanada", "en", "data/sources/canada-us-defence-factsheet.txt",
         hashlib.sha256(SOURCE.read_text(encoding="utf-8").encode("utf-8")).hexdigest(), "id:CanadianDollar", 52),
    ]),

    #################################################################
    # Outside data: pycountry (offline), the enrichment cache, SERVICE
    #################################################################
    # The twelve states the fact sheet names (Canada, the United States, Ukraine, Latvia, Venezuela, North
    # Korea, Iraq, Syria, Jordan, Lebanon, Kuwait, Russia), with their ISO 3166-1 codes and the standard's own
    # English and French short names (ISO 3166-1: e.g. "Russian Federation" / "Russie, Fédération de").
    # The twelve states the fact sheet names: Canada and the United States (C01), Ukraine (C22), Latvia (C32),
    # "Russian aggression" (C33), Venezuela (C16), North Korea (C38), Iraq and Syria (C45), Jordan and Lebanon
    # (C46), Kuwait (C50); in English label order, each with its French name.
    Case("countries", ("state", "stateLabel", "stateLabelFr"), [
        ("id:Canada", "Canada", "Canada"),
        ("id:Iraq", "Iraq", "Iraq"),
        ("id:Jordan", "Jordan", "Jordanie"),
        ("id:Kuwait", "Kuwait", "Koweït"),
        ("id:Latvia", "Latvia", "Lettonie"),
        ("id:Lebanon", "Lebanon", "Liban"),
        ("id:NorthKorea", "North Korea", "Corée du Nord"),
        ("id:Russia", "Russia", "Russie"),
        ("id:Syria", "Syria", "Syrie"),
        ("id:Ukraine", "Ukraine", "Ukraine"),
        ("id:UnitedStates", "United States", "États-Unis"),
        ("id:Venezuela", "Venezuela", "Venezuela"),
    ], ordered=True),
    Case("country-iso-codes", ("state", "alpha2", "alpha3", "numeric", "isoNameEn", "isoNameFr"), [
        ("id:Canada", "CA", "CAN", "124", "Canada", "Canada"),
        ("id:Iraq", "IQ", "IRQ", "368", "Iraq", "Irak"),
        ("id:Jordan", "JO", "JOR", "400", "Jordan", "Jordanie"),
        ("id:Kuwait", "KW", "KWT", "414", "Kuwait", "Koweït"),
        ("id:Lebanon", "LB", "LBN", "422", "Lebanon", "Liban"),
        ("id:Latvia", "LV", "LVA", "428", "Latvia", "Lettonie"),
        ("id:NorthKorea", "KP", "PRK", "408", "Korea, Democratic People's Republic of",
         "Corée, République populaire démocratique de"),
        ("id:Russia", "RU", "RUS", "643", "Russian Federation", "Russie, Fédération de"),
        ("id:Syria", "SY", "SYR", "760", "Syrian Arab Republic", "Syrienne, République arabe"),
        ("id:Ukraine", "UA", "UKR", "804", "Ukraine", "Ukraine"),
        ("id:UnitedStates", "US", "USA", "840", "United States", "États-Unis"),
        ("id:Venezuela", "VE", "VEN", "862", "Venezuela, Bolivarian Republic of",
         "Vénézuela, république bolivarienne du"),
    ], ordered=True),
    # The fixture cache has one P463 statement: Canada (Q16) member of NATO (Q7184), the fact sheet's own
    # C04 ("Canada is a founding member of NATO"), so it is also stated in the document.
    Case("nato-members-mentioned", ("state", "item", "statedInDocument"), [
        ("id:Canada", "wd:Q16", True),
    ]),
    # The fixture cache labels the twelve states' items and NATO's in English only (no French label could be
    # verified offline); each item is the one data/links.sssom.tsv links, its label the table's object_label.
    Case("wikidata-labels", ("entity", "match", "item", "wikidataLabelEn", "wikidataLabelFr"), [
        ("id:Canada", "skos:exactMatch", "wd:Q16", "Canada", N),
        ("id:Iraq", "skos:exactMatch", "wd:Q796", "Iraq", N),
        ("id:Jordan", "skos:exactMatch", "wd:Q810", "Jordan", N),
        ("id:Kuwait", "skos:exactMatch", "wd:Q817", "Kuwait", N),
        ("id:Latvia", "skos:exactMatch", "wd:Q211", "Latvia", N),
        ("id:Lebanon", "skos:exactMatch", "wd:Q822", "Lebanon", N),
        ("id:NATO", "skos:exactMatch", "wd:Q7184", "NATO", N),
        ("id:NorthKorea", "skos:exactMatch", "wd:Q423", "North Korea", N),
        ("id:Russia", "skos:exactMatch", "wd:Q159", "Russia", N),
        ("id:Syria", "skos:exactMatch", "wd:Q858", "Syria", N),
        ("id:Ukraine", "skos:exactMatch", "wd:Q212", "Ukraine", N),
        ("id:UnitedStates", "skos:exactMatch", "wd:Q30", "United States of America", N),
        ("id:Venezuela", "skos:exactMatch", "wd:Q717", "Venezuela", N),
    ]),
    # SERVICE <https://query.wikidata.org/sparql> answered from the fixture cache: its P298 codes are the
    # ISO 3166-1 alpha-3 codes, so every state agrees.
    Case("iso-codes-wikidata", ("state", "item", "isoAlpha3", "wikidataAlpha3", "agree"), [
        ("id:Canada", "wd:Q16", "CAN", "CAN", True),
        ("id:Iraq", "wd:Q796", "IRQ", "IRQ", True),
        ("id:Jordan", "wd:Q810", "JOR", "JOR", True),
        ("id:Kuwait", "wd:Q817", "KWT", "KWT", True),
        ("id:Latvia", "wd:Q211", "LVA", "LVA", True),
        ("id:Lebanon", "wd:Q822", "LBN", "LBN", True),
        ("id:NorthKorea", "wd:Q423", "PRK", "PRK", True),
        ("id:Russia", "wd:Q159", "RUS", "RUS", True),
        ("id:Syria", "wd:Q858", "SYR", "SYR", True),
        ("id:Ukraine", "wd:Q212", "UKR", "UKR", True),
        ("id:UnitedStates", "wd:Q30", "USA", "USA", True),
        ("id:Venezuela", "wd:Q717", "VEN", "VEN", True),
    ]),
]


def _param(case: Case):
    marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
    return pytest.param(case, id=case.test_id, marks=marks)


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_query_answers_exactly(kg_store, catalogue, case: Case):
    header, rows, _ = _answer(kg_store, catalogue, case.query, case.params)
    missing = [c for c in case.columns if c not in header]
    assert not missing, f"{case.query}: no column {missing} in {header}"
    picked = [tuple(row[header.index(c)] for c in case.columns) for row in rows]
    expected = case.expected
    if case.ordered:
        assert picked == expected
    else:
        assert Counter(picked) == Counter(expected), (
            f"unexpected: {sorted(Counter(picked) - Counter(expected), key=repr)}; "
            f"missing: {sorted(Counter(expected) - Counter(picked), key=repr)}"
        )


def test_every_query_has_an_expected_answer(catalogue):
    covered = {case.query for case in CASES}
    assert sorted(set(catalogue) - covered) == [], "queries without an expected answer"
    assert sorted(covered - set(catalogue)) == [], "cases for queries that do not exist"
    assert sorted(set(catalogue) ^ set(HEADERS)) == [], "queries and HEADERS differ"


def test_catalogue_is_at_least_25_queries(catalogue):
    assert len(catalogue) >= 25


def test_query_files_are_kebab_case():
    for path in QUERIES.glob("*.rq"):
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", path.stem), path.name


@pytest.mark.parametrize("name", sorted(p.stem for p in QUERIES.glob("*.rq")))
def test_header_is_complete(catalogue, name):
    query = catalogue[name]
    for key in ("title", "description"):  # in the file itself: the loader falls back to the name for a title
        assert re.search(rf"^# {key}: \S", query.text, re.MULTILINE), f"{name}: no '# {key}:' line"
    assert query.title.strip() and query.description.strip()
    languages = Counter(language for language, question in query.examples if question.strip())
    assert languages["en"] >= 2, f"{name}: fewer than 2 English example questions"
    assert languages["fr"] >= 2, f"{name}: fewer than 2 French example questions"


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_header_columns(kg_store, catalogue, name):
    """Every query projects exactly its documented columns (run with its defaults or its first case's params)."""
    params = next(case.params for case in CASES if case.query == name)
    header, _, _ = _answer(kg_store, catalogue, name, params)
    assert header == HEADERS[name]


@pytest.mark.parametrize("case", [pytest.param(case, id=case.test_id) for case in CASES])
def test_first_column_is_the_node_the_row_is_about(kg_store, catalogue, case: Case):
    """`kg query --why` explains the first column: it must be an IRI on every row."""
    _, _, result = _answer(kg_store, catalogue, case.query, case.params)
    for row in result:
        assert isinstance(row[0], URIRef), f"{case.query}: first column {row[0]!r} is not an IRI"


# What `kg query --why` cites for a row that sums or counts (queries/why/NAME.rq): the claims of the nodes summed
# or counted, read from the source by hand, not those of the row's first node (C51 alone for the total in
# Canadian dollars, the claims naming NATO for NATO's count). (query, column, value naming the row): claims
WHY_CASES = {
    # $9.7 billion to Ukraine (C22) and more than $4.6 billion in the Middle East (C45, whose scope C46 widens),
    # in Canadian dollars (C51)
    ("commitment-total", "currency", "id:CanadianDollar"): ["C22", "C45", "C46", "C51"],
    # NATO's missions (C05), the battle group in Latvia (C32), sailing with the Standing NATO Maritime Groups
    # (C36), and NATO Mission Iraq (C49), which the Middle East contribution supports (C47, C48)
    ("partners", "partner", "id:NATO"): ["C05", "C32", "C36", "C47", "C48", "C49"],
    # NORAD (C07), the Caribbean (C20, C21), the sanctions on North Korea (C38)
    ("partners", "partner", "id:UnitedStates"): ["C07", "C20", "C21", "C38"],
    ("claims-per-section", "section", "NORAD"): ["C07", "C08", "C09", "C10", "C11", "C12"],
    ("claims-per-section", "section", "(footnote)"): ["C51"],
}


@pytest.mark.parametrize(("name", "column", "row_value"), sorted(WHY_CASES))
def test_why_cites_the_claims_a_total_or_count_is_computed_from(kg_store, catalogue, name, column, row_value):
    header, rows, result = _answer(kg_store, catalogue, name, {})
    supports = why(kg_store, result, catalogue[name], {})
    [claims] = [s.claims for row, s in zip(rows, supports) if row[header.index(column)] == row_value]
    assert [quoted.claim for quoted in claims] == WHY_CASES[name, column, row_value]


def test_every_why_file_explains_a_catalogue_query_by_its_evidence(catalogue) -> None:
    """A queries/why/ file named after no catalogue query would be read by nothing; one without ?evidence fails."""
    files = sorted((QUERIES / "why").glob("*.rq"))
    assert files and {path.stem for path in files} <= set(catalogue)
    for path in files:
        assert catalogue[path.stem].why == path.read_text(encoding="utf-8")
        assert re.search(r"^SELECT\b[^\n{]*\?evidence\b", path.read_text(encoding="utf-8"), re.MULTILINE), path.name


def test_a_why_file_without_an_evidence_column_is_named(tmp_path) -> None:
    (tmp_path / "why").mkdir()
    (tmp_path / "count.rq").write_text("SELECT ?s (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s\n", encoding="utf-8")
    (tmp_path / "why" / "count.rq").write_text("SELECT ?s ?o WHERE { ?s ?p ?o }\n", encoding="utf-8")
    query = load_catalogue(tmp_path)["count"]
    store = MemoryStore(new_dataset())
    with pytest.raises(InputError, match=re.escape(f"{tmp_path / 'why' / 'count.rq'}: projects no ?evidence")):
        why(store, run_query(store, query, {}), query, {})


@pytest.mark.parametrize("case", [pytest.param(case, id=case.test_id) for case in CASES])
def test_label_columns_are_in_their_language(kg_store, catalogue, case: Case):
    """A column named *Label (or labelEn) holds English literals, labelFr French ones."""
    _, _, result = _answer(kg_store, catalogue, case.query, case.params)
    names = [str(v) for v in result.vars]
    for row in result:
        for i, name in enumerate(names):
            term = row[i]
            if term is None or not (name.endswith("Label") or name in ("label", "labelEn", "labelFr")):
                continue
            expected = "fr" if name == "labelFr" else "en"
            assert isinstance(term, Literal) and term.language == expected, f"{case.query}.{name}: {term!r}"


# The datatype of every figure a query returns, as the source's figures are typed: money, counts and factors
# xsd:decimal ("$9.7 billion", "over 40,000", "more than doubling"), years xsd:gYear ("Since 2022", "by 2026",
# "in 1949"), flags xsd:boolean, and what a query counts xsd:integer. (`value` compares numbers as numbers, so
# the cases alone would not notice a double or a plain string.)
TYPED_COLUMNS = {
    "commitments": {"value": XSD.decimal, "valueIsLowerBound": XSD.boolean, "since": XSD.gYear},
    "financial-commitments-since": {"amount": XSD.decimal, "amountIsLowerBound": XSD.boolean, "since": XSD.gYear},
    "commitment-total": {"exactSum": XSD.decimal, "exactCount": XSD.integer, "lowerBoundSum": XSD.decimal,
                         "lowerBoundCount": XSD.integer, "combinedSum": XSD.decimal,
                         "combinedIsLowerBound": XSD.boolean},
    "personnel-trained": {"count": XSD.decimal, "countIsLowerBound": XSD.boolean, "since": XSD.gYear},
    "force-increases": {"factor": XSD.decimal, "factorIsLowerBound": XSD.boolean},
    "targets": {"targetYear": XSD.gYear, "accomplished": XSD.boolean},
    "goals": {"targetYear": XSD.gYear},
    "founding-dates": {"year": XSD.gYear, "derived": XSD.boolean},
    "timeline": {"year": XSD.gYear},
    "claims-per-section": {"claims": XSD.integer, "sectionStart": XSD.integer},
}


@pytest.mark.parametrize("name", sorted(TYPED_COLUMNS))
def test_figures_keep_their_datatype(kg_store, catalogue, name):
    """Every bound value of a typed column, on every store, has the column's datatype (and each column has one)."""
    _, _, result = _answer(kg_store, catalogue, name, {})
    for column, datatype in TYPED_COLUMNS[name].items():
        values = [binding[Variable(column)] for binding in result.bindings if Variable(column) in binding]
        assert values, f"{name}.{column}: no value to check"
        assert {(type(term), term.datatype) for term in values} == {(Literal, datatype)}, f"{name}.{column}: {values}"


# Each flag column, its query, and a change to the data that must flip it on the row about `node`: on the
# project's data each of these flags has one value only, which a constant in the query would also give.
FLAG_FLIPS = [
    # the United States becomes a partner of the diplomacy whose efforts align with its own (C16)
    ("alignments", "alsoPartner", "id:UnitedStates", "alignedWith", False,
     "INSERT DATA { GRAPH <https://w3id.org/defence-kg/graph/statements> { id:VenezuelaDiplomacy kg:withPartner id:UnitedStates } }"),
    # Canada's founding membership of NATO (C04) no longer stated
    ("nato-members-mentioned", "statedInDocument", "id:Canada", "state", True,
     "DELETE { GRAPH ?g { id:Canada org:memberOf id:NATO } } WHERE { GRAPH ?g { id:Canada org:memberOf id:NATO } }"),
    # Wikidata's cached alpha-3 code of Canada's item no longer CAN
    ("iso-codes-wikidata", "agree", "id:Canada", "state", True,
     "DELETE { GRAPH ?g { ?item wdt:P298 ?code } } INSERT { GRAPH ?g { ?item wdt:P298 \"XXX\" } } "
     "WHERE { id:Canada skos:exactMatch ?item . GRAPH ?g { ?item wdt:P298 ?code } }"),
]


@pytest.mark.parametrize("query,flag,node,column,before,change", FLAG_FLIPS, ids=[f[0] for f in FLAG_FLIPS])
def test_a_flag_follows_the_data(enriched_built, catalogue, query, flag, node, column, before, change):
    def flag_of(dataset) -> bool:
        result = run_query(MemoryStore(dataset), catalogue[query], {}, allow_service=True)
        values = {row[flag].toPython() for row in result.bindings if curie(row[Variable(column)]) == node}
        assert len(values) == 1, f"{query}: {node} has {values}"
        return values.pop()

    changed = copy_of(enriched_built.dataset)
    MemoryStore(changed).update(change)
    assert (flag_of(enriched_built.dataset), flag_of(changed)) == (before, not before)


def test_operations_with_partner_as_label_curie_or_iri_agree(kg_store, catalogue):
    answers = []
    for partner in ("NATO", "id:NATO", str(ID.NATO)):
        _, rows, _ = _answer(kg_store, catalogue, "operations-with", {"partner": partner})
        answers.append(sorted(rows, key=repr))
    assert answers[0] == answers[1] == answers[2]
    assert len(answers[0]) == 4


def test_operations_with_excludes_alignment(kg_store, catalogue):
    """C16: the Venezuela efforts align with the US; they are not carried out with the US."""
    _, rows, _ = _answer(kg_store, catalogue, "operations-with", {"partner": "id:UnitedStates"})
    assert "id:VenezuelaDiplomacy" not in {row[0] for row in rows}


def test_provenance_quotes_are_the_source_text():
    """The expected quotes and offsets of the provenance cases are the source's own characters."""
    text = SOURCE.read_text(encoding="utf-8")
    for case in CASES:
        if case.query != "provenance":
            continue
        columns = case.columns
        for row in case.rows:
            quote, start, end = (row[columns.index(c)] for c in ("quote", "start", "end"))
            assert text[start:end] == quote


@pytest.mark.parametrize("case", [pytest.param(case, id=case.test_id) for case in CASES])
def test_every_store_answers_with_the_same_terms(kg_store, enriched_built, catalogue, case: Case):
    """Not only the same values: the same RDF terms (lexical form, datatype, language) as rdflib in memory,
    in the same order when the query orders its rows (blank nodes, whose labels are the store's, as `_:`)."""
    def terms(result):
        return [tuple("_:" if isinstance(term, BNode) else term for term in row) for row in result]

    header, _, result = _answer(kg_store, catalogue, case.query, case.params)
    reference_header, _, reference = _answer(enriched_built.dataset, catalogue, case.query, case.params)
    assert header == reference_header
    if case.ordered:
        assert terms(result) == terms(reference)
    else:
        assert Counter(terms(result)) == Counter(terms(reference))
