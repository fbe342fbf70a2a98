"""Stage 6, serve: the built dataset over HTTP, as a SPARQL 1.1 Protocol endpoint and as linked data.

`create_app` is a Starlette application. Queries never run in the server's own process: each goes to a
worker, a process forked from the server, which queries its store (kg.store: the memory store holds the dataset
copy-on-write; an oxigraph store is opened read-only by each worker after the fork; a SPARQL server is sent the
query) through `Store.query`, which parses, checks and evaluates it. A worker that outruns `--timeout` is killed (the only way to stop
rdflib mid-evaluation) and replaced, and the client gets a 503 saying so. The pool keeps `workers` idle
processes and grows to `max_workers` while queries are running, so a runaway query never holds up the
next one; a worker whose query has used DEMOTE_AFTER seconds of CPU lowers its own priority, so short
queries keep the processor, and is replaced afterwards. Nothing is fetched: SERVICE, LOAD and dataset IRIs outside the server's own graphs are refused
before evaluation (kg.sparql.check_offline), and rdflib's loading of unknown FROM graphs is switched off in
every worker as well. Updates are refused unless the server was started with `--allow-update` and a token.

URL layout (HTML pages come from kg.pages): `/sparql` (the endpoint; its service description on a GET
without a query), `/id/...` (303 See Other to `/page/...` or `/data/....ttl|.jsonld|.nt|.rdf`), `/ontology`,
`/ontology/VERSION`, `/shapes` and `/graph/NAME` (303 to their documents), `/links.sssom.tsv` (the mapping set).
A handler refuses a request by raising Refused; EXCEPTION_HANDLERS turns it, and Starlette's 404 and 405, into
a message naming the cause.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import hmac
import itertools
import multiprocessing
import os
import re
import resource
import signal
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_to_bytes

from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from kg import pages, published
from kg.build import Built, cache_key
from kg.errors import InputError, OutputError, QueryError, StoreError, UsageError
from kg.http import Refused, form_fields, negotiate, query_parameters, single_value
from kg.export import load_context, not_in_xml, serialized, writable_blank_nodes  # kg.export's writer: both write the same bytes
from kg.load import Project, bind_prefixes, load_shapes, new_dataset, printable
from kg.namespaces import (
    BASE, GRAPH, ID, KG, ONTOLOGY_GRAPH, OWL, PROV, RDF, RDFS, SD, VOID, W3C_FORMATS,
)
from kg.query import serialize_result
from kg.sparql import check_memory_update, check_named_graphs, check_offline, prepare, prepare_update

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from rdflib.query import Result

    from kg.store import Store

# media type -> rdflib result serializer ('tsv' and 'json' are kg.query's); the last one is the default
ANSWER_TYPES = {
    "text/tab-separated-values": "tsv",
    "text/csv": "csv",
    "application/xml": "xml",
    "application/sparql-results+xml": "xml",
    "application/json": "json",
    "application/sparql-results+json": "json",
}
GRAPH_TYPES = {  # media type -> kg.export format (its serializer, as kg export writes it)
    "application/rdf+xml": "xml",
    "text/plain": "nt",
    "application/n-triples": "nt",
    "application/ld+json": "jsonld",
    "text/turtle": "turtle",
}
# extension -> media type of the documents (/ontology.EXT, /data/NAME.EXT...); negotiation redirects to a type's
# first extension; .owl is RDF/XML too, the extension ontology tools (Protégé, the OWL API) look for
DOCUMENT_EXTENSIONS = {
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
    "rdf": "application/rdf+xml",
    "owl": "application/rdf+xml",
}
# a named graph (/graph/NAME) is also served as TriG: that one graph under its name
GRAPH_EXTENSIONS = {**DOCUMENT_EXTENSIONS, "trig": "application/trig"}
MEDIA_FORMATS = {**GRAPH_TYPES, "application/trig": "trig"}  # a document's media type -> kg.export format
# the order document types are offered in: on a tie (*/*) the last wins (N-Triples, or the HTML page offered after)
_TIE_ORDER = ("application/trig", "application/rdf+xml", "text/turtle", "application/ld+json", "application/n-triples")
_RESULT_FORMATS = {  # W3C format IRIs announced in the service description
    "SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
    "Turtle", "JSON-LD", "N-Triples", "RDF_XML",
}
_CACHED_BODY = 1 << 18  # larger answers are not cached: at most 256 such answers, 64 MiB, stay in memory
DEMOTE_AFTER = 0.5  # CPU seconds after which a query's worker lowers its priority (nice 10)
_TEXT_TYPES = ("text/", "application/sparql-results+", "application/json", "application/ld+json",
               "application/n-triples", "application/rdf+xml", "application/xml", "application/trig")


@dataclass(frozen=True)
class Settings:
    """How the server runs: `kg serve`'s options."""

    public_url: str | None = None  # where clients reach the server; default: the URL each request came to
    timeout: float = 10.0  # seconds a query may run before its worker is killed
    max_rows: int = 10_000  # more result rows (or triples) than this: 422, never a silent partial answer
    max_body: int = 1 << 20  # bytes of request body (and of query string) accepted
    workers: int = 3  # idle query processes kept ready
    max_workers: int = 8  # at most this many queries run at once; more wait for a free worker
    update_token: str | None = None  # set (with --allow-update) to accept SPARQL Update with this bearer token
    cache: int = 256  # successful answers kept (the data only changes by an update, which empties it); 0: none
    worker_memory: int = 2048  # MiB a worker may allocate beyond what it inherits from the server; then 503
    max_connections: int = 1024  # open at once; a request on one more gets 503
    project: Project = field(default_factory=Project)
    dist: Path | None = None  # the files `kg build` published (kg.published); default: the project's dist/


