"""CSL ingester: real trade.gov samples (2019 and 2025 layouts) and small fixtures for the quirks."""
from __future__ import annotations

import csv
from pathlib import Path

import pytest

from graph.schema import validate_node, validate_rel
from ingest import csl
from ingest.records import Node, Rejected, Rel

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "csl-samples"
FIX = Path(__file__).parent / "fixtures" / "csl"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared data not available")


def split(records):
    records = list(records)
    nodes = [r for r in records if isinstance(r, Node)]
    rels = [r for r in records if isinstance(r, Rel)]
    rejected = [r for r in records if isinstance(r, Rejected)]
    return nodes, rels, rejected


def entities(nodes):
    return {n.id: n for n in nodes if n.label not in ("Source", "SanctionsList")}


def check_invariants(records):
    """Every node and relationship is valid, has sources, and points at nodes the ingester yielded."""
    records = list(records)
    nodes, rels, rejected = split(records)
    ids = {n.id for n in nodes}
    sources = {n.id for n in nodes if n.label == "Source"}
    for n in nodes:
        validate_node(n.label, n.props)
        assert n.props["sources"] and set(n.props["sources"]) <= sources, n
    for r in rels:
        validate_rel(r.type, r.src_label, r.dst_label, r.props)
        assert r.props["sources"] and set(r.props["sources"]) <= sources, r
        assert r.src in ids and r.dst in ids, r
    for r in rejected:
        assert r.file and r.record and r.field, r
    assert len({r.id for r in rels}) == len(rels)


# ---------------------------------------------------------------- real samples


@needs_data
def test_2019_sample_one_designation_per_row():
    path = DATA / "csl_sample_2019_watchman.csv"
    records = list(csl.parse(path))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 115
    assert rejected == []
    assert len([r for r in rels if r.type == "LISTED_ON"]) == len(rows)
    ents = entities(nodes)
    assert 100 <= len(ents) <= len(rows)  # the same party listed twice is one node
    el = [r for r in rels if r.dst == "us-bis-entity-list"]
    assert len(el) == sum(1 for r in rows if r["source"].startswith("Entity List"))
    group = ents["csl:el:32-group-china-ltd"]
    assert group.props["country"] == "HK"
    rel = next(r for r in el if r.src == group.id)
    assert rel.props["since"] == "2015-11-12" and rel.props["notice"] == "80 FR 69852"
    assert rel.props["license_policy"] == "Presumption of denial."
    # SDN rows carry the OFAC entity number, so they meet the OFAC ingester's nodes
    assert "ofac:20264" in ents["csl:sdn:20264"].props["identifiers"]


@needs_data
def test_2025_sample_maps_every_source_list():
    path = DATA / "csl_sample_2025_watchman.csv"
    records = list(csl.parse(path))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    assert rejected == []
    assert len(rels) == 13
    assert {r.dst for r in rels} == {"us-bis-entity-list", "us-bis-meu", "us-bis-uvl", "us-bis-dpl", "us-ofac-sdn",
                                     "us-ofac-ssi", "us-ofac-fse", "us-ofac-plc", "us-state-isn", "us-state-debarred"}
    ents = entities(nodes)
    assert all(i.startswith("csl:") for i in ents)
    cetc = next(n for n in ents.values() if "13th Research Institute" in n.props["name"])
    assert cetc.label == "University" and cetc.props["country"] == "CN"
    assert "HSRI" in cetc.props["aliases"] and "CETC Research Institute 13" in cetc.props["aliases"]
    rel = next(r for r in rels if r.src == cetc.id)
    assert rel.props["notice"] == "83 FR 37423; 87 FR 77505" and rel.props["since"] == "2018-08-01"


# ---------------------------------------------------------------- fixtures


def test_current_layout_fixture():
    path = FIX / "csl_2025.csv"
    records = list(csl.parse(path))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    ents = entities(nodes)
    hik = ents["csl:el-hik-1"]
    assert hik.label == "Company" and hik.props["country"] == "CN"
    assert hik.props["aliases"] == ["Hikvision", "HIK"]
    listing = next(r for r in rels if r.src == hik.id)
    assert listing.dst == "us-bis-entity-list"
    assert listing.props["since"] == "2019-10-09"  # from "10/9/19"
    assert listing.props["notice"] == "84 FR 54002"
    assert listing.props["license_requirement"].startswith("For all items")
    rim = ents["csl:52291"]
    assert rim.label == "Person" and rim.props["nationality"] == "KP" and rim.props["birth_date"] == "1978-12-05"
    assert {"ofac:52291", "passport:836238033"} <= set(rim.props["identifiers"])
    assert ents["csl:meu-1"].label == "University" and "AASPT" in ents["csl:meu-1"].props["aliases"]
    # "X; and any successor, sub-unit, or subsidiary thereof" names X
    assert ents["csl:isn-1"].props["name"] == "Sinobright Import and Export Company"
    assert next(r for r in rels if r.src == "csl:isn-1").props["notice"] == "Vol. 88, No. 151 (2023-08-08)"
    cmic = ents["csl:cmic-1"]
    assert {"isin:CNE100000PM8", "uscc:91330000733796106P", "ofac:30946"} <= set(cmic.props["identifiers"])
    dpl = next(r for r in rels if r.src == "csl:dpl-1")  # after the broken lines: reading resumed
    assert dpl.props["until"] == "2056-06-29" and dpl.props["since"] == "2002-03-04"
    assert dpl.props["notice"].count("FR") == 3

    by_record = {r.record: r for r in rejected}
    assert set(by_record) == {"line 5", "line 6", "line 9", "line 10"}
    assert by_record["line 5"].field == "start_date" and "2019-13-45" in by_record["line 5"].reason
    assert by_record["line 6"].field == "source" and "unknown CSL source" in by_record["line 6"].reason
    assert by_record["line 9"].field == "columns"
    assert by_record["line 10"].field == "quoting"
    assert all(r.file == str(path) for r in rejected)


