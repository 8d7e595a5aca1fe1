"""Entity resolution: map each incoming record onto the entity the graph already has for it.

The same company reaches the graph from many places: the curated report data
(`company:hikvision`), the Entity List (`us-bis-entity-list:hangzhou-hikvision-...`),
the DoD 1260H and NS-CMIC lists, OFAC's own files (`ofac:30946`), the CSL
(`csl:<row id>`), holdings files (`issuer:isin:...`). The pipeline
(`ingest.pipeline.run`) asks `Resolver.resolve(label, props)` for every node
record and, when the answer is another id, writes the record onto that entity.

Layers:
- name keys (`name_key`, `zh_key`, `person_key`): pure functions over graph.names;
- `Resolver`: the index (identifiers, name keys, token blocks for fuzzy
  scoring) and the decision rules; pure, it never touches a store;
- `Resolver.from_store(store)`: the store adapter, one query per entity label;
- `ReviewQueue` and `Judgements`: the two files a human works with
  (`techgiants resolve list|accept|reject`, see ingest/commands.py).

Rules (docs/resolution.md has the full text):
1. Judgements (data/judgements.yaml) first: `same` sends b onto a whatever
   the evidence; `different` forbids an automatic merge of the pair whatever
   the evidence.
2. A strong identifier shared with one entity (lei, isin, cusip, figi, uscc,
   ofac, csl, wikidata, cik, and `id:` - the ids of records merged before)
   merges, unless labels differ, countries conflict, a single-valued scheme
   (lei, uscc, cik, wikidata, ofac) has two different values, or both sides
   hold different ids of one source namespace (then: review queue).
3. Exact equality of a normalised name (legal forms stripped, accents and
   scripts transliterated, traditional Chinese made simplified) of at least
   MIN_KEY_CHARS characters (MIN_ZH_CHARS Han characters) between the names
   of both, or the name of one and an alias of the other, merges under the
   same conditions; name=name beats name=alias, and a key that points at
   two entities in the best tier merges nothing. Persons also need an equal
   date of birth on both sides.
4. Anything weaker - a short or ambiguous name, alias = alias, a weak
   identifier (ticker, registration numbers, websites), a conflict from
   rule 2/3, or a fuzzy
   score >= FUZZY_THRESHOLD (rapidfuzz token_sort_ratio over token-blocked
   candidates) - goes to the review queue, never into the graph.

Canonical ids: a curated id (`company:`, `gov:`, ...) is never merged away
and is preferred as the target; otherwise the entity first seen (in the
store, then in this run) keeps its id. The resolver learns every record it
resolves, so records of one run merge with each other.
"""
from __future__ import annotations

import json
import os
import re
import unicodedata
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml
from rapidfuzz import fuzz, process
from rigour.names import remove_org_types

from graph.names import norm
from graph.schema import SCHEMA

# ---------------------------------------------------------------- tunables (documented in docs/resolution.md)

STRONG_SCHEMES = frozenset({"lei", "isin", "cusip", "figi", "uscc", "ofac", "csl", "wikidata", "cik", "id"})
SINGLE_VALUED = frozenset({"lei", "uscc", "cik", "wikidata", "ofac"})  # one per entity: two values = two entities
MIN_KEY_CHARS = 8        # letters+digits of a Latin name key that may merge on exact equality
MIN_ZH_CHARS = 4         # Han characters of a Chinese name key that may merge on exact equality
MIN_FUZZY_CHARS = 6      # keys shorter than this are not fuzzy-compared
FUZZY_THRESHOLD = 90.0   # rapidfuzz token_sort_ratio (0-100) at or above which a pair is a candidate
BLOCK_MAX = 2000         # a token shared by more entities than this is too common to block on ...
BLOCK_TOKENS = 3         # ... and at most this many of a key's rarest tokens are used
FUZZY_MAX_CHOICES = 5000  # keys scored per record at most
MERGE_TIER = 3           # evidence tiers that may merge: 1 identifier, 2 name = name, 3 name = alias
GENERIC_POSTING = 3      # a short name or weak identifier held by more entities than this is no evidence

