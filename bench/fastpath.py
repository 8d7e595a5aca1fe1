"""A columnar ingest prototype (bench only): what the pipeline could do for big batches of new
records, to measure how close to the store's raw COPY a validated load can get.

Input: Arrow tables per label and per (type, from, to), as a bulk ingester could produce them
(bench/generate.py's layout). Steps, all vectorised with pyarrow.compute:
- validation against graph/schema.yaml: required properties present, `choices`, `range`,
  ISO dates (YYYY-MM-DD that parse), country codes, no duplicate ids in a batch, relationship
  ends present among the loaded nodes; failing rows are counted as rejected (the real thing
  would quarantine them with the field and reason, as ingest.pipeline does);
- search_key computed per node with the word-cached normaliser of bench/searchkey_fast.py
  (equal to graph.names.search_key on every name we tried), or kept when given;
- new nodes and relationships written with `COPY ... FROM $arrow_table` (relationships too:
  today LadybugStore only COPYs nodes, and creates relationships with LOAD FROM + MATCH + CREATE).

It only handles a fresh (or disjoint) load: merging with existing nodes stays on the existing
upsert path. Not a store change: it drives the LadybugStore connection directly.
"""
from __future__ import annotations

import time
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from graph.schema import SCHEMA


def _country_codes() -> pa.Array:
    import pycountry
    return pa.array(sorted({c.alpha_2 for c in pycountry.countries} | {"XK", "EU", "ZZ"}))


def validate(t: pa.Table, props: dict, codes: pa.Array) -> tuple[pa.Array, dict[str, int]]:
    """A boolean mask of valid rows and rejected counts per property."""
    mask = None
    bad: dict[str, int] = {}

    def add(name: str, valid):
        nonlocal mask
        valid = pc.fill_null(valid, False)
        n = t.num_rows - pc.sum(pc.cast(valid, pa.int64())).as_py() if t.num_rows else 0
        if n:
            bad[name] = n
        mask = valid if mask is None else pc.and_kleene(mask, valid)

    for p in props.values():
        if p.name not in t.column_names:
            if p.required:
                add(p.name, pa.array([False] * t.num_rows))
            continue
        col = t.column(p.name)
        present = pc.is_valid(col)
        if p.required:
            add(p.name, present if p.type != "list" else pc.and_kleene(present, pc.greater(pc.list_value_length(col), 0)))
        if p.type == "date":
            parsed = pc.strptime(col, format="%Y-%m-%d", unit="s", error_is_null=True)
            add(p.name, pc.or_kleene(pc.invert(present), pc.and_kleene(pc.is_valid(parsed),
                                                           pc.equal(pc.utf8_length(col), 10))))
        if p.type == "float":
            v = pc.or_kleene(pc.invert(present), pc.invert(pc.is_nan(col)))
            if p.range is not None:
                v = pc.and_kleene(v, pc.or_kleene(pc.invert(present), pc.and_kleene(pc.greater_equal(col, p.range[0]),
                                                                    pc.less_equal(col, p.range[1]))))
            add(p.name, v)
        if p.choices:
            add(p.name, pc.or_kleene(pc.invert(present), pc.is_in(col, value_set=pa.array(list(p.choices)))))
        if p.format == "country":
            add(p.name, pc.or_kleene(pc.invert(present), pc.is_in(pc.utf8_upper(col), value_set=codes)))
    if "id" in t.column_names and t.num_rows:
        if pc.count_distinct(t.column("id")).as_py() != t.num_rows:
            bad["id (duplicate in batch: merge on the upsert path)"] = t.num_rows
            mask = pa.array([False] * t.num_rows)
    return (mask if mask is not None else pa.array([True] * t.num_rows, pa.bool_())), bad


def fast_load(store, nodes: dict[str, pa.Table], rels: dict[str, list[tuple[str, str, pa.Table]]],
              recompute_search_key: bool = True) -> dict[str, Any]:
    """Validate and COPY a fresh graph into a LadybugStore. Returns timings and counts."""
    from bench.searchkey_fast import fast_search_key
    codes = _country_codes()
    out: dict[str, Any] = {"rejected": {}, "validate_s": 0.0, "search_key_s": 0.0, "copy_nodes_s": 0.0,
                           "copy_rels_s": 0.0, "nodes": 0, "rels": 0}
    ids: dict[str, pa.Array] = {}
    for label, t in nodes.items():
        props = SCHEMA.nodes[label].props
        t0 = time.perf_counter()
        mask, bad = validate(t, props, codes)
        if bad:
            out["rejected"][label] = bad
            t = t.filter(mask)
        out["validate_s"] += time.perf_counter() - t0
        if "search_key" in props and t.num_rows and recompute_search_key:
            t0 = time.perf_counter()
            cols = [c for c in ("name", "aliases", "name_zh") if c in t.column_names]
            keys = []
            for b in t.select(cols).to_batches(100_000):
                keys += [fast_search_key(r) for r in b.to_pylist()]
            t = t.set_column(t.schema.get_field_index("search_key"), "search_key", pa.array(keys, pa.string()))
            out["search_key_s"] += time.perf_counter() - t0
        ids[label] = t.column("id").combine_chunks() if t.num_rows else pa.array([], pa.string())
        if t.num_rows:
            t0 = time.perf_counter()
            store.conn.execute(f"COPY `{label}` FROM $t", {"t": t})
            out["copy_nodes_s"] += time.perf_counter() - t0
            out["nodes"] += t.num_rows
    for rtype, parts in rels.items():
        props = SCHEMA.rels[rtype].props
        for sl, dl, t in parts:
            t0 = time.perf_counter()
            mask, bad = validate(t, props, codes)
            ends = pc.and_kleene(pc.is_in(t.column("from"), value_set=ids.get(sl, pa.array([], pa.string()))),
                           pc.is_in(t.column("to"), value_set=ids.get(dl, pa.array([], pa.string()))))
            miss = t.num_rows - pc.sum(pc.cast(ends, pa.int64())).as_py() if t.num_rows else 0
            if miss:
                bad["src/dst not in the graph"] = miss
            mask = pc.and_kleene(mask, ends) if mask is not None else ends
            if bad:
                out["rejected"][f"{rtype} {sl}->{dl}"] = bad
                t = t.filter(mask)
            out["validate_s"] += time.perf_counter() - t0
            if t.num_rows:
                t0 = time.perf_counter()
                store.conn.execute(f"COPY `{rtype}` FROM $t (from='{sl}', to='{dl}')", {"t": t})
                out["copy_rels_s"] += time.perf_counter() - t0
                out["rels"] += t.num_rows
    for k in ("validate_s", "search_key_s", "copy_nodes_s", "copy_rels_s"):
        out[k] = round(out[k], 3)
    return out
