"""Bulk ingest: a folder of Parquet or CSV files in the bulk layout, validated by column, loaded atomically.

The layout (docs/bulk.md) is the one bench/generate.py writes and `COPY` reads:
`nodes/<Label>.parquet|csv` with schema property columns, `rels/<TYPE>__<From>__<To>.parquet|csv`
with `from`, `to` and property columns. Steps:

1. check every file's name and columns first (unknown file, label, type, pair or column: `BulkError`,
   one line, naming the file and column) so a misnamed later file fails before anything is written;
   then one file at a time: read, check, write, let go;
2. validate by column with pyarrow.compute. The column checks are conservative: a row they cannot
   prove clean (and already normalised) is "suspect" and goes through graph.schema.validate_node /
   validate_rel, the pipeline's own validator, so accept/reject, field and reason are exactly the
   pipeline's. Suspect rows that pass (e.g. a lower-case country) take the upsert path normalised;
3. relationship ends must be in the load (under the file's label) or in the store;
4. ids seen twice in the load or already in the store go through store.upsert_nodes/upsert_rels
   (list-union merge, the record pipeline's semantics); new rows go in with COPY on Ladybug and with
   upsert_* in large batches on Neo4j;
5. all or nothing. Ladybug, first load (every table it writes is empty): each COPY commits on its
   own and a failure empties those tables again; otherwise the whole load is one transaction (COPY
   is allowed inside one; any error rolls it back). Neo4j writes batch by batch and, on failure,
   undoes what it did: deletes the nodes and relationships it created and writes back the
   pre-images of the ones it merged.

search_key is always recomputed with graph.names.search_key (a file's column is ignored): a stale or
hand-made key would silently break name search.
"""
from __future__ import annotations

import gc
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc

from graph.schema import MAX_LIST_ITEM, MAX_TEXT, MAX_TEXT_DEFAULT, SCHEMA, Prop, SchemaError, validate_node, validate_rel
from graph.store import GraphStore, _q
from ingest.pipeline import GC_THRESHOLD, Quarantine, Report
from ingest.records import Rejected

BATCH = 50_000
PA_TYPES = {"string": pa.string(), "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(),
            "date": pa.string(), "list": pa.list_(pa.string())}
_DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
_REL_RE = re.compile(r"^([A-Z_]+)__([A-Za-z]+)__([A-Za-z]+)$")


class BulkError(ValueError):
    """The folder does not fit the bulk layout: nothing was written."""


@dataclass
class Part:
    """One input file: a node label, or a relationship type with its (from, to) labels."""
    path: Path
    kind: str  # "node" | "rel"
    name: str  # label or type
    src: str | None = None
    dst: str | None = None

    @property
    def props(self) -> dict[str, Prop]:
        return SCHEMA.nodes[self.name].props if self.kind == "node" else SCHEMA.rels[self.name].props


# ---------------------------------------------------------------- layout

def parse(path, as_of=None):
    """ingest.run.KINDS lists `bulk` for the CLI; a bulk folder is not a record stream."""
    raise ValueError("bulk folders load with ingest.bulk.load (`techgiants ingest bulk DIR`), not record by record")


def scan(folder: str | os.PathLike) -> list[Part]:
    """The data files of a bulk folder, nodes first, in name order. Top-level files (copy.cypher,
    a README) are ignored; anything else under nodes/ or rels/ that is not a known name is an error."""
    root = Path(folder)
    if not root.is_dir():
        raise BulkError(f"{root}: not a folder")
    parts: list[Part] = []
    for sub in ("nodes", "rels"):
        d = root / sub
        if not d.is_dir():
            continue
        for f in sorted(d.iterdir()):
            if f.name.startswith("."):
                continue
            stem, ext = f.name.rsplit(".", 1) if "." in f.name else (f.name, "")
            if ext not in ("parquet", "csv"):
                raise BulkError(f"{f}: not a .parquet or .csv file")
            if sub == "nodes":
                if stem not in SCHEMA.nodes:
                    raise BulkError(f"{f}: unknown label {stem!r} (known: {', '.join(SCHEMA.labels)})")
                parts.append(Part(f, "node", stem))
            else:
                m = _REL_RE.match(stem)
                if not m:
                    raise BulkError(f"{f}: relationship files are named <TYPE>__<From>__<To>")
                t, a, b = m.groups()
                if t not in SCHEMA.rels:
                    raise BulkError(f"{f}: unknown relationship type {t!r}")
                rt = SCHEMA.rels[t]
                if a not in rt.sources or b not in rt.targets:
                    raise BulkError(f"{f}: {t} cannot go from {a} to {b} (from: {', '.join(rt.sources)}; "
                                    f"to: {', '.join(rt.targets)})")
                parts.append(Part(f, "rel", t, a, b))
    if not parts:
        raise BulkError(f"{root}: no nodes/*.parquet|csv or rels/*.parquet|csv files")
    return parts