CURATED_PREFIXES = frozenset({"company", "gov", "person", "fund", "university", "project", "index"})
NON_UNIQUE_NAMESPACES = frozenset({"csl"})  # ids per listing row, not per entity: two may be one entity
NAME_LABELS = frozenset({"Company", "Fund", "GovernmentBody", "University", "Person"})  # matched by name
ORG_LABELS = frozenset({"Company", "Fund", "GovernmentBody", "University"})

# Legal forms rigour leaves at the end once "Limited"/"Ltd." is gone ("Company Limited" -> "company").
_LEGAL_TAIL = frozenset({"co", "company", "corp", "corporation", "inc", "incorporated", "ltd", "limited", "llc",
                         "plc", "lp", "llp", "sa", "spa", "sarl", "ag", "kk", "gmbh", "bv", "nv", "jsc", "pjsc",
                         "ojsc", "ooo"})
_ZH_LEGAL = ("股份有限公司", "有限责任公司", "有限公司", "股份公司", "公司")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NOT_HAN_OR_ALNUM = re.compile(r"[^\w]|_")

DEFAULT_JUDGEMENTS = Path(__file__).resolve().parent.parent / "data" / "judgements.yaml"
DEFAULT_QUEUE = "review-queue.jsonl"


def judgements_path() -> Path:
    return Path(os.environ.get("TECHGIANTS_JUDGEMENTS") or DEFAULT_JUDGEMENTS)


def queue_path() -> Path:
    return Path(os.environ.get("TECHGIANTS_REVIEW_QUEUE") or DEFAULT_QUEUE)


# ---------------------------------------------------------------- name keys (pure)

try:  # ICU ships with normality (pyicu); its Traditional-Simplified transform covers the CJK unified block
    import icu as _icu
    _T2S = _icu.Transliterator.createInstance("Traditional-Simplified")
except Exception:  # pragma: no cover - without ICU, Chinese matches exactly as written
    _T2S = None


def is_chinese(text: str) -> bool:
    """Mostly Han characters (a Chinese name, not a Latin name with a stray character)."""
    if not _HAN.search(text):
        return False
    han = len(_HAN.findall(text))
    letters = sum(1 for ch in text if ch.isalpha())
    return han > 0 and han * 2 >= letters


@lru_cache(maxsize=20_000)
def zh_key(text: str) -> str:
    """Chinese name -> simplified Han characters without punctuation or legal form:
    '商湯集團有限公司' -> '商汤集团'. Empty when the text is not Chinese."""
    if not text or not is_chinese(text):
        return ""
    s = unicodedata.normalize("NFKC", text)
    if _T2S is not None:
        s = _T2S.transliterate(s)
    s = _NOT_HAN_OR_ALNUM.sub("", s).lower()
    changed = True
    while changed:
        changed = False
        for suffix in _ZH_LEGAL:
            if s.endswith(suffix) and len(s) > len(suffix):
                s, changed = s[: -len(suffix)], True
    return s


def name_key(text: str) -> str:
    """An organisation name compared without case, accents, script, punctuation and legal form:
    'Zhejiang Dahua Technology Co., Ltd.' and 'ZHEJIANG DAHUA TECHNOLOGY COMPANY LIMITED' ->
    'zhejiang dahua technology'. graph.names.core (normality + rigour's org types), repeated
    until nothing changes, plus the bare legal words rigour leaves ('Company', 'Co.', 'Corp.')."""
    return strip_forms(norm(text))


def strip_forms(n: str) -> str:
    """`name_key` of an already normalised name: graph.names.core without normalising again
    (normality is the cost of building the index), repeated, plus the bare legal words."""
    key = _SINGLES.sub(lambda m: m.group(0).replace(" ", ""), n)  # 's a' (S.A.) -> 'sa', 'l l c' -> 'llc'
    for _ in range(4):
        stripped = " ".join(remove_org_types(key).split()) or key  # = core(key) for a normalised key
        toks = stripped.split()
        while len(toks) > 1 and toks[-1] in _LEGAL_TAIL:
            toks.pop()
        while len(toks) > 1 and toks[0] in _LEGAL_TAIL:
            toks.pop(0)
        nxt = " ".join(toks)
        if nxt == key:
            break
        key = nxt
    return key


def person_key(text: str) -> str:
    """A person's name with its words sorted: 'WANG Wei' and 'Wei Wang' -> 'wang wei'."""
    return " ".join(sorted(norm(text).split()))


