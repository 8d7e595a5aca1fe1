"""End to end: `streamlit run app.py` on a free localhost port, driven by headless Chromium
(Playwright with the system's /usr/bin/chromium) through search -> profile -> graph ->
saved query -> download. Screenshots go to a temporary folder (printed, and kept in
$TECHGIANTS_E2E_SHOTS when set).

Needs the Debian package `chromium` and the Python package `playwright` (no `playwright
install`: the system browser is used). Skips with the reason when either is missing, and
under CI=true unless TECHGIANTS_E2E=1.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _skip_reason() -> str | None:
    if os.environ.get("CI", "").lower() == "true" and os.environ.get("TECHGIANTS_E2E") != "1":
        return "end-to-end browser test skipped under CI=true (set TECHGIANTS_E2E=1 to run it)"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found: apt-get install chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed: pip install playwright (no `playwright install` needed)"
    return None


pytestmark = [pytest.mark.slow, pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from graph.stores.ladybug import LadybugStore
    from tests.test_app import load_app_graph
    path = tmp_path_factory.mktemp("e2e") / "bundled.lbdb"
    s = LadybugStore(path)
    s.create_schema()
    load_app_graph(s)
    s.close()
    port = _free_port()
    env = {**os.environ, "TECHGIANTS_STORE": str(path)}
    log = open(tmp_path_factory.mktemp("e2e-log") / "streamlit.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--server.headless", "true", "--browser.gatherUsageStats", "false",
                             "--server.fileWatcherType", "none"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.seek(0)
            pytest.fail("streamlit did not start:\n" + log.read()[-3000:])
        time.sleep(0.3)
    yield base
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    d = Path(os.environ["TECHGIANTS_E2E_SHOTS"]) if os.environ.get("TECHGIANTS_E2E_SHOTS") else \
        tmp_path_factory.mktemp("screenshots")
    d.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots in {d}")
    return d


def _idle(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished the current run."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => { const w = document.querySelector('[data-testid=\"stStatusWidget\"]');"
        " return !w || !/Running|Stop/.test(w.innerText); }", timeout=timeout)
    page.wait_for_timeout(800)


def test_search_profile_graph_query_download(server, shots):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        # search
        page.goto(server + "/")
        _idle(page)
        box = page.get_by_label("Search entities", exact=True)
        box.fill("hikvision")
        box.press("Enter")
        page.get_by_text("result(s)").wait_for(timeout=30_000)
        _idle(page)
        page.screenshot(path=str(shots / "1-search.png"), full_page=True)

        # click the first result row -> profile
        grid = page.locator('[data-testid="stDataFrame"]').first
        grid.locator("canvas").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1000)
        bb = grid.bounding_box()
        page.mouse.click(bb["x"] + 16, bb["y"] + 36 + 17)   # the first row's selection box
        page.wait_for_url("**/profile?id=company%3Ahikvision*", timeout=30_000)
        _idle(page)
        page.get_by_role("heading", name="Hikvision").wait_for(timeout=30_000)
        page.get_by_text("Designations").first.wait_for()
        page.screenshot(path=str(shots / "2-profile.png"), full_page=True)
        assert "Entity List (BIS)" in page.inner_text("body")

        # graph explorer from the profile
        page.get_by_text("Explore from here").click()
        page.wait_for_url("**/explorer?id=company%3Ahikvision*", timeout=30_000)
        _idle(page)
        page.frame_locator("iframe").first.locator("canvas").first.wait_for(timeout=30_000)
        page.wait_for_timeout(2500)   # let the layout settle
        page.screenshot(path=str(shots / "3-explorer.png"), full_page=True)
        with page.expect_download() as dl:
            page.get_by_role("button", name="Download JSON").click()
        target = shots / "subgraph.json"
        dl.value.save_as(str(target))
        assert '"company:hikvision"' in target.read_text(encoding="utf-8")

        # saved query (or the Cypher box) -> table -> CSV download
        from app_pages import library
        if library.queries_module() is not None and library.load_library():
            name = library.query_info(library.load_library()[0])["name"]
            page.goto(f"{server}/saved_queries?q={name}")
            _idle(page)
            page.get_by_text("Link to this query").wait_for(timeout=30_000)
            page.screenshot(path=str(shots / "4-saved-query.png"), full_page=True)
            if page.get_by_role("button", name="Download CSV").count():
                with page.expect_download() as dl:
                    page.get_by_role("button", name="Download CSV").click()
                dl.value.save_as(str(shots / "query.csv"))
                assert (shots / "query.csv").stat().st_size > 0
        else:
            page.goto(f"{server}/saved_queries")
            _idle(page)
            page.get_by_text("not available yet").wait_for(timeout=30_000)
            page.screenshot(path=str(shots / "4-saved-query.png"), full_page=True)

        # the other pages render without an exception
        for slug in ("map", "data", "screening", "cypher"):
            page.goto(f"{server}/{slug}")
            _idle(page)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(shots / f"5-{slug}.png"), full_page=True)
            assert not page.locator('[data-testid="stException"]').count(), slug
        browser.close()
    assert not [e for e in errors if "ResizeObserver" not in e], errors
