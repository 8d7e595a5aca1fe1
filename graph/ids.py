"""Deterministic ids: readable slugs for curated entities, hashes for relationships."""
from __future__ import annotations

import hashlib
import re

from normality import slugify


def slug(text: str) -> str:
    """`Hangzhou Hikvision Digital Technology` -> `hangzhou-hikvision-digital-technology`."""
    s = slugify(text, sep="-") or ""
    if not s:
        s = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    return s


def make_id(prefix: str, *parts: str) -> str:
    """A namespaced id from source values: make_id('csl', '123') -> 'csl:123'."""
    return prefix + ":" + "-".join(re.sub(r"\s+", "-", str(p).strip()) for p in parts)


def rel_id(rtype: str, src: str, dst: str, key: str = "") -> str:
    h = hashlib.sha1(f"{rtype}|{src}|{dst}|{key}".encode("utf-8")).hexdigest()[:16]
    return f"{rtype.lower()}:{h}"