_SINGLES = re.compile(r"\b[a-z0-9](?: [a-z0-9]\b)+")
_PAREN = re.compile(r"\s*\(([^()]*)\)\s*$")


def keys_for(label: str, text: str) -> list[str]:
    """Match keys of one spelling, each `kind:key`: `zh:` for Chinese (`zh_key`); `lat:` for the
    name without legal form (`name_key`; `person_key` for people); `full:` for an organisation's
    whole normalised name with its legal form ('full:cnooc limited', where 'lat:cnooc' alone is
    short). A trailing parenthesis ('Academy of ... (AASPT)', 'X Co., Ltd (China)') also gives
    the keys of the name without it."""
    if not text:
        return []
    if is_chinese(text):
        k = zh_key(text)
        return ["zh:" + k] if k else []
    texts = [text]
    if (m := _PAREN.search(text)) and m.start() > 0:
        texts.append(text[: m.start()])
    out: list[str] = []
    for t in texts:
        if label == "Person":
            out.append("lat:" + person_key(t))
            continue
        full = norm(t)
        lat = strip_forms(full)
        out.append("lat:" + lat)
        if full != lat:
            out.append("full:" + full)
    return [k for k in dict.fromkeys(out) if not k.endswith(":")]


def key_strong(key: str) -> bool:
    """Long enough to merge on exact equality."""
    if key.startswith("zh:"):
        return len(_HAN.findall(key)) >= MIN_ZH_CHARS
    return sum(ch.isalnum() for ch in key.split(":", 1)[1]) >= MIN_KEY_CHARS


def scheme_of(ident: str) -> str:
    return ident.split(":", 1)[0].lower() if ":" in ident else ""


def namespace(entity_id: str) -> str:
    return entity_id.split(":", 1)[0] if ":" in entity_id else ""


def is_curated(entity_id: str) -> bool:
    return namespace(entity_id) in CURATED_PREFIXES


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


# ---------------------------------------------------------------- judgements


@dataclass
class Judgement:
    a: str
    b: str
    decision: str  # same | different
    by: str | None = None
    date: str | None = None
    note: str | None = None


class JudgementError(ValueError):
    pass


class Judgements:
    """data/judgements.yaml: a YAML list of {a, b, decision: same|different, by, date, note}.
    A later entry for the same pair replaces an earlier one (the file is an append-only log)."""

    def __init__(self, items: Iterable[Judgement] = ()):
        self.by_pair: dict[tuple[str, str], Judgement] = {}
        for j in items:
            self.by_pair[_pair(j.a, j.b)] = j
        self.parent: dict[str, str] = {}
        self.different: dict[str, set[str]] = defaultdict(set)
        for j in self.by_pair.values():
            if j.decision == "same":
                self.parent[j.b] = j.a
            else:
                self.different[j.a].add(j.b)
                self.different[j.b].add(j.a)

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Judgements":
        p = Path(path) if path else judgements_path()
        if not p.exists():
            return cls()
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as e:
            raise JudgementError(f"{p}: not valid YAML: {e}") from None
        if data is None:
            return cls()
        if not isinstance(data, list):
            raise JudgementError(f"{p}: expected a YAML list of judgements")
        items = []
        for i, e in enumerate(data, 1):
            if not isinstance(e, dict) or not e.get("a") or not e.get("b"):
                raise JudgementError(f"{p}: entry {i}: needs `a` and `b` (entity ids)")
            if e.get("decision") not in ("same", "different"):
                raise JudgementError(f"{p}: entry {i}: decision must be `same` or `different`, "
                                     f"not {e.get('decision')!r}")
            if str(e["a"]) == str(e["b"]):
                raise JudgementError(f"{p}: entry {i}: a and b are the same id {e['a']!r}")
            items.append(Judgement(str(e["a"]), str(e["b"]), e["decision"], _s(e.get("by")), _s(e.get("date")),
                                   _s(e.get("note"))))
        return cls(items)

    def target(self, entity_id: str) -> str:
        """Where `same` judgements send an id (following chains; itself when none)."""
        seen = {entity_id}
        cur = entity_id
        while cur in self.parent and self.parent[cur] not in seen:
            cur = self.parent[cur]
            seen.add(cur)
        return cur

    def forbids(self, ids_a: Iterable[str], ids_b: Iterable[str]) -> bool:
        """Whether a `different` judgement separates any id of one side from any of the other."""
        if not self.different:
            return False
        ids_b = list(ids_b)
        for x in ids_a:
            d = self.different.get(x)
            if d and any(y in d for y in ids_b):
                return True
        return False

    def judged(self, a: str, b: str) -> bool:
        return _pair(a, b) in self.by_pair


