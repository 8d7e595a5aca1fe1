import streamlit as st

from app_pages import geo
from app_pages import logic as L
from app_pages import text as T
from app_pages import ui

st.title("Map")
store = ui.require_store()
url = ui.store_url()

md = ui.map_data(url)
if not md["projects"] and not md["presence"]:
    st.info("No projects with a country (Project -LOCATED_IN-> Country) in this graph.")
    st.stop()

parties = {}
for e in md["projects"]:
    for x in e["parties"]:
        parties[x["id"]] = f"{x['name']} · {x['label']}"
kinds = sorted({e["project"].get("kind", "") for e in md["projects"]} - {""})
years = sorted({y for e in md["projects"] if (y := L.year_of(e["project"].get("start")))})

c1, c2, c3 = st.columns([3, 2, 2])
sel_parties = c1.multiselect("Company or participant", sorted(parties, key=lambda k: parties[k].lower()),
                             format_func=parties.get, key="map_parties", placeholder="all")
sel_kinds = c2.multiselect("Project kind", kinds, key="map_kinds", placeholder="all")
yr, undated = None, True
if years and years[0] < years[-1]:
    yr = c3.slider("Start year", years[0], years[-1], (years[0], years[-1]), key="map_years")
    undated = c3.checkbox("Include projects without a start date", value=True, key="map_undated")
elif years:
    c3.caption(f"All dated projects start in {years[0]}.")

rows = L.filter_projects(md, sel_parties, sel_kinds, yr if yr and yr != (years[0], years[-1]) else None, undated)
presence = [{"iso2": p["country"]["id"], "name": p["name"]} for p in md["presence"]
            if not sel_parties or p["id"] in sel_parties]

spec = geo.world_spec(rows, presence)
if spec is None:
    st.info("World outlines need the `countryinfo` package (pip install countryinfo); showing tables only.")
else:
    st.vega_lite_chart(spec, width="stretch")
    st.caption("Colour: projects per country; circle size: projects. Drawn offline (no map tiles).")

by_country = {}
for r in rows:
    by_country.setdefault(r["country"], set()).add(r["id"])
st.subheader(f"Projects ({len({r['id'] for r in rows})} in {len(by_country)} countries)")
ui.table(rows, key="map_projects", columns=["country", "project", "kind", "year", "status", "parties", "id"])
if presence:
    st.subheader("Presence (entities located in a country)")
    ui.table([{"country": p["country"].get("name") or p["country"]["id"], "entity": p["name"], "type": p["label"],
               "id": p["id"]} for p in md["presence"] if not sel_parties or p["id"] in sel_parties], key="map_presence")
