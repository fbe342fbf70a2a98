"""The `kg` command line: build, validate, queries, query, sparql, export, coverage, describe, locate, ask, serve,
links and enrich, over the cached build.

Imports of rdflib, owlrl, pyshacl and rich happen inside the commands so that start-up stays light (plain click,
not typer: typer imports pydantic while parsing arguments). Expected errors (kg.errors) become one message on
stderr and an exit code (2 for bad input or usage, 1 for data that does not hold), never a traceback.
"""

from __future__ import annotations

import gc
import logging
import math
import os
import signal
import sys
import warnings
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kg.errors import KgError, UsageError

if TYPE_CHECKING:
    from rdflib import Graph

    from kg.build import Built
    from kg.load import Project
    from kg.store import Store
    from kg.validate import Report


class _Argument(click.Argument):
    """A positional argument with a help text, listed under "Arguments" in its command's help."""

    def __init__(self, *args: Any, help: str | None = None, **kwargs: Any) -> None:  # noqa: A002 (click's name)
        super().__init__(*args, **kwargs)
        self.help = help

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        help_text = self.help or ""
        return self.make_metavar(ctx), f"{help_text}  [required]" if self.required else help_text


class _Command(click.Command):
    """A command whose help lists its arguments (with their help texts) before its options."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows: dict[str, list[tuple[str, str]]] = {"argument": [], "option": []}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                rows[param.param_type_name].append(record)
        for title, kind in (("Arguments", "argument"), ("Options", "option")):
            if rows[kind]:
                with formatter.section(title):
                    formatter.write_dl(rows[kind])


class _Group(click.Group):
    """Runs a command and turns a KgError into `error: message` on stderr and the error's exit code."""

    command_class = _Command

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # in the order they are defined below, not sorted

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command with the whole first paragraph of its help (click's default cuts it to one line)."""
        rows = [(name, (command.help or "").split("\n\n")[0]) for name, command in self.commands.items()]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and self.no_args_is_help and not ctx.resilient_parsing:
            click.echo(ctx.get_help(), color=ctx.color)  # on stdout (click's NoArgsIsHelpError writes to stderr)
            ctx.exit(2)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a failure to write the output (a full disk) surfaces here, not at exit
            return result
        except BrokenPipeError:  # the reader went away (kg links | head -2): click stops quietly, exit 1
            raise
        except OSError as exc:  # the output could not be written: reading an input raises InputError instead
            _drop_stdout()
            click.echo(f"error: cannot write the output: {exc.strerror or exc}", err=True)
            raise click.exceptions.Exit(2) from None
        except KgError as exc:
            click.echo(f"error: {exc}" + (f" ({exc.hint})" if exc.hint else ""), err=True)
            raise click.exceptions.Exit(exc.exit_code) from None
        except MemoryError:
            _drop_stdout()
            click.echo("error: out of memory (the machine's, or the process's limit)", err=True)
            raise click.exceptions.Exit(1) from None
        except _Terminated:
            raise click.exceptions.Exit(143) from None
        except KeyboardInterrupt:  # exit 130 without a message (click's own would print "Aborted!" and exit 1)
            raise click.exceptions.Exit(130) from None


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, as Ctrl-C is: the files being written are put back as they were
    (kg.files.write_all_atomic), where the default action ended the process between two moves, leaving dist/
    mixed and the temporary files behind."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's flush at exit does not fail a second time (a stdout
    with no file descriptor, as click's test runner gives, has no such flush)."""
    try:
        descriptor = sys.stdout.fileno()
    except (OSError, ValueError):
        return
    os.dup2(os.open(os.devnull, os.O_WRONLY), descriptor)


@click.group(
    "kg",
    cls=_Group,
    help="defence-kg: a knowledge graph of the claims in a Canada–US defence fact sheet.",
    no_args_is_help=True,
)
@click.option(
    "--root",
    type=click.Path(path_type=Path),
    envvar="KG_ROOT",
    show_envvar=True,
    help="Project root (inputs, .kg-cache/) [default: this checkout].",
)
@click.option(
    "--store",
    envvar="KG_STORE",
    show_envvar=True,
    default="memory",
    show_default=True,
    help="Where the built dataset is queried: memory (rdflib), oxigraph:PATH (on disk, filled by "
    "`kg --store oxigraph:PATH build`), oxigraph (in memory, for one command: the in-store build, or `kg validate`, "
    "of a large graph) or "
    "sparql:URL (a SPARQL 1.1 server).",
)
@click.pass_context
def app(ctx: click.Context, root: Path | None, store: str) -> None:
    from kg.store import parse_spec

    parse_spec(store)  # a malformed spec fails before any work
    ctx.obj = _Options(root, store)


# rdflib's SPARQL parser and evaluator recurse on each triple pattern, group and parenthesis: Python's default
# of 1,000 frames refused an ASK of 100 triple patterns (measured: 20,000 frames fit the main thread's stack)
RECURSION_LIMIT = 20_000


def main() -> None:
    """Console-script entry point.

    A command that reads the cache is a short-lived process that allocates much and frees little: the cyclic
    garbage collector only slows its imports and unpickling (~15 ms of ~250 ms), so it is off until a build.
    """
    gc.disable()
    # rdflib warns, with a traceback, of each IRI or literal it doubts while parsing: kg.load reports them as
    # errors, with the file and line (and the in-store validation, as violations, which show the literal as it is)
    logging.getLogger("rdflib.term").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Serializing weird numerical", category=UserWarning)
    signal.signal(signal.SIGTERM, _terminate)  # (kg serve's server installs its own, to shut down)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    app()


@dataclass(frozen=True)
class _Options:
    """The global options: project root and store spec."""

    root: Path | None
    store: str


def _project(ctx: click.Context) -> Project:
    from kg.load import Project

    root = ctx.find_object(_Options).root
    if root is not None and not root.is_dir():
        raise UsageError(f"--root {root}: no such directory")
    return Project(root.resolve()) if root else Project()


def _store(ctx: click.Context, project: Project) -> Store:
    """The store of `--store`, holding the build of the current inputs (memory: from the cache, built if stale)."""
    from kg.build import cache_key
    from kg.store import open_store

    return open_store(ctx.find_object(_Options).store, lambda: _built(project).dataset, lambda: cache_key(project))


def _read(ctx: click.Context, project: Project) -> Built:
    """The built dataset as readers of rdflib's Graph API get it (kg ask, coverage and links, kg serve's pages): the
    memory store's from the cache (built if stale); another store's read in place (kg.view, kg.sparql_view), whose
    queries its own engine answers (kg.store.as_store). (No report: these readers read the data only.)"""
    from kg.build import Built

    if ctx.find_object(_Options).store == "memory":
        return _built(project)
    return Built(_store(ctx, project).view(), report=None)  # type: ignore[arg-type]


def _choice(value: str, options: tuple[str, ...] | dict, what: str) -> None:
    """UsageError unless `value` is one of `options` (checked before any work is done)."""
    if value not in options:
        raise UsageError(f"unknown {what} {value!r}; use one of {', '.join(options)}")


def _built(project: Project, warn: bool = True) -> Built:
    """The built dataset from the cache, building it first (with a note on stderr) when inputs changed."""
    from kg.build import load_built

    def note(step: str) -> None:
        if step == "load":
            gc.enable()  # see main()
            click.echo("kg: inputs changed, rebuilding the dataset…", err=True)

    built = load_built(project, note)
    if warn and not built.report.conforms:
        click.echo("kg: warning: the data does not conform to its shapes (see `kg validate`)", err=True)
    return built


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr)