def read_part(part: Part) -> tuple[pa.Table, bool]:
    """The file as an Arrow table with every schema column (missing ones null), in schema types.
    The flag says whether every column had its schema type; when not, every row is checked one by one."""
    if part.path.suffix == ".parquet":
        import pyarrow.parquet as pq
        t = pq.read_table(part.path)
    else:
        t = _read_csv(part)
    json_cols = set((t.schema.metadata or {}).get(b"techgiants.json_cols", b"").decode().split(",")) - {""}
    props = part.props
    ends = ("from", "to") if part.kind == "rel" else ()
    for c in t.column_names:
        if c not in props and c not in ends:
            raise BulkError(f"{part.path}: column {c!r} is not a property of {part.name}")
    for c in ends:
        if c not in t.column_names:
            raise BulkError(f"{part.path}: column {c!r} missing (relationship files need `from` and `to`)")
    n = t.num_rows
    cols, typed = {}, True
    for c in ends:
        cols[c] = _col(t, c).cast(pa.string())
    for p in props.values():
        want = PA_TYPES[p.type]
        if p.name == "search_key" or p.name not in t.column_names:
            cols[p.name] = pa.nulls(n, want)
            continue
        col = _col(t, p.name)
        if col.type != want:
            ok = (p.type == "float" and pa.types.is_integer(col.type)) or pa.types.is_null(col.type) or \
                 (p.type in ("float", "bool") and pa.types.is_string(col.type)) or \
                 (p.type == "list" and pa.types.is_large_list(col.type)) or \
                 (want == pa.string() and pa.types.is_large_string(col.type))
            try:
                col = col.cast(want) if ok else col
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                ok = False
            typed = typed and ok and p.name not in json_cols
        cols[p.name] = col
    out = pa.table(cols) if typed else _untyped(t.to_pylist(), props, ends, json_cols)
    return out.combine_chunks(), typed


def _untyped(rows: list[dict], props: dict, ends: tuple, json_cols: set = frozenset()) -> pa.Table:
    """Rows whose values are not all in schema type: each value kept as JSON text of the Python
    value the file holds, for the per-row validator (`_row_props` decodes it)."""
    cols = {c: pa.array([None if r.get(c) is None else str(r.get(c)) for r in rows], pa.string()) for c in ends}
    for p in props.values():
        vals = [r.get(p.name) for r in rows]
        if p.name in json_cols:
            vals = [None if v is None else _json_or_text(v) for v in vals]
        cols[p.name] = pa.array([json.dumps(v) if p.name != "search_key" else None for v in vals], pa.string())
    return pa.table(cols)


_PY = {"string": (str,), "date": (str,), "float": (float, int), "bool": (bool,), "int": (int,)}


def _utf8(s: str) -> bool:
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def table_from_rows(part: Part, rows: list[dict]) -> tuple[pa.Table, bool]:
    """Python rows (dicts of property values, plus `from`/`to` for relationships) in the form
    read_part gives: typed when every value has its schema type, else JSON text for the row check."""
    props = part.props
    ends = ("from", "to") if part.kind == "rel" else ()

    def fits(p: Prop, v) -> bool:   # Arrow cannot hold a lone surrogate: such rows take the row check
        if v is None:
            return True
        if p.type == "list":
            return isinstance(v, list) and all(x is None or (isinstance(x, str) and _utf8(x)) for x in v)
        return isinstance(v, _PY[p.type]) and not (p.type != "bool" and isinstance(v, bool)) and \
            (not isinstance(v, str) or _utf8(v))

    for r in rows:
        for k in r:
            if k not in props and k not in ends:
                raise BulkError(f"{part.path}: column {k!r} is not a property of {part.name}")
    if all(fits(props[k], v) for r in rows for k, v in r.items() if k in props) and \
            all(isinstance(r.get(e), str) for r in rows for e in ends):
        schema = pa.schema([(e, pa.string()) for e in ends] + [(p.name, PA_TYPES[p.type]) for p in props.values()])
        return pa.Table.from_pylist([{k: v for k, v in r.items() if k != "search_key"} for r in rows],
                                    schema=schema), True
    return _untyped(rows, props, ends), False