@dataclass(frozen=True)
class Reply:
    """What a worker answers: an HTTP status, a media type and the body."""

    status: int
    media_type: str
    body: bytes
    changes: tuple[frozenset, frozenset] | None = None  # an update's (added, removed) quads
    retire: bool = False  # the worker lowered its priority for a long query: replace it


def _error(status: int, message: str) -> Reply:
    return Reply(status, "text/plain", (message.rstrip("\n") + "\n").encode())


# ---------------------------------------------------------------------------------------------- the workers


@dataclass
class _Evaluator:
    """A worker's side: the store it queries, and how to answer one job.

    `connect` opens the store, in the worker on its first job (a pyoxigraph handle must not cross a fork);
    `dataset` is the memory store's dataset, which updates change (the other stores are read-only here)."""

    connect: Callable[[], Store]
    dataset: Dataset | None
    graphs: set[URIRef]
    settings: Settings
    _store: Store | None = None

    def answer(self, job: dict[str, Any]) -> Reply:
        try:
            if job["kind"] == "update":
                return self._update(job["text"])
            return self._query(job)
        except QueryError as exc:
            return _error(400, str(exc))
        except OutputError as exc:  # the negotiated syntax cannot hold this result (an RDF/XML predicate)
            return _error(406, f"query: {exc}")
        except StoreError as exc:  # the store could not be opened or reached: not the client's fault
            return _error(502, f"query: {exc}")
        except RecursionError:
            return _error(400, "query: nested too deeply to evaluate")
        except MemoryError:
            return _error(503, "query: stopped, it needed more memory than the server allows")

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = self.connect()
        return self._store

    def _query(self, job: dict[str, Any]) -> Reply:
        defaults, named = job["default_graphs"], job["named_graphs"]
        kind = prepare(job["text"], "query").algebra.name
        offered = GRAPH_TYPES if kind in ("ConstructQuery", "DescribeQuery") else ANSWER_TYPES
        if kind == "AskQuery":
            offered = {media: name for media, name in offered.items() if name in ("json", "xml")}
        media = negotiate(job["accept"], list(offered))
        if media is None:
            return _error(406, f"query: none of the Accept header's types can hold this result; offered: {', '.join(offered)}")
        limit = self.settings.max_rows
        # the protocol's dataset replaces the query's FROM / FROM NAMED; one row more than the cap tells "too many"
        dataset = (defaults, named) if defaults or named else None
        result = self.store.query(job["text"], where="query", dataset=dataset, limit=limit + 1)
        rows = len(result.graph) if result.type in ("CONSTRUCT", "DESCRIBE") else len(result.bindings or ())
        if rows > limit:
            unit = "triples" if result.type in ("CONSTRUCT", "DESCRIBE") else "rows"
            return _error(
                422,
                f"query: the result has more than {limit} {unit}, the server's limit; "
                f"nothing is returned rather than a partial result (add LIMIT {limit} or narrow it)",
            )
        return Reply(200, media, self._serialize(result, offered[media]))

    def _serialize(self, result: Result, name: str) -> bytes:
        if result.type in ("CONSTRUCT", "DESCRIBE"):
            return serialize_graph(result.graph, name, self.settings.project.context)
        if name in ("json", "tsv"):
            return serialize_result(result, name).encode()
        data = result.serialize(format=name, encoding="utf-8")
        character = not_in_xml(data) if name == "xml" else None
        if character is not None:  # (rdflib's writer puts it in as it is)
            raise OutputError(f"the results cannot be written as SPARQL XML: a value holds U+{ord(character):04X}, "
                              "which XML 1.0 cannot hold (JSON, CSV and TSV can)")
        return data

    def _update(self, text: str) -> Reply:
        update = prepare_update(text, "update")
        check_offline(update, self.graphs, "update")
        check_named_graphs(update, "update")
        check_memory_update(update, "update")
        if self.dataset is None:
            return _error(403, "update: this server's store is read-only (updates are served by the memory store only)")
        before = set(self.dataset.quads())
        try:
            self.dataset.update(update)
        except Exception as exc:
            return _error(400, f"update: the update failed while running: {exc}")
        after = set(self.dataset.quads())
        return Reply(204, "text/plain", b"", (frozenset(after - before), frozenset(before - after)))


