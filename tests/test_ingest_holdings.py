"""Holdings ingesters: the holdings template (CSV), the IEMG / VWO provider files, and SEC 13F tables."""
from __future__ import annotations

import json
import time
import os
from pathlib import Path

import pytest

from graph.ids import slug
from graph.schema import validate_node, validate_rel
from ingest import holdings, sec13f
from ingest.records import Node, Rejected, Rel

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fund-holdings-2025-11"
FIX = Path(__file__).parent / "fixtures" / "holdings"
F13 = FIX / "13f"
TEMPLATE = Path(__file__).resolve().parents[1] / "data" / "templates" / "holdings-template.csv"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared data not available")


def split(records):
    records = list(records)
    return ([r for r in records if isinstance(r, Node)], [r for r in records if isinstance(r, Rel)],
            [r for r in records if isinstance(r, Rejected)])


def check_invariants(records):
    nodes, rels, rejected = split(records)
    ids = [n.id for n in nodes]
    assert len(ids) == len(set(ids)), "one node per id in a file"
    assert len({r.id for r in rels}) == len(rels), "one relationship per id in a file"
    sources = {n.id for n in nodes if n.label == "Source"}
    for n in nodes:
        validate_node(n.label, n.props)
        assert set(n.props["sources"]) <= sources, n
    for r in rels:
        validate_rel(r.type, r.src_label, r.dst_label, r.props)
        assert r.src in ids and r.dst in ids, r
    for r in rejected:
        assert r.file and r.record and r.field and r.reason, r


def content(records):
    """Records without the file-specific parts (source ids, row numbers)."""
    return [(type(r).__name__, r.id, {k: v for k, v in r.props.items() if k != "sources"})
            for r in records if not isinstance(r, Rejected) and getattr(r, "label", "") != "Source"]


def holds(rels):
    return {r.dst: r for r in rels if r.type == "HOLDS"}


# ---------------------------------------------------------------- provider files (IEMG, VWO)

def expected_positions(rows):
    """Positions by the documented rule, computed independently: non-cash rows with a weight, one per
    (ticker, market, name), weights added up."""
    out: dict[tuple, float] = {}
    for r in rows:
        if r["sector"] == "Cash and/or Derivatives" or not isinstance(r.get("weight"), (int, float)):
            continue
        key = (None if r["ticker"] in ("", "-") else r["ticker"].upper(), r["country"], slug(r["name"]))
        out[key] = out.get(key, 0.0) + r["weight"] / 100
    return out


@needs_data
@pytest.mark.parametrize("ticker", ["IEMG", "VWO"])
def test_provider_files(ticker):
    path = DATA / f"{ticker}_holdings.json"
    records = list(holdings.parse(path))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    assert rejected == []
    rows = json.loads(path.read_text())
    want = expected_positions(rows)
    held = holds(rels)
    assert len(held) == len(want)  # one HOLDS per position with a weight
    assert sum(r.props["weight"] for r in held.values()) == pytest.approx(sum(want.values()))
    fund = {n.id: n for n in nodes}[f"fund:{ticker.lower()}"]
    assert fund.label == "Fund" and fund.props["kind"] == "etf" and f"ticker:{ticker}" in fund.props["identifiers"]
    [manages] = [r for r in rels if r.type == "MANAGES"]
    assert manages.dst == fund.id and manages.src.startswith("manager:")
    issuers = [n for n in nodes if n.id.startswith("issuer:")]
    for word, code in (("TENCENT HOLDINGS", "700"), ("ALIBABA GROUP HOLDING", "9988")):
        [issuer] = [n for n in issuers if n.props["name"].upper().startswith(word)]
        assert issuer.id.startswith(f"issuer:ticker:CN:{code}:")
        assert {f"ticker:{code}", f"ticker:CN:{code}"} <= set(issuer.props["identifiers"])
        assert held[issuer.id].props["weight"] > 0.02
        assert "country" not in issuer.props  # the provider's country is a market, not the seat
    assert list(holdings.parse(path)) == records  # deterministic