REASONERS = ("owlrl", "rules")
VALIDATORS = ("pyshacl", "sparql")


@app.command()
@click.option("--out", type=click.Path(path_type=Path), help="Directory for exports and reports [default: ROOT/dist].")
@click.option(
    "--reasoner",
    type=click.Choice(REASONERS),
    default="owlrl",
    show_default=True,
    help="owlrl (the reference, in Python) or rules: the OWL 2 RL rules the ontology uses, as SPARQL updates "
    "run inside the --store (oxigraph or sparql; with --validator sparql).",
)
@click.option(
    "--validator",
    type=click.Choice(VALIDATORS),
    default="pyshacl",
    show_default=True,
    help="pyshacl (the reference, in Python) or sparql: the shapes as graph-wide SPARQL run inside the --store "
    "(with --reasoner rules).",
)
@click.pass_context
def build(ctx: click.Context, out: Path | None, reasoner: str, validator: str) -> None:
    """Parse, reason, validate; write every export and the validation report, and load the built dataset into
    the --store (oxigraph, sparql). Exit 1 if not conforming.

    With --reasoner rules --validator sparql (and --store oxigraph:PATH, oxigraph or sparql:URL) the whole
    build runs inside the store, for large graphs: the store loads the files, reasons and validates; the reports
    are written, the exports are not (`kg --store ... export` writes them), except with an in-memory oxigraph,
    which writes the built dataset as OUT/defence-kg+inferred.nq before it is gone."""
    import json

    from rdflib import Dataset
    from rich.progress import Progress

    from kg.build import build as run_build
    from kg.build import cache_key
    from kg.export import FORMATS, export_files, publish
    from kg.store import create_store, parse_spec
    from kg.validate import render

    gc.enable()  # a build allocates (and frees) a lot: collect as usual
    project = _project(ctx)
    target = out or project.root / "dist"
    if (reasoner, validator) != ("owlrl", "pyshacl") or ctx.find_object(_Options).store == "oxigraph":
        _build_in_store(ctx, project, target, reasoner, validator)  # (an in-memory oxigraph is for nothing else)
        return
    with Progress(console=_console(stderr=True), auto_refresh=False) as progress:
        task = progress.add_task("build", total=5 + 2 * len(FORMATS))

        def step(name: str) -> None:
            progress.update(task, description=name, advance=1)
            progress.refresh()

        spec = ctx.find_object(_Options).store
        key = cache_key(project)  # before the build reads its inputs, as the cache does

        exports: dict[Path, bytes] = {}

        def make_exports(dataset: Dataset) -> None:  # runs while validation finishes in the other process
            exports.update((path, make()) for path, make in export_files(dataset, target, project.context, key, step).items())

        built = run_build(project, step, make_exports, key)  # (one key: the exports' and the cache's)
        if parse_spec(spec)[0] != "memory":
            step(f"load {spec}")
            with closing(create_store(spec)) as store:
                store.load(built.dataset)
                store.set_build_key(key)
        step("validation report")
        # exports and reports replace the old ones together, once validation is over (a crash writes nothing); a
        # non-conforming build still writes its exports, beside the report that says they do not conform
        files = {path: (lambda data=data: data) for path, data in exports.items()}
        files[target / "validation-report.txt"] = lambda: render(built.report, built.dataset).encode()
        files[target / "validation-report.json"] = lambda: json.dumps(built.report.to_json(), indent=2).encode()
        publish(target, files)
        progress.update(task, description="done", completed=progress.tasks[0].total)
        progress.refresh()
    click.echo(render(built.report, built.dataset), err=not built.report.conforms, nl=False)
    click.echo(f"wrote {target}", err=True)
    if not built.report.conforms:
        ctx.exit(1)