def _worker_main(connection: Connection, evaluator: _Evaluator, inherited: list[Connection]) -> None:
    """A worker's loop: answer jobs until the server closes its end of the pipe."""
    import rdflib.plugins.sparql

    rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False  # never parse a FROM IRI from the web or disk
    for server_end in inherited:
        server_end.close()
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's; it stops its workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    demoted = []

    def demote(signum: int, frame: object) -> None:  # a long query yields the CPU to short ones
        os.nice(10)
        demoted.append(True)

    signal.signal(signal.SIGPROF, demote)
    _limit_memory(evaluator.settings.worker_memory << 20)
    while True:
        try:
            job = connection.recv()
        except (EOFError, OSError):
            return
        # should the server die mid-query, the kernel still ends this process a little after the limit
        signal.alarm(int(evaluator.settings.timeout) + 5)
        signal.setitimer(signal.ITIMER_PROF, DEMOTE_AFTER)
        try:
            reply = evaluator.answer(job)
        except Exception as exc:  # a bug, not the client's fault: say so rather than die silently
            reply = _error(500, f"{job['kind']}: internal error: {exc!r}")
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.alarm(0)
        try:
            connection.send(replace(reply, retire=bool(demoted)))
        except (BrokenPipeError, OSError):
            return
        if demoted:  # only a privileged process may raise its priority again: end, the server forks another
            return


def _limit_memory(budget: int) -> None:
    """Let this process allocate at most `budget` bytes more than it holds now (RLIMIT_DATA: its heap and private
    mappings), so that a query building huge values fails with MemoryError, a 503, instead of taking the machine's
    memory: without it, a 1 KB query of doubling CONCATs took 4 GB in 5 s, in each of the workers."""
    status = Path("/proc/self/status").read_text(encoding="ascii")
    held = int(re.search(r"^VmData:\s+(\d+) kB", status, re.MULTILINE).group(1)) << 10
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    wanted = held + budget
    resource.setrlimit(resource.RLIMIT_DATA, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard))


class _Worker:
    """The server's handle on one worker process."""

    def __init__(self, pool: Pool) -> None:
        context = multiprocessing.get_context("fork")
        self.connection, child_end = context.Pipe()
        # the server's ends of every pipe, this one's included: the worker sees EOF when the server is gone
        inherited = [worker.connection for worker in pool.workers] + [self.connection]
        self.process = context.Process(
            target=_worker_main, args=(child_end, pool.evaluator, inherited), name="kg-serve-worker", daemon=True
        )
        self.process.start()
        child_end.close()
        self.generation = pool.generation

    async def call(self, job: dict[str, Any]) -> Reply:
        """Send `job` and wait (without blocking the event loop) for the reply."""
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        descriptor = self.connection.fileno()
        loop.add_reader(descriptor, lambda: ready.done() or ready.set_result(None))
        try:
            self.connection.send(job)
            await ready
        finally:
            loop.remove_reader(descriptor)
        return self.connection.recv()

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self.connection.close()


