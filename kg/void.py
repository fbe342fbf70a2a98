"""The dataset description `kg build` writes as dist/void.ttl and into every export (named graph graph:dataset):
the dataset and its named graphs with their triple counts (VoID), its files with their media types (DCAT), its
licence and the source's rights (DCTERMS), and the build that made it (PROV-O).

Generated, not hand-written: everything in it is either a count taken from the built dataset, the files
kg.export writes, or one of the few fixed statements below. The licence is the project's (CC BY 4.0, as the
README says) and covers what the project made; the fact sheet's text, republished verbatim in graph:sources, keeps
its publisher's rights. Nothing is said that the repository does not hold: the fact sheet's URL and publication
date are not known, so none is given. The build is identified by its build key (the SHA-256 of kg's version and
code and of every input, kg.build.cache_key), not by a time: a wall-clock timestamp would make two builds of the
same inputs differ, and the exports are byte-stable.
"""

from __future__ import annotations

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCAT

from kg import __version__
from kg.load import bind_prefixes, merged
from kg.namespaces import (
    BASE, DCTERMS, GRAPH, ID, INFERRED_GRAPH, LINKS_GRAPH, ONTOLOGY_GRAPH, PROV, PYCOUNTRY_GRAPH, RDF, RDFS, SCHEMA,
    SOURCES_GRAPH, STATEMENTS_GRAPH, VOID, W3C_FORMATS, WIKIDATA_GRAPH,
)

DATASET = URIRef(BASE + "dataset")
DATASET_GRAPH = GRAPH.dataset  # the description's own graph in the exports (not counted in it)
CC_BY = URIRef("https://creativecommons.org/licenses/by/4.0/")
SOURCE_RIGHTS = Literal(
    "The text of the source fact sheet is republished verbatim, for reference only (claims quote it); its rights "
    "remain with its publisher, the Government of Canada, and are not covered by the CC BY 4.0 licence of the "
    "project's own statements.", lang="en")

# the licences of the graphs the project did not make: pycountry's (the LICENSE file and License-Expression of
# the package it ships) and Wikidata's (its data is CC0); the fact sheet's text has its publisher's rights instead
LGPL = URIRef("https://spdx.org/licenses/LGPL-2.1-only.html")
CC0 = URIRef("https://creativecommons.org/publicdomain/zero/1.0/")
OTHERS_TERMS = Literal(
    "The graphs the project did not make keep their own terms: the fact sheet's text its publisher's rights, the "
    "ISO 3166-1 facts from the pycountry package LGPL-2.1-only, the facts fetched from Wikidata CC0 1.0; the CC BY "
    "4.0 licence covers the rest.", lang="en")

# each named graph: its title, and its licence (the project's for what it made; None: see SOURCE_RIGHTS)
GRAPHS = {
    ONTOLOGY_GRAPH: ("The defence-kg ontology", CC_BY),
    STATEMENTS_GRAPH: ("The claims of the fact sheet and the facts they support", CC_BY),
    SOURCES_GRAPH: ("The text of the source fact sheet, verbatim", None),
    INFERRED_GRAPH: ("What an OWL 2 RL reasoner infers from the ontology and the statements", CC_BY),
    LINKS_GRAPH: ("Links to Wikidata, with their evidence (SSSOM)", CC_BY),
    PYCOUNTRY_GRAPH: ("ISO 3166-1 facts from the pycountry package", LGPL),
    WIKIDATA_GRAPH: ("Facts fetched from Wikidata by kg enrich", CC0),
}
# export format -> (IANA media type, W3C format IRI)
MEDIA = {
    "turtle": ("text/turtle", W3C_FORMATS.Turtle),
    "jsonld": ("application/ld+json", W3C_FORMATS["JSON-LD"]),
    "nt": ("application/n-triples", W3C_FORMATS["N-Triples"]),
    "trig": ("application/trig", W3C_FORMATS.TriG),
    "xml": ("application/rdf+xml", W3C_FORMATS.RDF_XML),
}


