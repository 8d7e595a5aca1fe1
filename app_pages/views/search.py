import streamlit as st

from app_pages import text as T
from app_pages import ui
from graph.schema import SCHEMA

st.title("Search")
store = ui.require_store()
url = ui.store_url()

c1, c2 = st.columns([4, 2])
q = c1.text_input("Search entities", value=st.query_params.get("q", ""), key="search_q",
                  placeholder="Hikvision · 海康威视 · Huawei Technologies · Zhejiang Dahua · lei:…",
                  help="Names, aliases and Chinese names; accents, case and small typos do not matter. "
                       "An exact id (company:hikvision) opens that entity.")
labels = c2.multiselect("Types", SCHEMA.entity_labels, key="search_labels", placeholder="all types")
if q.strip():
    if st.query_params.get("q") != q.strip():
        st.query_params["q"] = q.strip()
    with st.spinner("Searching…"):
        hits = ui.search(url, q.strip(), 50, tuple(labels))
    if not hits:
        st.info(f"No entity matches {T.md_escape(q)}. Try a shorter name, another spelling or the Chinese name.")
    else:
        listed = sum(1 for h in hits if h["designations"])
        st.caption(f"{len(hits)} result(s); {listed} on a restriction list. Click a row to open the profile.")
        cols = ["name", "type", "country", "designations", "captured", "name_zh", "aliases", "score", "id"]
        ui.table(hits, key="search_results", columns=cols,
                 widths={"name": 300, "designations": 320, "captured": 160, "aliases": 220})
else:
    st.caption("Type a name to search the graph. Results show each entity's type, country and designations.")