@needs_data
def test_provider_specifics():
    _, rels, _ = split(holdings.parse(DATA / "VWO_holdings.json"))
    held = holds(rels)
    # "2330" is two companies in VWO: the name keeps them apart
    tsmc = "issuer:ticker:SA:2330:taiwan-semiconductor-manufacturing-co-ltd"
    assert tsmc in held and "issuer:ticker:SA:2330:advanced-petrochemical-co" in held
    # A-shares listed on two lines are added up
    assert held["issuer:ticker:CN:600519:kweichow-moutai-co-ltd-class-a"].props["weight"] == pytest.approx(0.0016)
    assert "issuer:ticker:US:20:sensetime-group-inc-class-b" in held  # VWO says "United States"
    assert "issuer:ticker:US:002268:cetc-cyberspace-security-technology-co-ltd-class-a" in held  # (sic)
    nodes, rels, _ = split(holdings.parse(DATA / "IEMG_holdings.json"))
    names = {n.props["name"] for n in nodes}
    assert {"ZTE CORP H", "ZTE CORP A", "IFLYTEK LTD A", "ZHEJIANG DAHUA TECHNOLOGY LTD A"} <= names
    assert not names & {"BLK CSH FND TREASURY SL AGENCY", "KRW CASH", "MYR/USD"}  # cash is not an issuer


def test_provider_fixture():
    records = list(holdings.parse(FIX / "provider" / "EXMP_holdings.json"))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    nodes = {n.id: n for n in nodes}
    assert nodes["fund:exmp"].props["name"] == "Example Markets ETF"  # from the metadata file
    assert nodes["src:holdings:exmp-holdings-json"].props["date"] == "2025-11-21"
    held = holds(rels)
    assert held["issuer:ticker:CN:600519:kweichow-moutai-co-ltd-class-a"].props["weight"] == pytest.approx(0.0016)
    assert held["issuer:name:skf-india-ltd"].props["as_of"] == "2025-11-21"  # ticker "-": a name id
    assert len(held) == 6
    assert [(r.record, r.field) for r in rejected] == [("row 10", "weight"), ("row 11", "weight")]


# ---------------------------------------------------------------- the template

def test_template_example_file():
    records = list(holdings.parse(TEMPLATE))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    assert rejected == []
    nodes = {n.id: n for n in nodes}
    assert nodes["fund:exem"].props == {**nodes["fund:exem"].props, "name": "Example Emerging Markets Equity Fund",
                                        "kind": "mutual_fund"}
    held = holds(rels)
    assert len(held) == 7
    assert held["issuer:KYG017191142"].props["weight"] == pytest.approx(0.0299)   # "2.99%"
    assert held["issuer:KYG875721634"].props["weight"] == pytest.approx(0.045)    # plain fraction
    assert held["issuer:KYG9830T1067"].props["weight"] == pytest.approx(0.012)    # 1.2 + weight_unit percent
    assert "weight" not in held["issuer:HK0941009539"].props                       # not stated
    adr = nodes["issuer:US01609W1027"]
    assert {"isin:US01609W1027", "cusip:01609W102", "ticker:BABA", "ticker:XNYS:BABA"} <= set(adr.props["identifiers"])
    assert "issuer:ticker:XSHE:002236:zhejiang-dahua-technology-co-ltd" in held
    [m] = [r for r in rels if r.type == "MANAGES"]
    assert (m.src, m.dst) == ("manager:example-asset-management", "fund:exem")
    assert all(r.props["as_of"] == "2025-09-30" for r in held.values())
    assert content(holdings.parse(FIX / "template-good.csv")) == content(records)  # same rows, same records


