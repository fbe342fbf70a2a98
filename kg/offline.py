"""Offline facts: ISO 3166-1 codes and names of the states mentioned, from the pycountry package, at build time.

A fresh install answers "the ISO code of each country mentioned" without any network. Each state is matched
to its ISO 3166-1 entry by data/links-iso3166.tsv (subject, label, alpha-3 code, evidence), an explicit and
reviewed table: matching on names alone misses some (pycountry knows Russia only as "Russian Federation").
The facts go into their own named graph, with PROV naming pycountry and its version.
"""

from __future__ import annotations

import gettext
from importlib.metadata import metadata, version
from typing import NamedTuple

from rdflib import BNode, Dataset, Literal, URIRef
from rdflib.namespace import PROV, RDF, RDFS

from kg.errors import InputError
from kg.link import read_table
from kg.load import Project, curie
from kg.namespaces import KG, PYCOUNTRY_GRAPH, SCHEMA, STATEMENTS_GRAPH

ISO_COLUMNS = ("subject_id", "subject_label", "alpha_3", "evidence")


class IsoMatch(NamedTuple):
    """A row of links-iso3166.tsv: the state's label there, its alpha-3 code, and the row's line."""

    label: str
    alpha_3: str
    line: int


def pycountry_version() -> str:
    """The installed pycountry's version (part of the build's cache key: its data is an input)."""
    return version("pycountry")


def country_matches(project: Project = Project()) -> dict[URIRef, IsoMatch]:
    """State -> its row of links-iso3166.tsv (empty without the file); a state (read_table) or a code matched
    twice is an error."""
    if not project.country_codes.is_file():
        return {}
    matches: dict[URIRef, IsoMatch] = {}
    by_code: dict[str, URIRef] = {}
    for number, (subject, name, alpha_3, _evidence) in enumerate(
        read_table(project.country_codes, ISO_COLUMNS, project), start=2
    ):
        if alpha_3 in by_code:
            raise InputError(f"{project.relative(project.country_codes)}:{number}: {curie(subject)}: alpha_3 "
                             f"{alpha_3} is already {curie(by_code[alpha_3])}'s (line {matches[by_code[alpha_3]].line})")
        by_code[alpha_3] = subject
        matches[subject] = IsoMatch(name, alpha_3, number)
    return matches


def add_country_facts(dataset: Dataset, project: Project = Project()) -> None:
    """Add the pycountry graph: alpha-2, alpha-3 and numeric codes and the English and French ISO names of
    every matched state. A match to a state that is not in the statements, under a label that is not one of
    the state's, or to a code pycountry does not know, raises InputError naming the line."""
    matches = country_matches(project)
    if not matches:
        return
    import pycountry

    shown = project.relative(project.country_codes)
    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    statements = dataset.graph(STATEMENTS_GRAPH)
    graph = dataset.graph(PYCOUNTRY_GRAPH)
    for state, (name, alpha_3, line) in matches.items():
        if (state, RDF.type, KG.State) not in statements:
            raise InputError(f"{shown}:{line}: {curie(state)} is not a kg:State of the statements")
        labels = sorted(str(text) for text in statements.objects(state, RDFS.label))
        if name not in labels:
            raise InputError(f"{shown}:{line}: subject_label {name!r} is not a label of {curie(state)} ({labels})")
        country = pycountry.countries.get(alpha_3=alpha_3)
        if country is None:
            raise InputError(f"{shown}:{line}: {curie(state)}: pycountry has no ISO 3166-1 entry {alpha_3!r}")
        graph.add((state, KG.isoAlpha2Code, Literal(country.alpha_2)))
        graph.add((state, KG.isoAlpha3Code, Literal(country.alpha_3)))
        graph.add((state, KG.isoNumericCode, Literal(country.numeric)))
        graph.add((state, KG.isoName, Literal(country.name, lang="en")))
        graph.add((state, KG.isoName, Literal(french.gettext(country.name), lang="fr")))
    # prov:wasGeneratedBy an activity that used the package (a blank node as the object of prov:wasDerivedFrom
    # would be lost by rdflib's JSON-LD export, whose context makes that property's values plain IRIs)
    activity, package = BNode(), BNode()
    graph.add((PYCOUNTRY_GRAPH, RDF.type, PROV.Entity))
    graph.add((PYCOUNTRY_GRAPH, PROV.wasGeneratedBy, activity))
    graph.add((activity, RDF.type, PROV.Activity))
    graph.add((activity, PROV.used, package))
    graph.add((package, RDF.type, SCHEMA.SoftwareApplication))
    graph.add((package, SCHEMA.name, Literal("pycountry")))
    graph.add((package, SCHEMA.softwareVersion, Literal(pycountry_version())))
    source = dict(url.split(", ", 1) for url in metadata("pycountry").get_all("Project-URL") or []).get("source")
    if source:
        graph.add((package, SCHEMA.codeRepository, URIRef(source)))
    graph.add((package, RDFS.comment, Literal("ISO 3166-1 data and its French translation (gettext)", lang="en")))