def _build_in_store(ctx: click.Context, project: Project, target: Path, reasoner: str, validator: str) -> None:
    """`kg build --reasoner rules --validator sparql`: load, reason and validate inside the --store (kg.instore)."""
    import json

    from kg.build import cache_key
    from kg.export import publish
    from kg.instore import build_in_store, labels_of
    from kg.store import create_store, parse_spec
    from kg.validate import render

    spec = ctx.find_object(_Options).store
    if (reasoner, validator) != ("rules", "sparql") or parse_spec(spec)[0] == "memory":
        raise UsageError(
            "--reasoner rules and --validator sparql run inside the store: give both, with --store oxigraph:PATH, "
            "oxigraph or sparql:URL (the memory store keeps owlrl and pyshacl, the reference)"
        )
    key = cache_key(project)  # before the build reads its inputs, as the cache does
    click.echo(f"kg: loading, reasoning and validating in {spec}…", err=True)
    with closing(create_store(spec)) as store:
        result = build_in_store(store, project)
        store.set_build_key(key)
        labels = labels_of(store, result.report)
        files = {
            target / "validation-report.txt": lambda: render(result.report, labels).encode(),
            target / "validation-report.json": lambda: json.dumps(result.report.to_json(), indent=2).encode(),
        }
        if spec == "oxigraph":  # in memory: the built dataset is written now or lost
            data = store.nquads(store.graphs())  # type: ignore[attr-defined]
            files[target / "defence-kg+inferred.nq"] = lambda: data
    publish(target, files)  # the reports (and .nq) together; an earlier build's exports are removed
    click.echo(render(result.report, labels), err=not result.report.conforms, nl=False)
    fallback = f"; pyshacl validated {', '.join(result.fallback)}" if result.fallback else ""
    took = result.seconds
    persist = f"; written to disk in {took['persist']:.1f} s" if "persist" in took else ""
    click.echo(
        f"built in {spec} in {took['build']:.1f} s (load {took['load']:.1f} s; reasoning, {result.rounds} rule rounds, "
        f"{took['reason']:.1f} s; validation {took['validate']:.1f} s{persist}){fallback}; reports in {target}",
        err=True,
    )
    if not result.report.conforms:
        ctx.exit(1)


