"""`techgiants mapping check MAPPING.yaml [DATA ...] [--rows N]`: validate a mapping and preview it.

Loaded by cli._load_plugins(); `register(app)` adds the `mapping` group. Loading the
data is `techgiants ingest mapping MAPPING.yaml [DATA ...]` (ingest/mapping.py;
docs/mapping.md is the reference).
"""
from __future__ import annotations

import json
import os
from typing import List

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

mapping_app = typer.Typer(no_args_is_help=True, rich_markup_mode="markdown",
                          help="YAML mappings that load any CSV, Excel or JSON table: check and preview them.")
console = Console(emoji=False)


def register(app: typer.Typer) -> None:
    app.add_typer(mapping_app, name="mapping")


def _short(value, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def _row(origin: str | None) -> str:
    """`data.csv row 5` -> `5` (the table title names the file)."""
    return escape((origin or "").rsplit(" row ", 1)[-1])


def _props(props: dict, skip=("id", "name", "sources")) -> str:
    return "\n".join(f"{k}: {_short(v)}" for k, v in props.items() if k not in skip)


@mapping_app.command("check")
def check(mapping: str = typer.Argument(..., help="The mapping file (YAML)."),
          data: List[str] = typer.Argument(None, help="Data files (CSV, XLSX, JSON); default: the mapping's `data:`."),
          rows: int = typer.Option(5, "--rows", "-n", min=0, help="Preview the first N rows of each file (0: none).")):
    """Check a mapping (its YAML, labels, properties, columns, relationship ends) against data
    files and preview the nodes and relationships the first rows give. Nothing is written.

    Exit codes: 0 fine, 1 the mapping has errors, 3 previewed rows were rejected.

    Example: `techgiants mapping check data/examples/overseas-projects.mapping.yaml --rows 3`
    """
    from ingest import mapping as mp
    if not os.path.exists(mapping):
        raise typer.BadParameter(f"{mapping}: no such file", param_hint="MAPPING")
    try:
        m = mp.load_mapping(mapping)
        files = list(data) if data else m.data_paths()
    except mp.MappingError as e:
        for p in e.problems:
            console.print(f"[red]error[/red] {escape(str(p))}", highlight=False, soft_wrap=True)
        console.print(f"[red]{len(e.problems)} problem(s) in {escape(mapping)}[/red]")
        raise typer.Exit(1)
    except FileNotFoundError as e:
        console.print(f"[red]error[/red] {escape(str(e))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    if not files:
        console.print(f"[green]{escape(m.where)}: the mapping is valid[/green] "
                      f"({len(m.entities)} entities, {len(m.relationships)} relationships); "
                      "name a data file to check its columns and preview rows")
        return
    for f in files:
        if not os.path.exists(f):
            raise typer.BadParameter(f"{f}: no such file", param_hint="DATA")
    problems = mp.check(m, files)
    if problems:
        for p in problems:
            console.print(f"[red]error[/red] {escape(str(p))}", highlight=False, soft_wrap=True)
        console.print(f"[red]{len(problems)} problem(s): the mapping does not fit the data[/red]")
        raise typer.Exit(1)
    console.print(f"[green]{escape(m.where)}: valid[/green] ({len(m.entities)} entities, "
                  f"{len(m.relationships)} relationships; columns found in {', '.join(map(escape, files))})")
    rejected_total = 0
    for f in files:
        if rows == 0:
            break
        nodes, rels, rejected = mp.preview(m, f, rows=rows)
        rejected_total += len(rejected)
        _print_preview(f, rows, nodes, rels, rejected)
    if rejected_total:
        console.print(f"[yellow]{rejected_total} record(s) of the previewed rows would be rejected[/yellow]")
        raise typer.Exit(3)


def _print_preview(file: str, rows: int, nodes, rels, rejected) -> None:
    t = Table(title=f"{file}: nodes from the first {rows} row(s)", show_lines=True)
    for c in ("row", "label", "id", "name", "properties", "sources"):
        t.add_column(c, overflow="fold")
    for n in nodes:
        t.add_row(_row(n.origin), n.label, escape(n.id), escape(str(n.props.get("name", ""))),
                  escape(_props(n.props)), escape("\n".join(n.props.get("sources", []))))
    console.print(t)
    t = Table(title=f"{file}: relationships from the first {rows} row(s)", show_lines=True)
    for c in ("row", "type", "from", "to", "properties", "sources"):
        t.add_column(c, overflow="fold")
    for r in rels:
        t.add_row(_row(r.origin), r.type, escape(r.src), escape(r.dst), escape(_props(r.props, ("id", "sources"))),
                  escape("\n".join(r.props.get("sources", []))))
    console.print(t)
    if rejected:
        t = Table(title=f"{file}: rejected", show_lines=True)
        for c in ("record", "column", "reason"):
            t.add_column(c, overflow="fold")
        for r in rejected:
            t.add_row(escape(r.record), escape(r.field or ""), escape(r.reason))
        console.print(t)
