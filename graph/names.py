"""Name normalisation for search and matching (rigour, normality, rapidfuzz; nothing hand-rolled
beyond glue).

`search_key(props)` is stored on every entity node so that both stores can do
name search with a plain CONTAINS (no full-text extension on Ladybug); ranking
then happens here with rapidfuzz.
"""
from __future__ import annotations

from normality import normalize
from rapidfuzz import fuzz
from rigour.names import remove_org_types

SEP = " | "


def norm(text: str | None) -> str:
    """Lower-case, accent-free, punctuation-free; Chinese is transliterated to pinyin."""
    if not text:
        return ""
    return normalize(text, ascii=True, lowercase=True) or ""


def core(text: str | None) -> str:
    """The name without legal forms: 'Hangzhou Hikvision Co., Ltd.' -> 'hangzhou hikvision'."""
    n = norm(text)
    stripped = norm(remove_org_types(n)) if n else ""
    return stripped or n


def names_of(props: dict) -> list[str]:
    out = [props.get("name"), *(props.get("aliases") or []), props.get("name_zh")]
    return [x for x in out if x]


def search_key(props: dict) -> str:
    """All spellings of an entity, normalised, joined; kept on the node for CONTAINS search.
    Original CJK text is kept as well so a user can type Chinese."""
    keys: list[str] = []
    for n in names_of(props):
        keys.append(norm(n))
        if any("\u3400" <= ch <= "\u9fff" for ch in n):
            keys.append(n.lower())
    # capped so that a store's text index always accepts it (Neo4j: ~32 KB per value)
    return SEP.join(dict.fromkeys(k for k in keys if k))[:8000]


def query_terms(text: str) -> list[str]:
    """Terms to prefilter candidates with CONTAINS: the whole normalised query and
    its distinctive tokens (so one typo in one word still finds the entity)."""
    q = norm(text)
    terms = [q] if q else []
    if any("\u3400" <= ch <= "\u9fff" for ch in text):
        terms.append(text.strip().lower())
    c = core(text)
    for tok in c.split():
        if len(tok) >= 3:
            terms.append(tok)
            if len(tok) >= 6:  # typo tolerance: halves of long words
                terms += [tok[: len(tok) // 2 + 1], tok[len(tok) // 2:]]
    return list(dict.fromkeys(t for t in terms if t))


def score(query: str, key: str) -> float:
    """0-100: best match of the query against any of the entity's spellings."""
    q, qc = norm(query), core(query)
    best = 0.0
    for name in key.split(SEP):
        if not name:
            continue
        s = max(fuzz.WRatio(q, name), fuzz.WRatio(qc, core(name)) if qc else 0)
        if q == name or (qc and qc == core(name)):
            s = 100.0
        best = max(best, s)
    return best


def rank_matches(query: str, nodes: list[dict], limit: int, min_score: float = 60.0) -> list[dict]:
    scored = []
    for n in nodes:
        key = n.pop("_key", None) or search_key(n)
        s = score(query, key)
        if s >= min_score:
            scored.append({**n, "score": round(s, 1)})
    scored.sort(key=lambda n: (-n["score"], len(n.get("name", "")), n["id"]))
    return scored[:limit]
