"""The thin Streamlit layer shared by the pages: the store (opened once per process), caches
keyed by the store URL, tables, the graph component and downloads.

Safety: values from the graph are only ever shown through st.dataframe, st.text, st.code or
Markdown escaped with text.md_escape; no HTML is rendered (unsafe_allow_html is never used).
"""
from __future__ import annotations

import os
import time
from typing import Any, Iterable

import streamlit as st

from app_pages import auth
from app_pages import logic as L
from app_pages import text as T
from app_pages.graphviz import COLORS, EDGE_COLORS, ICONS

DEFAULT_STORE = "techgiants.lbdb"
CACHE_TTL = 600  # seconds; the sidebar's "Reload data" clears the caches at once
PROFILE_PAGE = "app_pages/views/profile.py"
EXPLORER_PAGE = "app_pages/views/explorer.py"
QUERIES_PAGE = "app_pages/views/saved_queries.py"
INGEST_HINT = "Load the bundled graph with `techgiants ingest bundled` (or point TECHGIANTS_STORE at another store)."


def store_url() -> str:
    return os.environ.get("TECHGIANTS_STORE") or DEFAULT_STORE


@st.cache_resource(show_spinner=False)
def get_store(url: str):
    """One store per process and URL; Ladybug opens read-only so an ingest elsewhere is not blocked."""
    from graph.stores import open_store
    return open_store(url, read_only=True)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def counts(url: str) -> dict:
    return get_store(url).counts()


def require_store(allow_empty: bool = False):
    """The store, or a clear message and st.stop() when it is missing, unreadable or empty
    (`allow_empty`: an empty store is returned, after the message, for pages that can fill it)."""
    url = store_url()
    try:
        store = get_store(url)
        c = counts(url)
    except Exception as e:  # noqa: BLE001 - StoreError or a driver error: the message is for the user
        get_store.clear()
        st.error(f"Cannot open the graph store {T.md_escape(auth.redact(url))}: {T.md_escape(auth.redact(e))}")
        st.info(INGEST_HINT)
        st.stop()
    if L.is_empty(c):
        st.warning(f"The graph store {T.md_escape(auth.redact(url))} is empty.")
        st.info(INGEST_HINT)
        if not allow_empty:
            st.stop()
    return store


# ---------------------------------------------------------------- cached reads (keyed by store URL)

@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def search(url: str, text: str, limit: int, labels: tuple[str, ...]) -> list[dict]:
    return L.search_entities(get_store(url), text, limit, labels or None)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def profile(url: str, node_id: str):
    return L.entity_profile(get_store(url), node_id)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def ownership_context(url: str) -> L.OwnershipContext:
    return L.ownership_context(get_store(url))


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def neighbourhood(url: str, node_id: str, depth: int, limit: int):
    return get_store(url).neighbourhood(node_id, depth=depth, limit=limit)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def node(url: str, node_id: str) -> dict | None:
    return get_store(url).get(node_id)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def shortest_path(url: str, a: str, b: str, max_depth: int) -> dict | None:
    return L.shortest_path(get_store(url), a, b, max_depth=max_depth)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def data_overview(url: str) -> dict:
    return L.data_overview(get_store(url))


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def map_data(url: str) -> dict:
    return L.map_data(get_store(url))


def sidebar(url: str) -> None:
    with st.sidebar:
        st.caption("Graph store")
        st.code(auth.redact(url), language=None)
        try:
            c = counts(url)
            n = sum(c["nodes"].values())
            r = sum(c["relationships"].values())
            st.caption(f"{n:,} nodes · {r:,} relationships")
        except Exception:  # noqa: BLE001 - the page itself reports the problem
            pass
        if st.button("Reload data", help="Clear the caches and read the store again (after an ingest)."):
            # a new read-only handle too: an embedded store's open handle keeps the snapshot it opened
            refresh_store(url)
            st.rerun()
        auth.sidebar()


def refresh_store(url: str) -> None:
    """After a load from the Data page: the next read opens a fresh read-only handle (an old one
    keeps its snapshot and is dropped once no session uses it) and every cached read is cleared."""
    get_store.clear()
    st.cache_data.clear()


def close_store(url: str) -> None:
    """Close this process's read-only handle (only when a writable one cannot be opened beside it)."""
    s = get_store(url)
    get_store.clear()
    try:
        s.close()
    except Exception:  # noqa: BLE001 - already closed
        pass


def error_text(e: Exception | str) -> str:
    """An error for the page: secrets redacted, Markdown escaped."""
    return T.md_escape(auth.redact(e))


# ---------------------------------------------------------------- widgets

def entity_picker(label: str, key: str, labels: Iterable[str] | None = None, help: str | None = None) -> str | None:
    """A search box plus a selectbox of hits; returns the chosen entity id."""
    url = store_url()
    q = st.text_input(label, key=f"{key}_q", help=help or "Name, alias, Chinese name or id.")
    if not q.strip():
        return None
    hits = search(url, q.strip(), 15, tuple(labels or ()))
    if not hits:
        st.caption(f"No match for {T.md_escape(q)}.")
        return None
    opts = {h["id"]: f"{h['name']} · {h['type']} · {h['id']}" for h in hits}
    return st.selectbox("Pick", list(opts), format_func=opts.get, key=f"{key}_pick", label_visibility="collapsed")


