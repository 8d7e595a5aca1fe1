"""CLI for RDF: `techgiants export turtle|jsonld|nt PATH` and `techgiants rdf validate|shapes|vocab|sparql`.

Loaded by cli._load_plugins(); `register(app)` adds the export formats to the existing `export`
group and a new `rdf` group.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

FORMAT_HELP = {"turtle": "Turtle (.ttl)", "jsonld": "JSON-LD (.jsonld)", "nt": "N-Triples (.nt)"}


def _export_group(app: typer.Typer) -> typer.Typer:
    for g in app.registered_groups:
        if g.name == "export" and g.typer_instance is not None:
            return g.typer_instance
    import cli  # the group is created in cli.py; fall back to the module global
    return cli.export_app


def _params(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"expected key=value, got {item!r}", param_hint="--param")
        out[key.strip()] = value
    return out


def _print_violations(report, console, limit: int) -> None:
    for r in report.rejected:
        console.print(f"[red]unreadable[/red] {r.line()}", highlight=False, soft_wrap=True)
    for v in report.violations[:limit]:
        console.print(f"[red]{v.severity}[/red] {v.line()}", highlight=False, soft_wrap=True)
    if len(report.violations) > limit:
        console.print(f"… and {len(report.violations) - limit} more (use --max)")


def _validate_and_report(path: str, console, limit: int) -> int:
    from graph import rdf
    report = rdf.validate(path)
    if report.conforms:
        console.print(f"[green]SHACL: {path} conforms[/green] (shapes generated from graph/schema.yaml)")
        return 0
    _print_violations(report, console, limit)
    if report.rejected:
        console.print(f"[red]SHACL: {path} could not be checked: {len(report.rejected)} unreadable part(s)[/red]")
    else:
        console.print(f"[red]SHACL: {len(report.violations)} violation(s) in {path}[/red]")
    return 1


def _make_export(fmt: str):
    def command(path: str = typer.Argument(..., help="Output file ('-' for standard output)."),
                store: Optional[str] = typer.Option(None, "--store", "-s", envvar="TECHGIANTS_STORE",
                                                    help="Graph store: a file path (embedded) or bolt://host:7687."),
                query: Optional[str] = typer.Option(None, "--query", "-q",
                                                    help="Export only what a saved query returns (its nodes and "
                                                         "relationships, their end nodes and cited sources)."),
                param: Optional[List[str]] = typer.Option(None, "--param", "-p",
                                                          help="Query parameter key=value (repeatable)."),
                validate: bool = typer.Option(False, "--validate", help="Check the file with SHACL afterwards."),
                max_shown: int = typer.Option(20, "--max", help="Violations shown with --validate.")):
        from cli import STATE, _open, console, err
        from graph import rdf
        params = _params(param)
        if params and not query:
            raise typer.BadParameter("--param needs --query", param_hint="--param")
        if validate and path == "-":
            raise typer.BadParameter("--validate needs a file, not '-'", param_hint="--validate")
        with _open(read_only=True, store=store or STATE["store"]) as s:
            stats = rdf.export(s, path, fmt, query=query, params=params)
        out = err if path == "-" else console
        what = f"query {query}" if query else "the graph"
        out.print(f"wrote {what} to {path}: {stats.nodes} nodes, {stats.rels} relationships, {stats.triples} triples "
                  f"({FORMAT_HELP[fmt]})")
        if validate:
            code = _validate_and_report(path, console, max_shown)
            if code:
                raise SystemExit(code)  # not typer.Exit: cli.main() runs click with standalone_mode=False

    command.__doc__ = (f"Write the graph (or a saved query's result) as RDF {FORMAT_HELP[fmt]}.\n\n"
                       "Vocabulary and mapping: docs/rdf.md. The output is sorted, so exports diff cleanly; "
                       "`techgiants ingest rdf` reads it back exactly.\n\n"
                       f"Example: `techgiants export {fmt} graph.{ {'turtle': 'ttl'}.get(fmt, fmt)} --validate`")
    return command


rdf_app = typer.Typer(no_args_is_help=True, help="RDF tools: SHACL validation, shapes, vocabulary, SPARQL.")


@rdf_app.command("validate")
def validate_cmd(path: str = typer.Argument(..., help="An RDF file (format by extension) or a folder."),
                 max_shown: int = typer.Option(20, "--max", help="Violations shown.")):
    """Check an export against the SHACL shapes generated from graph/schema.yaml (pyshacl).

    Exit code 1 when there are violations.

    Example: `techgiants rdf validate graph.ttl`
    """
    from cli import console
    if not Path(path).exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    code = _validate_and_report(path, console, max_shown)
    if code:
        raise SystemExit(code)  # not typer.Exit: cli.main() runs click with standalone_mode=False


@rdf_app.command("shapes")
def shapes_cmd(out: str = typer.Argument("-", help="Output file (Turtle); '-' for standard output.")):
    """Write the generated SHACL shapes (Turtle).

    Example: `techgiants rdf shapes shapes.ttl`
    """
    from graph import rdf
    _write(out, rdf.shapes_graph().serialize(format="turtle"))


@rdf_app.command("vocab")
def vocab_cmd(out: str = typer.Argument("-", help="Output file; '-' for standard output."),
              markdown: bool = typer.Option(False, "--markdown", help="The mapping table (Markdown) for docs/rdf.md.")):
    """Write the generated vocabulary (OWL/RDFS in Turtle) or its mapping table.

    Example: `techgiants rdf vocab techgiants.ttl`
    """
    from graph import rdf
    _write(out, rdf.mapping_markdown() if markdown else rdf.vocabulary().serialize(format="turtle"))


@rdf_app.command("sparql")
def sparql_cmd(path: str = typer.Argument(..., help="An RDF export (format by extension)."),
               query: str = typer.Argument(..., help="A SPARQL SELECT, a .rq file, or an example name "
                                                      "(see `techgiants rdf sparql PATH list`)."),
               as_json: bool = typer.Option(False, "--json", help="Print JSON.")):
    """Run a SPARQL SELECT over an export with rdflib (the common prefixes tg:, schema:, dcterms:, prov:,
    org: are predeclared).

    Example: `techgiants rdf sparql graph.ttl owners-of-hikvision`
    """
    import json
    from rich.table import Table
    from cli import console
    from graph import rdf
    examples = {e.name: e for e in rdf.EXAMPLES}
    if query == "list":
        for e in rdf.EXAMPLES:
            console.print(f"[bold]{e.name}[/bold]: {e.title}")
        return
    if query in examples:
        text = examples[query].sparql
    elif query.endswith(".rq") and Path(query).exists():
        text = Path(query).read_text(encoding="utf-8")
    else:
        text = query
    g, rejected = rdf.load(path)
    if rejected:
        raise ValueError(rejected[0].line())
    cols, rows = rdf.sparql(g, text)
    if as_json:
        console.print_json(json.dumps([dict(zip(cols, r)) for r in rows], default=str))
        return
    t = Table()
    for c in cols:
        t.add_column(c)
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    console.print(t)


def _write(out: str, text: str) -> None:
    if out == "-":
        import sys
        sys.stdout.write(text)
    else:
        Path(out).write_text(text, encoding="utf-8")
        from cli import console
        console.print(f"wrote {out}")


def register(app: typer.Typer) -> None:
    export = _export_group(app)
    have = {c.name for c in export.registered_commands}
    for fmt in FORMAT_HELP:
        if fmt not in have:
            export.command(fmt)(_make_export(fmt))
    if not any(g.name == "rdf" for g in app.registered_groups):
        app.add_typer(rdf_app, name="rdf")