def _s(v: Any) -> str | None:
    return None if v is None else str(v)


def append_judgement(j: Judgement, path: str | Path | None = None) -> Path:
    """Append one judgement to the YAML list (comments and earlier entries stay as written)."""
    p = Path(path) if path else judgements_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    entry = {"a": j.a, "b": j.b, "decision": j.decision, "by": j.by, "date": j.date, "note": j.note}
    entry = {k: v for k, v in entry.items() if v is not None}
    text = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=1000)
    old = p.read_text(encoding="utf-8") if p.exists() else ""
    if old.strip() and yaml.safe_load(old) is not None and not isinstance(yaml.safe_load(old), list):
        raise JudgementError(f"{p}: expected a YAML list of judgements")
    if re.search(r"^\s*\[\s*\]\s*$", old, re.M):  # an explicit empty list `[]`: replace it
        old = re.sub(r"^\s*\[\s*\]\s*$\n?", "", old, flags=re.M)
    if old and not old.endswith("\n"):
        old += "\n"
    p.write_text(old + text, encoding="utf-8")
    return p


# ---------------------------------------------------------------- review queue


class ReviewQueue:
    """Candidate pairs for a human, one JSON object per line: a, b, labels, names, score,
    evidence. A pair appears once (the entry with the higher score wins within a run)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else queue_path()
        self._pairs: set[tuple[str, str]] | None = None

    def _load_pairs(self) -> set[tuple[str, str]]:
        if self._pairs is None:
            self._pairs = {_pair(e["a"], e["b"]) for e in self.entries()}
        return self._pairs

    def entries(self) -> list[dict]:
        if not self.path.exists():
            return []
        out = []
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if isinstance(e, dict) and e.get("a") and e.get("b"):
                    out.append(e)
        return out

    def __contains__(self, pair: tuple[str, str]) -> bool:
        return _pair(*pair) in self._load_pairs()

    def add_many(self, entries: list[dict]) -> int:
        pairs = self._load_pairs()
        new = []
        for e in entries:
            k = _pair(e["a"], e["b"])
            if k not in pairs:
                pairs.add(k)
                new.append(e)
        if new:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                for e in new:
                    f.write(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n")
        return len(new)

    def remove(self, a: str, b: str) -> int:
        """Drop the pair's entries; returns how many were dropped."""
        if not self.path.exists():
            return 0
        k = _pair(a, b)
        keep, dropped = [], 0
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                try:
                    e = json.loads(line)
                    if _pair(e["a"], e["b"]) == k:
                        dropped += 1
                        continue
                except (ValueError, KeyError, TypeError):
                    pass
                keep.append(line if line.endswith("\n") else line + "\n")
        if dropped:
            tmp = self.path.with_suffix(self.path.suffix + ".tmp")
            tmp.write_text("".join(keep), encoding="utf-8")
            os.replace(tmp, self.path)
            self._pairs = None
        return dropped


# ---------------------------------------------------------------- the index


@dataclass(slots=True)
class Entity:
    """One entity as the resolver knows it: the canonical id and everything merged onto it.
    Small lists, not sets: a million of these must fit in memory."""
    id: str
    label: str
    name: str
    order: int = 0  # first seen: store entities first, then records of the run in order
    in_store: bool = False
    members: list[str] = field(default_factory=list)  # canonical id + ids of records merged onto it
    idents: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    birth_dates: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # name keys ('lat:...', 'full:...', 'zh:...'), then alias keys
    n_name_keys: int = 0


@dataclass(slots=True)
class Match:
    entity: Entity
    tier: int  # 1 strong identifier, 2 name=name, 3 name=alias (merge); 4 alias=alias, 5 weak, 6 fuzzy (queue)
    evidence: list[str]
    score: float = 100.0  # 100 for exact evidence, the rapidfuzz score for fuzzy matches


