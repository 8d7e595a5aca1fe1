"""BODS ingester: every openownership 0.4 example reads without a reject and with the stated shares;
fixtures for bad statements and the 0.2/0.3 layout."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from graph.schema import validate_node, validate_rel
from ingest import bods
from ingest.records import Node, Rejected, Rel

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "bods-examples"
FIX = Path(__file__).parent / "fixtures" / "bods"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared data not available")
EXAMPLES = sorted(DATA.glob("*.json")) if DATA.is_dir() else []


def split(records):
    records = list(records)
    return ([r for r in records if isinstance(r, Node)], [r for r in records if isinstance(r, Rel)],
            [r for r in records if isinstance(r, Rejected)])


def check_invariants(records):
    nodes, rels, rejected = split(records)
    ids = {n.id for n in nodes}
    sources = {n.id for n in nodes if n.label == "Source"}
    for n in nodes:
        validate_node(n.label, n.props)
        assert set(n.props["sources"]) <= sources, n
    for r in rels:
        validate_rel(r.type, r.src_label, r.dst_label, r.props)
        assert r.src in ids and r.dst in ids, r
    for r in rejected:
        assert r.file and r.record and r.field and r.reason, r


def load(name):
    return split(bods.parse(DATA / name))


def owns(rels, src, dst):
    return sorted((r for r in rels if r.type == "OWNS" and r.src == f"bods:{src}" and r.dst == f"bods:{dst}"),
                  key=lambda r: r.props.get("start") or "")


# ---------------------------------------------------------------- the examples

@needs_data
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_reads_without_rejects(path):
    records = list(bods.parse(path))
    check_invariants(records)
    assert split(records)[2] == []
    assert records == list(bods.parse(path))  # deterministic


@needs_data
def test_indirect_ownership_values():
    nodes, rels, _ = load("indirect-ownership.json")
    # Company B holds 60 % of Company A directly
    [b_a] = owns(rels, "d4ab89ea169a", "ad3f6c2fcc9e")
    assert (b_a.props["share"], b_a.props["direct"], b_a.props["start"]) == (0.6, True, "2017-11-01")
    # Person 1 holds 30 % of Company A indirectly
    [p_a] = owns(rels, "c25d4d612c2c", "ad3f6c2fcc9e")
    assert (p_a.props["share"], p_a.props["direct"], p_a.props["start"]) == (0.3, False, "2017-11-01")
    # Person 1's interest in B has no type: an unknownInterest role, not a stake
    [link] = [r for r in rels if r.src == "bods:c25d4d612c2c" and r.dst == "bods:d4ab89ea169a"]
    assert (link.type, link.props["role"]) == ("OFFICER_OF", "unknownInterest")
    person = {n.id: n for n in nodes}["bods:c25d4d612c2c"]
    assert "birth_date" not in person.props and person.props["description"] == "birth date 1965-11"


@needs_data
def test_multiple_indirect_ownership_values():
    _, rels, _ = load("multiple-indirect-ownership.json")
    for owner in ("d177864a8b39", "05fbbfb94b79"):  # Companies C and D, 50 % each of B
        [r] = owns(rels, owner, "63e3a8a8946f")
        assert (r.props["share"], r.props["direct"]) == (0.5, True)
    [p] = owns(rels, "92ebf964a1f6", "63e3a8a8946f")
    assert (p.props["share"], p.props["direct"]) == (0.6, False)


@needs_data
def test_mixed_direct_and_indirect():
    _, rels, _ = load("mixed-direct-and-indirect-ownership.json")
    got = [(r.props["share"], r.props["direct"], r.props["start"]) for r in owns(rels, "53508b65253f", "9bfe59b6a869")]
    assert got == [(0.5, False, "2017-11-01"), (0.5, True, "2019-05-01")]


@needs_data
def test_share_range_and_state_ownership():
    _, rels, _ = load("bods-package-entity-owning-entity.json")
    [r] = rels
    assert (r.props["share_min"], r.props["share_max"], r.props["direct"]) == (0.75, 1.0, True)
    assert "share" not in r.props
    nodes, rels, _ = load("bods-package-fi-soe.json")
    nodes = {n.id: n for n in nodes}
    assert nodes["bods:7ff95ba3682c"].label == "GovernmentBody" and nodes["bods:7ff95ba3682c"].props["kind"] == "ministry"
    assert nodes["bods:05ce06ec97b1"].props["level"] == "national"
    [state] = owns(rels, "05ce06ec97b1", "19f1c5afe9d7")
    assert (state.props["share"], state.props["direct"]) == (1.0, False)
    assert [owns(rels, "0199c515a699", "19f1c5afe9d7")[0].props["share"],
            owns(rels, "7ff95ba3682c", "19f1c5afe9d7")[0].props["share"]] == [0.765, 0.235]
    [part] = [r for r in rels if r.type == "PART_OF"]  # the state controls the ministry
    assert (part.src, part.dst, part.props["kind"]) == ("bods:7ff95ba3682c", "bods:05ce06ec97b1",
                                                        "otherInfluenceOrControl")


@needs_data
def test_updates_become_a_dated_history():
    _, rels, _ = load("tecido.json")
    maria = [(r.props["share"], r.props["start"], r.props.get("end")) for r in owns(rels, "018AF6B3EB", "01B68D7633")]
    assert maria == [(1.0, "2002-03-09", "2021-09-24"), (0.4, "2021-09-24", "2022-09-21"),
                     (0.3, "2022-09-21", "2023-03-03")]  # closed record: ends at the statement date
    trust = [(r.props["share"], r.props["start"], r.props.get("end")) for r in owns(rels, "033E84672B", "01B68D7633")]
    assert trust == [(0.6, "2021-09-24", "2022-09-21"), (0.7, "2022-09-21", "2023-03-01"), (0.8, "2023-03-01", None)]
    # votingRights restate the shareholding and are not a second relationship
    assert not [r for r in rels if r.props.get("role") == "votingRights" or r.props.get("kind") == "votingRights"]
    # (Between 2023-03-01 and 2023-03-03 the stakes overlap: the example closes Maria's record with a
    # statement dated 2023-03-03 and no endDate, while the trust's 80 % starts 2023-03-01.)
    for day in ("2010-01-01", "2021-10-01", "2022-10-01", "2023-03-04", "2024-01-01"):
        live = [r.props["share"] for r in rels if r.type == "OWNS" and r.props["start"] <= day
                and (r.props.get("end") is None or day < r.props["end"])]
        assert sum(live) <= 1.0 + 1e-9, day

    _, rels, _ = load("fermcat.json")
    patrick = [(r.props["share"], r.props["start"], r.props.get("end"))
               for r in owns(rels, "per-41c0bb0cef246f7c", "ent-93c75c87ab28f889")]
    assert patrick == [(0.5, "2019-09-11", "2022-01-21"), (1.0, "2022-01-21", None)]
    [riyadh] = owns(rels, "per-5faa4103dee78621", "ent-93c75c87ab28f889")
    assert riyadh.props["end"] == "2021-04-03"


@needs_data
def test_other_examples():
    nodes, rels, _ = load("listed-company-exempt-from-disclosure.json")
    assert rels == [] and "Exempt from disclosure" in {n.id: n for n in nodes}["bods:4c7ea3bfbe6c"].props["description"]
    nodes, _, _ = load("plc-entity-statement.json")
    az = {n.id: n for n in nodes}["bods:70044236"]
    assert {"lei:PY6ZZQWO2IZFZC3IOL08", "gb-coh:02723534", "isin:GB0009895292", "cusip:046353108",
            "ticker:AZN"} <= set(az.props["identifiers"])
    nodes, rels, _ = load("levent.json")
    nodes = {n.id: n for n in nodes}
    assert nodes["bods:81337a6e"].props["name"] == "Anonymous person (interestedPartyExemptFromDisclosure)"
    assert nodes["bods:8e40d059"].props["kind"] == "other"  # a trust
    assert sorted(r.props["role"] for r in rels) == ["beneficiaryOfLegalArrangement", "settlor", "trustee", "trustee"]


# ---------------------------------------------------------------- fixtures

def test_bad_statements():
    records = list(bods.parse(FIX / "bods-0.4-bad.json"))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    got = {r.record: r.field for r in rejected}
    assert got == {"statement 6": "share", "statement 7": "share", "statement 8": "startDate",
                   "statement 9": "interestedParty", "statement 10": "recordType", "statement 12": "dst_label"}
    reasons = {r.record: r.reason for r in rejected}
    assert "140" in reasons["statement 6"] and "'-'" in reasons["statement 7"] and "10/9/19" in reasons["statement 8"]
    assert "per-nobody" in reasons["statement 9"]
    nodes = {n.id: n for n in nodes}
    # an inline unspecified owner becomes a placeholder with an id derived from the relationship record
    holder = nodes["bods:rel-unspec:interestedParty"]
    assert holder.props["name"] == "Unspecified interested party (informationUnknownToPublisher)"
    assert nodes["bods:ent-anon"].props["name"] == "Anonymous entity (interestedPartyExemptFromDisclosure)"
    assert "lei:5299000TGPARENT00109" in nodes["bods:ent-a"].props["identifiers"]
    by_src = {(r.src, r.type): r for r in rels}
    assert by_src[("bods:per-p", "OWNS")].props == {**by_src[("bods:per-p", "OWNS")].props, "share_min": 0.25,
                                                   "share_max": 0.5, "start": "2020-01-01"}
    assert by_src[("bods:rel-unspec:interestedParty", "OWNS")].props["share"] == 0.15
    assert by_src[("bods:ent-a", "PART_OF")].props["kind"] == "controlByLegalFramework"


def test_bods_0_2_layout():
    records = list(bods.parse(FIX / "bods-0.2.json"))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    assert rejected == []
    nodes = {n.id: n for n in nodes if n.label != "Source"}
    # the replaced entity statement and its replacement are one node, named by the latest
    assert "bods:e-1-v1" not in nodes and nodes["bods:e-1-v2"].props["name"] == "Example Technology Ltd"
    assert nodes["bods:e-2"].label == "GovernmentBody"
    kinds = sorted((r.type, r.src, r.props.get("share"), r.props.get("direct"), r.props.get("role") or r.props.get("kind"))
                   for r in rels)
    assert kinds == sorted([
        ("OWNS", "bods:p-1", 0.6, True, None),                      # interestLevel direct (0.3)
        ("OFFICER_OF", "bods:p-1", None, None, "appointmentOfBoard"),  # appointment-of-board
        ("OWNS", "bods:e-2", None, False, None),                    # a range: share_min / share_max
        ("PART_OF", "bods:e-1-v2", None, None, "otherInfluenceOrControl"),
        ("OWNS", "bods:o-3:interestedParty", 0.15, None, None),
    ])
    assert all(r.dst == "bods:e-1-v2" for r in rels if r.type != "PART_OF")


def test_truncated_file_is_one_reject():
    [rej] = list(bods.parse(FIX / "truncated.json"))
    assert isinstance(rej, Rejected) and (rej.record, rej.field) == ("file", "json")


def test_fixture_parse_is_deterministic():
    for name in ("bods-0.4-bad.json", "bods-0.2.json"):
        assert list(bods.parse(FIX / name)) == list(bods.parse(FIX / name))


# ---------------------------------------------------------------- never raise on a bad record

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_any = st.recursive(st.none() | st.booleans() | st.floats(allow_nan=True) | st.text(max_size=8),
                    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3),
                    max_leaves=8)
_ids = st.sampled_from(["a", "b", "c"])
_statement = st.fixed_dictionaries(
    {"statementId": st.text(max_size=4), "recordId": _ids,
     "recordType": st.sampled_from(["entity", "person", "relationship", "other"])},
    optional={"recordStatus": st.sampled_from(["new", "updated", "closed"]), "statementDate": _any,
              "recordDetails": st.fixed_dictionaries({}, optional={
                  "name": _any, "entityType": _any, "names": _any, "subject": _ids | _any,
                  "interestedParty": _ids | _any, "birthDate": _any, "identifiers": _any, "jurisdiction": _any,
                  "interests": st.lists(st.fixed_dictionaries({}, optional={
                      "type": st.sampled_from(["shareholding", "boardMember", "votingRights"]) | _any,
                      "share": st.dictionaries(st.sampled_from(["exact", "minimum", "maximum"]), _any) | _any,
                      "directOrIndirect": _any, "startDate": _any, "endDate": _any}), max_size=3) | _any}) | _any})


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_statement | _any, max_size=6))
def test_arbitrary_statements_never_raise(statements):
    import json
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "fuzz.json"
        p.write_text(json.dumps(statements), encoding="utf-8")
        records = list(bods.parse(p))
    assert all(isinstance(r, (Node, Rel, Rejected)) for r in records)
    assert all(r.record and r.field for r in records if isinstance(r, Rejected))
