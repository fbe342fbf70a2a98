"""The build and its cache: load, then reason and validate in parallel, and keep the result for later commands.

Reasoning and validation only read the asserted graphs, so validation runs in a forked process while this
one reasons (2 cores). The built dataset (asserted + inferred) and the validation report are pickled into
`.kg-cache/` (or $KG_CACHE_DIR) under the SHA-256 of every input file and of the kg version and code; any
change misses the cache and rebuilds. Pickle is the reload format because it was the fastest measured
(6.6 k quads: pickle.loads 12 ms, N-Quads parse 89 ms).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rdflib import Dataset

from kg import __version__
from kg.errors import KgError
from kg.files import files_key, read_cached, write_cached
from kg.enrich import load_cache
from kg.link import add_links
from kg.load import Project, load_document, load_shapes
from kg.offline import add_country_facts
from kg.namespaces import RULES_DIR
from kg.validate import Report

CACHE_ENV = "KG_CACHE_DIR"


@dataclass(frozen=True)
class Built:
    """A built dataset (asserted + inferred named graphs) and its validation report."""

    dataset: Dataset
    report: Report


def load_dataset(project: Project = Project()) -> Dataset:
    """The asserted dataset: kg.load.load_document's graphs, then the linked graphs (add_linked_graphs)."""
    dataset = load_document(project)
    add_linked_graphs(dataset, project)
    return dataset


def add_linked_graphs(dataset: Dataset, project: Project = Project()) -> None:
    """Add to `dataset`, which holds the statements, each graph whose file is present: the Wikidata links
    (checked against the statements, links-unverified.tsv with them), the pycountry facts and the enrichment
    cache. The in-store build calls it too, over the store, so that both builds make and refuse the same."""
    add_links(dataset, project)
    add_country_facts(dataset, project)
    load_cache(dataset, project)


def cache_dir(project: Project) -> Path:
    """Where built datasets are kept: $KG_CACHE_DIR, else `.kg-cache/` at the project root."""
    return Path(os.environ.get(CACHE_ENV) or project.root / ".kg-cache")


def cache_key(project: Project) -> str:
    """SHA-256 over the kg and pycountry versions, kg's code, and every input file's name and bytes (a missing
    file counts too).

    The code is hashed as well so that a changed pipeline (say, the junk filter) never serves an old build.
    """
    from kg.offline import pycountry_version

    code = sorted(Path(__file__).parent.glob("*.py")) + sorted(RULES_DIR.glob("*.rq"))  # the rules are code too
    files = [(p.name, p) for p in code] + [(project.relative(p), p) for p in project.build_inputs()]
    return files_key(f"kg {__version__}\0pycountry {pycountry_version()}", files)


def build(
    project: Project = Project(),
    step: Callable[[str], None] = lambda name: None,
    meanwhile: Callable[[Dataset], None] = lambda dataset: None,
    key: str | None = None,
) -> Built:
    """Run the whole pipeline (load, reason ∥ validate), store the result in the cache under `key` (the inputs'
    cache_key, computed now if not given) and return it.

    `meanwhile` gets the reasoned dataset while validation is still running (`kg build` serialises its exports then, and writes them with the report).
    """
    from kg.reason import add_inferred, infer
    from kg.validate import validate

    key = key or cache_key(project)  # before reading: an input edited during the build then misses next time
    step("load")
    dataset = load_dataset(project)
    shapes = load_shapes(project)
    step("reason and validate")
    validation = _Background(lambda: validate(dataset, shapes, project.qc))
    try:
        add_inferred(dataset, infer(dataset))
        meanwhile(dataset)
    except BaseException:
        validation.cancel()
        raise
    built = Built(dataset, validation.result())
    step("cache")
    _store(project, key, built)
    return built


class _Background:
    """`work` running in a forked process, which inherits the parsed graphs; `result()` waits for its value.

    Without fork (not Linux) `work` runs in this process when its result is asked for.
    """

    def __init__(self, work: Callable[[], Report]) -> None:
        self._work = work
        self._process = None
        if "fork" not in multiprocessing.get_all_start_methods():
            return
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)

        def child() -> None:
            try:
                send.send(("ok", work()))
            except KgError as exc:
                send.send(("error", exc))
            except Exception as exc:  # unexpected: pass its description, which always pickles
                send.send(("error", RuntimeError(f"validation failed: {exc!r}")))

        self._process = context.Process(target=child, name="kg-validate", daemon=True)
        self._process.start()
        send.close()

    def result(self) -> Report:
        """The value of `work`, or the error it raised."""
        if self._process is None:
            return self._work()
        try:
            kind, value = self._receive.recv()
        except EOFError:
            raise RuntimeError(f"the validation process died (exit code {self._process.exitcode})") from None
        finally:
            self._process.join()
            self._receive.close()
        if kind == "error":
            raise value
        return value

    def cancel(self) -> None:
        """Stop the work (its result is no longer wanted)."""
        if self._process is not None:
            self._process.kill()
            self._process.join()
            self._receive.close()


def _store(project: Project, key: str, built: Built) -> None:
    """Pickle `built` as `<cache>/<key>.pickle` (atomically) and drop older entries."""
    write_cached(cache_dir(project) / f"{key}.pickle", built)


def cached(project: Project = Project()) -> Built | None:
    """The cached build for the current inputs, or None (absent, stale or unreadable)."""
    return read_cached(cache_dir(project) / f"{cache_key(project)}.pickle", Built)


def load_built(project: Project = Project(), step: Callable[[str], None] = lambda name: None) -> Built:
    """The built dataset for the current inputs: from the cache when fresh, else built (and cached) now."""
    return cached(project) or build(project, step)
