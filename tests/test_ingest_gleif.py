"""GLEIF ingester: relationship records in the golden-copy CSV and the API JSON layouts, Level 1 names.

The fixtures are fictional entities with valid LEI check digits, in the public GLEIF formats.
"""
from __future__ import annotations

import os
from pathlib import Path

from graph.schema import validate_node, validate_rel
from ingest import gleif
from ingest.records import Node, Rejected, Rel

FIX = Path(__file__).parent / "fixtures" / "gleif"
PARENT, SUB, ULT = "5299000TGPARENT00109", "5299000TGSUBSID00225", "5299000TGULTIMA00389"
BRANCH, OLD, FUND = "5299000TGBRANCH00433", "5299000TGOLDSUB00574", "5299000TGFUNDXX00745"


def split(records):
    records = list(records)
    return ([r for r in records if isinstance(r, Node)], [r for r in records if isinstance(r, Rel)],
            [r for r in records if isinstance(r, Rejected)])


def check_invariants(records, placeholders=True):
    nodes, rels, rejected = split(records)
    ids = {n.id for n in nodes}
    sources = {n.id for n in nodes if n.label == "Source"}
    for n in nodes:
        validate_node(n.label, n.props)
        assert set(n.props["sources"]) <= sources, n
    for r in rels:
        validate_rel(r.type, r.src_label, r.dst_label, r.props)
        if placeholders:
            assert r.src in ids and r.dst in ids, r
    for r in rejected:
        assert r.file and r.record and r.field and r.reason, r


def edges(rels):
    return {(r.type, r.src.removeprefix("lei:"), r.dst.removeprefix("lei:"), r.props.get("direct"),
             r.props.get("start"), r.props.get("end")) for r in rels}


EXPECTED = {
    ("OWNS", PARENT, SUB, True, "2015-03-01", None),        # IS_DIRECTLY_CONSOLIDATED_BY: parent owns child
    ("OWNS", ULT, SUB, False, "2015-03-01", None),          # IS_ULTIMATELY_CONSOLIDATED_BY: direct false
    ("OWNS", ULT, PARENT, True, "2010-01-01", None),        # timestamp with +08:00 keeps its date
    ("OWNS", ULT, PARENT, False, "2010-01-01", None),       # direct and ultimate parent: two facts
    ("PART_OF", BRANCH, PARENT, None, "2019-07-15", None),  # branch is part of its head office
    ("OWNS", PARENT, OLD, True, "2012-05-01", "2020-06-30"),  # INACTIVE with an end date: kept, ended
}


def test_golden_copy_csv():
    records = list(gleif.parse(FIX / "rr-golden-copy.csv"))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    assert rejected == []
    assert edges(rels) == EXPECTED
    assert all("share" not in r.props for r in rels)  # consolidation is not a percentage
    companies = {n.id: n for n in nodes if n.label == "Company"}
    assert set(companies) == {f"lei:{x}" for x in (PARENT, SUB, ULT, BRANCH, OLD)}
    # without Level 1 data a node is named by its LEI and carries it as identifier
    assert companies[f"lei:{SUB}"].props["name"] == SUB
    assert companies[f"lei:{SUB}"].props["identifiers"] == [f"lei:{SUB}"]
    [src] = [n for n in nodes if n.label == "Source"]
    assert src.props["kind"] == "registry" and "Legal Entity Identifier" in src.props["publisher"]


def test_level1_names_label_the_nodes():
    nodes, rels, _ = split(gleif.parse(FIX / "rr-golden-copy.csv", names=FIX / "lei2-level1.csv"))
    nodes = {n.id: n for n in nodes}
    parent = nodes[f"lei:{PARENT}"]
    assert parent.props["name"] == "Example Parent Technology Co., Ltd."
    assert parent.props["name_zh"] == "示例母公司科技有限公司" and parent.props["country"] == "CN"
    assert parent.props["founded"] == "2001-04-18"
    assert nodes[f"lei:{SUB}"].props["country"] == "HK"
    assert nodes[f"lei:{BRANCH}"].props["name"] == BRANCH  # no Level 1 record for it
    # a Level 1 file on its own yields named nodes; category FUND -> Fund
    nodes, rels, rejected = split(gleif.parse(FIX / "lei2-level1.csv"))
    assert rels == [] and rejected == []
    assert {n.id: n.label for n in nodes if n.label != "Source"} == {
        f"lei:{PARENT}": "Company", f"lei:{SUB}": "Company", f"lei:{ULT}": "Company", f"lei:{FUND}": "Fund"}


