import streamlit as st

from app_pages import logic as L
from app_pages import text as T
from app_pages import ui

store = ui.require_store()
url = ui.store_url()

node_id = st.query_params.get("id", "")
if not node_id:
    st.title("Entity profile")
    picked = ui.entity_picker("Find an entity", key="profile_find")
    if picked:
        st.query_params["id"] = picked
        st.rerun()
    st.caption("Open a profile from Search, or link to it with ?id=<entity id>.")
    st.stop()

with st.spinner("Loading profile…"):
    prof = ui.profile(url, node_id)
if prof is None:
    st.title("Entity profile")
    st.error(f"No entity with id {T.md_escape(node_id)} in this graph.")
    st.stop()

n = prof.node
sections = L.profile_sections(prof)
st.title(T.md_escape(T.display(n)))
meta = [n.get("label", "")]
for k in ("kind", "country", "level"):
    if n.get(k):
        meta.append(f"{k}: {n[k]}")
st.caption(T.md_escape(" · ".join(meta)) + " · id " + T.md_code(n["id"]))

des = sections.pop("Designations")
caps = L.capture_rows(store, node_id, prof)
active = [d for d in des if d["status"] == "in force"]
if active:
    st.error("Listed: " + T.md_escape(", ".join(dict.fromkeys(d["list"] for d in active))))
if caps:
    st.warning("Captured under the 50% rule: " + T.md_escape(", ".join(dict.fromkeys(c["list"] for c in caps))))

left, right = st.columns([3, 2])
with left:
    if n.get("name_zh"):
        st.text(f"Chinese name: {n['name_zh']}")
    if n.get("aliases"):
        st.text("Also known as: " + "; ".join(n["aliases"]))
    if n.get("description"):
        st.text(n["description"])
    ids = L.identifier_rows(n)
    if ids:
        st.caption("Identifiers")
        ui.table(ids, key="p_ids", navigate=False)
    props = L.node_properties(n)
    if props:
        with st.expander("Other properties"):
            ui.table(props, key="p_props", navigate=False)
    st.caption("Sources of the entity itself: " + T.md_escape(prof.cite(n.get("sources")) or "none"))
with right:
    sg = L.SubGraph()
    nb = ui.neighbourhood(url, node_id, 1, 40)
    sg.add(nb, origin=node_id)
    sg.path_nodes = {node_id}
    ui.render_graph(sg, key=f"p_graph_{node_id}", height=360)
    c1, c2 = st.columns(2)
    c1.page_link(ui.EXPLORER_PAGE, label="Explore from here", icon=":material/hub:", query_params={"id": node_id})
    if nb.more:
        c2.caption(f"{nb.more} more neighbours not drawn")

st.subheader("Designations")
if des:
    ui.table(des, key="p_des", columns=["list", "status", "since", "until", "notice", "Federal Register", "reason",
                                         "entry name", "license requirement", "license policy", "sources", "id"])
else:
    st.caption("Not on any restriction list in this graph.")

if caps:
    st.subheader("50% rule findings (derived)")
    ui.table(caps, key="p_caps", navigate=False)
# the 50% rule explanation: computed (once per store) only for captured entities and for those
# with a listed owner, where "why (not) captured" is the question
owner_ids = [f.other["id"] for f in prof.of("OWNS", False)]
listed_owner = bool(owner_ids) and bool(L.designations(store, owner_ids))
ctx = ui.ownership_context(url) if caps or listed_owner else None
if ctx is not None and (caps or listed_owner):
    lines = L.explain_capture(ctx, node_id, {i: T.display(x) for i, x in
                                             L.nodes_by_ids(store, [node_id, *ctx.listed, *ctx.findings][:2000],
                                                            L.ENTITY_LABELS).items()})
    if lines:
        title = ("Why captured (50% rule)" if caps else
                 "50% rule: listed owners hold a stake, but not enough for capture on the data in the graph")
        with st.expander(title, expanded=bool(caps)):
            st.code("\n".join(lines), language=None)
    elif ctx.error:
        st.caption(T.md_escape(ctx.error))

for title, rows in sections.items():
    if not rows:
        continue
    st.subheader(f"{title} ({len(rows)})")
    ui.table(rows, key=f"p_{title}")

if prof.truncated:
    st.warning(f"This entity has more than {L.PROFILE_REL_LIMIT} relationships; only the first are shown. "
               "Use Saved queries or Cypher for the rest.")

st.subheader("Sources")
foot = L.footnote_rows(prof)
if foot:
    ui.table(foot, key="p_sources", navigate=False)
else:
    st.caption("No sources recorded.")