def test_bad_values_name_row_and_column():
    records = list(holdings.parse(FIX / "bad-values.csv"))
    check_invariants(records)
    _, rels, rejected = split(records)
    assert {r.record: r.field for r in rejected} == {
        "row 2": "weight",        # 140% is more than 100 %
        "row 3": "weight",        # "-"
        "row 4": "weight",        # 1.5 as a fraction: rejected, not guessed
        "row 5": "as_of",         # 10/9/19
        "row 6": "isin", "row 7": "cusip", "row 8": "country", "row 9": "weight",
        "row 10": "weight_unit", "row 11": "value_usd", "row 12": "issuer_name", "row 14": "csv"}
    [good] = [r for r in rels if r.type == "HOLDS"]
    assert good.props["value_usd"] == 1234567.5


def test_duplicates_same_id_same_record():
    dup, clean_ = (list(holdings.parse(FIX / n)) for n in ("duplicates.csv", "no-duplicates.csv"))
    check_invariants(dup)
    _, rels, rejected = split(dup)
    assert [(r.record, r.field) for r in rejected] == [("row 3", "row"), ("row 4", "row")]
    assert "duplicate" in rejected[0].reason and "conflicting" in rejected[1].reason
    # two dates for Tencent: two positions
    assert sorted(r.props["as_of"] for r in rels if r.dst == "issuer:KYG875721634") == ["2025-06-30", "2025-09-30"]
    assert content(dup) == content(clean_)


@pytest.mark.parametrize("name,encoding", [("bom-utf8.csv", "utf-8-sig"), ("gbk.csv", "gbk")])
def test_encodings(name, encoding):
    (FIX / name).read_bytes().decode(encoding)  # the fixture really is in that encoding
    records = list(holdings.parse(FIX / name))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    assert rejected == []
    names = {n.props["name"] for n in nodes}
    assert {"示例新兴市场基金", "杭州海康威视数字技术股份有限公司", "浙江大华技术股份有限公司"} <= names
    assert holds(rels)["issuer:CNE100000PM8"].props["weight"] == pytest.approx(0.0052)


def test_undecodable_bytes_reject_only_their_row(tmp_path):
    p = tmp_path / "mixed.csv"
    p.write_bytes("fund,issuer_name,weight\nF,Good Ltd,0.01\nF,Bad \xff\xfe Ltd 中文,0.02\n".encode("utf-8")
                  .replace(b"\xc3\xbf\xc3\xbe", b"\xff\xfe"))
    nodes, rels, rejected = split(holdings.parse(p))
    assert [(r.record, r.field) for r in rejected] == [("row 3", "issuer_name")]
    assert [r.dst for r in rels] == ["issuer:name:good-ltd"]


def test_missing_columns_is_one_reject():
    [rej] = list(holdings.parse(FIX / "missing-columns.csv"))
    assert (rej.record, rej.field) == ("file", "issuer_name") and "issuer_name" in rej.reason


def test_weight_rules():
    w = holdings._weight
    assert w("1.23%", None) == pytest.approx(0.0123)
    assert w("0.0123", None) == pytest.approx(0.0123)
    assert w("1.23", "percent") == pytest.approx(0.0123)
    assert w("", None) is None
    for bad, unit in (("1.23", None), ("-", None), ("-0.1", None), ("140%", None), ("abc", None), ("1", "bp")):
        with pytest.raises(ValueError):
            w(bad, unit)