class Pool:
    """Worker processes forked from this one; a query gets an idle one, or a new one while under the cap."""

    def __init__(self, evaluator: _Evaluator) -> None:
        self.evaluator = evaluator
        self.settings = evaluator.settings
        self.workers: list[_Worker] = []
        self._idle: list[_Worker] = []
        self._waiting: list[asyncio.Future] = []
        self.generation = 0  # bumped by an update: older workers hold the old data
        self._answers: OrderedDict[str, Reply] = OrderedDict()  # least recently used first
        self._updating = asyncio.Lock()

    def start(self) -> None:
        # import and build rdflib's SPARQL parser here, once, so that every fork starts warm (~0.2 s otherwise)
        prepare("ASK {}", "query")
        for _ in range(self.settings.workers):
            self._idle.append(self._spawn())

    def stop(self) -> None:
        for worker in self.workers:
            worker.kill()
        self.workers.clear()
        self._idle.clear()

    def _spawn(self) -> _Worker:
        worker = _Worker(self)
        self.workers.append(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        self.workers.remove(worker)

    async def _acquire(self) -> _Worker:
        while self._idle:
            worker = self._idle.pop()
            if worker.process.is_alive():
                return worker
            self._discard(worker)  # died while idle (killed from outside): reap it, take another
        if len(self.workers) < self.settings.max_workers:
            return self._spawn()
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed a worker just as the wait timed out
                self._release(waiter.result())
            raise
        finally:
            if waiter in self._waiting:
                self._waiting.remove(waiter)

    def _release(self, worker: _Worker) -> None:
        if worker.generation != self.generation:
            self._discard(worker)
            worker = self._spawn()
        while self._waiting:
            waiter = self._waiting.pop(0)
            if not waiter.done():
                waiter.set_result(worker)
                return
        if len(self._idle) < self.settings.workers:
            self._idle.append(worker)
        else:
            self._discard(worker)

    async def run(self, job: dict[str, Any]) -> Reply:
        """The reply to `job` (from the answer cache when the same query was answered before), or a 503 when
        no worker frees up or the job outruns the time limit."""
        # (a digest: the query text and Accept header may be a megabyte each, and the cache keeps 256 keys)
        key = hashlib.sha256(repr(sorted(job.items())).encode()).hexdigest() if job["kind"] == "query" else None
        if key in self._answers:
            self._answers.move_to_end(key)
            return self._answers[key]
        generation = self.generation
        reply = await self._run(job)
        # (an answer computed while an update was applied may be of the data before it: not kept)
        fresh = generation == self.generation
        if key is not None and fresh and reply.status == 200 and self.settings.cache and len(reply.body) <= _CACHED_BODY:
            self._answers[key] = reply
            if len(self._answers) > self.settings.cache:
                self._answers.popitem(last=False)
        return reply

    async def _run(self, job: dict[str, Any]) -> Reply:
        limit = self.settings.timeout
        try:
            worker = await asyncio.wait_for(self._acquire(), limit)
        except TimeoutError:
            return _error(503, f"{job['kind']}: all {self.settings.max_workers} query workers stayed busy for {limit:g} s; retry later")
        try:
            reply = await asyncio.wait_for(worker.call(job), limit)
        except TimeoutError:
            self._discard(worker)
            self._release(self._spawn())
            return _error(
                503, f"{job['kind']}: stopped after the server's time limit of {limit:g} s (the {job['kind']} was "
                     "cancelled" + (": nothing changed)" if job["kind"] == "update" else ")")
            )
        except (EOFError, OSError):
            code = worker.process.exitcode
            self._discard(worker)
            self._release(self._spawn())
            return _error(500, f"{job['kind']}: the query process died (exit code {code})")
        if job["kind"] == "update" or reply.retire:  # changed its copy of the dataset, or its priority
            self._discard(worker)
            worker = self._spawn()
        self._release(worker)
        return reply

    async def update(self, text: str) -> Reply:
        """Run an update on a worker holding the current data, then apply its changes; one update at a time: two
        side by side would each change the same copy, and the changes of the second would undo the first's."""
        async with self._updating:
            reply = await self.run({"kind": "update", "text": text})
            if reply.changes is not None:
                self.apply(reply.changes)
            return reply

    def apply(self, changes: tuple[frozenset, frozenset]) -> None:
        """Apply an update's changes to the server's dataset; idle workers are replaced by fresh forks."""
        added, removed = changes
        dataset = self.evaluator.dataset
        for quad in removed:
            dataset.remove(quad)
        for subject, predicate, obj, graph in added:
            dataset.graph(graph.identifier if isinstance(graph, Graph) else graph).add((subject, predicate, obj))
        self.evaluator.graphs.update(graph_names(dataset))
        self.generation += 1
        self._answers.clear()
        for worker in list(self._idle):
            self._idle.remove(worker)
            self._discard(worker)
        for _ in range(self.settings.workers):
            self._idle.append(self._spawn())


# ---------------------------------------------------------------------------------------------- HTTP


def graph_names(dataset: Dataset) -> set[URIRef]:
    """The IRIs of the dataset's named graphs (rdflib's own default graph is not one)."""
    return {
        context.identifier
        for context in dataset.contexts()
        if isinstance(context.identifier, URIRef) and context.identifier != DATASET_DEFAULT_GRAPH_ID
    }


def serialize_graph(graph: Graph, fmt: str, context: Path) -> bytes:
    """A graph (or, for TriG, a dataset) as bytes in kg.export format `fmt`, with the project's prefixes; JSON-LD
    compacted with the context file `context`. OutputError if the format cannot hold the data."""
    bind_prefixes(graph)
    return serialized(writable_blank_nodes(graph), fmt, context)


def _respond(reply: Reply, vary: bool = True) -> Response:
    media = reply.media_type
    if media.startswith(_TEXT_TYPES) and reply.status != 204:
        media += "; charset=utf-8"
    headers = {"Vary": "Accept"} if vary else {}
    if reply.status == 204:
        return Response(status_code=204, headers=headers)
    return Response(reply.body, status_code=reply.status, headers=headers, media_type=media)


class _Utf8Paths:
    """400 for a request whose path is not UTF-8 once percent-decoded (/id/%ff): Starlette decodes it with
    U+FFFD replacements, which then looked like a path that is simply not found."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "http":
            try:
                unquote_to_bytes(scope.get("raw_path") or b"").decode("utf-8")
            except UnicodeDecodeError as exc:
                response = _refuse(400, f"the path is not UTF-8 once percent-decoded (byte {exc.start}: {exc.reason})")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _refuse(status: int, message: str, **headers: str) -> Response:
    return PlainTextResponse(message.rstrip("\n") + "\n", status_code=status, headers=headers or None)


def _media_type(header: str) -> tuple[str, dict[str, str]]:
    kind, _, rest = header.partition(";")
    parameters = {}
    for item in rest.split(";"):
        key, equals, value = item.partition("=")
        if equals:
            parameters[key.strip().lower()] = value.strip().strip('"').lower()
    return kind.strip().lower(), parameters


async def _body(request: Request, limit: int, deadline: float) -> bytes:
    """The request body, at most `limit` bytes, arrived within `deadline` seconds (a client that sends a few bytes
    and then nothing would otherwise hold its connection open for ever)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"the request body is {declared} bytes; the server accepts at most {limit}")
    chunks, size = [], 0
    try:
        async with asyncio.timeout(deadline):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise Refused(413, f"the request body is larger than {limit} bytes, the server's limit")
                chunks.append(chunk)
    except ClientDisconnect:  # (else a traceback in the server's log for what is the client's doing)
        raise Refused(400, f"the client went away after {size} bytes of the body") from None
    except TimeoutError:
        raise Refused(408, f"the request body did not arrive within {deadline:g} s (the server's --timeout): "
                           f"{size} bytes came") from None
    return b"".join(chunks)


