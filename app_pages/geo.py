"""An offline world map: Vega-Lite (Altair, bundled with Streamlit) draws the sphere and
graticule itself and the country shapes come inline from the `countryinfo` package
(Natural Earth 110m outlines and centroids, shipped in the wheel). No tile server, no CDN:
Plotly's geo charts fetch their outlines from cdn.plot.ly at run time, so they are not used.
Without `countryinfo` the page falls back to a table."""
from __future__ import annotations

import functools
from collections import Counter
from typing import Any


@functools.lru_cache(maxsize=1)
def countries() -> dict[str, dict]:
    """ISO alpha-2 -> {iso3, name, lat, lon, geometry}; {} when countryinfo is not installed."""
    try:
        import countryinfo
    except ImportError:
        return {}
    out: dict[str, dict] = {}
    for c in countryinfo.all_countries():
        try:
            iso = c.iso() or {}
            a2 = iso.get("alpha2")
            if not a2:
                continue
            ll = c.latlng() or [None, None]
            geo = c.geo_json() or {}
        except Exception:  # noqa: BLE001 - one bad record must not break the map
            continue
        geom = None
        for f in geo.get("features", []) if isinstance(geo, dict) else []:
            geom = _simplify(f.get("geometry"))
            break
        out[a2.upper()] = {"iso3": iso.get("alpha3"), "name": c.name().title() if hasattr(c, "name") else a2,
                           "lat": ll[0] if len(ll) > 1 else None, "lon": ll[1] if len(ll) > 1 else None,
                           "geometry": geom}
    return out


def available() -> bool:
    return bool(countries())


def _simplify(geom: dict | None) -> dict | None:
    """Round to 0.1° and drop repeated points: a smaller chart spec, same picture at world scale."""
    if not geom:
        return None

    def ring(r):
        out = []
        for x, y in r:
            p = [round(x, 1), round(y, 1)]
            if not out or out[-1] != p:
                out.append(p)
        if len(out) >= 4 and out[0] != out[-1]:
            out.append(out[0])
        return out if len(out) >= 4 else None

    def poly(rings):
        # d3-geo (Vega) reads rings on the sphere: an exterior ring must run clockwise or it
        # is taken as the rest of the globe. Exterior clockwise, holes anticlockwise.
        out = []
        for i, r in enumerate(x for x in (ring(r) for r in rings) if x):
            clockwise = _area(r) < 0
            out.append(r if clockwise == (i == 0) else r[::-1])
        return out

    if geom["type"] == "Polygon":
        rings = poly(geom["coordinates"])
        return {"type": "Polygon", "coordinates": rings} if rings else None
    if geom["type"] == "MultiPolygon":
        polys = [poly(p) for p in geom["coordinates"]]
        polys = [p for p in polys if p]
        return {"type": "MultiPolygon", "coordinates": polys} if polys else None
    return geom


def _area(ring: list) -> float:
    """Signed shoelace area in lon/lat: positive when anticlockwise."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:])) / 2


def country_counts(rows: list[dict], key: str = "iso2") -> Counter:
    return Counter(r[key] for r in rows if r.get(key))


def world_spec(project_rows: list[dict], presence_rows: list[dict] | None = None, height: int = 460) -> dict | None:
    """A Vega-Lite spec (plain dict, for st.vega_lite_chart): projects per country as a choropleth
    plus bubbles at the country centroids; None when no country shapes are available.
    Built as a dict rather than with Altair: validating a ~1 MB spec in Altair takes seconds."""
    cs = countries()
    if not cs:
        return None
    counts = country_counts(project_rows)
    present = country_counts(presence_rows or [])
    projects_by: dict[str, list[str]] = {}
    for r in project_rows:
        projects_by.setdefault(r["iso2"], []).append(r["project"])
    feats = []
    for a2, c in cs.items():
        if not c["geometry"] or a2 == "AQ":
            continue
        names = projects_by.get(a2, [])
        feats.append({"type": "Feature", "geometry": c["geometry"],
                      "properties": {"name": c["name"], "iso2": a2, "projects": counts.get(a2, 0),
                                     "present": present.get(a2, 0),
                                     "examples": "; ".join(names[:3]) + (" …" if len(names) > 3 else "")}})
    dots = [{"name": cs[a2]["name"], "iso2": a2, "lat": cs[a2]["lat"], "lon": cs[a2]["lon"],
             "projects": counts.get(a2, 0), "present": present.get(a2, 0)}
            for a2 in (counts + present) if a2 in cs and cs[a2]["lat"] is not None]
    tip = [{"field": "properties.name", "type": "nominal", "title": "country"},
           {"field": "properties.projects", "type": "quantitative", "title": "projects"},
           {"field": "properties.present", "type": "quantitative", "title": "entities present"},
           {"field": "properties.examples", "type": "nominal", "title": "projects (first 3)"}]
    layers = [
        {"data": {"sphere": True}, "mark": {"type": "geoshape", "fill": "#e6eef7", "stroke": "#c9d3df"}},
        {"data": {"graticule": {"step": [30, 30]}},
         "mark": {"type": "geoshape", "stroke": "#dde3ea", "strokeWidth": 0.5, "fill": None}},
        {"data": {"values": feats}, "mark": {"type": "geoshape", "stroke": "#b9bec5", "strokeWidth": 0.4},
         "encoding": {"color": {"condition": {"test": "datum.properties.projects > 0",
                                              "field": "properties.projects", "type": "quantitative",
                                              "title": "projects", "scale": {"scheme": "orangered", "domainMin": 0}},
                                "value": "#f7f7f5"},
                      "tooltip": tip}},
    ]
    if dots:
        layers.append({"data": {"values": dots},
                       "mark": {"type": "circle", "color": "#7a1f1f", "opacity": 0.75, "stroke": "white",
                                "strokeWidth": 0.8},
                       "encoding": {"longitude": {"field": "lon", "type": "quantitative"},
                                    "latitude": {"field": "lat", "type": "quantitative"},
                                    "size": {"field": "projects", "type": "quantitative", "title": "projects",
                                             "scale": {"range": [30, 900]}, "legend": None},
                                    "tooltip": [{"field": "name", "type": "nominal", "title": "country"},
                                                {"field": "projects", "type": "quantitative"},
                                                {"field": "present", "type": "quantitative",
                                                 "title": "entities present"}]}})
    return {"height": height,
            "projection": {"type": "equalEarth"}, "layer": layers, "config": {"view": {"stroke": None}}}