def _read_csv(part: Part) -> pa.Table:
    import pyarrow.csv as pcsv
    props = part.props
    header = _csv_header(part.path)
    # every cell read as text; read_part casts to the schema types (a cell that does not cast
    # sends the file through the per-row validator, which names the row and field)
    types = {c: pa.string() for c in header}
    try:
        t = pcsv.read_csv(part.path, parse_options=pcsv.ParseOptions(newlines_in_values=True),
                          convert_options=pcsv.ConvertOptions(column_types=types, strings_can_be_null=True,
                                                              quoted_strings_can_be_null=False))
    except pa.ArrowInvalid as e:
        raise BulkError(f"{part.path}: {str(e).splitlines()[0]}") from None
    json_cols = []
    for c in header:  # lists are JSON arrays in a CSV cell
        if c in props and props[c].type == "list":
            raw = _col(t, c).to_pylist()
            try:
                arr = pa.array([None if v is None else json.loads(v) for v in raw], pa.list_(pa.string()))
            except (ValueError, pa.ArrowInvalid, pa.ArrowTypeError):
                json_cols.append(c)  # not lists of strings: the per-row validator says what is wrong
                continue
            t = t.set_column(t.schema.get_field_index(c), c, arr)
    t = t.replace_schema_metadata({"techgiants.json_cols": ",".join(json_cols)})
    return t


# ---------------------------------------------------------------- column checks

def _json_or_text(v: str):
    try:
        return json.loads(v)
    except ValueError:
        return v


def _csv_header(path: Path) -> list[str]:
    import csv
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            return next(csv.reader(f), [])
    except UnicodeDecodeError as e:
        raise BulkError(f"{path}: not UTF-8 ({e.reason})") from None


def _country_codes() -> pa.Array:
    from graph.schema import COUNTRY_CODES   # the validator's own set
    return pa.array(sorted(COUNTRY_CODES))


def _col(t: pa.Table, name: str) -> pa.Array:
    c = t.column(name)
    return c.chunk(0) if c.num_chunks == 1 else c.combine_chunks()


def _text_ok(col, limit: int):
    return pc.and_kleene(pc.less_equal(pc.utf8_length(col), limit), pc.invert(pc.match_substring(col, "\x00")))


def clean_mask(t: pa.Table, part: Part, codes: pa.Array) -> pa.Array:
    """True for rows the column checks prove valid and already normalised; the rest are suspect.
    Never true for a row validate_node/validate_rel would reject or change (tests/test_ingest_bulk.py)."""
    n = t.num_rows
    t = t.combine_chunks()
    ok = pa.array([True] * n, pa.bool_())

    def both(m):
        nonlocal ok
        ok = pc.and_kleene(ok, pc.fill_null(m, False))

    for p in part.props.values():
        col = _col(t, p.name)
        present = pc.is_valid(col)
        if p.required:
            both(present)
        if p.type == "list":
            flat = pc.list_flatten(col)
            parent = pc.list_parent_indices(col)
            bad_item = pc.invert(pc.fill_null(pc.and_kleene(_text_ok(flat, MAX_LIST_ITEM), pc.greater(pc.utf8_length(flat), 0)),
                                              False))
            bad_rows = pc.filter(parent, bad_item)
            if len(flat):  # a repeated item is de-duplicated by the validator: suspect
                g = pa.table({"p": parent, "v": flat}).group_by(["p", "v"]).aggregate([("v", "count")])
                bad_rows = pa.concat_arrays([bad_rows.cast(pa.int64()),
                                             pc.filter(g.column("p"), pc.greater(g.column("v_count"), 1)).combine_chunks().cast(pa.int64())])
            if len(bad_rows):
                both(pc.invert(pc.is_in(pa.array(range(n), pa.int64()), value_set=bad_rows.cast(pa.int64()))))
            continue
        if p.type in ("string", "date"):
            both(pc.or_kleene(pc.invert(present), _text_ok(col, MAX_TEXT.get(p.name, MAX_TEXT_DEFAULT))))
        if p.type == "date":
            good = pc.and_kleene(pc.match_substring_regex(col, _DATE_RE), pc.invert(pc.starts_with(col, "0000")))
            parsed = pc.strptime(col, format="%Y-%m-%d", unit="s", error_is_null=True)
            # strptime rolls 2019-02-30 over to March: the date must print back as it was written
            back = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), col)
            both(pc.or_kleene(pc.invert(present), pc.and_kleene(good, back)))
        if p.type == "float":
            both(pc.or_kleene(pc.invert(present), pc.invert(pc.is_nan(col))))
        if p.range is not None:
            both(pc.or_kleene(pc.invert(present), pc.and_kleene(pc.greater_equal(col, p.range[0]), pc.less_equal(col, p.range[1]))))
        if p.choices:
            both(pc.or_kleene(pc.invert(present), pc.is_in(col, value_set=pa.array(list(p.choices)))))
        if p.format == "country":
            both(pc.or_kleene(pc.invert(present), pc.is_in(col, value_set=codes)))
    if part.kind == "rel":
        names = t.column_names
        if "share_min" in names and "share_max" in names:
            both(pc.invert(pc.fill_null(pc.greater(_col(t, "share_min"), _col(t, "share_max")), False)))
        if SCHEMA.rels[part.name].temporal:
            both(pc.invert(pc.fill_null(pc.less(_col(t, "end"), _col(t, "start")), False)))
        both(pc.is_valid(_col(t, "from")))
        both(pc.is_valid(_col(t, "to")))
    return ok


