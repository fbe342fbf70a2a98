"""The `kg` command line: build, validate, query, export, coverage, describe and locate, over the cached build.

Imports of rdflib, owlrl and pyshacl happen inside the commands so that start-up stays light. Expected errors
(kg.errors) become one message on stderr and an exit code (2 for bad input or usage, 1 for data that does not
hold), never a traceback.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from kg.errors import KgError, UsageError

if TYPE_CHECKING:
    from kg.build import Built
    from kg.load import Project


class _Group(TyperGroup):
    """Runs a command and turns a KgError into `error: message` on stderr and the error's exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KgError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    cls=_Group,
    help="defence-kg: a knowledge graph of the claims in a Canada–US defence fact sheet.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main() -> None:
    """Console-script entry point.

    A command that reads the cache is a short-lived process that allocates much and frees little: the cyclic
    garbage collector only slows its imports and unpickling (~15 ms of ~250 ms), so it is off until a build.
    """
    gc.disable()
    app()


@app.callback()
def _root(
    ctx: typer.Context,
    root: Annotated[
        Optional[Path],
        typer.Option(envvar="KG_ROOT", help="Project root (inputs, .kg-cache/) [default: this checkout]."),
    ] = None,
) -> None:
    ctx.obj = root


def _project(ctx: typer.Context) -> Project:
    from kg.load import Project

    return Project(ctx.obj.resolve()) if ctx.obj else Project()


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
            typer.echo("kg: inputs changed, rebuilding the dataset…", err=True)

    built = load_built(project, note)
    if warn and not built.report.conforms:
        typer.echo("kg: warning: the data does not conform to its shapes (see `kg validate`)", err=True)
    return built


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr)


@app.command()
def build(
    ctx: typer.Context,
    out: Annotated[Optional[Path], typer.Option(help="Directory for exports and reports [default: ROOT/dist].")] = None,
) -> None:
    """Parse, reason, validate; write every export and the validation report. Exit 1 if not conforming."""
    import json

    from rdflib import Dataset
    from rich.progress import Progress

    from kg.build import build as run_build
    from kg.export import FORMATS, export, write_atomic
    from kg.validate import render

    gc.enable()  # a build allocates (and frees) a lot: collect as usual
    project = _project(ctx)
    target = out or project.root / "dist"
    with Progress(console=_console(stderr=True), auto_refresh=False) as progress:
        task = progress.add_task("build", total=4 + 2 * len(FORMATS))

        def step(name: str) -> None:
            progress.update(task, description=name, advance=1)
            progress.refresh()

        def write_exports(dataset: Dataset) -> None:  # runs while validation finishes in the other process
            for fmt, (_, extension) in FORMATS.items():
                for inferred, suffix in ((False, ""), (True, "+inferred")):
                    step(f"export {fmt}{' ' + suffix if suffix else ''}")
                    export(dataset, fmt, target / f"defence-kg{suffix}.{extension}", project.context, inferred)

        built = run_build(project, step, write_exports)
        step("validation report")
        write_atomic(target / "validation-report.txt", render(built.report, built.dataset).encode())
        write_atomic(target / "validation-report.json", json.dumps(built.report.to_json(), indent=2).encode())
        progress.update(task, description="done", completed=progress.tasks[0].total)
        progress.refresh()
    typer.echo(render(built.report, built.dataset), err=not built.report.conforms, nl=False)
    typer.echo(f"wrote {target}", err=True)
    if not built.report.conforms:
        raise typer.Exit(1)


@app.command()
def validate(ctx: typer.Context) -> None:
    """Report SHACL and quality-check findings (label, path, message). Exit 0 if the data conforms, else 1."""
    from kg.validate import render

    built = _built(_project(ctx), warn=False)
    typer.echo(render(built.report, built.dataset), nl=False)
    if not built.report.conforms:
        raise typer.Exit(1)


@app.command()
def queries(ctx: typer.Context) -> None:
    """List the query catalogue: name, title and parameters."""
    from rich.markup import escape
    from rich.table import Table

    from kg.query import load_catalogue

    table = Table("name", "title", "params")
    for query in load_catalogue(_project(ctx).queries).values():
        params = ", ".join(f"{p.name}:{p.type}" + ("" if p.required else f"={p.default}") for p in query.params)
        table.add_row(escape(query.name), escape(query.title), escape(params))
    _console().print(table)


