import datetime as dt

import streamlit as st

from app_pages import auth, loading
from app_pages import text as T
from app_pages import ui

st.title("Data")
writes = auth.writes_allowed()
store = ui.require_store(allow_empty=writes)
url = ui.store_url()

tab_names = ["Overview", "Load a spreadsheet (mapping)"] + (["Ingest a file"] if writes else [])
tabs = st.tabs(tab_names)


# ---------------------------------------------------------------- overview
with tabs[0]:
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


# ---------------------------------------------------------------- shared: a load and its report

def show_load_result(prefix: str) -> None:
    last = st.session_state.get(f"{prefix}_result")
    if not last:
        return
    what, res, err = last
    if err:
        st.error(f"Loading {T.md_escape(what)} failed: {ui.error_text(err)}")
        return
    rep = res.report
    written = sum(w.created + w.updated for w in rep.written.values())
    msg = f"Loaded {T.md_escape(what)}: {written:,} node(s) and relationship(s) created or updated"
    (st.warning if rep.total_rejected else st.success)(
        msg + (f", {rep.total_rejected:,} record(s) rejected." if rep.total_rejected else "."))
    ui.table(res.table(), key=f"{prefix}_report", navigate=False)
    if res.queued:
        st.info(f"{res.queued} possible match(es) with entities already in the graph wait for a decision: "
                "`techgiants resolve list` on the server.")
    if res.rejected_rows:
        st.caption("Rejected records (the quarantine):")
        ui.table(res.rejected_rows, key=f"{prefix}_rejects", navigate=False)
        st.download_button("Download the quarantine (JSON lines)", res.quarantine, file_name="quarantine.jsonl",
                           mime="application/json", key=f"{prefix}_quarantine", on_click="ignore")


def run_load(prefix: str, what: str, make_records, resolve: bool) -> None:
    """Load on a writable handle, then drop the cached read-only one and rerun to show it."""
    with st.spinner(f"Loading {what}…"):
        try:
            res = loading.load(url, make_records(), file=what, resolve=resolve,
                               on_conflict=lambda: ui.close_store(url))
            st.session_state[f"{prefix}_result"] = (what, res, None)
        except Exception as e:  # noqa: BLE001 - a broken file, a busy store: shown, not fatal
            st.session_state[f"{prefix}_result"] = (what, None, f"{type(e).__name__}: {e}")
        finally:
            ui.refresh_store(url)
    st.rerun()


def read_only_note() -> None:
    st.info("This deployment is read-only: the preview shows what would be loaded, nothing is written. "
            f"({T.md_escape(auth.read_only_reason())})")


@st.cache_data(max_entries=8, ttl=600, show_spinner=False)
def cached_preview(map_key: str, map_bytes: bytes | None, data_name: str | None, data_bytes: bytes | None,
                   rows: int) -> dict:
    with loading.Workdir() as wd:
        mapping = (loading.mapping_from_text(map_bytes, wd.path) if map_bytes is not None
                   else loading.example_mapping(map_key))
        path = wd.save(data_name, data_bytes) if data_bytes is not None else None
        return loading.preview_tables(mapping, path, rows)