def link_config(rows: list[dict]) -> dict:
    cfg: dict[str, Any] = {}
    if not rows:
        return cfg
    for col in rows[0]:
        if col in ("link", "Federal Register", "official page", "url"):
            cfg[col] = st.column_config.LinkColumn(col, display_text="open ↗" if col != "Federal Register"
                                                   else "search FR ↗")
        elif col in ("score", "confidence"):
            cfg[col] = st.column_config.NumberColumn(col, format="%.2f" if col == "confidence" else "%.0f")
        elif col == "id":
            cfg[col] = st.column_config.TextColumn("id", width="small")
    return cfg


def table(rows: list[dict], key: str, navigate: bool = True, height: int | str = "auto",
          columns: list[str] | None = None, widths: dict[str, int | str] | None = None) -> None:
    """Rows as a dataframe; with navigate=True a click on a row opens that entity's profile."""
    import pandas as pd
    if not rows:
        st.caption("None recorded.")
        return
    df = pd.DataFrame(rows, columns=columns or list(rows[0]))
    cfg = link_config(rows)
    for col, w in (widths or {}).items():
        cfg[col] = st.column_config.Column(col, width=w) if col not in cfg else cfg[col]
    kwargs: dict[str, Any] = {"hide_index": True, "column_config": cfg, "key": key, "width": "stretch"}
    if height != "auto":
        kwargs["height"] = height
    if navigate and "id" in df.columns:
        ev = st.dataframe(df, on_select="rerun", selection_mode="single-row", **kwargs)
        sel = getattr(getattr(ev, "selection", None), "rows", None) or []
        if sel:
            open_profile(str(df.iloc[sel[0]]["id"]))
    else:
        st.dataframe(df, **kwargs)


def open_profile(node_id: str) -> None:
    st.switch_page(PROFILE_PAGE, query_params={"id": node_id})


def downloads(name: str, csv_bytes: bytes | None = None, json_text: str | None = None, key: str = "dl",
              extra: list[tuple[str, bytes | str, str, str]] = ()) -> None:
    cols = st.columns(2 + len(extra))
    if csv_bytes is not None:
        cols[0].download_button("Download CSV", csv_bytes, file_name=f"{name}.csv", mime="text/csv", key=f"{key}_csv",
                                on_click="ignore")
    if json_text is not None:
        cols[1].download_button("Download JSON", json_text, file_name=f"{name}.json", mime="application/json",
                                key=f"{key}_json", on_click="ignore")
    for i, (label, data, fname, mime) in enumerate(extra):
        cols[2 + i].download_button(label, data, file_name=fname, mime=mime, key=f"{key}_x{i}", on_click="ignore")


def csv_bytes(rows: list[dict]) -> bytes:
    import pandas as pd
    df = pd.DataFrame(rows)
    for c in df.columns:  # spreadsheet formula injection
        if df[c].dtype == object:
            df[c] = df[c].map(lambda v: "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") else v)
    return df.to_csv(index=False).encode("utf-8-sig")


# ---------------------------------------------------------------- graph component

class _SelectorStyle:
    """A raw Cytoscape style rule (the component's NodeStyle/EdgeStyle select by label only)."""

    def __init__(self, selector: str, style: dict):
        self.selector, self.style = selector, style

    def dump(self) -> dict:
        return {"selector": self.selector, "style": self.style}


def graph_styles():
    import warnings
    from st_link_analysis import EdgeStyle, NodeStyle
    warnings.filterwarnings("ignore", message=".*labeled.*deprecated", category=DeprecationWarning)
    # the component's defaults (font 3.6, hidden below a zoomed size of 10) hide every caption at
    # the zoom a fitted graph gets: readable captions, hidden only when zoomed far out
    nodes = [_SelectorStyle("node", {"font-size": 7, "min-zoomed-font-size": 4, "text-wrap": "ellipsis",
                                     "text-max-width": 110}),
             _SelectorStyle("edge", {"font-size": 5, "min-zoomed-font-size": 4})]
    nodes += [NodeStyle(label, color, "name", ICONS.get(label)) for label, color in COLORS.items()]
    nodes.append(_SelectorStyle("node[?onpath]", {"border-width": 5, "border-color": "#d00000"}))
    from graph.schema import SCHEMA
    edges = [EdgeStyle(t, EDGE_COLORS.get(t, "#9aa5b1"), caption="label", directed=True) for t in SCHEMA.rel_types]
    edges.append(_SelectorStyle("edge[?onpath]", {"line-color": "#d00000", "target-arrow-color": "#d00000",
                                                  "width": 5}))
    return nodes, edges


def render_graph(sg: L.SubGraph, key: str, height: int = 520, actions: bool = False, layout: str = "cose") -> Any:
    """Draw a subgraph; returns the component's event ({action, data: {node_ids}, timestamp}) or None."""
    if not sg.nodes:
        st.caption("Nothing to draw.")
        return None
    try:
        from st_link_analysis import st_link_analysis
    except ImportError:
        st.info("The graph component (st-link-analysis) is not installed; showing the table only.")
        return None
    nodes, edges = graph_styles()
    return st_link_analysis(L.elements(sg), layout=layout, node_styles=nodes, edge_styles=edges, height=height,
                            key=key, node_actions=["expand", "remove"] if actions else [])


def timed(label: str):
    """Context manager that records how long a page section took (shown in the footer)."""
    class _T:
        def __enter__(self):
            self.t = time.perf_counter()
            return self

        def __exit__(self, *exc):
            st.session_state.setdefault("_timings", {})[label] = time.perf_counter() - self.t
    return _T()
