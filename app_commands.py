"""`techgiants app`: open the investigation workspace (streamlit run app.py) on the chosen store."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer

APP = Path(__file__).resolve().parent / "app.py"


def streamlit_command(port: int | None = None, address: str | None = None, headless: bool = True) -> list[str]:
    cmd = [sys.executable, "-m", "streamlit", "run", str(APP), "--browser.gatherUsageStats", "false",
           "--server.headless", "true" if headless else "false"]
    if port:
        cmd += ["--server.port", str(port)]
    if address:
        cmd += ["--server.address", address]
    return cmd


def register(app: typer.Typer) -> None:
    @app.command("app")
    def run_app(store: Optional[str] = typer.Option(None, "--store", "-s", envvar="TECHGIANTS_STORE",
                                                    help="Graph store: a file path (embedded) or bolt://host:7687."),
                port: Optional[int] = typer.Option(None, "--port", help="Port (default 8501)."),
                address: Optional[str] = typer.Option(None, "--address",
                                                      help="Address to listen on (default: Streamlit's; "
                                                           "use 127.0.0.1 to stay local)."),
                open_browser: bool = typer.Option(False, "--open/--no-open", help="Open a browser tab.")):
        """Open the investigation workspace in the browser: search, profiles, graph explorer, saved queries,
        Cypher, portfolio screening, map and data pages. The store is opened read-only.

        Example: `techgiants app --store techgiants.lbdb --port 8501`
        """
        try:
            from cli import STATE
            store = store or STATE.get("store")
        except ImportError:
            pass
        env = dict(os.environ)
        from graph.stores import store_url
        env["TECHGIANTS_STORE"] = store_url(store)
        cmd = streamlit_command(port, address, headless=not open_browser)
        typer.echo(f"techgiants app on {env['TECHGIANTS_STORE']} (Ctrl+C to stop)")
        try:
            code = subprocess.call(cmd, env=env)
        except KeyboardInterrupt:
            code = 130
        raise typer.Exit(code)
