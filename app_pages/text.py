"""Formatting and escaping helpers. Nothing here renders HTML: values from the graph are
shown as text, and where Markdown is used the value is escaped first."""
from __future__ import annotations

import html
import re
import urllib.parse
from typing import Any, Iterable

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=])")
FR_SEARCH = "https://www.federalregister.gov/documents/search?conditions%5Bterm%5D="
_FR_CITATION = re.compile(r"\b(\d{1,3})\s*F\.?\s*R\.?\s*(\d{1,6})\b")


def md_escape(text: Any) -> str:
    """Escape a value for st.markdown / st.caption / labels: markup shows as typed.
    `<` and `>` become entities so no tag can form; line breaks become spaces."""
    s = "" if text is None else str(text)
    s = s.replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", s)


def md_code(text: Any) -> str:
    """A value as inline code in Markdown (backticks inside are replaced)."""
    return "`" + ("" if text is None else str(text)).replace("`", "ʼ").replace("\n", " ") + "`"


def graph_safe(text: Any) -> str:
    """Text for the graph component, whose info panel inserts values as HTML: `<` and `>`
    are replaced by look-alike angle quotes so no tag can form (the canvas shows them as is)."""
    s = "" if text is None else str(text)
    return s.replace("<", "\u2039").replace(">", "\u203a")


def safe_url(url: Any) -> str | None:
    """Only http(s) links are ever made clickable."""
    if not url or not isinstance(url, str):
        return None
    u = url.strip()
    p = urllib.parse.urlparse(u)
    if p.scheme in ("http", "https") and p.netloc and not any(c in u for c in ' <>"\n\r\t'):
        return u
    return None


def fr_citations(notice: str | None) -> list[str]:
    """Federal Register citations in a notice text: '84 FR 54002; 85 FR 36719' -> two."""
    if not notice:
        return []
    out = [f"{v} FR {p}" for v, p in _FR_CITATION.findall(notice)]
    return list(dict.fromkeys(out)) or [notice.strip()]


def fr_search_url(citation: str) -> str:
    """federalregister.gov search for one citation, the text quoted (URL-encoded)."""
    return FR_SEARCH + urllib.parse.quote(f'"{citation}"', safe="")


def fr_links(notice: str | None) -> list[tuple[str, str]]:
    return [(c, fr_search_url(c)) for c in fr_citations(notice)]


def pct(x: Any, digits: int = 3) -> str:
    if x is None or x != x:
        return ""
    try:
        return f"{float(x) * 100:.{digits}g}%"
    except (TypeError, ValueError):
        return str(x)


def share_text(rel: dict) -> str:
    if rel.get("share") is not None:
        return pct(rel["share"])
    lo, hi = rel.get("share_min"), rel.get("share_max")
    if lo is not None or hi is not None:
        return f"{pct(lo) or '?'}–{pct(hi) or '?'}"
    return ""


def period(rel: dict, start: str = "start", end: str = "end") -> str:
    a, b = rel.get(start), rel.get(end)
    if not a and not b:
        return ""
    return f"{a or '…'} → {b or 'now'}"


def display(node: dict | None) -> str:
    if not node:
        return ""
    return str(node.get("name") or node.get("title") or node.get("id"))


def join(values: Iterable[Any], sep: str = "; ") -> str:
    return sep.join(str(v) for v in values if v not in (None, ""))


def flatten(value: Any) -> str:
    """One table cell for any neutral value: node, relationship, path, list, scalar."""
    if value is None:
        return ""
    if isinstance(value, dict):
        if "nodes" in value and "rels" in value:
            names = [display(n) for n in value["nodes"]]
            out = names[:1]
            for r, n in zip(value["rels"], names[1:]):
                out += [f"-[{r.get('type')}]-", n]
            return " ".join(out)
        if "type" in value and "src" in value and "dst" in value:
            return f"{value['src']} -[{value['type']}]-> {value['dst']}"
        if "label" in value and "id" in value:
            return f"{display(value)} ({value['id']})"
        return "; ".join(f"{k}: {flatten(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "; ".join(flatten(v) for v in value)
    return str(value)


def html_report(title: str, sections: list[tuple[str, list[str], list[list[Any]]]], notes: list[str] = ()) -> str:
    """A printable, self-contained HTML page: every value escaped with html.escape.
    sections: (heading, columns, rows)."""
    e = lambda v: html.escape("" if v is None else str(v), quote=True)  # noqa: E731
    parts = ["<!doctype html><html><head><meta charset='utf-8'>",
             f"<title>{e(title)}</title>",
             "<style>body{font-family:system-ui,sans-serif;margin:2em;color:#111}"
             "table{border-collapse:collapse;width:100%;margin-bottom:2em;font-size:12px}"
             "th,td{border:1px solid #bbb;padding:4px 6px;text-align:left;vertical-align:top}"
             "th{background:#eee}h1{font-size:20px}h2{font-size:16px;margin-top:1.5em}"
             ".note{color:#555;font-size:12px}@media print{body{margin:0}}</style></head><body>",
             f"<h1>{e(title)}</h1>"]
    for n in notes:
        parts.append(f"<p class='note'>{e(n)}</p>")
    for heading, cols, rows in sections:
        parts.append(f"<h2>{e(heading)}</h2>")
        if not rows:
            parts.append("<p class='note'>None.</p>")
            continue
        parts.append("<table><thead><tr>" + "".join(f"<th>{e(c)}</th>" for c in cols) + "</tr></thead><tbody>")
        for r in rows:
            parts.append("<tr>" + "".join(f"<td>{e(v)}</td>" for v in r) + "</tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)