@app.command()
@click.pass_context
def validate(ctx: click.Context) -> None:
    """Report SHACL and quality-check findings (label, path, message). Exit 0 if the data conforms, else 1.

    On the memory store, pyshacl and the quality checks validate the build of the inputs (the reference). With
    --store oxigraph:PATH or sparql:URL the shapes, as SPARQL, and the quality checks run inside that store, on
    the asserted graphs of its build (as `kg build --validator sparql` does); with --store oxigraph the inputs
    are loaded into an Oxigraph in memory and validated there, unreasoned: what a large graph needs, where the
    memory build would take hours.
    """
    from kg.validate import render

    project = _project(ctx)
    if ctx.find_object(_Options).store == "memory":
        built = _built(project, warn=False)
        report, labels = built.report, built.dataset
    else:
        report, labels = _validate_in_store(ctx, project)
    click.echo(render(report, labels), nl=False)
    if not report.conforms:
        ctx.exit(1)


def _validate_in_store(ctx: click.Context, project: Project) -> tuple[Report, Graph]:
    """The validation report of the inputs in the --store (not memory), and the labels of its focus nodes."""
    from kg.instore import labels_of, load_files
    from kg.instore import validate as validate_in
    from kg.store import create_store
    from kg.validate import report_of

    spec = ctx.find_object(_Options).store
    if spec == "oxigraph":  # nothing to open: the inputs, loaded for this command
        store = create_store(spec)
        load_files(store, project)
    else:
        store = _store(ctx, project)
    validation, quality = validate_in(store, project)
    if validation.fallback:
        click.echo(f"kg: pyshacl validated {', '.join(validation.fallback)}", err=True)
    report = report_of(validation.findings + quality)
    return report, labels_of(store, report)


@app.command()
@click.pass_context
def queries(ctx: click.Context) -> None:
    """List the query catalogue: name, title, description and parameters."""
    from rich.markup import escape
    from rich.table import Table

    from kg.query import load_catalogue

    table = Table("name", "title and description", "params", show_lines=True)
    for query in load_catalogue(_project(ctx).queries).values():
        params = ", ".join(f"{p.name}:{p.type}" + ("" if p.required else f"={p.default}") for p in query.params)
        about = f"[bold]{escape(query.title)}[/bold]\n{escape(query.description)}"
        table.add_row(escape(query.name), about, escape(params))
    _console().print(table)


_ALLOW_SERVICE = (
    "Answer SERVICE <https://query.wikidata.org/sparql> offline, from the enrichment cache (kg enrich); "
    "any other SERVICE is refused."
)