async def _operation(request: Request, settings: Settings) -> tuple[str | None, str | None, dict[str, list[str]]]:
    """(query, update, parameters) of a protocol request; Refused for what the protocol does not allow."""
    raw_query = request.url.query
    if len(raw_query) > settings.max_body:
        raise Refused(414, f"the query string is longer than {settings.max_body} bytes, the server's limit")
    params = form_fields(raw_query, "query string")
    if request.method in ("GET", "HEAD"):
        if "update" in params:
            raise Refused(400, "an update must be sent with POST, never GET")
        return single_value(params, "query"), None, params
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding != "identity":
        raise Refused(415, f"the body is encoded as {encoding!r}; this server takes bodies unencoded only")
    header = request.headers.get("content-type")
    if header is None:
        raise Refused(415, "a POST needs a Content-Type: application/x-www-form-urlencoded, "
                       "application/sparql-query or application/sparql-update")
    kind, parameters = _media_type(header)
    charset = parameters.get("charset", "utf-8")
    if charset not in ("utf-8", "utf8"):
        raise Refused(415, f"the body must be UTF-8, not {charset}")
    body = await _body(request, settings.max_body, settings.timeout)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refused(400, f"the body is not UTF-8 (byte {exc.start}: {exc.reason})") from None
    if "query" in params or "update" in params:
        raise Refused(400, "a POST carries its query or update in the body; the URL must not carry another")
    if kind == "application/x-www-form-urlencoded":
        form = form_fields(text, "body")
        for name in ("default-graph-uri", "named-graph-uri", "using-graph-uri", "using-named-graph-uri"):
            params.setdefault(name, []).extend(form.get(name, []))
        query, update = single_value(form, "query"), single_value(form, "update")
        if query is not None and update is not None:
            raise Refused(400, "the form has both a query and an update; send one")
        if query is None and update is None:
            raise Refused(400, "the form has neither a 'query' nor an 'update' parameter")
        return query, update, params
    if kind == "application/sparql-query":
        return text, None, params
    if kind == "application/sparql-update":
        return None, text, params
    raise Refused(415, f"unsupported Content-Type {kind!r}: use application/x-www-form-urlencoded, "
                   "application/sparql-query or application/sparql-update")


def _public_url(request: Request, settings: Settings) -> str:
    return (settings.public_url or str(request.base_url)).rstrip("/")


async def sparql_endpoint(request: Request) -> Response:
    """The SPARQL 1.1 Protocol: queries by GET and POST, updates only when allowed; the service description."""
    settings: Settings = request.app.state.settings
    query, update, params = await _operation(request, settings)  # (a Refused goes to the app's handler)
    if update is not None:
        return await _update(request, update, params)
    if query is None:
        return service_description(request)
    job = {
        "kind": "query",
        "text": query,
        "default_graphs": params.get("default-graph-uri", []),
        "named_graphs": params.get("named-graph-uri", []),
        "accept": request.headers.get("accept"),
    }
    return _respond(await request.app.state.pool.run(job))


async def _update(request: Request, text: str, params: dict[str, list[str]]) -> Response:
    settings: Settings = request.app.state.settings
    if settings.update_token is None:
        raise Refused(403, "this endpoint is read-only: SPARQL Update is refused (the graph is built from its sources)")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), settings.update_token.encode()):
        raise Refused(401, "an update needs the server's bearer token (Authorization: Bearer TOKEN)",
                       **{"WWW-Authenticate": 'Bearer realm="kg"'})
    if params.get("using-graph-uri") or params.get("using-named-graph-uri"):
        raise Refused(400, "using-graph-uri and using-named-graph-uri are not supported; use USING in the update")
    return _respond(await request.app.state.pool.update(text), vary=False)


