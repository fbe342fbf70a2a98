"""`kg describe` on the project's data, in every store (read in place from rdflib, from the quads about the entity
elsewhere): statements in both directions, inferred ones marked, quotes."""

from __future__ import annotations

from kg.describe import describe
from kg.namespaces import ID
from kg.query import Quoted


def test_describe_separates_stated_from_inferred(project_store) -> None:
    norad = describe(project_store, ID.NORAD)
    outgoing = {(predicate, obj): inferred for predicate, obj, inferred in norad.outgoing}
    # "Commanded and staffed by Americans and Canadians" (C11): stated
    assert outgoing[("kg:staffNationality", "United States (id:UnitedStates)")] is False
    assert outgoing[("kg:supportedBy", "claim:C11")] is False
    # prov:wasInfluencedBy is entailed from its subproperty kg:supportedBy
    assert outgoing[("prov:wasInfluencedBy", "claim:C11")] is True
    incoming = {(subject, predicate): inferred for subject, predicate, inferred in norad.incoming}
    assert incoming[("Canada–US cooperation in NORAD (id:NORADCooperation)", "kg:conductedThrough")] is False
    assert incoming[("claim:C07", "kg:supports")] is True  # inverse of kg:supportedBy


def test_describe_lists_labels_types_and_quotes(project_store) -> None:
    norad = describe(project_store, ID.NORAD)
    assert norad.labels == {
        "en": ["North American Aerospace Defense Command"],
        "fr": ["Commandement de la défense aérospatiale de l'Amérique du Nord"],
    }
    assert norad.types == ["kg:MilitaryCommand", "org:Organization", "prov:Agent"]
    assert norad.claims == (
        Quoted("C07", "we work together in NORAD", "id:factsheet", derived=False),
        Quoted("C08", "NORAD – the North American Aerospace Defense Command", "id:factsheet", derived=False),
        Quoted("C11", "Commanded and staffed by Americans and Canadians", "id:factsheet", derived=False),
    )


def test_canadas_air_task_force_answers_to_canada(project_store) -> None:
    """"Canada's Air Task Force Prestwick provides tactical airlift ..." (C37): the possessive is stated, as the
    unit's accountability to Canada (prov:actedOnBehalfOf), with C37 its only quote; which Canadian organisation
    the unit is part of, the fact sheet does not say, so no org:subOrganizationOf is stated."""
    prestwick = describe(project_store, ID.AirTaskForcePrestwick)
    outgoing = {(predicate, obj): inferred for predicate, obj, inferred in prestwick.outgoing}
    assert outgoing[("prov:actedOnBehalfOf", "Canada (id:Canada)")] is False
    assert not any(predicate.startswith("org:") for predicate, _ in outgoing)
    assert [quoted.id for quoted in prestwick.claims] == ["C37"]