def validate_table(t: pa.Table, part: Part, typed: bool, codes: pa.Array | None = None
                   ) -> tuple[pa.Array, dict[int, dict], dict[int, tuple]]:
    """Validate a file's rows: (clean mask, {row: normalised props} for suspect rows that pass,
    {row: (field, reason, raw)} for rows that fail). Pure: no store. Suspect rows go through the
    pipeline's validator, so field and reason are exactly what the record pipeline reports."""
    codes = _country_codes() if codes is None else codes
    mask = clean_mask(t, part, codes) if typed else pa.array([False] * t.num_rows, pa.bool_())
    fixed: dict[int, dict] = {}
    bad: dict[int, tuple] = {}
    for i, row in _suspects(t, mask):
        props = _row_props(row, typed)
        try:
            fixed[i] = (validate_node(part.name, props) if part.kind == "node"
                        else validate_rel(part.name, part.src, part.dst, props))
        except SchemaError as e:
            bad[i] = (e.field, str(e), props)
    return mask, fixed, bad


def _row_props(row: dict, typed: bool) -> dict:
    if typed:
        return {k: v for k, v in row.items() if v is not None and k not in ("from", "to", "search_key")}
    return {k: json.loads(v) for k, v in row.items() if v is not None and k not in ("from", "to", "search_key")
            and json.loads(v) is not None}


# ---------------------------------------------------------------- load

@dataclass
class _Checked:
    part: Part
    clean: pa.Table        # rows to COPY (rels: with from/to)
    merge: list[dict]      # rows for upsert_* (node props, or rel rows)
    read: int


def load(store: GraphStore, path: str | os.PathLike, quarantine: str | None = None,
         on_file: Callable[[Part, int], None] | None = None, batch: int = BATCH) -> Report:
    """Validate and load a bulk folder into `store`; rejected rows go to `quarantine` (JSONL, the
    pipeline's format). `on_file(part, rows)` is called after each file is written (progress).
    Raises BulkError, before writing anything, when the folder does not fit the layout; any error
    during the load leaves the store as it was (see the module docstring)."""
    from graph.names import search_key
    parts = scan(path)
    for part in parts:      # names and columns of every file, before any write
        check_columns(part)
    codes = _country_codes()
    report = Report(quarantine_path=quarantine)
    q = Quarantine(quarantine)
    empty = _is_empty(store)
    owner: dict[str, pa.Array] = {}                 # label -> ids loaded under it
    writer = _LadybugWriter(store, batch, parts) if store.kind == "ladybug" else _UndoWriter(store, batch)
    # search_key's per-row dicts and strings would make the cycle collector walk the growing key
    # list over and over (6% of a 1M load): collect less often while we run, as the pipeline does
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], GC_THRESHOLD), *threshold[1:])
    try:
        with writer:
            for part in parts:   # one file in memory at a time: read, check, write, let go
                t, typed = read_part(part)
                if part.kind == "node":
                    ch = _check_nodes(store, part, t, typed, codes, owner, report, q, empty, search_key)
                else:
                    ch = _check_rels(store, part, t, typed, codes, owner, report, q, empty)
                del t
                writer.write(ch, report)
                if on_file:
                    on_file(part, ch.read)
    finally:
        gc.set_threshold(*threshold)
        q.close()
    return report