def _print_result(result: Any, fmt: str, supports: Any = None) -> None:
    """Write a SPARQL result in `fmt` to stdout."""
    from kg.query import serialize_result, to_table

    if result.type in ("CONSTRUCT", "DESCRIBE") and fmt != "table":
        raise UsageError(f"--format {fmt} is for the rows of SELECT and ASK: a {result.type}'s graph prints as "
                         "Turtle (use kg export, or kg serve's endpoint, for other syntaxes)")
    if fmt == "table" and result.type == "SELECT":
        _console().print(to_table(result, supports))
    else:
        sys.stdout.write(serialize_result(result, "json" if fmt == "table" else fmt, supports))


@app.command()
@click.argument("name", cls=_Argument, help="Catalogue query name (see `kg queries`).")
@click.option("--param", "-p", multiple=True, help="KEY=VALUE, repeatable.")
@click.option("--format", "-f", "fmt", default="table", show_default=True, help="table | json | csv | tsv | md")
@click.option("--why", is_flag=True, help="Show the claims (and quotes) behind each row.")
@click.option("--allow-service", is_flag=True, help=_ALLOW_SERVICE)
@click.pass_context
def query(ctx: click.Context, name: str, param: tuple[str, ...], fmt: str, why: bool, allow_service: bool) -> None:
    """Run a catalogue query with its parameters."""
    from kg.query import FORMATS, get_query, load_catalogue, parse_assignments, run_query
    from kg.query import why as explain

    _choice(fmt, FORMATS, "format")
    project = _project(ctx)
    selected = get_query(load_catalogue(project.queries), name)
    given = parse_assignments(list(param))
    store = _store(ctx, project)
    result = run_query(store, selected, given, allow_service)
    _print_result(result, fmt, explain(store, result, selected, given) if why else None)


@app.command()
@click.argument("query_or_file", cls=_Argument, help="SPARQL text, or a path to a .rq file.")
@click.option("--format", "-f", "fmt", default="table", show_default=True, help="table | json | csv | tsv | md")
@click.option("--allow-service", is_flag=True, help=_ALLOW_SERVICE)
@click.pass_context
def sparql(ctx: click.Context, query_or_file: str, fmt: str, allow_service: bool) -> None:
    """Run ad-hoc SPARQL over the dataset (asserted + inferred); project prefixes are predeclared."""
    from kg.query import FORMATS, read_query_file, run_sparql

    _choice(fmt, FORMATS, "format")
    if _names_a_file(query_or_file):
        text, where = read_query_file(Path(query_or_file)), query_or_file
    else:
        text, where = query_or_file, "query"
    project = _project(ctx)
    _print_result(run_sparql(_store(ctx, project), text, where, allow_service), fmt)


def _names_a_file(text: str) -> bool:
    """Whether `kg sparql`'s argument is a file's path rather than SPARQL: an existing file, or one word ending
    in .rq or .sparql (so that a missing file is said to be missing, not a syntax error)."""
    if "\n" in text or "{" in text:
        return False
    try:
        return Path(text).is_file() or (text.endswith((".rq", ".sparql")) and " " not in text)
    except OSError:  # a name too long for the file system is SPARQL
        return False


@app.command("export")
@click.option("--format", "-f", "fmt", default="turtle", show_default=True, help="turtle | jsonld | nt | trig | xml")
@click.option("--inferred", is_flag=True, help="Include the inferred graph.")
@click.option("--output", "-o", type=click.Path(path_type=Path), help="File to write (atomically).")
@click.pass_context
def export_command(ctx: click.Context, fmt: str, inferred: bool, output: Path | None) -> None:
    """Export the dataset (stdout unless -o)."""
    from kg.export import FORMATS, export, serialize_store

    _choice(fmt, FORMATS, "format")
    project = _project(ctx)
    store = _store(ctx, project)
    if output is None:
        sys.stdout.buffer.write(serialize_store(store, fmt, project.context, inferred))
        sys.stdout.flush()
    else:
        export(store, fmt, output, project.context, inferred)


@app.command()
@click.option("--format", "-f", "fmt", default="table", show_default=True, help="table | json")
@click.pass_context
def coverage(ctx: click.Context, fmt: str) -> None:
    """Which claims are encoded and verified, and which source sentences they cover."""
    import json

    from kg.coverage import coverage as measure
    from kg.coverage import to_tables

    _choice(fmt, ("table", "json"), "format")
    report = measure(_read(ctx, _project(ctx)).dataset)
    if fmt == "json":
        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        console = _console()
        for renderable in to_tables(report):
            console.print(renderable)