def _put(index: dict, key: str, eid: str) -> None:
    """index[key] is one id (a str) or a list of ids: most keys have one holder."""
    v = index.get(key)
    if v is None:
        index[key] = eid
    elif isinstance(v, str):
        if v != eid:
            index[key] = [v, eid]
    elif v[-1] != eid and (len(v) > 64 or eid not in v):  # long lists (common tokens) may repeat an id
        v.append(eid)


def _get(index: dict, key: str) -> tuple | list:
    v = index.get(key)
    return () if v is None else (v,) if isinstance(v, str) else v


def _add(lst: list, x: Any) -> bool:
    if x in lst:
        return False
    lst.append(x)
    return True


@dataclass
class _Keys:
    """A record's name keys, computed once per record."""
    names: list[str]
    aliases: list[str]


class Resolver:
    """Identifier- and name-based resolution of records onto known entities (see module doc)."""

    def __init__(self, judgements: Judgements | None = None, queue: ReviewQueue | str | Path | None = None):
        self.judgements = judgements if judgements is not None else Judgements.load()
        self.queue = queue if isinstance(queue, ReviewQueue) else ReviewQueue(queue)
        self.entities: dict[str, Entity] = {}
        self.member_of: dict[str, str] = {}  # any member id -> canonical id
        self.by_ident: dict[str, str | list[str]] = {}
        self.by_name: dict[str, str | list[str]] = {}
        self.by_alias: dict[str, str | list[str]] = {}
        self.by_token: dict[str, str | list[str]] = {}  # Latin key token -> canonical ids (fuzzy blocking)
        self.candidates: dict[tuple[str, str], dict] = {}  # pending queue entries of this run
        self._order = 0
        self.stats = {"resolved": 0, "merged": 0, "candidates": 0}
        # the pipeline has no close(): pending candidates are written when the resolver goes away
        self._finalizer = weakref.finalize(self, _flush, self.candidates, self.queue)

    # ------------------------------------------------------------ building
    @classmethod
    def from_store(cls, store, judgements: Judgements | None = None, queue: ReviewQueue | str | Path | None = None,
                   timeout: float = 600.0) -> "Resolver":
        """Index every entity of the store: one query per entity label (id, name, aliases, name_zh,
        identifiers, country; birth_date for people). Works on every GraphStore."""
        from graph.store import _q
        r = cls(judgements, queue)
        for label in SCHEMA.entity_labels:
            extra = ", n.birth_date" if "birth_date" in SCHEMA.nodes[label].props else ""
            res = store.read(_q("MATCH (n:{L}) RETURN n.id, n.name, n.aliases, n.name_zh, n.identifiers, n.country"
                                + extra + " ORDER BY n.id", L=label), timeout=timeout)
            for row in res.rows:
                props = {"id": row[0], "name": row[1], "aliases": row[2], "name_zh": row[3], "identifiers": row[4],
                         "country": row[5]}
                if extra:
                    props["birth_date"] = row[6]
                r.add_known(label, props)
        return r

    def add_known(self, label: str, props: dict) -> Entity:
        """An entity already in the graph: indexed as is, never re-resolved."""
        ent = self._new_entity(label, props, in_store=True)
        self._learn(ent, label, props, self._keys(label, props))
        return ent

    def _new_entity(self, label: str, props: dict, in_store: bool = False) -> Entity:
        self._order += 1
        ent = Entity(props["id"], label, props.get("name") or props["id"], order=self._order, in_store=in_store)
        self.entities[ent.id] = ent
        return ent

    @staticmethod
    def _keys(label: str, props: dict) -> _Keys:
        if label not in NAME_LABELS:
            return _Keys([], [])
        # the Chinese name is a name, not an alias: it is the entity's name in another script
        names = list(dict.fromkeys([*keys_for(label, props.get("name") or ""),
                                    *keys_for(label, props.get("name_zh") or "")]))
        aliases = [k for n in props.get("aliases") or () if n for k in keys_for(label, n)]
        return _Keys(names, [k for k in dict.fromkeys(aliases) if k not in names])

    def _learn(self, ent: Entity, label: str, props: dict, keys: _Keys) -> None:
        rid = props["id"]
        for m in (rid, *(i[3:] for i in props.get("identifiers") or () if i.startswith("id:"))):
            if _add(ent.members, m):
                self.member_of.setdefault(m, ent.id)
        for i in props.get("identifiers") or ():
            if ":" in i and _add(ent.idents, i):  # strong schemes merge; weak ones (ticker, ...) make candidates
                _put(self.by_ident, i, ent.id)
        if props.get("country"):
            _add(ent.countries, props["country"])
        if props.get("birth_date"):
            _add(ent.birth_dates, str(props["birth_date"]))
        for k in keys.names:
            if k not in ent.keys:
                ent.keys.insert(ent.n_name_keys, k)
                ent.n_name_keys += 1
                _put(self.by_name, k, ent.id)
                self._block(k, ent.id)
        for k in keys.aliases:
            if k not in ent.keys:
                ent.keys.append(k)
                _put(self.by_alias, k, ent.id)
                self._block(k, ent.id)

    def _block(self, key: str, eid: str) -> None:
        if key.startswith("lat:"):
            for tok in key[4:].split():
                if len(tok) >= 3:
                    _put(self.by_token, tok, eid)

    # ------------------------------------------------------------ resolving
    def resolve(self, label: str, props: dict) -> tuple[str, str]:
        """(canonical id, canonical label) for a validated node record, and learn the record.

        When the answer is another entity, `props` is updated in place for the merge: the record's
        own name becomes an alias and the entity keeps its name; onto a curated entity the record's
        `description` and `kind` are dropped (curated text wins); onto another label, properties
        that label does not have are dropped."""
        rid = props["id"]
        if label not in SCHEMA.entity_labels:
            return rid, label
        self.stats["resolved"] += 1
        keys = self._keys(label, props)
        target = self._decide(label, props, keys)
        if target is None:  # a new entity
            ent = self.entities.get(rid) or self._new_entity(label, props)
            self._learn(ent, label, props, keys)
            return rid, label
        ent = self.entities[target]
        self._learn(ent, label, props, keys)
        if target != rid:
            self.stats["merged"] += 1
            _rewrite(props, ent, label)
        return target, ent.label

    def _decide(self, label: str, props: dict, keys: _Keys) -> str | None:
        rid = props["id"]
        # 1. judgements: `same` wins over everything
        jt = self.judgements.target(rid)
        if jt != rid:
            canon = self.member_of.get(jt, jt)
            if canon not in self.entities:  # the target is not known yet: it starts here under its own id
                self._new_entity(label, {**props, "id": canon}).members.append(canon)
                self.member_of.setdefault(canon, canon)
            return canon
        # 2. the record is an entity already known (in the store, or earlier in this run), or merged before
        if rid in self.member_of:
            canon = self.member_of[rid]
            if canon == rid or not self.judgements.forbids([rid], self.entities[canon].members):
                return canon
        # 3. curated ids are never merged away; they only queue what they resemble
        matches = self._matches(label, props, keys)
        if is_curated(rid):
            self._queue_all(label, props, matches, reason="curated entity")
            return None
        strong, weak = self._split(label, props, matches)
        if not strong:
            self._queue_all(label, props, weak)
            return None
        best_tier = min(m.tier for m in strong)
        best = sorted((m for m in strong if m.tier == best_tier), key=lambda m: _preference(m.entity))
        if best_tier >= 2 and len(best) > 1:  # an ambiguous name: merge nothing, let a human choose
            self._queue_all(label, props, [*strong, *weak], extra=["ambiguous: the name matches several entities"])
            return None
        chosen = best[0]
        for m in (m for m in [*strong, *weak] if m.entity.id != chosen.entity.id):
            # what else the record resembled: a pair of existing entities to review
            self._candidate(_side(chosen.entity), _side(m.entity), m.score, m.evidence + [f"via record {rid}"])
        return chosen.entity.id

    # ------------------------------------------------------------ evidence
    def _matches(self, label: str, props: dict, keys: _Keys) -> list[Match]:
        rid = props["id"]
        found: dict[str, Match] = {}

        def add(eid: str, tier: int, ev: str) -> None:
            if eid == rid:
                return
            m = found.get(eid)
            if m is None:
                found[eid] = Match(self.entities[eid], tier, [ev])
            else:
                m.tier = min(m.tier, tier)
                if ev not in m.evidence and len(m.evidence) < 6:
                    m.evidence.append(ev)

        for i in props.get("identifiers") or ():
            holders = _get(self.by_ident, i)
            strong_id = scheme_of(i) in STRONG_SCHEMES
            if not strong_id and len(holders) > GENERIC_POSTING:
                continue  # a weak identifier many entities share (a group's website): no evidence
            for eid in sorted(holders):
                add(eid, 1 if strong_id else 5, f"identifier {i}")
        for mine, ks in (("name", keys.names), ("alias", keys.aliases)):
            for k in ks:
                strong = key_strong(k)
                for theirs, index in (("name", self.by_name), ("alias", self.by_alias)):
                    holders = _get(index, k)
                    if not holders or (not strong and len(holders) > GENERIC_POSTING):
                        continue  # a short name many entities share ('china', 'dio'): no evidence
                    tier = 2 if mine == theirs == "name" else 4 if mine == theirs else 3
                    ev = f"{mine} = {theirs} {k.split(':', 1)[1]!r}" + ("" if strong else " (short)")
                    for eid in sorted(holders):
                        add(eid, tier if strong else 5, ev)
        if (keys.names or keys.aliases) and not any(m.tier <= 4 for m in found.values()):
            for eid, score, ev in self._fuzzy(label, rid, keys.names + keys.aliases):
                if eid not in found and eid != rid:
                    found[eid] = Match(self.entities[eid], 6, [ev], score)
        return [found[k] for k in sorted(found)]

    def _fuzzy(self, label: str, rid: str, keys: list[str]) -> Iterator[tuple[str, float, str]]:
        """Near names among entities sharing a rare token with the record (blocking). Skipped:
        entities of the record's own source namespace (a list names each entity once: its near
        names are siblings, 'CETC 13th/14th Research Institute') and names whose numbers differ."""
        best: dict[str, tuple[float, str]] = {}
        ns = namespace(rid)
        own_ns = ns if ns and ns not in NON_UNIQUE_NAMESPACES else None
        for k in keys:
            if not k.startswith("lat:"):
                continue
            key = k[4:]
            if sum(ch.isalnum() for ch in key) < MIN_FUZZY_CHARS:
                continue
            toks = sorted({t for t in key.split() if len(t) >= 3}, key=lambda t: (len(_get(self.by_token, t)), t))
            cands: set[str] = set()
            for t in toks[:BLOCK_TOKENS]:
                post = _get(self.by_token, t)
                if post and len(post) <= BLOCK_MAX:
                    cands.update(post)
            if not cands:
                continue
            choices: dict[str, list[str]] = defaultdict(list)  # key text -> entity ids
            for eid in sorted(cands)[:FUZZY_MAX_CHOICES]:
                ent = self.entities[eid]
                if ent.label != label and not (label in ORG_LABELS and ent.label in ORG_LABELS):
                    continue
                if own_ns and any(namespace(x) == own_ns for x in ent.members):
                    continue
                for k2 in ent.keys:
                    if k2.startswith("lat:"):
                        choices[k2[4:]].append(eid)
            if not choices:
                continue
            for text, score, _ in process.extract(key, list(choices), scorer=fuzz.token_sort_ratio,
                                                  score_cutoff=FUZZY_THRESHOLD, limit=20):
                if text == key or _numbers(text) != _numbers(key):
                    continue
                for eid in choices[text]:
                    if eid not in best or score > best[eid][0]:
                        best[eid] = (score, f"fuzzy {score:.0f}: {key!r} ~ {text!r}")
        for eid in sorted(best):
            yield eid, best[eid][0], best[eid][1]

    def _split(self, label: str, props: dict, matches: list[Match]) -> tuple[list[Match], list[Match]]:
        """Strong matches that may merge, and the rest (candidates) with the reason added."""
        rid = props["id"]
        rec_ids = {rid, *(i[3:] for i in props.get("identifiers") or [] if i.startswith("id:"))}
        country = props.get("country")
        bdate = props.get("birth_date")
        single = {}
        for i in props.get("identifiers") or []:
            if scheme_of(i) in SINGLE_VALUED:
                single.setdefault(scheme_of(i), set()).add(i)
        strong, weak = [], []
        for m in matches:
            ent = m.entity
            if self.judgements.forbids(rec_ids, ent.members):
                continue  # judged different: not even a candidate
            blockers = []
            if ent.label != label:
                if not (label in ORG_LABELS and ent.label in ORG_LABELS) and m.tier > 1:
                    continue  # a person named like a company: not worth a look
                blockers.append(f"labels differ ({ent.label} / {label}): merge only by judgement")
            if country and ent.countries and country not in ent.countries:
                blockers.append(f"countries differ ({'/'.join(sorted(ent.countries))} / {country})")
            for scheme, vals in single.items():
                theirs = {i for i in ent.idents if i.startswith(scheme + ":")}
                if theirs and not (theirs & vals):
                    blockers.append(f"different {scheme} identifiers ({', '.join(sorted(theirs | vals))})")
            ns = namespace(rid)
            if ns and ns not in NON_UNIQUE_NAMESPACES and any(
                    namespace(x) == ns and x not in rec_ids for x in ent.members):
                blockers.append(f"both are entries of {ns}, which lists each entity once")
            if label == "Person" and m.tier > 1:
                if bdate and ent.birth_dates and str(bdate) not in ent.birth_dates:
                    continue  # same name, other birth date: another person
                if not (bdate and str(bdate) in ent.birth_dates):
                    blockers.append("a person's name without an equal date of birth")
            if m.tier <= MERGE_TIER and not blockers:
                strong.append(m)
            else:
                m.evidence = m.evidence + blockers
                weak.append(m)
        return strong, weak

    # ------------------------------------------------------------ the queue
    def _queue_all(self, label: str, props: dict, matches: list[Match], reason: str | None = None,
                   extra: list[str] | None = None) -> None:
        """Candidates between the record (about to become an entity of its own) and what it resembled."""
        rec = (props["id"], label, props.get("name") or props["id"], _preference_of(props["id"], False, 1 << 60))
        for m in matches:
            ev = m.evidence + (extra or [])
            if reason and m.tier <= 4:
                ev = ev + [f"{props['id']} is a {reason}: never merged automatically"]
            self._candidate(_side(m.entity), rec, m.score, ev)

    def _candidate(self, x: tuple, y: tuple, score: float, evidence: list[str]) -> None:
        """Queue the pair; `a` is the side that would be kept (curated, in the graph, older)."""
        if x[0] == y[0] or self.judgements.judged(x[0], y[0]):
            return
        first, second = sorted([x, y], key=lambda s: s[3])
        entry = {"a": first[0], "b": second[0], "labels": [first[1], second[1]], "names": [first[2], second[2]],
                 "score": round(float(score), 1), "evidence": list(dict.fromkeys(evidence))}
        k = _pair(x[0], y[0])
        have = self.candidates.get(k)
        if have is None:
            self.stats["candidates"] += 1
            self.candidates[k] = entry
        elif entry["score"] > have["score"]:
            self.candidates[k] = entry

    def flush_queue(self) -> int:
        """Write this run's new candidate pairs to the review queue (also done automatically when the
        resolver is garbage-collected or the process exits); returns how many pairs were new."""
        return _flush(self.candidates, self.queue)