def check_columns(part: Part) -> None:
    """The file's column names fit its label or type (read from the Parquet footer or CSV header)."""
    if part.path.suffix == ".parquet":
        import pyarrow.parquet as pq
        try:
            names = pq.read_schema(part.path).names
        except (pa.ArrowInvalid, OSError) as e:
            raise BulkError(f"{part.path}: not a readable Parquet file ({str(e).splitlines()[0]})") from None
    else:
        names = _csv_header(part.path)
    props = part.props
    ends = ("from", "to") if part.kind == "rel" else ()
    for c in names:
        if c not in props and c not in ends:
            raise BulkError(f"{part.path}: column {c!r} is not a property of {part.name}")
    for c in (*ends, "id"):
        if c not in names:
            raise BulkError(f"{part.path}: column {c!r} missing")


def _is_empty(store: GraphStore) -> bool:
    for label in SCHEMA.labels:
        if store.read(_q("MATCH (n:{L}) RETURN n.id LIMIT 1", L=label)).rows:
            return False
    return True


def _reject(report: Report, q: Quarantine, key: str, part: Part, row: int, field, reason: str, raw=None) -> None:
    report.rejected[key] += 1
    q.add(Rejected(str(part.path), str(row), field, reason, raw=raw))


def _suspects(t: pa.Table, mask: pa.Array) -> list[tuple[int, dict]]:
    """(row index, row) where the clean mask is false."""
    return _rows_where(t, pc.invert(mask))


def _rows_where(t: pa.Table, m: pa.Array) -> list[tuple[int, dict]]:
    idx = pc.indices_nonzero(m).to_pylist()
    if not idx:
        return []
    rows = t.take(pa.array(idx, pa.int64())).to_pylist()
    return list(zip(idx, rows))


def _member(col: pa.Array, ids: pa.Array) -> pa.Array:
    """col's values that are among `ids` (a null is not), as a boolean array. `is_in` hashes its
    value set on every call: against the million ids of a label that is ~0.3 s each time, paid per
    file and per end. When `ids` is the bigger side, hash the column's distinct values instead,
    probe them with `ids`, and look col up among the few that were found."""
    if len(ids) > 4 * len(col):
        distinct = pc.unique(pc.drop_null(col))
        ids = pc.filter(ids, pc.is_in(ids, value_set=distinct))
    return pc.fill_null(pc.is_in(col, value_set=ids), False)


def _check_nodes(store, part, t, typed, codes, owner, report, q, empty, search_key) -> _Checked:
    label = part.name
    report.read[label] += t.num_rows
    mask, fixed, bad = validate_table(t, part, typed, codes)
    for i, (field, reason, raw) in bad.items():
        _reject(report, q, label, part, i + 1, field, reason, raw=raw)
    ids = _col(t, "id") if typed else pa.array([fixed[i]["id"] if i in fixed else None
                                                for i in range(t.num_rows)], pa.string())
    # one id, one node: ids loaded under an earlier label, or stored under another label, are refused
    clash: dict[str, str] = {}
    for ol, oids in owner.items():
        hit = _member(ids, oids)
        for v in pc.filter(ids, hit).to_pylist():
            clash.setdefault(v, f"id {v} is already a {ol} in this input; one id, one node")
    stored_same: set[str] = set()
    if not empty:
        stored = store.labels_of(pc.unique(pc.drop_null(ids)).to_pylist())
        for v, sl in stored.items():
            if sl != label:
                clash.setdefault(v, f"id {v} is already a {sl}; one id, one node")
            else:
                stored_same.add(v)
    # duplicates within the file merge on the upsert path
    vc = pc.value_counts(pc.drop_null(ids))
    dups = pc.filter(vc.field("values"), pc.greater(vc.field("counts"), 1))
    merge_ids = set(dups.to_pylist()) | stored_same
    merge_mask = pc.fill_null(pc.is_in(ids, value_set=pa.array(list(merge_ids), pa.string())), False) \
        if merge_ids else pa.array([False] * t.num_rows, pa.bool_())
    if clash:
        for i in pc.indices_nonzero(pc.fill_null(pc.is_in(ids, value_set=pa.array(list(clash), pa.string())), False)).to_pylist():
            v = ids[i].as_py()
            if i in fixed or mask[i].as_py():
                _reject(report, q, label, part, i + 1, "id", clash[v])
                fixed.pop(i, None)
        mask = pc.and_kleene(mask, pc.invert(pc.fill_null(pc.is_in(ids, value_set=pa.array(list(clash), pa.string())), False)))
    copy_mask = pc.and_kleene(mask, pc.invert(merge_mask))
    merge_rows: list[dict] = []
    for i, row in _rows_where(t, pc.and_kleene(mask, merge_mask)):  # clean rows that merge
        merge_rows.append((i, _row_props(row, typed)))
    merge_rows.extend(fixed.items())
    merge_rows.sort(key=lambda x: x[0])                 # file order: later scalars win, as in the pipeline
    clean = t if pc.all(copy_mask).as_py() else t.filter(copy_mask)
    if "search_key" in part.props and clean.num_rows:
        keys: list[str] = []
        for b in clean.select([c for c in ("name", "aliases", "name_zh") if c in clean.column_names]).to_batches(50_000):
            keys.extend(search_key(r) for r in b.to_pylist())
        clean = clean.set_column(clean.schema.get_field_index("search_key"), "search_key", pa.array(keys, pa.string()))
    loaded = pc.drop_null(pa.concat_arrays([_col(clean, "id"),
                                            pa.array([r["id"] for _, r in merge_rows], pa.string())]))
    owner[label] = pa.concat_arrays([owner[label], loaded]) if label in owner else loaded
    return _Checked(part, clean, [r for _, r in merge_rows], t.num_rows)