# ---------------------------------------------------------------- load a spreadsheet through a mapping
with tabs[1]:
    st.caption("A table (CSV, Excel or JSON) and a mapping that says which nodes and relationships each row gives "
               "(docs/mapping.md). Preview the first rows, then load them"
               + (" into the graph." if writes else " (loading needs a deployment with writes enabled)."))
    c1, c2 = st.columns(2)
    src = c1.radio("Mapping", ["Upload a mapping", "Use an example"], horizontal=True, key="dl_map_src")
    examples = loading.example_mappings()
    map_name, map_bytes = None, None
    if src == "Use an example" and examples:
        map_name = c1.selectbox("Example mapping", list(examples), key="dl_example",
                                help="data/examples/: example rows, not factual claims.")
    else:
        up = c1.file_uploader("Mapping (YAML)", type=loading.MAPPING_TYPES, key="dl_mapping")
        if up is not None:
            map_name, map_bytes = loading.safe_name(up.name, "mapping.yaml"), up.getvalue()
    data_up = c2.file_uploader("Data file", type=loading.DATA_TYPES, key="dl_data",
                               help="With an example mapping, leave empty to use the example's own data.")
    rows = int(c2.number_input("Rows to preview", min_value=1, max_value=1000, value=20, step=10, key="dl_rows"))

    data_name = loading.safe_name(data_up.name, "data.csv") if data_up is not None else None
    data_bytes = data_up.getvalue() if data_up is not None else None
    if map_name is None:
        st.info("Upload a mapping, or pick one of the examples.")
    elif map_bytes is not None and data_bytes is None:
        st.info("Upload the data file this mapping reads (an uploaded mapping's `data:` files are not opened).")
    else:
        from ingest.mapping import MappingError
        try:
            pv = cached_preview(map_name, map_bytes, data_name, data_bytes, rows)
        except MappingError as e:
            st.error("The mapping has problems:")
            ui.table([{"line": p.line or "", "problem": p.message} for p in e.problems], key="dl_problems",
                     navigate=False)
            pv = None
        except Exception as e:  # noqa: BLE001 - an unreadable file: shown, not fatal
            st.error(f"Cannot preview: {ui.error_text(e)}")
            pv = None
        if pv is not None:
            st.caption(f"First {rows} row(s): {len(pv['nodes'])} node(s), {len(pv['relationships'])} relationship(s), "
                       f"{len(pv['rejected'])} rejected.")
            ptabs = st.tabs([f"Nodes ({len(pv['nodes'])})", f"Relationships ({len(pv['relationships'])})",
                             f"Rejected ({len(pv['rejected'])})"])
            with ptabs[0]:
                ui.table(pv["nodes"], key="dl_pv_nodes", navigate=False)
            with ptabs[1]:
                ui.table(pv["relationships"], key="dl_pv_rels", navigate=False)
            with ptabs[2]:
                ui.table(pv["rejected"], key="dl_pv_rejected", navigate=False)
            if writes:
                resolve = st.checkbox("Merge onto entities already in the graph (resolver)", value=True,
                                      key="dl_resolve", help="As `techgiants ingest`: exact identifiers and names "
                                      "merge; possible matches are queued for review.")
                as_of = st.date_input("As of (optional, for {_as_of} in the mapping)", value=None, key="dl_as_of")
                if st.button("Load into the graph", type="primary", key="dl_load"):
                    what = data_name or map_name

                    def records(map_name=map_name, map_bytes=map_bytes, data_name=data_name, data_bytes=data_bytes,
                                as_of=as_of):
                        # read inside the load, from a private folder that lives as long as the load
                        wd = loading.Workdir()
                        try:
                            mapping = (loading.mapping_from_text(map_bytes, wd.path) if map_bytes is not None
                                       else loading.example_mapping(map_name))
                            path = wd.save(data_name, data_bytes) if data_bytes is not None else None
                            yield from loading.mapping_records(
                                mapping, path, as_of.isoformat() if isinstance(as_of, dt.date) else None)
                        finally:
                            wd.close()
                    run_load("dl", what, records, resolve)
            else:
                read_only_note()
    show_load_result("dl")


# ---------------------------------------------------------------- ingest a file in a standard format
if writes:
    with tabs[2]:
        st.caption("One file in one of the formats `techgiants ingest` reads; the same pipeline, resolver and "
                   "quarantine as on the command line.")
        kinds = list(loading.FORMATS)
        kind = st.selectbox("Format", kinds, format_func=lambda k: f"{k}: {loading.FORMATS[k]}", key="ing_kind")
        up = st.file_uploader("File", key="ing_file")
        resolve = st.checkbox("Merge onto entities already in the graph (resolver)", value=True, key="ing_resolve")
        if up is not None and st.button("Ingest into the graph", type="primary", key="ing_load"):
            name, data = loading.safe_name(up.name), up.getvalue()

            def records(kind=kind, name=name, data=data):
                wd = loading.Workdir()
                try:
                    yield from loading.format_records(kind, wd.save(name, data))
                finally:
                    wd.close()
            run_load("ing", f"{name} ({kind})", records, resolve)
        show_load_result("ing")
