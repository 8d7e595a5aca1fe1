"""Run an ingest from the command line or the app: pick the parser, show progress, print the report."""
from __future__ import annotations

import importlib
import os
from typing import Iterable, Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ingest import pipeline

# kind -> module with parse(path, as_of=None)
KINDS = {
    "curated": "ingest.curated",
    "csl": "ingest.csl",
    "ofac": "ingest.ofac",
    "uslists": "ingest.uslists",
    "ftm": "ingest.ftm",
    "bods": "ingest.bods",
    "gleif": "ingest.gleif",
    "holdings": "ingest.holdings",
    "13f": "ingest.sec13f",
    "jsonl": "ingest.jsonl",
    "rdf": "graph.rdf",
    "bundled": "ingest.bundled",
    "mapping": "ingest.mapping",
    "dod1260h": "ingest.dod1260h",
    "bulk": "ingest.bulk",  # a folder of Parquet/CSV in the bulk layout: columnar, not the record pipeline
}


def parser_for(kind: str):
    if kind not in KINDS:
        raise ValueError(f"unknown ingest kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    try:
        mod = importlib.import_module(KINDS[kind])
    except ModuleNotFoundError as e:
        if e.name == KINDS[kind]:
            raise ValueError(f"ingest kind {kind!r} is not available in this build") from None
        raise
    return mod.parse


def records(kind: str, paths: Iterable[str], as_of: str | None = None) -> Iterator:
    parse = parser_for(kind)
    paths = list(paths)
    for p in paths:
        if not os.path.exists(p):
            raise FileNotFoundError(f"{p}: no such file or folder")
    mod = importlib.import_module(KINDS[kind])
    if hasattr(mod, "parse_many"):  # formats whose files belong together (a mapping and its data)
        yield from mod.parse_many(paths, as_of=as_of)
        return
    for p in paths:
        yield from parse(p, as_of=as_of)


def ingest_paths(kind: str, paths: list[str], *, store: str | None, as_of: str | None = None,
                 quarantine: str | None = None, resolve: bool = True, console: Console | None = None,
                 progress: bool = True) -> int:
    """Returns the exit code: 0 when everything landed, 3 when some records were rejected."""
    if kind == "bulk":
        from ingest.bulk_commands import ingest_bulk
        return ingest_bulk(paths, store=store, quarantine=quarantine, console=console, progress=progress)
    from graph.stores import open_store
    console = console or Console(emoji=False)
    if kind == "bundled" and not paths:
        from ingest.bundled import DEFAULT_PATHS
        paths = DEFAULT_PATHS
    if not paths:
        raise ValueError(f"ingest {kind}: give at least one file or folder")
    parser_for(kind)  # fail on an unknown kind before touching the store
    quarantine = quarantine or os.path.join("quarantine", f"{kind}.jsonl")
    if os.path.exists(quarantine):
        os.remove(quarantine)  # one run, one quarantine file: re-runs don't pile up
    with open_store(store) as s:
        s.create_schema()
        resolver = None
        # a backup is already resolved: restoring it must give back exactly what was exported
        if resolve and kind != "jsonl":
            try:
                from ingest.resolve import Resolver
                resolver = Resolver.from_store(s)
            except ModuleNotFoundError:
                resolver = None
        with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                      TextColumn("{task.completed} records"), TimeElapsedColumn(), console=console,
                      disable=not progress, transient=False) as bar:
            task = bar.add_task(f"ingest {kind}", total=None)
            report = pipeline.run(s, records(kind, paths, as_of), file=",".join(map(str, paths)),
                                  quarantine=quarantine, resolver=resolver,
                                  on_record=lambda: bar.advance(task))
        queued = resolver.flush_queue() if resolver is not None else 0
    print_report(report, console, title=f"ingest {kind}: {', '.join(map(str, paths))}")
    if queued:
        console.print(f"{queued} possible match(es) need a decision: see `techgiants resolve list`")
    if report.total_rejected:
        console.print(f"[yellow]{report.total_rejected} record(s) rejected[/yellow]: see {quarantine}")
        return 3
    return 0


def print_report(report: pipeline.Report, console: Console, title: str = "ingest") -> None:
    t = Table(title=title)
    for c in ("label / type", "read", "created", "updated", "unchanged", "merged", "rejected"):
        t.add_column(c, justify="left" if c == "label / type" else "right")
    for row in report.rows():
        t.add_row(*[str(x) for x in row])
    if report.deleted:
        t.caption = f"{report.deleted} deleted"
    console.print(t)
