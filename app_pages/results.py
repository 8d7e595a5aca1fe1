"""Shared result view for the Saved queries and Cypher pages: table, graph, downloads."""
from __future__ import annotations

import streamlit as st

from app_pages import logic as L
from app_pages import ui
from app_pages.graphviz import to_svg

GRAPH_CAP = 300


def show(res, store, key: str, file_name: str) -> None:
    rows = L.table_rows(res.columns, res.rows)
    note = " (truncated at the row limit)" if res.truncated else ""
    st.caption(f"{len(res.rows)} row(s){note}.")
    sg = L.collect_graph(res.rows, store)
    tabs = st.tabs(["Table", f"Graph ({len(sg.nodes)} nodes)"] if sg.nodes else ["Table"])
    with tabs[0]:
        ui.table(rows, key=f"{key}_table", navigate=False) if rows else st.caption("No rows.")
    if sg.nodes:
        with tabs[1]:
            if len(sg.nodes) > GRAPH_CAP:
                keep = list(sg.nodes)[:GRAPH_CAP]
                st.caption(f"Showing {GRAPH_CAP} of {len(sg.nodes)} nodes.")
                sg.remove([k for k in list(sg.nodes) if k not in set(keep)])
            ui.render_graph(sg, key=f"{key}_graph", height=520)
    extra = [("Download graph SVG", to_svg(sg), f"{file_name}.svg", "image/svg+xml")] if sg.nodes else []
    ui.downloads(file_name, csv_bytes=ui.csv_bytes(rows) if rows else b"", json_text=L.json_rows(res.columns, res.rows),
                 key=f"{key}_dl", extra=extra)