def _check_rels(store, part, t, typed, codes, owner, report, q, empty) -> _Checked:
    rtype = part.name
    report.read[rtype] += t.num_rows
    mask, fixed, invalid = validate_table(t, part, typed, codes)
    # ends: in the load under the file's label, else in the store
    have = {}
    for end, label in (("from", part.src), ("to", part.dst)):
        col = _col(t, end)
        ok = _member(col, owner.get(label, pa.array([], pa.string())))
        if not empty:
            missing = pc.unique(pc.drop_null(pc.filter(col, pc.invert(ok)))).to_pylist()
            if missing:
                found = [i for i, l in store.labels_of(missing).items() if l == label]
                if found:
                    ok = pc.or_kleene(ok, pc.fill_null(pc.is_in(col, value_set=pa.array(found, pa.string())), False))
        have[end] = ok
    ends_ok = pc.and_kleene(have["from"], have["to"])
    rows_out: list[tuple[int, dict]] = []
    bad = pc.invert(pc.and_kleene(mask, ends_ok))
    for i, row in _rows_where(t, bad):
        if not (have["from"][i].as_py() and have["to"][i].as_py()):  # the pipeline checks ends first
            missing = [e for e, end in ((row["from"], "from"), (row["to"], "to")) if not have[end][i].as_py()]
            _reject(report, q, rtype, part, i + 1, "src" if not have["from"][i].as_py() else "dst",
                    f"{rtype} points to {', '.join(str(m) for m in missing)}, which is not in the graph")
        elif i in invalid:
            _reject(report, q, rtype, part, i + 1, *invalid[i][:2], raw=invalid[i][2])
        elif i in fixed:
            rows_out.append((i, {"src": row["from"], "src_label": part.src, "dst": row["to"], "dst_label": part.dst,
                                 "props": fixed[i]}))
    good = pc.and_kleene(mask, ends_ok)
    ids = _col(t, "id")
    vc = pc.value_counts(pc.drop_null(ids))
    merge_ids = set(pc.filter(vc.field("values"), pc.greater(vc.field("counts"), 1)).to_pylist())
    if not empty:
        stored = store.read(_q("MATCH ()-[e:{T}]->() RETURN DISTINCT e.id", T=rtype)).rows
        merge_ids |= {r[0] for r in stored} & set(pc.unique(ids).to_pylist())
    merge_mask = pc.fill_null(pc.is_in(ids, value_set=pa.array(list(merge_ids), pa.string())), False) \
        if merge_ids else pa.array([False] * t.num_rows, pa.bool_())
    for i, row in _rows_where(t, pc.and_kleene(good, merge_mask)):
        rows_out.append((i, {"src": row["from"], "src_label": part.src, "dst": row["to"], "dst_label": part.dst,
                             "props": _row_props(row, typed)}))
    rows_out.sort(key=lambda x: x[0])
    keep = pc.and_kleene(good, pc.invert(merge_mask))
    clean = t if pc.all(keep).as_py() else t.filter(keep)
    return _Checked(part, clean, [r for _, r in rows_out], t.num_rows)


# ---------------------------------------------------------------- write

