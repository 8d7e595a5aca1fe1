"""Property-based fuzzing of every parser (hypothesis), on a fixed budget.

Inputs are random bytes, byte-level mutations of a valid sample of the format (bit flips, truncation,
inserted quotes / delimiters / NULs / BOMs / odd numbers, deleted and duplicated slices, random
Unicode in several encodings), and, for JSON, JSON lines and XML samples, structure-aware mutations
that keep the syntax valid but put values of the wrong type, shape or size anywhere in the document
(so the parser's own code, not only the JSON/XML reader, meets them). Properties:
- parse never raises and yields only Node / Rel / Rejected / Delete records;
- loading what it yields into an embedded store through the pipeline leaves the store consistent
  (unique ids, every relationship end exists, counts agree with the export) and a second load of
  the same input changes no count.

Budget: MAX_EXAMPLES inputs per parser (derandomized: the same inputs on every run, no example
database written); some are loaded into the store
(about a quarter of those that yield nodes or relationships, chosen by a hash of the input, so a failing
example replays the same way).
"""
from __future__ import annotations

import json
import re
import shutil
import tempfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from graph.stores.ladybug import LadybugStore
from ingest import pipeline
from ingest.run import records
from tests.test_bad_input_matrix import assert_consistent

FIX = Path(__file__).parent / "fixtures"
BAD = Path(__file__).parent / "badinput"
MAX_EXAMPLES = 50
LOAD_ONE_IN = 4  # of the inputs that yield nodes or relationships, those whose CRC-32 is 0 mod 4 are loaded

CURATED_SOURCES = b"- id: src:fuzz\n  name: Fuzz source\n  kind: report\n"
CURATED_COMPANIES = (b"- {id: company:fuzz-a, name: Fuzz Alpha Co., country: CN, sources: [src:fuzz]}\n"
                     b"- id: company:fuzz-b\n  name: Fuzz Beta Ltd\n  aliases: [FB, \"\xe7\xa4\xba\xe4\xbe\x8b\"]\n"
                     b"  founded: 2001-04-18\n  sources: [src:fuzz]\n")
DOD1260H = (b"Name,Clean Name,Alias,Previous Name,Parent Name,Note,Start date,End date,Source Url\n"
            b"Example Aero Engine Co. (EAE)*,Example Aero Engine Co.,EAE,,Example Aviation Group,,2021-06-03,,https://x/1\n"
            b"Example Aviation Group,Example Aviation Group,,,,,2021-06-03,2024-01-31,https://x/1\n"
            b"Example Shipbuilding Research Institute,,,,Example Aviation Group,Note,2022-10-05,,https://x/2\n")
CURATED_OWNS = b"- {from: company:fuzz-a, to: company:fuzz-b, share: 0.51, start: 2019-01-01, sources: [src:fuzz]}\n"

# name -> (kind, the fuzzed file's name, its valid sample, the other files of the input folder,
#          what the parser is given: False the fuzzed file, True the folder, a name that file of the folder)
PARSERS = {
    "csl-csv": ("csl", "csl.csv", FIX / "csl" / "csl_2025.csv", {}, False),
    "csl-json": ("csl", "csl.json", FIX / "csl" / "csl.json", {}, False),
    "ofac": ("ofac", "SDN.CSV", FIX / "ofac" / "sdn" / "SDN.CSV",
             {n: FIX / "ofac" / "sdn" / n for n in ("ADD.CSV", "ALT.CSV", "SDN_COMMENTS.CSV")}, True),
    "uslists": ("uslists", "dow_1260h.json", FIX / "uslists" / "dow_1260h.json",
                {"lists.json": FIX / "uslists" / "lists.json"}, False),
    "ftm": ("ftm", "entities.ftm.json", FIX / "ftm" / "entities-mixed.ftm.json", {}, False),
    "ftm-delta": ("ftm", "entities.delta.json", FIX / "ftm" / "entities-mixed.delta.json", {}, False),
    "bods": ("bods", "statements.json", FIX / "bods" / "bods-0.2.json", {}, False),
    "gleif-csv": ("gleif", "rr.csv", FIX / "gleif" / "rr-golden-copy.csv", {}, False),
    "gleif-json": ("gleif", "rr.json", FIX / "gleif" / "rr-api.json", {}, False),
    "holdings-csv": ("holdings", "template.csv", FIX / "holdings" / "template-good.csv", {}, False),
    "holdings-provider": ("holdings", "EXMP_holdings.json", FIX / "holdings" / "provider" / "EXMP_holdings.json",
                          {"EXMP_fund_metadata.json": FIX / "holdings" / "provider" / "EXMP_fund_metadata.json"}, False),
    "13f": ("13f", "examplefund-2021q4-infotable.xml", FIX / "holdings" / "13f" / "examplefund-2021q4-infotable.xml",
            {}, False),
    "jsonl": ("jsonl", "backup.jsonl", BAD / "jsonl" / "ownership-cycles.jsonl", {}, False),
    "curated": ("curated", "companies.yaml", CURATED_COMPANIES,
                {"sources.yaml": CURATED_SOURCES, "owns.yaml": CURATED_OWNS}, True),
    "rdf": ("rdf", "graph.ttl", FIX / "rdf" / "wikidata_hikvision.ttl", {}, False),
    "dod1260h": ("dod1260h", "history.csv", DOD1260H, {}, False),
    "mapping": ("mapping", "bad-rows.csv", FIX / "mapping" / "bad-rows.csv",
                {"bad-rows.mapping.yaml": FIX / "mapping" / "bad-rows.mapping.yaml"}, "bad-rows.mapping.yaml"),
}

