"""The `techgiants` command: a thin typer layer over the Python API.

Every command takes `--store` (or $TECHGIANTS_STORE): a file path for the embedded
store, bolt://host:7687 for Neo4j (credentials from NEO4J_USER / NEO4J_PASSWORD).
Errors print one line and exit non-zero; `--verbose` shows the trace.
Exit codes: 0 ok, 1 error, 2 usage, 3 some records were rejected (see the quarantine file).
"""
from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode="markdown",
                  help="techgiants: an open knowledge graph of tech companies, owners, state links, US lists and projects.")
export_app = typer.Typer(no_args_is_help=True, help="Export the graph.")
app.add_typer(export_app, name="export")

console = Console(emoji=False)
err = Console(stderr=True, emoji=False)
STATE = {"store": None, "verbose": False}

StoreOpt = typer.Option(None, "--store", "-s", envvar="TECHGIANTS_STORE",
                        help="Graph store: a file path (embedded) or bolt://host:7687 (Neo4j).")


@app.callback()
def _main(store: Optional[str] = StoreOpt,
          verbose: bool = typer.Option(False, "--verbose", "-v", help="Show full tracebacks on errors.")):
    STATE["store"] = store
    STATE["verbose"] = verbose


def _open(read_only: bool = False, store: Optional[str] = None):
    from graph.stores import open_store
    return open_store(store or STATE["store"], read_only=read_only)


# ---------------------------------------------------------------- init / stats
@app.command()
def init(store: Optional[str] = StoreOpt):
    """Create the schema (idempotent).

    Example: `techgiants init --store graph.lbdb`
    """
    with _open(store=store) as s:
        s.create_schema()
        console.print(f"schema ready in {s.kind} store [bold]{s.url}[/bold]")


@app.command()
def stats(store: Optional[str] = StoreOpt, as_json: bool = typer.Option(False, "--json", help="Print JSON.")):
    """Counts of nodes by label and relationships by type.

    Example: `techgiants stats --store bolt://localhost:7687`
    """
    with _open(read_only=True, store=store) as s:
        counts = s.counts()
    if as_json:
        console.print_json(json.dumps(counts))
        return
    t = Table(title="Graph contents")
    t.add_column("kind")
    t.add_column("name")
    t.add_column("count", justify="right")
    for k, v in counts["nodes"].items():
        t.add_row("node", k, str(v))
    for k, v in counts["relationships"].items():
        t.add_row("relationship", k, str(v))
    console.print(t)


# ---------------------------------------------------------------- ingest
@app.command()
def ingest(kind: str = typer.Argument(..., help="Format: see `techgiants ingest --help`."),
           paths: List[str] = typer.Argument(None, help="Files or folders to read."),
           store: Optional[str] = StoreOpt,
           as_of: Optional[str] = typer.Option(None, "--as-of", help="Date the data is valid for (YYYY-MM-DD)."),
           quarantine: Optional[str] = typer.Option(None, "--quarantine", help="Where rejected records go (JSONL)."),
           resolve: bool = typer.Option(True, "--resolve/--no-resolve", help="Merge onto known entities.")):
    """Load files into the graph, with a progress bar and a report.

    Kinds: `bundled` (the project's curated graph and list snapshot), `curated`, `csl`, `ofac`, `uslists`,
    `ftm`, `bods`, `gleif`, `holdings`, `13f`, `jsonl` (a `techgiants export jsonl` backup), `rdf`,
    `mapping` (a YAML mapping followed by the spreadsheets it reads), `dod1260h` (every 1260H edition,
    OpenSanctions' history CSV), `bulk` (a folder of Parquet/CSV files per label and relationship type,
    validated column-wise and COPY-loaded: the fast path for millions of rows, docs/bulk.md).

    Example: `techgiants ingest csl ../shared/data/csl-samples/csl_sample_2025_watchman.csv`
    """
    from ingest.run import ingest_paths
    code = ingest_paths(kind, paths or [], store=store or STATE["store"], as_of=as_of, quarantine=quarantine,
                        resolve=resolve, console=console)
    raise typer.Exit(code)


# ---------------------------------------------------------------- export
@export_app.command("jsonl")
def export_jsonl(path: str = typer.Argument(..., help="Output file."), store: Optional[str] = StoreOpt):
    """Write the whole graph as JSON lines (a backup `techgiants ingest jsonl` reads back exactly).

    Example: `techgiants export jsonl backup.jsonl`
    """
    with _open(read_only=True, store=store) as s:
        n = s.export_jsonl(path)
    console.print(f"wrote {n} records to {path}")


# ---------------------------------------------------------------- docs
@app.command("schema-doc")
def schema_doc(out: str = typer.Option("docs/schema.md", "--out", help="Where to write the page.")):
    """Generate the schema page from graph/schema.yaml.

    Example: `techgiants schema-doc --out docs/schema.md`
    """
    from graph.schema import schema_markdown
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(schema_markdown(), encoding="utf-8")
    console.print(f"wrote {out}")


def _load_plugins() -> None:
    """Commands contributed by other modules (query, analyze, app, ...) register themselves here."""
    import importlib
    for mod in ("queries.commands", "graph.analysis_commands", "app_commands", "ingest.commands", "graph.rdf_commands",
                "ingest.mapping_commands", "ingest.migrate_commands"):
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name != mod:
                raise
            continue
        m.register(app)


def main() -> None:
    _load_plugins()
    try:
        rc = app(standalone_mode=False)
        sys.exit(rc if isinstance(rc, int) else 0)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err.print("aborted")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as e:  # one clear line; the trace only on --verbose
        import click
        if isinstance(e, click.exceptions.UsageError):
            e.show()
            sys.exit(2)
        if isinstance(e, click.exceptions.ClickException):
            e.show()
            sys.exit(e.exit_code)
        if STATE["verbose"] or "--verbose" in sys.argv or "-v" in sys.argv:
            traceback.print_exc()
        from rich.markup import escape
        err.print("[red]error:[/red] " + escape(str(e) or type(e).__name__), highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
