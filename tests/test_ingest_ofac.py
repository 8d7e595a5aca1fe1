"""OFAC CSV ingester: the real consolidated (non-SDN) files of Dec 2025 and small fixtures."""
from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from graph.schema import validate_node, validate_rel
from ingest import ofac
from ingest.records import Node, Rejected, Rel

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ofac-consolidated-2025-12"
FIX = Path(__file__).parent / "fixtures" / "ofac"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared data not available")


def split(records):
    records = list(records)
    return ([r for r in records if isinstance(r, Node)], [r for r in records if isinstance(r, Rel)],
            [r for r in records if isinstance(r, Rejected)])


def merged(nodes):
    """Entity nodes by id, statements from several files merged as a store would."""
    out: dict[str, dict] = {}
    for n in nodes:
        if n.label in ("Source", "SanctionsList"):
            continue
        p = out.setdefault(n.id, {"label": n.label, "identifiers": [], "sources": [], "aliases": []})
        for k, v in n.props.items():
            if isinstance(v, list):
                p[k] = list(dict.fromkeys(p.get(k, []) + v))
            else:
                p.setdefault(k, v)
    return out


def check_invariants(records):
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


# ---------------------------------------------------------------- real files


@pytest.fixture(scope="module")
def real():
    return list(ofac.parse(DATA))


@needs_data
def test_real_counts(real):
    check_invariants(real)
    nodes, rels, rejected = split(real)
    assert rejected == []
    with open(DATA / "ofac_cons_prim.csv", encoding="cp1252", newline="") as f:
        prim = [r for r in csv.reader(f) if len(r) == 12]
    assert len(prim) == 442
    listed = [r for r in rels if r.type == "LISTED_ON"]
    assert {r.src for r in listed} == {f"ofac:{r[0]}" for r in prim}  # every entry designated
    by_list = Counter(r.dst for r in listed)
    assert by_list["us-ofac-ns-cmic"] == sum(1 for r in prim if "CMIC" in r[3]) == 68
    assert by_list["us-ofac-ssi"] == sum(1 for r in prim if "UKRAINE-EO13662" in r[3])
    assert by_list["us-ofac-plc"] == sum(1 for r in prim if "NS-PLC" in r[3])
    ents = merged(nodes)
    assert len(ents) == 442
    assert Counter(e["label"] for e in ents.values())["Person"] == sum(1 for r in prim if r[2] == "individual")


@needs_data
def test_real_hikvision_identifiers_from_remarks(real):
    nodes, rels, _ = split(real)
    hik = merged(nodes)["ofac:30946"]
    assert {"isin:CNE100000PM8", "uscc:91330000733796106P", "ticker:002415 CN"} <= set(hik["identifiers"])
    assert hik["name_zh"] == "杭州海康威视数字技术股份有限公司"
    assert hik["country"] == "CN"
    listing = next(r for r in rels if r.type == "LISTED_ON" and r.src == "ofac:30946")
    assert listing.dst == "us-ofac-ns-cmic" and listing.props["since"] == "2021-06-03"
    assert "Effective Date (CMIC) 02 Aug 2021" in listing.props["reason"]


@needs_data
def test_real_isin_check_digit_and_comment_continuation(real):
    ents = merged(split(real)[0])
    cnooc = ents["ofac:30926"]
    isins = {i for i in cnooc["identifiers"] if i.startswith("isin:")}
    assert isins == {"isin:HK0883013259", "isin:US1261321095", "isin:HK2998013240"}  # BRC1EODR004 fails its check
    # ent 30930's remarks run on in the comments file: "...USCC) 91110000710934369E " + "(China); a.k.a. 'CCCC'."
    cccc = ents["ofac:30930"]
    assert "uscc:91110000710934369E" in cccc["identifiers"] and "CCCC" in cccc["aliases"]
    assert sum(1 for e in ents.values() for i in e["identifiers"] if i.startswith("uscc:")) >= 58


@needs_data
def test_real_linked_to(real):
    _, rels, _ = split(real)
    part_of = {(r.src, r.dst) for r in rels if r.type == "PART_OF"}
    assert ("ofac:32089", "ofac:32087") in part_of  # PROVEN GLORY CAPITAL -> HUAWEI INVESTMENT & HOLDING
    assert ("ofac:30882", "ofac:30939") in part_of  # CHINA TELECOM CORP LTD -> CHINA TELECOMMUNICATIONS CORP
    assert all(r.props["kind"] == "linked_to" for r in rels if r.type == "PART_OF")
    # HAMAS is not an entry of these files: no link, the text stays in the description
    assert not any(r.src == "ofac:9647" for r in rels if r.type == "PART_OF")


@needs_data
def test_real_tables_share_ids(real):
    nodes, _, _ = split(real)
    sources = {n.id: n for n in nodes if n.label == "Source"}
    zh = [s for s in sources if s.startswith("src:lixiaohui-ns-cmic:")]
    assert len(zh) == 3 and all("unverified" in sources[s].props["title"] for s in zh)
    table = list(ofac.parse_ns_cmic_table(DATA / "ns_cmic_parsed_from_ofac_cons_2025-12.csv"))
    ids = {n.id for n in table if isinstance(n, Node) and n.label != "Source"}
    assert len(ids) == 68 and ids <= {n.id for n in nodes}