TOKENS = [b'"', b"'", b",", b";", b"|", b"\t", b"\n", b"\r\n", b"\r", b"\x00", b"\x1a", b"{", b"}", b"[", b"]",
          b":", b"<", b">", b"&", b"&amp;", b"<!--", b"\\", b"\\u0000", b"\\ud800", b"-0-", b"\xff", b"\xfe",
          b"\xc3", b"\xef\xbb\xbf", b"NaN", b"Infinity", b"1e400", b"-1", b"0", b"null", b"true", b"9999-99-99",
          b"2019-02-30", b"    ", b"#", b"%", b"---", b"!!python/object", b"*a", b"&a "]
ENCODINGS = ["utf-8", "utf-16", "utf-16-le", "gb18030", "latin-1", "cp1252"]


def _sample(spec) -> bytes:
    s = spec[2]
    return s if isinstance(s, bytes) else s.read_bytes()


@st.composite
def mutations(draw, sample: bytes) -> bytes:
    data = bytearray(sample)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "duplicate", "unicode"]))
        pos = draw(st.integers(0, len(data)))
        if op == "flip" and data:
            i = min(pos, len(data) - 1)
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from(TOKENS)) * draw(st.integers(1, 4))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 80))]
        elif op == "duplicate":
            n = draw(st.integers(1, 400))
            data[pos:pos] = data[pos:pos + n]
        elif op == "unicode":
            text = draw(st.text(max_size=30))
            enc = draw(st.sampled_from(ENCODINGS))
            data[pos:pos] = text.encode(enc, "replace")
    return bytes(data)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats() | st.text(max_size=40)
    | st.sampled_from(["", "-0-", "2019-02-30", "9999-12-31", "13/45/2020", "NaN", "\x00", "\ud800", "x" * 5000]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)


def _paths(doc, path=()):
    yield path
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, path + (i,))


@st.composite
def json_mutations(draw, doc):
    """Replace, delete or duplicate values anywhere in a JSON document (valid JSON comes out)."""
    doc = json.loads(json.dumps(doc))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            return draw(JSON_VALUES)
        path = draw(st.sampled_from(paths))
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        op = draw(st.sampled_from(["replace", "replace", "delete", "duplicate"]))
        if op == "replace":
            parent[path[-1]] = draw(JSON_VALUES)
        elif op == "delete":
            del parent[path[-1]]
        elif isinstance(parent, list):
            parent.insert(path[-1], json.loads(json.dumps(parent[path[-1]])))
    return doc