def _print_result(result: Any, fmt: str, supports: Any = None) -> None:
    """Write a SPARQL result in `fmt` to stdout."""
    from kg.query import serialize_result, to_table

    if fmt == "table" and result.type == "SELECT":
        _console().print(to_table(result, supports))
    else:
        sys.stdout.write(serialize_result(result, "json" if fmt == "table" else fmt, supports))


@app.command()
def query(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Catalogue query name (see `kg queries`).")],
    param: Annotated[list[str], typer.Option("--param", "-p", help="KEY=VALUE, repeatable.")] = [],  # noqa: B006
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | json | csv | tsv | md")] = "table",
    why: Annotated[bool, typer.Option("--why", help="Show the claims (and quotes) behind each row.")] = False,
) -> None:
    """Run a catalogue query with its parameters."""
    from kg.query import FORMATS, get_query, load_catalogue, parse_assignments, run_query
    from kg.query import why as explain

    _choice(fmt, FORMATS, "format")
    project = _project(ctx)
    selected = get_query(load_catalogue(project.queries), name)
    given = parse_assignments(param)
    graph = _built(project).dataset
    result = run_query(graph, selected, given)
    _print_result(result, fmt, explain(graph, result) if why else None)


@app.command()
def sparql(
    ctx: typer.Context,
    query_or_file: Annotated[str, typer.Argument(help="SPARQL text, or a path to a .rq file.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | json | csv | tsv | md")] = "table",
) -> None:
    """Run ad-hoc SPARQL over the dataset (asserted + inferred); project prefixes are predeclared."""
    from kg.query import FORMATS, run_sparql

    _choice(fmt, FORMATS, "format")
    path = Path(query_or_file)
    is_file = len(query_or_file) < 4096 and "\n" not in query_or_file and path.is_file()
    text, where = (path.read_text(encoding="utf-8"), str(path)) if is_file else (query_or_file, "query")
    _print_result(run_sparql(_built(_project(ctx)).dataset, text, where), fmt)


@app.command("export")
def export_command(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", "-f", help="turtle | jsonld | nt | trig | xml")] = "turtle",
    inferred: Annotated[bool, typer.Option("--inferred", help="Include the inferred graph.")] = False,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File to write (atomically).")] = None,
) -> None:
    """Export the dataset (stdout unless -o)."""
    from kg.export import FORMATS, export, serialize

    _choice(fmt, FORMATS, "format")
    project = _project(ctx)
    dataset = _built(project).dataset
    if output is None:
        sys.stdout.buffer.write(serialize(dataset, fmt, project.context, inferred))
        sys.stdout.flush()
    else:
        export(dataset, fmt, output, project.context, inferred)


@app.command()
def coverage(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | json")] = "table",
) -> None:
    """Which claims are encoded and verified, and which source sentences they cover."""
    import json

    from kg.coverage import coverage as measure
    from kg.coverage import to_tables

    _choice(fmt, ("table", "json"), "format")
    report = measure(_built(_project(ctx)).dataset)
    if fmt == "json":
        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        console = _console()
        for renderable in to_tables(report):
            console.print(renderable)


@app.command()
def describe(
    ctx: typer.Context,
    entity: Annotated[str, typer.Argument(help="IRI, CURIE or label.")],
) -> None:
    """Labels, types, every statement about an entity, and the quotes of the claims supporting it."""
    from kg.describe import describe as collect
    from kg.describe import to_renderables
    from kg.query import resolve_entity

    graph = _built(_project(ctx)).dataset
    console = _console()
    for renderable in to_renderables(collect(graph, resolve_entity(graph, entity))):
        console.print(renderable)


@app.command()
def locate(
    ctx: typer.Context,
    quote: Annotated[str, typer.Argument(help="The exact text to find in the source documents.")],
    occurrence: Annotated[int, typer.Option(help="Which match to report (1-based).")] = 1,
) -> None:
    """Print start/end (0-based, end-exclusive, code points) of a quote, and selectors to paste into a claim."""
    from kg.load import find_span, find_spans, read_source

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
        escaped = quote.replace("\\", "\\\\").replace('"', '\\"')
        typer.echo(f"{relative}: start {start} end {end} (occurrence {occurrence} of {len(spans)})")
        typer.echo(
            f'    oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "{escaped}" ] ,\n'
            f"                   [ a oa:TextPositionSelector ; oa:start {start} ; oa:end {end} ] ;"
        )
    if not found:
        raise UsageError(f"quote not found in {project.relative(project.sources)}/*.txt: {quote!r}")
