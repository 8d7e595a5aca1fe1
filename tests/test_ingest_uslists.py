"""Parsed US-lists JSON ingester: the real July 2026 snapshot (13 lists) and small fixtures."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from graph.ids import slug
from graph.schema import validate_node, validate_rel
from ingest import uslists
from ingest.records import Node, Rejected, Rel
from ingest.textutil import clean, fr_citations

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "us-restricted-lists-2026-07"
FIX = Path(__file__).parent / "fixtures" / "uslists"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared data not available")


def split(records):
    records = list(records)
    return ([r for r in records if isinstance(r, Node)], [r for r in records if isinstance(r, Rel)],
            [r for r in records if isinstance(r, Rejected)])


def check_invariants(records):
    nodes, rels, rejected = split(records)
    ids = {n.id for n in nodes}
    assert len(ids) == len(nodes)  # one node per id within a run
    sources = {n.id for n in nodes if n.label == "Source"}
    for n in nodes:
        validate_node(n.label, n.props)
        assert n.props["sources"] and set(n.props["sources"]) <= sources, n
    for r in rels:
        validate_rel(r.type, r.src_label, r.dst_label, r.props)
        assert r.props["sources"] and set(r.props["sources"]) <= sources, r
        assert r.src in ids and r.dst in ids, r
    assert len({r.id for r in rels}) == len(rels)
    for r in rejected:
        assert r.file and r.record and r.field, r


def entries(name):
    return json.loads((DATA / name).read_text(encoding="utf-8"))["entities"]


# ---------------------------------------------------------------- real snapshot


@pytest.fixture(scope="module")
def real():
    return list(uslists.parse(DATA))


@needs_data
def test_real_one_designation_per_entry(real):
    check_invariants(real)
    nodes, rels, rejected = split(real)
    listed = Counter(r.dst for r in rels if r.type == "LISTED_ON")
    subsidiaries = sum(1 for r in rels if r.dst == "us-dod-1260h"
                       and r.props.get("reason", "").startswith("Listed together with its parent"))
    assert listed["us-bis-entity-list"] == len(entries("bis_entity_list.json")) == 3409
    assert listed["us-bis-meu"] == 70 and listed["us-bis-dpl"] == 564 and listed["us-dod-1286"] == 134
    assert listed["us-ofac-ns-cmic"] == 68 and listed["us-ofac-eo14032"] == 59 and listed["us-dhs-uflpa"] == 148
    assert listed["us-cbp-wro"] == 67 and listed["us-state-isn"] == 528 and listed["us-state-debarred"] == 779 + 8
    assert listed["us-dod-1260h"] == 80 + subsidiaries and subsidiaries > 100
    # FCC: two rows name equipment categories, not parties
    assert listed["us-fcc-covered"] == 15 - 2
    assert [(Path(r.file).name, r.field) for r in rejected] == [("fcc_covered.json", "name")] * 2
    assert len([n for n in nodes if n.label == "SanctionsList"]) == 12
    assert len([n for n in nodes if n.label == "Source"]) == 13 + 1  # one per list file + the list registry


@needs_data
def test_real_hikvision_entity_list(real):
    nodes, rels, _ = split(real)
    eid = "us-bis-entity-list:hangzhou-hikvision-digital-technology-co-ltd"
    hik = next(n for n in nodes if n.id == eid)
    assert hik.label == "Company" and hik.props["country"] == "CN" and hik.props["aliases"] == ["Hikvision"]
    listing = next(r for r in rels if r.src == eid)
    # the file says 84 FR 54004 (the entry's page of the rule starting at 54002), 10/9/19
    assert listing.props["since"] == "2019-10-09"
    assert listing.props["notice"] == "84 FR 54004 (2019-10-09); 85 FR 34505 (2020-06-05); 85 FR 44161 (2020-07-22)"
    assert listing.props["license_requirement"].startswith("For all items subject to the EAR")


@needs_data
def test_real_entity_list_keeps_every_citation(real):
    """notice = every FR citation of the entry, since = the earliest citation date."""
    _, rels, _ = split(real)
    by_name: dict[str, list[dict]] = {}
    for r in rels:
        if r.dst == "us-bis-entity-list":
            by_name.setdefault(r.props["entry_name"], []).append(r.props)
    assert sum(len(v) for v in by_name.values()) == 3409
    for e in entries("bis_entity_list.json"):
        listings = by_name[clean(e["name"])]
        cites = fr_citations(e["federal_register"])
        for citation, _ in cites:
            assert any(citation in (p.get("notice") or "") for p in listings), (e["name"], citation)
        dates = [d for _, d in cites if d]
        if dates:
            assert any(p.get("since") == min(dates) for p in listings), e["name"]


@needs_data
def test_real_1260h_parents_and_subsidiaries(real):
    nodes, rels, _ = split(real)
    owns = {(r.src, r.dst) for r in rels if r.type == "OWNS"}
    assert ("us-dod-1260h:huawei-investment-holding-co-ltd", "us-dod-1260h:huawei-technologies-co-ltd") in owns
    assert ("us-dod-1260h:semiconductor-manufacturing-international-corporation",
            "us-dod-1260h:smic-americas") in owns
    assert all("share" not in r.props and "direct" not in r.props for r in rels if r.type == "OWNS")
    part_of = {(r.src, r.dst, r.props["kind"]) for r in rels if r.type == "PART_OF"}
    assert ("us-dod-1260h:14th-research-institute-of-cetc",
            "us-dod-1260h:china-electronics-technology-group-corporation", "subsidiary") in part_of
    cetc13 = "us-bis-entity-list:" + slug("China Electronics Technology Group Corporation 13th Research Institute"
                                          " (CETC 13)")
    subs = [s for s, d, k in part_of if d == cetc13 and k == "subordinate_institution"]
    assert len(subs) == 12 and "us-bis-entity-list:bowei-integrated-circuits" in subs
    huawei = next(n for n in nodes if n.id == "us-dod-1260h:huawei-technologies-co-ltd")
    assert huawei.props["aliases"] == ["Huawei"]


@needs_data
def test_real_other_lists(real):
    nodes, rels, _ = split(real)
    by_id = {n.id: n for n in nodes}
    aecc = by_id["us-ofac-ns-cmic:china-aviation-engine-group-co-ltd"]
    assert "uscc:91110000MA005UCQ5P" in aecc.props["identifiers"]
    assert next(r for r in rels if r.src == aecc.id).props["since"] == "2021-06-03"
    assert by_id["us-dod-1286:national-university-of-defense-technology"].label == "University"
    dpl = [r for r in rels if r.dst == "us-bis-dpl" and r.props.get("until")]
    assert len(dpl) > 100
    syria = next(r for r in rels if r.src == "us-state-isn:government-of-syria")
    assert by_id[syria.src].label == "GovernmentBody" and "until" not in syria.props
    uflpa = [r for r in rels if r.dst == "us-dhs-uflpa"]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r.props["since"]) for r in uflpa)  # from "June 21, 2022"
    src = by_id["src:uslists-2026-07:dow-1260h"]
    assert src.props["date"] == "2026-06-10" and src.props["kind"] == "list" and "1260H" in src.props["title"]


# ---------------------------------------------------------------- fixtures


def test_fixture_folder():
    records = list(uslists.parse(FIX))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    by_id = {n.id: n for n in nodes}
    hik = next(r for r in rels if r.src == "us-bis-entity-list:hangzhou-hikvision-digital-technology-co-ltd")
    assert hik.props["since"] == "2019-10-09" and hik.props["notice"].count(" FR ") == 3
    ghoura = [r for r in rels if r.src == "us-bis-entity-list:abdul-satar-ghoura"]
    assert len(ghoura) == 2 and "country" not in by_id["us-bis-entity-list:abdul-satar-ghoura"].props
    brightway = by_id["us-bis-entity-list:hebei-brightway-international"]  # name missing after "institution:"
    assert brightway.props["name"] == "Hebei Brightway International"
    assert ("OWNS", "us-dod-1260h:china-electronics-technology-group-corporation",
            "us-dod-1260h:cetc-potevio-science-technology-co-ltd") in {(r.type, r.src, r.dst) for r in rels}
    assert by_id["us-dod-1260h:cetc-potevio-science-technology-co-ltd"].props["aliases"] == ["Potevio"]
    shanghai = next(r for r in rels if r.src.startswith("us-state-isn:shanghai-electric"))
    assert shanghai.props["until"] == "2018-06-28"
    assert next(r for r in rels if r.dst == "us-bis-dpl").props["until"] == "2030-03-03"
    assert by_id["us-bis-dpl:victor-anthony-bocanegra"].label == "Person"
    assert next(r for r in rels if r.dst == "us-dhs-uflpa").props["since"] == "2022-06-21"
    assert by_id["src:uslists-2026-07:dow-1260h"].props["date"] == "2026-06-10"

    got = {(Path(r.file).name, r.record, r.field) for r in rejected}
    assert got == {
        ("bis_entity_list.json", "entry 7", "effective_date"),
        ("bis_entity_list.json", "entry 8", "name"),
        ("fcc_covered.json", "entry 2", "name"),
        ("truncated.json", "line 12 col 24", "json"),
        ("unknown_list.json", "file", "list_id"),
    }


def test_single_file_reads_neighbouring_lists_json():
    nodes, rels, rejected = split(uslists.parse(FIX / "dow_1260h.json"))
    assert rejected == []
    src = next(n for n in nodes if n.id == "src:uslists-2026-07:dow-1260h")
    assert src.props["name"] == "Sec. 1260H List" and src.props["publisher"] == "U.S. Department of War"


def test_truncated_json_is_one_rejected():
    records = list(uslists.parse(FIX / "truncated.json"))
    assert len(records) == 1 and records[0].field == "json"


def test_split_enumeration():
    assert uslists.split_enumeration("A Co., Ltd., B Inc. (B), Innomics, Inc., SMIC, Americas, and C Group.") == \
        ["A Co., Ltd.", "B Inc. (B)", "Innomics, Inc.", "SMIC, Americas", "C Group"]


def test_deterministic():
    assert list(uslists.parse(FIX)) == list(uslists.parse(FIX))


def test_missing_path_raises():
    with pytest.raises(FileNotFoundError):
        list(uslists.parse(FIX / "nope.json"))