@st.composite
def structured(draw, sample: bytes, fmt: str) -> bytes:
    text = sample.decode("utf-8-sig")
    ascii_ = draw(st.booleans())
    if fmt == "json":
        return json.dumps(draw(json_mutations(json.loads(text))), ensure_ascii=ascii_).encode("utf-8", "surrogatepass")
    if fmt == "jsonl":
        lines = text.splitlines()
        good = [i for i, line in enumerate(lines) if _object(line)]
        for _ in range(draw(st.integers(1, 3))):
            i = draw(st.sampled_from(good))
            lines[i] = json.dumps(draw(json_mutations(json.loads(lines[i]))), ensure_ascii=ascii_)
        return "\n".join(lines).encode("utf-8", "surrogatepass")
    # xml: new text in some elements, escaped, so the document stays well-formed
    parts = re.split(r"(>[^<>]*<)", text)
    slots = [i for i, p in enumerate(parts) if p.startswith(">")]
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.sampled_from(slots))
        new = draw(st.text(max_size=30) | st.sampled_from(["-1", "1e400", "NaN", "", "0" * 40, "ABCDEFGHI", "12,34.5"]))
        new = new.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        parts[i] = ">" + "".join(ch for ch in new if ch in "\t\n\r" or ord(ch) >= 32 and not 0xD800 <= ord(ch) <= 0xDFFF) + "<"
    return "".join(parts).encode("utf-8")


def _format(sample: bytes, name: str) -> str | None:
    if name.endswith(".xml"):
        return "xml"
    try:
        json.loads(sample.decode("utf-8-sig"))
        return "json"
    except ValueError:
        pass
    if any(_object(line) for line in sample.decode("utf-8-sig", "replace").splitlines()):
        return "jsonl"
    return None


def _object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def inputs(sample: bytes, name: str):
    fmt = _format(sample, name)
    if fmt is None:
        return st.one_of(mutations(sample), mutations(sample), mutations(sample), st.binary(max_size=2000))
    return st.one_of(mutations(sample), structured(sample, fmt), structured(sample, fmt), st.binary(max_size=2000))


@pytest.fixture(scope="module")
def fuzz_store():
    d = tempfile.mkdtemp(prefix="techgiants-fuzz-")
    s = LadybugStore(Path(d) / "fuzz.lbdb")
    s.create_schema()
    yield s
    s.close()
    shutil.rmtree(d, ignore_errors=True)


def _lay_out(spec, data: bytes, d: Path) -> Path:
    kind, name, _, others, folder = spec
    for other, src in others.items():
        (d / other).write_bytes(src if isinstance(src, bytes) else src.read_bytes())
    (d / name).write_bytes(data)
    return d / folder if isinstance(folder, str) else d if folder else d / name


def _parse(kind: str, target: Path) -> list:
    out = list(records(kind, [str(target)]))
    wrong = [type(r).__name__ for r in out if type(r).__name__ not in ("Node", "Rel", "Rejected", "Delete")]
    assert not wrong, f"parser yielded {wrong[:3]}"
    return out


def _counts(store) -> dict:
    return store.counts()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", list(PARSERS))
def test_parser_never_raises_and_loads_consistently(name, fuzz_store):
    spec = PARSERS[name]
    kind = spec[0]
    sample = _sample(spec)
    seen = {"records": 0, "loads": 0}

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=inputs(sample, spec[1]))
    @example(data=sample)  # the valid sample itself: always parsed and loaded
    def check(data: bytes):
        with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
            target = _lay_out(spec, data, Path(tmp))
            out = _parse(kind, target)  # must not raise
            if not any(type(r).__name__ in ("Node", "Rel") for r in out):
                return
            seen["records"] += 1
            if data != sample and zlib.crc32(data) % LOAD_ONE_IN:
                return
            seen["loads"] += 1
            fuzz_store.clear()
            pipeline.run(fuzz_store, out, file=str(target), quarantine=str(Path(tmp) / "q.jsonl"))
            first = _counts(fuzz_store)
            assert_consistent(fuzz_store)
            pipeline.run(fuzz_store, _parse(kind, target), file=str(target))
            assert _counts(fuzz_store) == first, "a second load of the same input changed the counts"

    check()
    assert seen["loads"] >= 1


@pytest.mark.parametrize("name", list(PARSERS))
def test_samples_are_valid(name, tmp_path):
    """The seeds are valid files: mutations start from something the parser reads."""
    spec = PARSERS[name]
    out = _parse(spec[0], _lay_out(spec, _sample(spec), tmp_path))
    assert any(type(r).__name__ in ("Node", "Rel") for r in out)