def test_option_as_of_and_weight_unit(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("fund,issuer_name,weight\nF,Tencent Holdings Ltd,4.5\n")
    [_, _, _, h] = list(holdings.parse(p, as_of="2025-01-31", weight_unit="percent"))
    assert h.props["weight"] == pytest.approx(0.045) and h.props["as_of"] == "2025-01-31"
    [rej] = list(holdings.parse(p, as_of="31/01/2025"))
    assert (rej.record, rej.field) == ("file", "as_of")


# ---------------------------------------------------------------- SEC 13F

def test_13f_filing_folder():
    records = list(sec13f.parse(F13 / "example-capital-2024q2"))
    check_invariants(records)
    nodes, rels, rejected = split(records)
    nodes = {n.id: n for n in nodes}
    mgr = nodes["manager:example-capital-management-llc"]
    assert mgr.props["kind"] == "asset_manager" and mgr.props["identifiers"] == ["cik:9999999"]
    src = [n for n in nodes.values() if n.label == "Source"][0]
    assert src.props["kind"] == "filing" and src.props["date"] == "2024-08-14"
    held = holds(rels)
    assert set(held) == {"issuer:cusip:01609W102", "issuer:cusip:056752108", "issuer:cusip:47215P106",
                         "issuer:cusip:722304102", "issuer:cusip:037833100"}
    baba = held["issuer:cusip:01609W102"]
    # two lines (sole + shared discretion) added up; the put option row is not a holding; dollars (filed 2024)
    assert (baba.props["value_usd"], baba.props["shares"], baba.props["as_of"]) == (13065678.0, 181468.0, "2024-06-30")
    assert nodes["issuer:cusip:01609W102"].props["name"] == "ALIBABA GROUP HLDG LTD"
    assert "cusip6:01609W" in nodes["issuer:cusip:01609W102"].props["identifiers"]
    assert [(r.record, r.field) for r in rejected] == [("infoTable 8", "cusip")]
    assert list(sec13f.parse(F13 / "example-capital-2024q2")) == records


def test_13f_old_filing_values_in_thousands():
    nodes, rels, rejected = split(sec13f.parse(F13 / "examplefund-2021q4-infotable.xml"))
    assert rejected == []
    held = holds(rels)
    assert held["issuer:cusip:01609W102"].props == {**held["issuer:cusip:01609W102"].props, "value_usd": 2376000.0,
                                                    "shares": 20000.0, "as_of": "2021-12-31"}
    assert "shares" not in held["issuer:cusip:037833100"].props  # PRN: a principal amount, not shares
    assert {n.id for n in nodes} >= {"manager:examplefund"}  # name from the file name
    # options override: the filer's name and the unit
    _, rels, _ = split(sec13f.parse(F13 / "examplefund-2021q4-infotable.xml", filer_name="Example Fund LP",
                                    value_unit="dollars"))
    assert holds(rels)["issuer:cusip:01609W102"].props["value_usd"] == 2376.0
    assert {r.src for r in rels} == {"manager:example-fund-lp"}


def test_13f_unknown_unit_leaves_values_out(tmp_path):
    p = tmp_path / "infotable.xml"
    p.write_text((F13 / "examplefund-2021q4-infotable.xml").read_text())
    nodes, rels, rejected = split(sec13f.parse(p, filer_name="Someone"))
    assert [(r.record, r.field) for r in rejected] == [("file", "value")]
    assert all("value_usd" not in r.props for r in rels) and holds(rels)["issuer:cusip:01609W102"].props["shares"]


@pytest.mark.parametrize("name", ["billion-laughs.xml", "xxe.xml"])
def test_13f_malicious_xml_is_one_reject(name):
    t = time.monotonic()
    records = list(sec13f.parse(F13 / name))
    assert time.monotonic() - t < 2
    [rej] = records
    assert isinstance(rej, Rejected) and (rej.record, rej.field) == ("file", "xml")
    assert "root:" not in rej.reason  # nothing of /etc/passwd


# ---------------------------------------------------------------- never raise on a bad record

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["", "-", "1.5", "2%", "0.01", "10/9/19", "2025-09-30", "KYG017191142", "01609W102", "percent", '"', "1,000"])


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_cell, min_size=6, max_size=7), max_size=6))
def test_arbitrary_rows_never_raise(rows):
    import csv
    import io
    import tempfile
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["fund", "issuer_name", "weight", "isin", "cusip", "as_of"])
    w.writerows(rows)
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "fuzz.csv"
        p.write_text(buf.getvalue(), encoding="utf-8")
        records = list(holdings.parse(p))
    assert all(isinstance(r, (Node, Rel, Rejected)) for r in records)
    assert all(r.record and r.field for r in records if isinstance(r, Rejected))