@app.command()
@click.argument("entity", cls=_Argument, help="IRI, CURIE or label.")
@click.pass_context
def describe(ctx: click.Context, entity: str) -> None:
    """Labels, types, every statement about an entity, and the quotes of the claims supporting it."""
    from kg.describe import describe as collect
    from kg.describe import to_renderables
    from kg.query import resolve_entity

    store = _store(ctx, _project(ctx))
    node = resolve_entity(store, entity)
    console = _console()
    for renderable in to_renderables(collect(store, node)):
        console.print(renderable)


@app.command()
@click.argument("quote", cls=_Argument, help="The exact text to find in the source documents.")
@click.option("--occurrence", type=int, default=1, show_default=True, help="Which match to report (1-based).")
@click.pass_context
def locate(ctx: click.Context, quote: str, occurrence: int) -> None:
    """Print start/end (0-based, end-exclusive, code points) of a quote, and selectors to paste into a claim."""
    from kg.load import find_span, find_spans, quote_context, read_source
    from kg.query import one_line_string

    project = _project(ctx)
    found = False
    for path in sorted(project.sources.glob("*.txt")):
        relative = project.relative(path)
        text = read_source(project, relative)
        spans = find_spans(text, quote)
        if not spans:
            continue
        found = True
        start, end = find_span(text, quote, occurrence)
        prefix, suffix = quote_context(text, start, end)  # ("", "") for a quote that occurs once
        context = "".join(f" ; oa:{name} {one_line_string(value)}" for name, value in (("prefix", prefix), ("suffix", suffix))
                          if value)
        click.echo(f"{relative}: start {start} end {end} (occurrence {occurrence} of {len(spans)})")
        click.echo(
            f"    oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact {one_line_string(quote)}{context} ] ,\n"
            f"                   [ a oa:TextPositionSelector ; oa:start {start} ; oa:end {end} ] ;"
        )
    if not found:
        raise UsageError(f"quote not found in {project.relative(project.sources)}/*.txt: {quote!r}")


@app.command()
@click.argument("question", cls=_Argument, help="A question in English or French, in quotes.")
@click.option("--format", "-f", "fmt", default="text", show_default=True, help="text | json")
@click.option("--explain", is_flag=True, help="Also print the SPARQL that was run.")
@click.option("--lang", help="Reply in en | fr [default: the question's language], as /ask?lang=.")
@click.option("--allow-service", is_flag=True, help=_ALLOW_SERVICE)
@click.pass_context
def ask(ctx: click.Context, question: str, fmt: str, explain: bool, lang: str | None, allow_service: bool) -> None:
    """Answer a plain-language question from the query catalogue, with the quotes behind each row.

    Exit 0 when answered (also when nothing matches), 3 when it cannot answer (with the closest catalogue
    questions), 4 when the question is ambiguous (with the options).
    """
    import json

    from kg.ask import answer
    from kg.build import cache_dir

    _choice(fmt, ("text", "json"), "format")
    project = _project(ctx)
    result = answer(_read(ctx, project), question, lang, project.queries, allow_service, saved_in=cache_dir(project))
    if fmt == "json":
        document = result.as_json()
        if explain:
            document["sparql"] = result.sparql
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(result.as_text(explain))
    ctx.exit(result.exit_code)


@app.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (0.0.0.0 exposes the server).")
@click.option("--port", type=click.IntRange(0, 65535), default=7878, show_default=True, help="Port to bind; 0 picks a free one.")
@click.option("--public-url", help="The URL clients reach the server at (service description, links) "
              "[default: the URL of each request].")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds a query may run; then 503.")
@click.option("--max-rows", type=int, default=10_000, show_default=True,
              help="Larger results get 422 (never a partial answer).")
@click.option("--max-body", type=int, default=1 << 20, show_default=True, help="Largest request body, bytes; else 413.")
@click.option("--workers", type=int, default=3, show_default=True, help="Idle query processes kept ready.")
@click.option("--max-workers", type=int, default=8, show_default=True, help="Queries run at once, at most.")
@click.option("--cache", type=int, default=256, show_default=True,
              help="Successful answers kept in memory, by query and Accept (0: none).")
