import streamlit as st

from app_pages import ui

st.title("Data")
store = ui.require_store()
url = ui.store_url()

with st.spinner("Reading the store…"):
    d = ui.data_overview(url)
c = d["counts"]
m = st.columns(4)
m[0].metric("Nodes", f"{sum(c['nodes'].values()):,}")
m[1].metric("Relationships", f"{sum(c['relationships'].values()):,}")
m[2].metric("Sources", f"{d['total_sources']:,}")
m[3].metric("Restriction lists", f"{len(d['lists'])}")
st.caption(f"Store: {getattr(store, 'kind', '')} at the path or URL in the sidebar.")

st.subheader("Restriction lists")
st.caption("'Last refreshed' is the newest date among the sources of the list's designations "
           "(list snapshots carry their download date).")
ui.table(d["lists"], key="data_lists")

st.subheader("Sources")
st.caption(" · ".join(f"{k}: {v}" for k, v in sorted(d["sources_by_kind"].items())))
ui.table(d["sources"], key="data_sources", navigate=False)

c1, c2 = st.columns(2)
with c1:
    st.subheader("Nodes by label")
    ui.table([{"label": k, "count": v} for k, v in c["nodes"].items()], key="data_nodes", navigate=False)
with c2:
    st.subheader("Relationships by type")
    ui.table([{"type": k, "count": v} for k, v in c["relationships"].items()], key="data_rels", navigate=False)