def test_2019_layout_fixture():
    records = list(csl.parse(FIX / "csl_2019.csv"))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    assert rejected == []
    ents = entities(nodes)
    # one party, listed under two countries: one node, two designations
    ghoura = [r for r in rels if r.src == "csl:el:abdul-satar-ghoura"]
    assert len(ghoura) == 2 and len({r.id for r in ghoura}) == 2
    assert ents["csl:el:abdul-satar-ghoura"].props["address"] == "Kabul, AF; Peshawar, PK"
    assert "country" not in ents["csl:el:abdul-satar-ghoura"].props  # AF vs PK: not certain
    regiment = ents["csl:isn:183rd-guard-air-defense-missile-regiment"]
    assert regiment.label == "GovernmentBody" and regiment.props["kind"] == "military"
    assert next(r for r in rels if r.src == "csl:cap:15268").dst == "us-ofac-cons"  # CAPTA: OFAC's other lists
    assert "taxid:80-0890696" in ents["csl:sdn:20264"].props["identifiers"]
    inst = ents["csl:el:54th-research-institute-of-china"]
    assert inst.props["aliases"][1] == "Shijiazhuang Communication Observation and Control Technology Institute"
    listing = next(r for r in rels if r.src == inst.id)
    assert listing.props["notice"] == "66 FR 24266; 77 FR 58006; 81 FR 64694"


def test_json_layout():
    records = list(csl.parse(FIX / "csl.json"))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    ents = entities(nodes)
    assert ents["csl:json-hik"].props["address"] == "No. 555 Qianmo Road, Hangzhou, Zhejiang, 310052, CN"
    assert next(r for r in rels if r.src == "csl:json-hik").props["since"] == "2019-10-09"
    rosneft = ents["csl:18300"]
    assert rosneft.props["country"] == "CY" and "reg:C122790" in rosneft.props["identifiers"]
    assert next(r for r in rels if r.src == "csl:18300").dst == "us-ofac-ssi"
    assert {(r.record, r.field) for r in rejected} == {("entry 3", "start_date"), ("entry 4", "name")}


def test_truncated_json_is_one_rejected():
    records = list(csl.parse(FIX / "csl_truncated.json"))
    assert len(records) == 1 and isinstance(records[0], Rejected)
    assert records[0].field == "json" and records[0].record.startswith("line ")


def test_gbk_file_is_decoded():
    records = list(csl.parse(FIX / "csl_gbk.csv"))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    assert rejected == [] and len(rels) == 3
    aliases = entities(nodes)["csl:gbk-1"].props["aliases"]
    assert aliases == ["海康威视", "杭州海康威视数字技术股份有限公司"]


def test_utf8_bom_header():
    nodes, rels, rejected = split(csl.parse(FIX / "csl_bom.csv"))
    assert rejected == [] and "csl:el-hik-1" in entities(nodes)  # `_id` recognised despite the BOM


def test_missing_column_rejects_the_file():
    records = list(csl.parse(FIX / "csl_missing_column.csv"))
    assert len(records) == 1 and isinstance(records[0], Rejected)
    assert records[0].field == "name" and "missing required column" in records[0].reason


def test_undecodable_row_is_rejected_alone():
    nodes, rels, rejected = split(csl.parse(FIX / "csl_undecodable.csv"))
    assert [(r.record, r.field) for r in rejected] == [("line 3", "name")]
    ents = entities(nodes)
    assert set(ents) == {"csl:el-hik-1", "csl:ok-zh"}
    assert ents["csl:ok-zh"].props["aliases"] == ["中科曙光"]


def test_list_mapping():
    assert csl.list_for("Entity List (EL) - Bureau of Industry and Security") == "us-bis-entity-list"
    assert csl.list_for("Non-SDN Chinese Military-Industrial Complex Companies List (CMIC) - Treasury Department") \
        == "us-ofac-ns-cmic"
    assert csl.list_for("Non-SDN Menu-Based Sanctions List (NS-MBS List) - Treasury Department") == "us-ofac-cons"
    assert csl.list_for("ITAR Debarred (DTC) - State Department") == "us-state-debarred"
    assert csl.list_for("Some New List (SNL) - Department of Energy") is None


@pytest.mark.parametrize("name", ["csl_2025.csv", "csl_2019.csv", "csl.json", "csl_gbk.csv"])
def test_deterministic(name):
    assert list(csl.parse(FIX / name)) == list(csl.parse(FIX / name))


def test_missing_file_raises():
    with pytest.raises(FileNotFoundError):
        list(csl.parse(FIX / "nope.csv"))
