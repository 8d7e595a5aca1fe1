"""Name normalisation for search and matching (rigour, normality, rapidfuzz; nothing hand-rolled
beyond glue).

`search_key(props)` is stored on every entity node so that both stores can do
name search with a plain CONTAINS (no full-text extension on Ladybug); ranking
then happens here with rapidfuzz.
"""
from __future__ import annotations

from functools import lru_cache

from normality import normalize
from rapidfuzz import fuzz
from rigour.names import remove_org_types

SEP = " | "


def norm(text: str | None) -> str:
    """Lower-case, accent-free, punctuation-free; Chinese is transliterated to pinyin."""
    if not text:
        return ""
    return normalize(text, ascii=True, lowercase=True) or ""


# ---------------------------------------------------------------- fast, exact norm
# norm() goes through ICU transliteration (20-150 µs a name): the largest Python cost of a big
# ingest. Names repeat their words massively ("co", "ltd", provinces, industries), so:
# - printable ASCII: normality's steps (lower-case, category replacement, space squashing) act
#   character by character and only ' ' separates, so normalising word by word is exact;
# - pure Chinese: ICU's Han-Latin spaces every character and maps each one alone, except for a
#   few context rules (HAN_CONTEXT; tests/test_search.py re-derives them from ICU), so
#   character by character is exact for text without them;
# - anything else takes norm() itself (cached: repeated spellings are common in real data).
# Caches are bounded: a long ingest cannot grow them without limit.
# ICU Han-Latin's only context rules read 藏 before 文, 重 before 庆, 沈 before 阳 and 秘 before 鲁
# differently; every other character (polyphones included) is read the same whatever surrounds it
HAN_CONTEXT = ("藏文", "重庆", "沈阳", "秘鲁")


@lru_cache(maxsize=262_144)
def _norm_word(word: str) -> str:
    return norm(word)


@lru_cache(maxsize=65_536)
def _norm_han(ch: str) -> str:
    return norm(ch)


@lru_cache(maxsize=65_536)
def _norm_other(text: str) -> str:
    return norm(text)


def _is_han(ch: str) -> bool:
    # CJK ideographs (extension A and the main block) only: the Yijing hexagrams between them
    # (U+4DC0-4DFF) are symbols, removed by ICU without a space, which joins their neighbours
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def fast_norm(text: str | None) -> str:
    """norm(text), identical output, through per-word / per-character caches."""
    if not text:
        return ""
    if text.isascii():
        if text.isprintable():
            return " ".join(x for x in map(_norm_word, text.split(" ")) if x)
        return _norm_other(text)
    if all(map(_is_han, text)) and not any(pair in text for pair in HAN_CONTEXT):
        return " ".join(x for x in map(_norm_han, text) if x)
    return _norm_other(text)


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
        keys.append(fast_norm(n))
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
