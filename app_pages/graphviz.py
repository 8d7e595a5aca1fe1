"""Graph styling shared by every graph view, and a server-side SVG export of a subgraph
(the graph component exports JSON only; this draws the same nodes and edges with a small
force-directed layout, every text XML-escaped)."""
from __future__ import annotations

import math
from xml.sax.saxutils import escape as xml_escape

import numpy as np

from app_pages import text as T
from app_pages.logic import SubGraph

COLORS = {
    "Company": "#1f77b4", "Fund": "#2ca02c", "Index": "#17becf", "GovernmentBody": "#d62728",
    "Person": "#9467bd", "University": "#8c564b", "Project": "#ff7f0e", "Country": "#7f7f7f",
    "SanctionsList": "#111111", "Source": "#bcbd22",
}
ICONS = {"Company": "business", "Fund": "wallet", "Index": "analytics", "GovernmentBody": "account_balance",
         "Person": "person", "University": "science", "Project": "place", "Country": "flag",
         "SanctionsList": "lock", "Source": "description"}
EDGE_COLORS = {"OWNS": "#1f77b4", "LISTED_ON": "#d00000", "CAPTURED_BY": "#ff4d4d", "HOLDS": "#2ca02c",
               "INVESTED_IN": "#2ca02c", "PART_OF": "#d62728", "PARTY_TO": "#ff7f0e", "SUPPLIES": "#8c564b"}


def layout(sg: SubGraph, iterations: int = 120, seed: int = 7) -> dict[str, tuple[float, float]]:
    """Fruchterman-Reingold in numpy, positions in [0, 1]^2."""
    ids = list(sg.nodes)
    n = len(ids)
    if n == 0:
        return {}
    if n == 1:
        return {ids[0]: (0.5, 0.5)}
    rng = np.random.default_rng(seed)
    pos = rng.random((n, 2))
    idx = {k: i for i, k in enumerate(ids)}
    edges = np.array([(idx[r["src"]], idx[r["dst"]]) for r in sg.rels.values()
                      if r["src"] in idx and r["dst"] in idx and r["src"] != r["dst"]], dtype=int).reshape(-1, 2)
    k = math.sqrt(1.0 / n)
    t = 0.1
    for _ in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.maximum(np.linalg.norm(delta, axis=-1), 1e-3)
        disp = (delta / dist[..., None] * (k * k / dist)[..., None]).sum(axis=1)
        if len(edges):
            d = pos[edges[:, 0]] - pos[edges[:, 1]]
            dl = np.maximum(np.linalg.norm(d, axis=1), 1e-3)
            f = d / dl[:, None] * (dl * dl / k)[:, None]
            np.add.at(disp, edges[:, 0], -f)
            np.add.at(disp, edges[:, 1], f)
        length = np.maximum(np.linalg.norm(disp, axis=1), 1e-9)
        pos += disp / length[:, None] * np.minimum(length, t)[:, None]
        t *= 0.97
    pos -= pos.min(axis=0)
    pos /= np.maximum(pos.max(axis=0), 1e-9)
    return {k: (float(x), float(y)) for k, (x, y) in zip(ids, pos)}


def to_svg(sg: SubGraph, width: int = 1200, height: int = 900, title: str = "techgiants graph") -> str:
    pos = layout(sg)
    pad = 60

    def xy(i):
        x, y = pos[i]
        return pad + x * (width - 2 * pad), pad + y * (height - 2 * pad)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f"<title>{xml_escape(title)}</title>",
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="18" refY="5" markerWidth="6" markerHeight="6" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#888"/></marker></defs>',
           f'<rect width="{width}" height="{height}" fill="white"/>']
    for r in sg.rels.values():
        if r["src"] not in pos or r["dst"] not in pos:
            continue
        (x1, y1), (x2, y2) = xy(r["src"]), xy(r["dst"])
        on = r["id"] in sg.path_rels
        color = "#d00000" if on else EDGE_COLORS.get(r["type"], "#999")
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" '
                   f'stroke-width="{3 if on else 1.2}" marker-end="url(#arrow)"/>')
        label = r["type"] + (f" {T.pct(r['share'])}" if r.get("share") is not None else "")
        out.append(f'<text x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2:.1f}" fill="#666" font-size="9" '
                   f'text-anchor="middle">{xml_escape(label)}</text>')
    for nid, n in sg.nodes.items():
        x, y = xy(nid)
        on = nid in sg.path_nodes
        color = COLORS.get(n.get("label", ""), "#444")
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{10 if on else 8}" fill="{color}" '
                   f'stroke="{"#d00000" if on else "white"}" stroke-width="{3 if on else 1.5}"/>')
        name = T.display(n)
        name = name if len(name) <= 40 else name[:39] + "…"
        out.append(f'<text x="{x:.1f}" y="{y + 20:.1f}" text-anchor="middle" fill="#111">{xml_escape(name)}</text>')
    legend_y = 20
    for label in sorted({n.get("label", "") for n in sg.nodes.values()}):
        out.append(f'<circle cx="20" cy="{legend_y}" r="6" fill="{COLORS.get(label, "#444")}"/>'
                   f'<text x="32" y="{legend_y + 4}">{xml_escape(label)}</text>')
        legend_y += 18
    out.append("</svg>")
    return "\n".join(out)