def service_description(request: Request) -> Response:
    """The SPARQL 1.1 Service Description of this endpoint, as RDF (a browser is sent to the query page)."""
    settings: Settings = request.app.state.settings
    media = negotiate(request.headers.get("accept"), ["text/html", *GRAPH_TYPES])
    if media == "text/html":
        return RedirectResponse("/query", status_code=303, headers={"Vary": "Accept"})
    if media is None:
        return _refuse(406, f"the service description is available as: {', '.join(GRAPH_TYPES)}")
    endpoint = URIRef(_public_url(request, settings) + "/sparql")
    dataset: Dataset = request.app.state.built.dataset
    graph = Graph()
    graph.bind("sd", SD)
    graph.bind("void", VOID)
    service, default = BNode("service"), BNode("dataset")
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, endpoint))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    if settings.update_token is not None:
        graph.add((service, SD.supportedLanguage, SD.SPARQL11Update))
    for name in sorted(_RESULT_FORMATS):
        graph.add((service, SD.resultFormat, W3C_FORMATS[name]))
    graph.add((service, SD.feature, SD.UnionDefaultGraph))  # the default graph is the union of the named graphs
    graph.add((service, SD.defaultDataset, default))
    graph.add((default, RDF.type, SD.Dataset))
    union = BNode("default-graph")
    graph.add((default, SD.defaultGraph, union))
    graph.add((union, RDF.type, SD.Graph))
    graph.add((union, VOID.triples, Literal(len(dataset))))
    for name in sorted(graph_names(dataset)):
        named, described = BNode(), BNode()
        graph.add((default, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, name))
        graph.add((named, SD.graph, described))
        graph.add((described, RDF.type, SD.Graph))
        graph.add((described, VOID.triples, Literal(len(dataset.graph(name)))))
    return _respond(Reply(200, media, serialize_graph(graph, GRAPH_TYPES[media], settings.project.context)))


# ---------------------------------------------------------------------------------------------- linked data


def _see_other(request: Request, html: str | None, document: str,
               extensions: dict[str, str] = DOCUMENT_EXTENSIONS) -> Response:
    """303 to the HTML page or the document of the negotiated (or ?format=) type (Cool URIs, section 4.3), among
    `extensions` (extension -> media type)."""
    formats = {"html": "text/html", **extensions} if html else dict(extensions)
    chosen = query_parameters(request, ("format",)).get("format")
    if chosen is not None:
        if chosen not in formats:
            return _refuse(400, f"unknown format {chosen!r}; use one of {', '.join(formats)}")
    else:
        by_media: dict[str, str] = {}
        for name, media in formats.items():
            by_media.setdefault(media, name)
        offered = [*_TIE_ORDER, *(["text/html"] if html else [])]
        media = negotiate(request.headers.get("accept"), [media for media in offered if media in by_media])
        if media is None:
            return _refuse(406, f"available as: {', '.join(by_media)}")
        chosen = by_media[media]
    target = html if chosen == "html" else f"{document}.{chosen}"
    return RedirectResponse(target, status_code=303, headers={"Vary": "Accept"})


def _document(request: Request, graph: Graph, extension: str) -> Response:
    """The document `graph` as the type of `extension`; 406 if that syntax cannot hold it."""
    from kg.sparql_view import in_memory

    media = GRAPH_EXTENSIONS[extension]
    try:
        body = serialize_graph(in_memory(graph), MEDIA_FORMATS[media], request.app.state.settings.project.context)
    except OutputError as exc:
        return _refuse(406, f"{request.url.path}: {exc}")
    return _respond(Reply(200, media, body), vary=False)


def _split_extension(path: str, extensions: dict[str, str] = DOCUMENT_EXTENSIONS) -> tuple[str, str | None]:
    stem, dot, extension = path.rpartition(".")
    return (stem, extension) if dot and extension in extensions else (path, None)


def _known(dataset: Dataset, node: URIRef) -> bool:
    return (node, None, None) in dataset or (None, None, node) in dataset


def entity_description(dataset: Dataset, node: URIRef) -> Graph:
    """What a client needs about `node`: its concise bounded description, the labels of the nodes it links to,
    and the claims it is supported by or derived from, with their selectors (quote and offsets)."""
    description = Graph()
    dataset.cbd(node, target_graph=description)
    for claim in itertools.chain(dataset.objects(node, KG.supportedBy), dataset.objects(node, PROV.wasDerivedFrom)):
        dataset.cbd(claim, target_graph=description)
    for linked in set(description.objects()) | set(dataset.subjects(KG.supportedBy, node)):
        if isinstance(linked, URIRef) and linked != node:
            for value in dataset.objects(linked, RDFS.label):
                description.add((linked, RDFS.label, value))
    for supported in dataset.subjects(KG.supportedBy, node):  # a claim's page lists what it supports
        description.add((supported, KG.supportedBy, node))
    return description


async def entity(request: Request) -> Response:
    """/id/REST: 303 to /page/REST or /data/REST.EXT; 404 for an IRI the dataset does not mention."""
    rest = request.path_params["rest"]
    if not _known(request.app.state.built.dataset, ID[rest]):
        return _refuse(404, f"{printable(ID[rest])} is not in this graph")
    return _see_other(request, f"/page/{rest}", f"/data/{rest}")