# ---------------------------------------------------------------- fixtures


def test_fixture_consolidated():
    records = list(ofac.parse(FIX / "cons"))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    ents = merged(nodes)
    hik = ents["ofac:30946"]
    # ISIN with a wrong check digit (CNE100000PM9) dropped; USCC split across prim and comments joined
    assert [i for i in hik["identifiers"] if i.startswith("isin:")] == ["isin:CNE100000PM8"]
    assert "uscc:91330000733796106P" in hik["identifiers"] and "ticker:002415 CN" in hik["identifiers"]
    assert hik["name_zh"] == "杭州海康威视数字技术股份有限公司"
    assert ("PART_OF", "ofac:30946", "ofac:30931") in {(r.type, r.src, r.dst) for r in rels}
    sber = ents["ofac:17018"]
    assert "Zürich 8001" in sber["address"]  # cp1252 byte decoded
    assert {"lei:549300WE6TAF5EEWQS81", "reg:1027700132195", "website:www.sberbank.ru"} <= set(sber["identifiers"])
    assert "country" not in sber  # Russia and Switzerland
    assert {r.dst for r in rels if r.src == "ofac:17018"} == {"us-ofac-ssi", "us-ofac-cons"}
    zahhar = ents["ofac:9647"]
    assert zahhar["label"] == "Person" and zahhar["birth_date"] == "1945-05-06" and zahhar["nationality"] == "PS"
    plc = [r for r in rels if r.src == "ofac:9647" and r.type == "LISTED_ON"]
    assert [r.dst for r in plc] == ["us-ofac-plc"] and plc[0].props["reason"] == "NS-PLC; SDGT"

    got = {(Path(r.file).name, r.record, r.field) for r in rejected}
    assert got == {
        ("cons_prim.csv", "line 5", "remarks:Listing Date (CMIC)"),
        ("cons_prim.csv", "line 6", "columns"),
        ("cons_prim.csv", "line 7", "ent_num"),
        ("cons_add.csv", "line 4", "ent_num"),
        ("ns_cmic_names_zh_lixiaohui.csv", "line 4", "ent_num"),  # not in the OFAC files read with it
    }


def test_fixture_sdn_set_and_single_file():
    records = list(ofac.parse(FIX / "sdn"))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    assert rejected == []
    assert {r.dst for r in rels if r.type == "LISTED_ON"} == {"us-ofac-sdn"}
    vessel = merged(nodes)["ofac:36000"]
    assert vessel["label"] == "Company" and vessel["kind"] == "other" and "imo:9116412" in vessel["identifiers"]
    assert "flag Malta" in vessel["description"]
    # one file brings its set along; a list of files works too
    assert list(ofac.parse(FIX / "sdn" / "SDN.CSV")) == records
    assert list(ofac.parse(sorted((FIX / "sdn").iterdir()))) == records


def test_table_alone_keeps_every_row():
    nodes, _, rejected = split(ofac.parse_ns_cmic_table(FIX / "cons" / "ns_cmic_names_zh_lixiaohui.csv"))
    assert rejected == [] and {n.id for n in nodes if n.label != "Source"} == {"ofac:30946", "ofac:30931", "ofac:40000"}


def test_remarks_mining():
    info = ofac.mine_remarks("Equity Ticker CHA US; alt. Equity Ticker 0728 HK; ISIN US1694261033; "
                             "Listing Date (CMIC) 03 Jun 2021; Listing Date (EO 14024 Directive 3): 24 Feb 2022; "
                             "Unified Social Credit Code (USCC) 9111000071093019X7 (China); a.k.a. 'CT'; "
                             "Linked To: CHINA TELECOMMUNICATIONS CORPORATION.")
    assert info["identifiers"] == ["ticker:CHA US", "ticker:0728 HK", "isin:US1694261033", "uscc:9111000071093019X7"]
    assert info["since"] == "2021-06-03" and info["aliases"] == ["CT"]
    assert info["linked"] == ["CHINA TELECOMMUNICATIONS CORPORATION"]


def test_program_lists():
    assert ofac.program_list("CMIC-EO13959", sdn_file=False) == "us-ofac-ns-cmic"
    assert ofac.program_list("UKRAINE-EO13662", sdn_file=False) == "us-ofac-ssi"
    assert ofac.program_list("FSE-IR", sdn_file=False) == "us-ofac-fse"
    assert ofac.program_list("561-Related", sdn_file=False) == "us-ofac-cons"
    assert ofac.program_list("CMIC-EO13959", sdn_file=True) == "us-ofac-sdn"


def test_deterministic():
    assert list(ofac.parse(FIX / "cons")) == list(ofac.parse(FIX / "cons"))


def test_missing_path_raises():
    with pytest.raises(FileNotFoundError):
        list(ofac.parse(FIX / "nope" / "SDN.CSV"))