class _LadybugWriter:
    """One transaction around every write of the load: all or nothing (COPY is allowed inside a
    manual transaction; a failed COPY aborts the whole transaction itself).

    COPY only goes into tables that were empty when the load began: ROLLBACK of a COPY into a table
    holding committed rows corrupts Ladybug's heap (0.22: the process crashes on close; reproduced
    with plain COPY FROM $arrow + ROLLBACK). New rows for such tables take the store's upsert, in
    batches below the store's own COPY thresholds so that it writes with LOAD FROM + CREATE."""

    def __init__(self, store, batch: int, parts: list[Part] = ()):
        from graph.stores import ladybug as lb
        self.store, self.batch = store, batch
        self.touched = list(dict.fromkeys(p.name for p in parts))
        self.fresh = False
        self.node_batch = min(batch, getattr(lb, "COPY_THRESHOLD", batch + 1) - 1)
        self.rel_batch = min(batch, getattr(lb, "REL_COPY_THRESHOLD", batch + 1) - 1)
        self.empty: set[str] = set()

    def __enter__(self):
        s = self.store
        for label in SCHEMA.labels:
            if not s.conn.execute(_q("MATCH (n:{L}) RETURN 1 LIMIT 1", L=label)).get_all():
                self.empty.add(label)
        for rtype in SCHEMA.rel_types:
            if not s.conn.execute(_q("MATCH ()-[e:{T}]->() RETURN 1 LIMIT 1", T=rtype)).get_all():
                self.empty.add(rtype)
        # every table this load writes is empty: a first load. One big transaction would stage the
        # whole load in memory (1M companies: +3 GB peak, +25 CPU-s at COMMIT), so each COPY commits
        # on its own and a failure empties the touched tables again, which restores them exactly
        self.fresh = bool(self.touched) and all(t in self.empty for t in self.touched)
        if self.fresh:
            return self
        # otherwise one transaction for the whole load: upserts write inside it
        self.tx = s.batch_transaction()
        self.tx.__enter__()
        return self

    def write(self, ch: "_Checked", report: Report) -> None:
        part, t = ch.part, ch.clean
        # store.read() (lookups during the checks) leaves its query timeout on the connection: a
        # COPY of a million rows must not be interrupted by it
        self.store.conn.set_query_timeout(0)
        if t.num_rows and part.name in self.empty:
            if part.kind == "node":
                self.store.conn.execute(_q("COPY {L} FROM $t", L=part.name), {"t": t})
            else:
                self.store.conn.execute(_q("COPY {T} FROM $t", T=part.name) + f" (from='{part.src}', to='{part.dst}')",
                                        {"t": t.select(["from", "to", *part.props])})
            report.written[part.name].created += t.num_rows
        elif t.num_rows:
            _upsert_table(self.store, part, t, report, self.node_batch if part.kind == "node" else self.rel_batch)
        _upsert(self.store, ch, report, self.node_batch if part.kind == "node" else self.rel_batch)

    def __exit__(self, exc_type, exc, tb):
        s = self.store
        if self.fresh:
            if exc_type is not None:
                s.conn.set_query_timeout(0)
                for name in reversed(self.touched):   # relationships first, then their nodes
                    if name in SCHEMA.rels:
                        s.conn.execute(_q("MATCH ()-[e:{T}]->() DELETE e", T=name))
                for name in self.touched:
                    if name in SCHEMA.nodes:
                        s.conn.execute(_q("MATCH (n:{L}) DETACH DELETE n", L=name))
            s._release_params()
            return False
        self.tx.__exit__(exc_type, exc, tb)   # COMMIT, or ROLLBACK and the error goes on
        return False


def _upsert_table(store, part: Part, t: pa.Table, report: Report, batch: int) -> None:
    """Clean rows through store.upsert_* in batches."""
    for b in t.to_batches(batch):
        rows = b.to_pylist()
        if part.kind == "node":
            c = store.upsert_nodes(part.name, [_row_props(r, True) for r in rows])
        else:
            c = store.upsert_rels(part.name, [{"src": r["from"], "src_label": part.src, "dst": r["to"],
                                               "dst_label": part.dst, "props": _row_props(r, True)} for r in rows])
        report.written[part.name].add(c)