@click.option("--worker-memory", type=int, default=2048, show_default=True,
              help="MiB a query may allocate in its worker, beyond the served data; more: 503.")
@click.option("--max-connections", type=int, default=1024, show_default=True,
              help="Connections open at once, at most; a request on one more gets 503.")
@click.option("--allow-update", is_flag=True, help="Accept SPARQL Update (needs --token).")
@click.option("--token", envvar="KG_UPDATE_TOKEN", show_envvar=True, help="Bearer token required for updates.")
@click.option("--graph", "graphs", multiple=True, metavar="IRI=FILE",
              help="Also serve FILE (any RDF syntax rdflib reads) as the named graph IRI; repeatable.")
@click.option("--dist", type=click.Path(path_type=Path, file_okay=False),
              help="The files `kg build --out` published, served at /dataset [default: ROOT/dist].")
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    public_url: str | None,
    timeout: float,
    max_rows: int,
    max_body: int,
    workers: int,
    max_workers: int,
    cache: int,
    worker_memory: int,
    max_connections: int,
    allow_update: bool,
    token: str | None,
    graphs: tuple[str, ...],
    dist: Path | None,
) -> None:
    """Serve the graph: a SPARQL 1.1 endpoint at /sparql, every IRI dereferenceable, and the web pages.

    Read-only, offline (no SERVICE, LOAD or outside FROM) and time-limited by default; see the README.
    With --store oxigraph:PATH or sparql:URL the queries run in that store, built by `kg --store ... build`.
    """
    import functools

    from kg.build import cache_key
    from kg.serve import Settings, add_graphs, create_app, run
    from kg.store import open_store

    if allow_update and not token:
        raise UsageError("--allow-update needs --token (or $KG_UPDATE_TOKEN): updates are only taken with it")
    if token and not allow_update:
        raise UsageError("--token is only used with --allow-update")
    if not (math.isfinite(timeout) and timeout > 0):  # nan and inf would make every query fail, not none
        raise UsageError(f"--timeout must be a positive, finite number of seconds, not {timeout}")
    for option, value, least in (("--max-body", max_body, 1), ("--max-rows", max_rows, 0), ("--cache", cache, 0),
                                 ("--workers", workers, 1), ("--worker-memory", worker_memory, 64),
                                 ("--max-connections", max_connections, 1)):
        if value < least:
            raise UsageError(f"{option} must be at least {least}, not {value}")
    if workers > max_workers:
        raise UsageError(f"--workers ({workers}) must not be more than --max-workers ({max_workers})")
    spec = ctx.find_object(_Options).store
    if spec != "memory" and (allow_update or graphs):
        raise UsageError(f"--allow-update and --graph need the memory store: --store {spec} is served read-only, as built")
    gc.enable()  # a long-running server: collect as usual (see main())
    project = _project(ctx)
    # another store is opened here to check it holds the current build; the pages read its data through this handle,
    # and each worker opens its own handle after the fork and queries the store
    built, connect = _read(ctx, project), None
    if spec == "memory":
        add_graphs(built.dataset, graphs)
    else:
        connect = functools.partial(open_store, spec, lambda: built.dataset, functools.partial(cache_key, project))
    settings = Settings(
        public_url=public_url,
        timeout=timeout,
        max_rows=max_rows,
        max_body=max_body,
        workers=workers,
        max_workers=max_workers,
        cache=cache,
        worker_memory=worker_memory,
        max_connections=max_connections,
        update_token=token if allow_update else None,
        project=project,
        dist=dist,
    )

    def announce(url: str) -> None:
        click.echo(f"kg serve: listening on {url}/ (SPARQL endpoint {url}/sparql)")

    run(create_app(built, settings, connect=connect), host, port, announce)