def describe(dataset: Dataset, graphs: tuple[URIRef, ...], files: dict[str, tuple[str, bool]], build_key: str) -> Graph:
    """The description of `dataset`'s named `graphs` (the asserted ones and the inferred one), published as `files`
    (file name -> (export format, whether it holds the inferred graph)), built under `build_key`."""
    description = Graph()
    bind_prefixes(description)
    description.bind("void", VOID)
    description.bind("dcat", DCAT)
    add = description.add
    add((DATASET, RDF.type, VOID.Dataset))
    add((DATASET, RDF.type, DCAT.Dataset))
    add((DATASET, DCTERMS.title, Literal("defence-kg: Canada–United States defence cooperation", lang="en")))
    add((DATASET, DCTERMS.description, Literal(
        "The claims of a Government of Canada fact sheet on Canada–United States defence cooperation as RDF, each "
        "tied to the words of the fact sheet that state it, with the ontology, links to other data and the "
        "triples a reasoner infers.", lang="en")))
    add((DATASET, DCTERMS.license, CC_BY))
    add((DATASET, DCTERMS.rights, SOURCE_RIGHTS))
    others = any(GRAPHS[name][1] not in (CC_BY, None) for name in graphs)  # graphs under another licence
    if others:
        add((DATASET, DCTERMS.rights, OTHERS_TERMS))
    add((DATASET, DCTERMS.source, ID.factsheet))
    add((DATASET, VOID.triples, Literal(len(merged(dataset, *graphs)))))
    for name in graphs:
        title, licence = GRAPHS[name]
        add((DATASET, VOID.subset, name))
        add((name, RDF.type, VOID.Dataset))
        add((name, DCTERMS.title, Literal(title, lang="en")))
        add((name, VOID.triples, Literal(len(dataset.get_context(name)))))
        if licence is not None:
            add((name, DCTERMS.license, licence))
    add((SOURCES_GRAPH, DCTERMS.rights, SOURCE_RIGHTS))
    add((SOURCES_GRAPH, DCTERMS.source, ID.factsheet))
    for file, (fmt, inferred) in files.items():
        distribution = URIRef(f"{DATASET}/{file}")
        media, syntax = MEDIA[fmt]
        add((DATASET, DCAT.distribution, distribution))
        add((DATASET, VOID.dataDump, distribution))
        add((distribution, DCAT.downloadURL, distribution))  # (kg serve serves each file at its IRI: kg.published)
        add((distribution, RDF.type, DCAT.Distribution))
        add((distribution, DCTERMS.title, Literal(file)))
        add((distribution, DCTERMS.description, Literal(
            "Every graph, the inferred one too." if inferred else "The asserted graphs (no inferred triples).",
            lang="en")))
        add((distribution, DCAT.mediaType, URIRef(f"https://www.iana.org/assignments/media-types/{media}")))
        add((distribution, DCTERMS.format, syntax))
        add((distribution, DCTERMS.license, CC_BY))
        add((distribution, DCTERMS.rights, SOURCE_RIGHTS))
        if others:
            add((distribution, DCTERMS.rights, OTHERS_TERMS))
    build, software = URIRef(f"{DATASET}/build/{build_key}"), URIRef(f"{DATASET}/kg/{__version__}")
    add((DATASET, PROV.wasGeneratedBy, build))
    add((build, RDF.type, PROV.Activity))
    add((build, DCTERMS.identifier, Literal(f"sha256:{build_key}")))
    add((build, RDFS.comment, Literal(
        "kg build; identified by the SHA-256 of kg's version and code and of every input file (no time is "
        "recorded: the same inputs give the same files).", lang="en")))
    add((build, PROV.wasAssociatedWith, software))
    add((build, PROV.used, ID.factsheet))
    add((software, RDF.type, PROV.SoftwareAgent))
    add((software, RDFS.label, Literal("kg")))
    add((software, SCHEMA.softwareVersion, Literal(__version__)))
    return description
