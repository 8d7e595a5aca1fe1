import streamlit as st

from app_pages import logic as L
from app_pages import text as T
from app_pages import ui
from app_pages.graphviz import to_svg

st.title("Graph explorer")
store = ui.require_store()
url = ui.store_url()

ss = st.session_state
if "xg" not in ss or ss.get("xg_url") != url:
    ss.xg, ss.xg_url, ss.xg_seed, ss.xg_event = L.SubGraph(), url, None, None

with st.sidebar:
    st.subheader("Explorer settings")
    cap = st.number_input("Node cap", min_value=10, max_value=1000, value=150, step=10, key="xg_cap",
                          help="At most this many nodes are shown; the rest are counted as 'N more'.")
    per = st.number_input("Neighbours per expand", min_value=5, max_value=500, value=40, step=5, key="xg_per")
    layout = st.selectbox("Layout", ["cose", "breadthfirst", "concentric", "circle", "grid"], key="xg_layout")


def expand(node_id: str) -> None:
    nb = ui.neighbourhood(url, node_id, 1, int(per))
    left = ss.xg.add(nb, cap=int(cap), origin=node_id)
    if left:
        st.toast(f"{left} more neighbour(s) of {T.display(ss.xg.nodes.get(node_id)) or node_id} not shown "
                 f"(cap {int(cap)} nodes / {int(per)} per expand)")


seed = st.query_params.get("id")
if seed and seed != ss.xg_seed:
    ss.xg_seed = seed
    if ui.node(url, seed) is None:
        st.error(f"No entity with id {T.md_escape(seed)}.")
    else:
        ss.xg = L.SubGraph()
        expand(seed)

c1, c2 = st.columns([3, 2])
with c1:
    add = ui.entity_picker("Add an entity", key="xg_add")
    if add and st.button("Add with its neighbours", key="xg_add_btn"):
        expand(add)
        if not ss.xg_seed:
            ss.xg_seed = add
            st.query_params["id"] = add
with c2:
    shown = {k: f"{T.display(v)} · {v.get('label')}" for k, v in ss.xg.nodes.items()}
    if shown:
        target = st.selectbox("Node", list(shown), format_func=shown.get, key="xg_target")
        b1, b2, b3 = st.columns(3)
        if b1.button("Expand", key="xg_expand", help="Add this node's neighbours (also: double-click a node)"):
            expand(target)
        if b2.button("Remove", key="xg_remove"):
            ss.xg.remove([target])
        if b3.button("Clear", key="xg_clear"):
            ss.xg = L.SubGraph()
            ss.xg_seed = None
            st.query_params.pop("id", None)
            st.rerun()

sg: L.SubGraph = ss.xg
if not sg.nodes:
    st.info("Add an entity to start, or open the explorer from a profile.")
    st.stop()

more = sum(sg.more.values())
st.caption(f"{len(sg.nodes)} nodes · {len(sg.rels)} relationships"
           + (f" · {more} more neighbours not shown (expand a node or raise the cap)" if more else "")
           + " · double-click a node to expand it, select and press Delete to remove it.")
ev = ui.render_graph(sg, key="xg_graph", height=620, actions=True, layout=layout)
if isinstance(ev, dict) and ev.get("timestamp") != ss.xg_event:
    ss.xg_event = ev.get("timestamp")
    ids = [i for i in (ev.get("data") or {}).get("node_ids", []) if i in sg.nodes]
    if ev.get("action") == "expand" and ids:
        for i in ids:
            expand(i)
        st.rerun()
    elif ev.get("action") == "remove" and ids:
        sg.remove(ids)
        st.rerun()

with st.expander("Path between two entities", expanded=bool(sg.path_nodes - {ss.xg_seed})):
    opts = {k: f"{T.display(v)} · {v.get('label')}" for k, v in sg.nodes.items()}
    p1, p2, p3 = st.columns([2, 2, 1])
    a = p1.selectbox("From", list(opts), format_func=opts.get, key="xg_pa")
    use_other = p2.toggle("Target not shown yet", key="xg_pb_other")
    b = (ui.entity_picker("To (search)", key="xg_pb_find") if use_other
         else p2.selectbox("To", list(opts), format_func=opts.get, index=min(1, len(opts) - 1), key="xg_pb"))
    depth = p3.number_input("Max hops", 1, 8, 5, key="xg_depth")
    if st.button("Find shortest path", key="xg_path_btn") and a and b:
        with st.status("Searching (breadth-first, bounded)…", expanded=False) as status:
            path = ui.shortest_path(url, a, b, int(depth))
            if path is None:
                status.update(label=f"No path within {int(depth)} hops.", state="error")
            else:
                for nd in path["nodes"]:
                    sg.nodes.setdefault(nd["id"], nd)
                for r in path["rels"]:
                    sg.rels[r["id"]] = r
                sg.path_nodes = {nd["id"] for nd in path["nodes"]}
                sg.path_rels = {r["id"] for r in path["rels"]}
                ss.xg_path = path
                status.update(label=f"Path of {len(path['rels'])} hop(s) found.", state="complete")
                st.rerun()
    if ss.get("xg_path") and sg.path_rels:
        path = ss.xg_path
        st.text(T.flatten(path))
        if st.button("Clear highlight", key="xg_path_clear"):
            sg.path_nodes, sg.path_rels, ss.xg_path = set(), set(), None
            st.rerun()

st.subheader("Export")
ui.downloads("techgiants-subgraph", json_text=sg.to_json(), key="xg_dl",
             extra=[("Download SVG", to_svg(sg), "techgiants-subgraph.svg", "image/svg+xml")])
st.caption("The graph's own toolbar also exports JSON. PNG export is not offered by the graph component; "
           "the SVG is drawn server-side with the same nodes and edges.")
with st.expander("Nodes shown"):
    ui.table([{"name": T.display(v), "type": v.get("label"), "country": v.get("country", ""),
               "more neighbours": sg.more.get(k, 0), "id": k} for k, v in sg.nodes.items()], key="xg_nodes")