def _flush(candidates: dict, queue: ReviewQueue) -> int:
    entries = [candidates[k] for k in sorted(candidates)]
    candidates.clear()
    return queue.add_many(entries) if entries else 0


def _preference_of(eid: str, in_store: bool, order: int) -> tuple:
    return (not is_curated(eid), not in_store, order, eid)


def _side(ent: Entity) -> tuple:
    return (ent.id, ent.label, ent.name, _preference(ent))


def _preference(ent: Entity) -> tuple:
    """Sort key of canonical choice: curated, then in the store, then first seen, then id."""
    return _preference_of(ent.id, ent.in_store, ent.order)


def _numbers(key: str) -> list[str]:
    return sorted(t for t in key.split() if any(ch.isdigit() for ch in t))


def _rewrite(props: dict, ent: Entity, label: str) -> None:
    """Prepare a record for being written onto `ent` (see Resolver.resolve)."""
    own = props.get("name")
    if own and own != ent.name:
        props["aliases"] = list(dict.fromkeys([*(props.get("aliases") or []), own]))
        props["name"] = ent.name
    if is_curated(ent.id):
        props.pop("description", None)
        props.pop("kind", None)
    if ent.label != label:
        allowed = SCHEMA.nodes[ent.label].props
        for k in list(props):
            if k not in allowed and k not in ("id", "name", "sources"):
                props.pop(k)
        if "kind" in props and props["kind"] not in (allowed["kind"].choices or ()):
            props.pop("kind")