@app.command()
@click.option("--format", "-f", "fmt", default="text", show_default=True, help="text | tsv | json")
@click.option("--missing", is_flag=True, help="List the real-world entities left unlinked, with why.")
@click.pass_context
def links(ctx: click.Context, fmt: str, missing: bool) -> None:
    """Every link to Wikidata with its evidence; with --missing, the entities left unlinked and why.

    --missing exits 1 if a real-world entity is neither linked nor listed in data/links-unverified.tsv (a
    report, not a build failure); the build itself refuses a row of that file for an entity that is not in the
    graph, under another label, or linked after all.
    """
    import json

    from kg.link import mappings
    from kg.link import missing as unlinked

    _choice(fmt, ("text", "tsv", "json"), "format")
    project = _project(ctx)
    dataset = _read(ctx, project).dataset
    if missing:
        listed, unlisted = unlinked(dataset, project)
        rows = [row.to_json() for row in listed + unlisted]
        for row in rows:
            row["reason"] = row["reason"] or "NOT LISTED: neither linked nor in data/links-unverified.tsv"
        columns = ("subject", "label", "reason")
    else:
        rows = [row.to_json() for row in mappings(dataset)]
        columns = ("subject", "subject_label", "predicate", "object", "object_label", "justification",
                   "confidence", "evidence")
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif fmt == "tsv":
        click.echo("\t".join(columns))
        for row in rows:
            click.echo("\t".join(str(row[column]) for column in columns))
    else:
        for row in rows:
            if missing:
                click.echo(f"{row['subject']} ({row['label']}): {row['reason']}")
            else:
                click.echo(
                    f"{row['subject']} ({row['subject_label']}) {row['predicate']} {row['object']} "
                    f"({row['object_label']}) [{row['justification']}, confidence {row['confidence']}]\n"
                    f"    evidence: {row['evidence']}"
                )
    if missing:
        click.echo(f"{len(rows)} unlinked entities, {len(unlisted)} real-world ones not listed", err=True)
        if unlisted:
            ctx.exit(1)


@app.command()
@click.option("--endpoint", default=None, help="SPARQL endpoint URL [default: the Wikidata Query Service].")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="Seconds to wait for each answer.",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=50, show_default=True, help="Items per request.")
@click.option("--format", "-f", "fmt", default="text", show_default=True, help="text | json")
@click.pass_context
def enrich(ctx: click.Context, endpoint: str | None, timeout: float, batch_size: int, fmt: str) -> None:
    """Fetch facts about the linked Wikidata items into data/external/wikidata.trig; report disagreements.

    The document is never changed: where it and Wikidata differ (founding years, memberships), the difference
    is printed. Exits 1 if a linked item's English label is not the table's object_label or nothing came back
    about it. On failure (exit 2) the previous cache is left as it was.
    """
    import json

    from kg.enrich import Etiquette
    from kg.enrich import enrich as run_enrich
    from kg.link import add_links
    from kg.load import load_document
    from kg.namespaces import WIKIDATA_ENDPOINT

    _choice(fmt, ("text", "json"), "format")
    project = _project(ctx)
    etiquette = Etiquette(batch_size=batch_size, timeout=timeout)
    # the statements and the links are enough: no reasoning, validation or build, and not the cache this
    # replaces (one that no longer parses must not stop the command that rewrites it)
    document = load_document(project)
    add_links(document, project)
    done = run_enrich(document, project, endpoint or WIKIDATA_ENDPOINT, etiquette)
    if fmt == "json":
        click.echo(json.dumps(done.to_json(), ensure_ascii=False, indent=2))
        ctx.exit(1 if done.problems else 0)
    click.echo(
        f"fetched {done.triples} triples about {done.items} items from {done.endpoint} in {done.requests} "
        f"request(s) at {done.retrieved} ({done.dropped} unexpected triples dropped); wrote {done.path}"
    )
    click.echo(f"disagreements between the document and Wikidata: {len(done.disagreements)}")
    for item in done.disagreements:
        click.echo(f"  {item.topic} ({item.to_json()['subject']}): "
                   f"document: {item.document}; Wikidata: {item.external}")
    for problem in done.problems:  # a link Wikidata's answer puts in doubt: exit 1, as kg links --missing does
        click.echo(f"link problem: {problem}", err=True)
    if done.problems:
        ctx.exit(1)