class _UndoWriter:
    """Neo4j: upserts in large batches, each its own transaction; on failure, undo: delete the
    nodes and relationships this load created and write back the pre-images of the ones it merged."""

    def __init__(self, store, batch: int):
        self.store, self.batch = store, batch
        self.created_nodes: dict[str, list[str]] = {}
        self.before_nodes: dict[str, dict[str, dict]] = {}
        self.created_rels: list[str] = []
        self.before_rels: dict[str, list[dict]] = {}

    def __enter__(self):
        return self

    def write(self, ch: "_Checked", report: Report) -> None:
        s, part = self.store, ch.part
        if part.kind == "node":
            ids = list(dict.fromkeys(_col(ch.clean, "id").to_pylist() + [r["id"] for r in ch.merge]))
            old = s._fetch_nodes(part.name, ids) if ids else {}
            seen = self.before_nodes.setdefault(part.name, {})
            for k, v in old.items():
                seen.setdefault(k, v)
            self.created_nodes.setdefault(part.name, []).extend(i for i in ids if i not in old and i not in seen)
        else:
            self.created_rels.extend(_col(ch.clean, "id").to_pylist())  # new by construction
            if ch.merge:
                old = s._fetch_rels(part.name, ch.merge)
                self.created_rels.extend(r["props"]["id"] for r in ch.merge if r["props"]["id"] not in old)
                self.before_rels.setdefault(part.name, []).extend(
                    {**r, "props": old[r["props"]["id"]]} for r in ch.merge if r["props"]["id"] in old)
        _upsert_table(s, part, ch.clean, report, self.batch)
        _upsert(s, ch, report, self.batch)

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            return False
        s = self.store
        for rid in dict.fromkeys(self.created_rels):
            s.delete_rel(rid)
        for rtype, rows in self.before_rels.items():
            s._write(rtype, True, [], rows)
        for label, ids in self.created_nodes.items():
            s.delete_nodes(label, list(dict.fromkeys(ids)))
        for label, old in self.before_nodes.items():
            if old:
                s._write(label, False, [], list(old.values()))
        return False


def _upsert(store, ch: "_Checked", report: Report, batch: int) -> None:
    """Rows that merge (ids repeated in the load or already stored) and rows the validator
    normalised: the store's own upsert, the record pipeline's merge semantics."""
    part = ch.part
    for i in range(0, len(ch.merge), batch):
        rows = ch.merge[i:i + batch]
        report.written[part.name].add(store.upsert_nodes(part.name, rows) if part.kind == "node"
                                      else store.upsert_rels(part.name, rows))


# ---------------------------------------------------------------- writing the layout

def write_folder(records, folder: str | os.PathLike, fmt: str = "parquet") -> list[Path]:
    """Write export records ({"node": label, "props"} / {"rel": type, "src", "src_label", "dst",
    "dst_label", "props"}, as GraphStore.iter_export yields them) as a bulk folder. Returns the files."""
    nodes: dict[str, list[dict]] = {}
    rels: dict[tuple[str, str, str], list[dict]] = {}
    for r in records:
        if "node" in r:
            nodes.setdefault(r["node"], []).append(r["props"])
        else:
            rels.setdefault((r["rel"], r["src_label"], r["dst_label"]), []).append(
                {"from": r["src"], "to": r["dst"], **r["props"]})
    root = Path(folder)
    out = []
    for sub, groups in (("nodes", {(k,): v for k, v in nodes.items()}), ("rels", rels)):
        (root / sub).mkdir(parents=True, exist_ok=True)
        for key, rows in groups.items():
            props = SCHEMA.nodes[key[0]].props if sub == "nodes" else SCHEMA.rels[key[0]].props
            fields = ([("from", pa.string()), ("to", pa.string())] if sub == "rels" else []) + \
                     [(p.name, PA_TYPES[p.type]) for p in props.values() if not p.internal]
            t = pa.Table.from_pylist(rows, schema=pa.schema(fields))
            path = root / sub / f"{'__'.join(key)}.{fmt}"
            if fmt == "parquet":
                import pyarrow.parquet as pq
                pq.write_table(t, path)
            else:
                write_csv(t, path)
            out.append(path)
    return out


def write_csv(t: pa.Table, path: str | os.PathLike) -> None:
    """The CSV form of the layout: a header of property names; strings quoted (an unquoted empty
    cell is null, `""` the empty string); booleans true/false; lists as JSON arrays."""
    def cell(v) -> str:
        if v is None:
            return ""
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return repr(v)
        if isinstance(v, list):
            v = json.dumps(v, ensure_ascii=False)
        return '"' + str(v).replace('"', '""') + '"'
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(t.column_names) + "\n")
        for row in t.to_pylist():
            f.write(",".join(cell(v) for v in row.values()) + "\n")

