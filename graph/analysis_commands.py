"""`techgiants analyze ...`: the 50% rule cascade, ultimate owners, fund exposure."""
from __future__ import annotations

import csv
import io
import json
import sys
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console(emoji=False)
analyze_app = typer.Typer(no_args_is_help=True, help="Ownership analytics: 50% rule, owners, exposure.")

StoreOpt = typer.Option(None, "--store", "-s", envvar="TECHGIANTS_STORE", help="Graph store (path or bolt:// URI).")
FormatOpt = typer.Option("table", "--format", "-f", help="table, json or csv.")


def _open(store, read_only=False):
    from graph.stores import open_store
    import cli
    return open_store(store or cli.STATE["store"], read_only=read_only)


def _emit(columns: list[str], rows: list[list], fmt: str, title: str = "") -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps([dict(zip(columns, r)) for r in rows], ensure_ascii=False, indent=1) + "\n")
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(columns)
        w.writerows([[json.dumps(v) if isinstance(v, (list, dict)) else v for v in r] for r in rows])
        sys.stdout.write(buf.getvalue())
    elif fmt == "table":
        t = Table(title=title)
        for c in columns:
            t.add_column(c)
        for r in rows:
            t.add_row(*[escape(", ".join(map(str, v)) if isinstance(v, list) else "" if v is None else str(v))
                        for v in r])
        console.print(t)
    else:
        raise typer.BadParameter(f"unknown format {fmt!r}: use table, json or csv")


@analyze_app.command("fifty-percent")
def fifty_percent(lists: str = typer.Option("bis-affiliates", "--lists", help="Preset (ofac, bis-affiliates, all) "
                                             "or comma-separated list ids."),
                  as_of: Optional[str] = typer.Option(None, "--as-of", help="Date (YYYY-MM-DD); default: all facts."),
                  fmt: str = FormatOpt,
                  explain: Optional[str] = typer.Option(None, "--explain", help="Explain one entity's result."),
                  write: bool = typer.Option(True, "--write/--no-write", help="Store CAPTURED_BY results."),
                  store: Optional[str] = StoreOpt):
    """Which unlisted entities are restricted because listed parties own 50% or more of them.

    Example: `techgiants analyze fifty-percent --lists bis-affiliates --as-of 2025-10-01`
    """
    from graph import analysis
    with _open(store, read_only=not write) as s:
        res = analysis.fifty_percent(s, lists, as_of, write=write)
        if explain:
            for line in res.explain(explain):
                console.print(escape(line))
            return
        nm = analysis.names(s, list(res.findings) + [v for f in res.findings.values() for v in f.via])
    rows = [[fid, nm.get(fid, ""), f.certainty, round(f.aggregate, 4), f.via, res.finding_lists.get(fid, [])]
            for fid, f in sorted(res.findings.items(), key=lambda kv: (kv[1].certainty, kv[0]))]
    if fmt == "table":
        state = "in force" if res.rule_in_force else "NOT in force"
        console.print(f"rule [bold]{res.rule}[/bold] on {as_of or 'all dates'}: {state}; "
                      f"{len(res.seeds)} listed seeds; {len(res.findings)} captured "
                      f"({sum(f.certainty == 'definite' for f in res.findings.values())} definite)")
    _emit(["id", "name", "certainty", "aggregate", "via", "lists"], rows, fmt, "Captured by the 50% rule")


@analyze_app.command("owners")
def owners(entity_id: str = typer.Argument(..., help="Entity id, e.g. company:hikvision."),
           as_of: Optional[str] = typer.Option(None, "--as-of"), fmt: str = FormatOpt,
           store: Optional[str] = StoreOpt):
    """Ultimate owners of an entity with their look-through (economic) share.

    Example: `techgiants analyze owners company:hikvision`
    """
    from graph import analysis
    with _open(store, read_only=True) as s:
        if s.get(entity_id) is None:
            raise ValueError(f"no entity with id {entity_id!r}")
        res = analysis.owners(s, entity_id, as_of)
        nm = analysis.names(s, res)
    rows = [[o, nm.get(o, ""), round(v, 6)] for o, v in sorted(res.items(), key=lambda kv: (-kv[1], kv[0]))]
    _emit(["owner", "name", "look_through_share"], rows, fmt, f"Ultimate owners of {entity_id}")


@analyze_app.command("exposure")
def exposure(investor: Optional[str] = typer.Option(None, "--investor", help="One investor's id."),
             lists: str = typer.Option("all", "--lists", help="Preset or comma-separated list ids."),
             as_of: Optional[str] = typer.Option(None, "--as-of"), fmt: str = FormatOpt,
             store: Optional[str] = StoreOpt):
    """Which funds and investors are exposed to restricted companies: directly, through parents or
    subsidiaries, through index membership, or via the 50% rule.

    Example: `techgiants analyze exposure --investor fund:vanguard-ftse-emerging-markets-etf`
    """
    from graph import analysis
    with _open(store, read_only=True) as s:
        res, fp = analysis.exposure(s, lists, as_of, investor)
        nm = analysis.names(s, [e.investor for e in res] + [e.company for e in res])
    rows = [[e.investor, nm.get(e.investor, ""), e.company, nm.get(e.company, ""), e.via,
             "captured" if e.company in fp.findings else "listed", e.path,
             None if e.look_through is None else round(e.look_through, 6)]
            for e in sorted(res, key=lambda e: (e.investor, e.via, e.company))]
    _emit(["investor", "investor_name", "company", "company_name", "via", "status", "path", "look_through"],
          rows, fmt, "Exposure to restricted companies")


def register(app: typer.Typer) -> None:
    app.add_typer(analyze_app, name="analyze")