async def entity_data(request: Request) -> Response:
    """/data/REST.EXT: the description of the entity ID/REST."""
    rest, extension = _split_extension(request.path_params["rest"])
    dataset: Dataset = request.app.state.built.dataset
    if extension is None:
        return _refuse(404, f"no such document; add one of .{', .'.join(DOCUMENT_EXTENSIONS)}")
    if not _known(dataset, ID[rest]):
        return _refuse(404, f"{printable(ID[rest])} is not in this graph")
    return _document(request, entity_description(dataset, ID[rest]), extension)


def _named_document(name: str, html: str | None, graph_of: Callable[[Request], Graph]) -> list[Route]:
    """The routes of one whole-graph document: /NAME (303) and /NAME.EXT."""

    async def resource(request: Request) -> Response:
        return _see_other(request, html, f"/{name}")

    async def document(request: Request) -> Response:
        extension = request.path_params["extension"]
        if extension not in DOCUMENT_EXTENSIONS:
            return _refuse(404, f"no such document; /{name} is available as .{', .'.join(DOCUMENT_EXTENSIONS)}")
        return _document(request, graph_of(request), extension)

    return [Route(f"/{name}", resource), Route(f"/{name}.{{extension:str}}", document)]


async def named_graph(request: Request) -> Response:
    """/graph/NAME and /graph/NAME.EXT: one of the dataset's named graphs, whole (TriG: that graph, named)."""
    name, extension = _split_extension(request.path_params["name"], GRAPH_EXTENSIONS)
    dataset: Dataset = request.app.state.built.dataset
    if GRAPH[name] not in graph_names(dataset):
        return _refuse(404, f"{GRAPH[name]} is not a graph of this server")
    if extension is None:
        return _see_other(request, None, f"/graph/{name}", GRAPH_EXTENSIONS)
    graph = dataset.graph(GRAPH[name])
    if extension != "trig":
        return _document(request, graph, extension)
    alone = new_dataset()  # TriG of `graph` itself would write every graph: its store is the whole dataset's
    named = alone.graph(GRAPH[name])
    named += graph
    return _document(request, alone, extension)


async def ontology_version(request: Request) -> Response:
    """/ontology/VERSION: the ontology's owl:versionIRI, while it is the version served (303 as /ontology)."""
    served = sorted(str(iri) for iri in _ontology(request).objects(None, OWL.versionIRI))
    if BASE + request.url.path.removeprefix("/") not in served:
        known = ", ".join(served) or "none"
        return _refuse(404, f"this server has no version {request.path_params['version']!r} of the ontology "
                       f"(its version: {known})")
    return _see_other(request, "/docs/ontology/", "/ontology")


async def mapping_set(request: Request) -> Response:
    """/links.sssom.tsv: the SSSOM mapping set (its mapping_set_id), as the project holds it."""
    return FileResponse(request.app.state.settings.project.links, media_type="text/tab-separated-values; charset=utf-8")


def _ontology(request: Request) -> Graph:
    return request.app.state.built.dataset.graph(ONTOLOGY_GRAPH)


def _shapes(request: Request) -> Graph:
    return request.app.state.shapes


# ---------------------------------------------------------------------------------------------- the app


def add_graphs(dataset: Dataset, assignments: Sequence[str]) -> None:
    """Add each `IRI=FILE` as a named graph (its syntax guessed from the extension); an empty file is an empty
    graph the server still holds. InputError / UsageError name the file or the option."""
    from rdflib.util import guess_format

    for item in assignments:
        iri, equals, path = item.partition("=")
        if not equals or not iri or not path:
            raise UsageError(f"--graph expects IRI=FILE, not {item!r}")
        name = URIRef(iri)
        if name in graph_names(dataset):
            raise UsageError(f"--graph {iri}: the dataset already has a graph of that name")
        syntax = guess_format(path)
        if syntax is None:
            raise UsageError(f"--graph {iri}: cannot tell the RDF syntax of {path!r} from its extension")
        try:
            dataset.graph(name).parse(path, format=syntax)
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
        except Exception as exc:  # parser errors of every syntax
            raise InputError(f"{path}: malformed {syntax}: {exc}") from None



async def _refused(request: Request, exc: Exception) -> Response:
    """A request refused (Refused, raised by a handler): the problem page for a browser, else plain text."""
    assert isinstance(exc, Refused)
    if negotiate(request.headers.get("accept"), ["text/html", "text/plain"]) == "text/html":
        return pages.problem_page(request, exc.status, exc.message)
    return _refuse(exc.status, exc.message, **exc.headers)


async def _store_failed(request: Request, exc: Exception) -> Response:
    """A page or document whose store could not be read (a SPARQL server read in place, kg.sparql_view, that no
    longer answers or refuses): not the client's fault, and said as a refusal is."""
    return await _refused(request, Refused(502, f"{request.url.path}: {exc}"))


