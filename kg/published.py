"""The files `kg build` published, served at the IRIs its dataset description gives them: /dataset (the VoID
description, dist/void.ttl) and /dataset/FILE (each dcat:Distribution, dist/FILE), so that the description's
links resolve on the server that serves the data.

Only the files of the build being served are: the description names its build (prov:wasGeneratedBy, identified
by the build key, kg.build.cache_key), and a directory that holds another build's files (the inputs changed since
`kg build` ran) or none is refused with what to run. Only the files the description lists are served, by name
(never a path taken from the request). They are the build's files: triples added through SPARQL Update or
`--graph` are served by the endpoint and the pages, not here.
"""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from kg.http import Refused
from kg.namespaces import DCTERMS, PROV
from kg.void import DATASET

IANA_MEDIA_TYPES = "https://www.iana.org/assignments/media-types/"


def _directory(request: Request) -> Path:
    settings = request.app.state.settings
    return settings.dist or settings.project.root / "dist"


def description(request: Request) -> Graph:
    """The dataset description of the build being served (void.ttl of `kg serve --dist`); Refused(404) naming what
    to run when the directory has none, or another build's."""
    directory = _directory(request)
    path = directory / "void.ttl"
    try:
        graph = Graph().parse(path, format="turtle")
    except FileNotFoundError:
        raise Refused(404, f"{path} does not exist: run `kg build` to publish the dataset's files") from None
    except Exception as exc:  # rdflib's parsers raise many kinds; a broken file is the server's fault
        raise Refused(500, f"{path} cannot be read as Turtle: {exc}") from None
    served = Literal(f"sha256:{request.app.state.build_key}")
    builds = [graph.value(build, DCTERMS.identifier) for build in graph.objects(DATASET, PROV.wasGeneratedBy)]
    if served not in builds:
        published = ", ".join(sorted(str(b) for b in builds if b is not None)) or "none named"
        raise Refused(404, f"{directory} holds the files of another build ({published}), not of the data served "
                           f"({served}): run `kg build` to publish this build's files")
    return graph


async def distribution(request: Request) -> Response:
    """/dataset/FILE: one file of the build being served, as its description types it (dcat:mediaType)."""
    graph = description(request)
    name = request.path_params["file"]
    iri = URIRef(f"{DATASET}/{name}")
    if (DATASET, DCAT.distribution, iri) not in graph:
        files = sorted(str(graph.value(d, DCTERMS.title)) for d in graph.objects(DATASET, DCAT.distribution))
        raise Refused(404, f"{iri} is not a file of this dataset; its files: {', '.join(files)}")
    path = _directory(request) / name
    if not path.is_file():
        raise Refused(404, f"{path} is missing, although the dataset description lists it: run `kg build`")
    media = str(graph.value(iri, DCAT.mediaType)).removeprefix(IANA_MEDIA_TYPES)
    return FileResponse(path, media_type=media)