def test_api_json_both_spellings_and_included_names():
    records = list(gleif.parse(FIX / "rr-api.json"))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    assert rejected == []
    assert edges(rels) == {e for e in EXPECTED if e[2] != PARENT or e[0] == "PART_OF"}
    nodes = {n.id: n for n in nodes}
    assert nodes[f"lei:{PARENT}"].props["name"] == "Example Parent Technology Co., Ltd."  # from `included`
    assert nodes[f"lei:{ULT}"].props["name"] == ULT


def test_bad_rows_are_rejected_with_the_column():
    records = list(gleif.parse(FIX / "rr-bad-rows.csv", names=FIX / "lei2-level1.csv"))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    assert [(r.record, r.field) for r in rejected] == [
        ("line 2", "Relationship.RelationshipStatus"),  # INACTIVE, no end date
        ("line 3", "Registration.RegistrationStatus"),  # ANNULLED
        ("line 4", "Relationship.StartNode.NodeID"),    # LEI check digits
        ("line 5", "Relationship.RelationshipType"),    # unknown type
        ("line 6", "Relationship.Period.1.startDate"),  # "10/9/19"
    ]
    assert "10/9/19" in rejected[-1].reason
    [rel] = rels
    assert (rel.src, rel.dst, rel.dst_label) == (f"lei:{ULT}", f"lei:{FUND}", "Fund")


def test_missing_columns_is_one_reject_naming_them():
    [rej] = list(gleif.parse(FIX / "rr-missing-columns.csv"))
    assert rej.record == "file"
    assert rej.field == "Relationship.EndNode.NodeID, Relationship.RelationshipType"
    assert "Relationship.EndNode.NodeID" in rej.reason


def test_without_placeholders_only_named_leis_become_nodes():
    records = list(gleif.parse(FIX / "rr-golden-copy.csv", names=FIX / "lei2-level1.csv", placeholders=False))
    check_invariants(records, placeholders=False)
    nodes, rels, _ = split(records)
    assert {n.id for n in nodes if n.label != "Source"} == {f"lei:{x}" for x in (PARENT, SUB, ULT)}
    assert edges(rels) == EXPECTED


def test_folder_uses_the_level1_files_it_contains():
    nodes, rels, rejected = split(gleif.parse(FIX))
    named = {n.id: n.props["name"] for n in nodes if n.label != "Source"}
    assert named[f"lei:{SUB}"] == "Example Subsidiary (Hong Kong) Limited"
    assert {r.file.rsplit("/", 1)[-1] for r in rejected} == {"rr-bad-rows.csv", "rr-missing-columns.csv"}


def test_parse_is_deterministic():
    for name in ("rr-golden-copy.csv", "rr-api.json", "rr-bad-rows.csv", "lei2-level1.csv"):
        assert list(gleif.parse(FIX / name)) == list(gleif.parse(FIX / name))


# ---------------------------------------------------------------- never raise on a bad record

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_any = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3),
                    max_leaves=8)
_rel = st.fixed_dictionaries({"type": st.sampled_from(["relationship-records", "lei-records"]) | _any}, optional={
    "attributes": st.fixed_dictionaries({}, optional={
        "relationship": st.fixed_dictionaries({}, optional={
            "startNode": st.fixed_dictionaries({"id": st.sampled_from([PARENT, SUB, "bad"]) | _any}) | _any,
            "endNode": st.fixed_dictionaries({"id": st.sampled_from([PARENT, ULT]) | _any}) | _any,
            "type": st.sampled_from(list(gleif.PARENT_TYPES) + [gleif.BRANCH_TYPE]) | _any,
            "status": st.sampled_from(["ACTIVE", "INACTIVE"]) | _any,
            "periods": st.lists(st.fixed_dictionaries({}, optional={
                "startDate": _any, "endDate": _any, "type": st.just("RELATIONSHIP_PERIOD") | _any}), max_size=2) | _any,
        }) | _any,
        "lei": _any, "entity": _any, "registration": _any}) | _any})


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_rel | _any, max_size=5))
def test_arbitrary_api_records_never_raise(items):
    import json
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "fuzz.json"
        p.write_text(json.dumps({"data": items}), encoding="utf-8")
        records = list(gleif.parse(p))
    assert all(isinstance(r, (Node, Rel, Rejected)) for r in records)
    assert all(r.record and r.field for r in records if isinstance(r, Rejected))