async def _not_found(request: Request, exc: Exception) -> Response:
    return _refuse(404, f"nothing is served at {request.url.path}; see / (the index of entities), /sparql, /ask, "
                   "/query, /document, /ontology, /shapes, /dataset, /graph/NAME, /id/NAME")


async def _not_allowed(request: Request, exc: Exception) -> Response:
    headers = getattr(exc, "headers", None) or {}  # Starlette's 405 says which methods the route takes (a set's order)
    allowed = ", ".join(sorted(headers.get("Allow", "GET").split(", ")))
    return _refuse(405, f"{request.method} is not allowed on {request.url.path}; use {allowed}", Allow=allowed)


EXCEPTION_HANDLERS = {Refused: _refused, StoreError: _store_failed, 404: _not_found, 405: _not_allowed}


def create_app(
    built: Built,
    settings: Settings = Settings(),
    connect: Callable[[], Store] | None = None,
) -> Starlette:
    """The server: protocol endpoint, dereferencing, and the HTML pages of kg.pages (with `/ask`).

    Queries go to the store `connect` opens in each worker (default: the memory store over `built.dataset`,
    which then takes updates); the pages and dereferencing read `built.dataset` (kg.store's `view()` of the store).
    `app.state.built` (the kg.build.Built served) and `app.state.settings` are what route handlers read.
    """
    from kg.store import MemoryStore

    load_context(settings.project.context)  # a broken context is refused at start, not on the first JSON-LD request
    if connect is None:
        names = graph_names(built.dataset)
        evaluator = _Evaluator(lambda: MemoryStore(built.dataset, held=names), built.dataset, names, settings)
    else:
        evaluator = _Evaluator(connect, None, graph_names(built.dataset), settings)
    pool = Pool(evaluator)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool.start()
        pages.ontology_docs(built, settings.project)  # generated (or found in the cache) before the first request
        # the home page's index, in the background: the server answers at once, the first visitor need not wait
        threading.Thread(target=pages.served_index, args=(app.state,), daemon=True, name="entity-index").start()
        if connect is not None:  # kg ask's index of a store's data too (2 M triples: half a minute; memory: 1 s)
            threading.Thread(target=pages.served_asker, args=(app.state,), daemon=True, name="ask-index").start()
        try:
            yield
        finally:
            pool.stop()

    routes: list[BaseRoute] = [
        Route("/sparql", sparql_endpoint, methods=["GET", "POST"]),
        Route("/id/{rest:path}", entity),
        Route("/data/{rest:path}", entity_data),
        Route("/graph/{name:path}", named_graph),  # (graph names hold slashes: graph/offline/pycountry)
        *_named_document("ontology", "/docs/ontology/", _ontology),
        Route("/ontology/{version:str}", ontology_version),
        Route("/links.sssom.tsv", mapping_set),
        *_named_document("shapes", None, _shapes),
        *_named_document("dataset", None, published.description),
        Route("/dataset/{file:str}", published.distribution),
        *pages.routes(),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            Middleware(_Utf8Paths),
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["GET", "POST"],
                allow_headers=["Accept", "Content-Type", "Authorization"],
                allow_credentials=False,
            )
        ],
    )
    app.state.built = built
    app.state.settings = settings
    app.state.pool = pool
    app.state.shapes = load_shapes(settings.project)
    app.state.build_key = cache_key(settings.project)  # the build served: the one whose files /dataset serves
    return app


def run(app: Starlette, host: str, port: int, announce: Callable[[str], None]) -> None:
    """Serve `app` with uvicorn on host:port (0: any free port); `announce` gets the base URL once it listens."""
    import socket

    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio sets TCP_NODELAY only then
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:  # an address in use or not this machine's, a host name that does not resolve
        sock.close()
        raise UsageError(f"cannot listen on {host} port {port}: {exc.strerror or exc}") from None
    sock.listen(128)  # connections wait in the backlog until the workers are ready
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    logging = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    logging["handlers"]["access"]["stream"] = "ext://sys.stderr"  # stdout is for the one line that says where
    # h11 takes a request line and headers of up to 16 KiB by default: room for the longest query string the app
    # takes (max_body), so that a longer one gets the app's 414 naming the limit, not h11's bare 400
    headroom = app.state.settings.max_body + (64 << 10)
    # at most max_connections at once (beyond: 503): slow clients cannot take every file descriptor
    config = uvicorn.Config(app, log_config=logging, lifespan="on", timeout_graceful_shutdown=2, http="h11",
                            h11_max_incomplete_event_size=headroom,
                            limit_concurrency=app.state.settings.max_connections)
    server = uvicorn.Server(config)
    original_startup = server.startup

    async def startup(sockets: list | None = None) -> None:
        await original_startup(sockets=sockets)
        announce(f"http://{shown}:{bound}")

    server.startup = startup  # type: ignore[method-assign]
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
