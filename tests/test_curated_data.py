"""The hand-curated dataset (data/curated) and its loader (ingest/curated.py), without a database.

Integrity checks on the real files, loader rejection tests on small bad files, and fact checks
of statements in ASPI's second Mapping China's Technology Giants report against the parsed records.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import pycountry
import pytest

from graph.schema import SCHEMA
from ingest.curated import parse
from ingest.lists import LISTS
from ingest.records import Node, Rejected, Rel

CURATED = Path(__file__).resolve().parents[1] / "data" / "curated"

FIRST_REPORT = ["huawei", "tencent", "alibaba", "baidu", "hikvision", "cetc", "zte", "china-mobile",
                "china-telecom", "china-unicom", "wuxi-apptec", "bgi"]
ADDED = ["iflytek", "megvii", "bytedance", "sensetime", "yitu", "cloudwalk", "dji", "meiya-pico", "dahua", "uniview"]
MAPPED = [f"company:{c}" for c in FIRST_REPORT + ADDED] + ["project:beidou"]  # the 23 mapped


@lru_cache(maxsize=None)
def records() -> tuple:
    return tuple(parse(CURATED))


def nodes() -> dict[str, Node]:
    return {r.id: r for r in records() if isinstance(r, Node)}


def rels() -> list[Rel]:
    return [r for r in records() if isinstance(r, Rel)]


def facts() -> set[tuple[str, str, str]]:
    return {(r.src, r.type, r.dst) for r in rels()}


def rel(src: str, rtype: str, dst: str) -> Rel:
    found = [r for r in rels() if (r.src, r.type, r.dst) == (src, rtype, dst)]
    assert found, f"missing ({src})-[{rtype}]->({dst})"
    return found[0]


# ------------------------------------------------------------------ integrity of the real data

def test_no_rejected_records():
    bad = [r.line() for r in records() if isinstance(r, Rejected)]
    assert bad == []


def test_every_record_has_sources_that_exist():
    sources = {i for i, n in nodes().items() if n.label == "Source"}
    for r in records():
        srcs = r.props.get("sources") or []
        assert srcs, f"{r.id} has no source"
        assert set(srcs) <= sources, f"{r.id} cites unknown {set(srcs) - sources}"


def test_footnote_sources_point_to_the_report():
    for n in nodes().values():
        if n.label == "Source" and n.id != "src:aspi-2021" and n.id.startswith("src:aspi-2021"):
            assert n.props["parent"] == "src:aspi-2021"
            assert n.props["locator"].startswith("Section: ")
            if "#fn" in n.id:
                assert n.props["locator"].endswith("footnote " + n.id.split("#fn")[1])


def test_every_report_source_is_cited():
    cited = {s for r in records() if not (isinstance(r, Node) and r.label == "Source") for s in r.props["sources"]}
    unused = [i for i, n in nodes().items() if n.label == "Source" and i != "src:aspi-2021" and i not in cited]
    assert unused == [] and "src:aspi-2021" in {n.props.get("parent") for n in nodes().values()}


def test_no_orphan_nodes():
    linked = {r.src for r in rels()} | {r.dst for r in rels()}
    orphans = [i for i, n in nodes().items() if n.label not in ("Source", "SanctionsList", "Country") and i not in linked]
    assert orphans == []


def test_ids_unique():
    ids = [r.id for r in records() if not isinstance(r, Rejected)]
    assert len(ids) == len(set(ids))


def test_node_ids_carry_their_label_prefix():
    prefix = {"Company": "company:", "Fund": "fund:", "Index": "index:", "GovernmentBody": "gov:", "Person": "person:",
              "University": "university:", "Project": "project:", "Source": "src:"}
    for n in nodes().values():
        if n.label in prefix:
            assert n.id.startswith(prefix[n.label]), n.id


def test_shares_and_weights_in_unit_range():
    for r in rels():
        for k in ("share", "share_min", "share_max", "weight"):
            if k in r.props:
                assert 0 <= r.props[k] <= 1, (r.id, k)


def test_dates_are_iso():
    for r in records():
        label = r.label if isinstance(r, Node) else r.type
        props = SCHEMA.nodes[label].props if isinstance(r, Node) else SCHEMA.rels[label].props
        for k, v in r.props.items():
            if props[k].type == "date":
                assert dt.date.fromisoformat(v).isoformat() == v, (r.id, k, v)


def test_countries_are_iso():
    for n in nodes().values():
        for k in ("country", "nationality"):
            if k in n.props:
                assert pycountry.countries.get(alpha_2=n.props[k]), (n.id, n.props[k])
        if n.label == "Country":
            assert pycountry.countries.get(alpha_2=n.id), n.id
    for r in rels():
        if r.type in ("LOCATED_IN", "HEADQUARTERED_IN"):
            assert r.dst_label == "Country"


def test_counts():
    ns = nodes()
    assert len(MAPPED) == 23 and all(m in ns for m in MAPPED)
    by_label = {}
    for n in ns.values():
        by_label[n.label] = by_label.get(n.label, 0) + 1
    assert by_label["Company"] >= 30
    assert by_label["GovernmentBody"] >= 20
    assert by_label["Project"] >= 30
    assert by_label["Person"] >= 10
    assert len(rels()) >= 200
    assert {"us-bis-entity-list"} <= {i for i, n in ns.items() if n.label == "SanctionsList"}


# ------------------------------------------------------------------ loader rejects bad input

SRC = "- {id: src:t, name: Test source, kind: report}\n"
COS = "- {id: company:a, name: A, sources: [src:t]}\n- {id: company:b, name: B, sources: [src:t]}\n"


def _write(tmp_path, **files):
    for name, text in {"sources.yaml": SRC, "companies.yaml": COS, **files}.items():
        (tmp_path / name.replace("_yaml", ".yaml")).write_text(text, encoding="utf-8")
    return list(parse(tmp_path))


def _rejected(recs):
    return [r for r in recs if isinstance(r, Rejected)]


def test_loader_rejects_unknown_from_id(tmp_path):
    recs = _write(tmp_path, owns_yaml="- {from: company:nope, to: company:b, sources: [src:t]}\n")
    [r] = _rejected(recs)
    assert (r.file, r.record, r.field) == ("owns.yaml", "entry 1 (company:nope -> company:b)", "from")
    assert not [x for x in recs if isinstance(x, Rel)]


def test_loader_rejects_share_above_one(tmp_path):
    recs = _write(tmp_path, owns_yaml="- {from: company:a, to: company:b, share: 1.4, sources: [src:t]}\n")
    [r] = _rejected(recs)
    assert (r.file, r.record, r.field) == ("owns.yaml", "entry 1 (company:a -> company:b)", "share")


def test_loader_rejects_bad_date(tmp_path):
    recs = _write(tmp_path, projects_yaml="- {id: project:p, name: P, kind: other, start: 2019-13-45, sources: [src:t]}\n")
    [r] = _rejected(recs)
    assert (r.file, r.record, r.field) == ("projects.yaml", "entry 1 (id project:p)", "start")


def test_loader_rejects_bad_choice_and_wrong_endpoint(tmp_path):
    recs = _write(tmp_path, party_to_yaml="- {from: company:a, to: company:b, role: boss, sources: [src:t]}\n",
                  funds_yaml="- {id: fund:f, name: F, kind: piggy_bank, sources: [src:t]}\n")
    got = {(r.file, r.field) for r in _rejected(recs)}
    assert got == {("party_to.yaml", "dst_label"), ("funds.yaml", "kind")}


def test_loader_reports_yaml_syntax_error_with_line(tmp_path):
    recs = _write(tmp_path, owns_yaml="- {from: company:a, to: company:b, sources: [src:t]}\n- {from: [oops\n")
    [r] = _rejected(recs)
    assert r.file == "owns.yaml" and r.record.startswith("line ") and "YAML" in r.reason
    assert len([x for x in recs if isinstance(x, Node) and x.label == "Company"]) == 2  # other files still load


def test_loader_rejects_unknown_source_and_duplicate_rel(tmp_path):
    recs = _write(tmp_path, owns_yaml="- {from: company:a, to: company:b, sources: [src:missing]}\n"
                                      "- {from: company:a, to: company:b, sources: [src:t]}\n"
                                      "- {from: company:a, to: company:b, sources: [src:t]}\n"
                                      "- {from: company:a, to: company:b, key: '2', sources: [src:t]}\n")
    got = [(r.record, r.field) for r in _rejected(recs)]
    assert got == [("entry 1 (company:a -> company:b)", "sources"), ("entry 3 (company:a -> company:b)", "key")]
    assert len([x for x in recs if isinstance(x, Rel)]) == 2


def test_loader_rejects_bad_country_and_duplicate_node(tmp_path):
    recs = _write(tmp_path, countries_yaml="- {id: XX, name: Nowhere, sources: [src:t]}\n",
                  funds_yaml="- {id: company:a, name: Clash, sources: [src:t]}\n")
    assert {(r.file, r.field) for r in _rejected(recs)} == {("countries.yaml", "id"), ("funds.yaml", "id")}


def test_loader_emits_referenced_lists_only(tmp_path):
    recs = _write(tmp_path, listed_on_yaml="- {from: company:a, to: us-bis-entity-list, since: 2019-10-09, sources: [src:t]}\n")
    assert not _rejected(recs)
    lists = [r.id for r in recs if isinstance(r, Node) and r.label == "SanctionsList"]
    assert lists == ["us-bis-entity-list"]
    [r] = [x for x in recs if isinstance(x, Rel)]
    assert r.dst_label == "SanctionsList" and r.props["since"] == "2019-10-09"


# ------------------------------------------------------------------ facts stated in the report

FACTS = [
    # ownership and structure
    ("hikvision_is_cetc_subsidiary", "company:cetc", "OWNS", "company:hikvision"),
    ("bytedance_owns_tiktok", "company:bytedance", "OWNS", "company:tiktok"),
    ("bytedance_acquired_musically", "company:bytedance", "OWNS", "company:musical-ly"),
    ("fidelity_international_subsidiary_of_fidelity_investments", "company:fidelity-investments", "OWNS", "company:fidelity-international"),
    ("douyin_is_bytedance_app", "company:douyin", "PART_OF", "company:bytedance"),
    ("mps_press_bureau_part_of_mps", "gov:mps-press-and-publicity-bureau", "PART_OF", "gov:ministry-of-public-security"),
    # investors in SenseTime, Megvii, Hikvision
    ("vision_fund_invested_in_sensetime", "fund:softbank-vision-fund", "INVESTED_IN", "company:sensetime"),
    ("softbank_runs_vision_fund", "company:softbank-group", "MANAGES", "fund:softbank-vision-fund"),
    ("idg_funded_sensetime", "company:idg-capital", "INVESTED_IN", "company:sensetime"),
    ("alibaba_shareholder_of_sensetime", "company:alibaba", "OWNS", "company:sensetime"),
    ("fidelity_international_shareholder_of_sensetime", "company:fidelity-international", "OWNS", "company:sensetime"),
    ("temasek_shareholder_of_sensetime", "company:temasek", "OWNS", "company:sensetime"),
    ("silver_lake_shareholder_of_sensetime", "company:silver-lake", "OWNS", "company:sensetime"),
    ("tiger_global_shareholder_of_sensetime", "company:tiger-global", "OWNS", "company:sensetime"),
    ("qualcomm_vc_arm_shareholder_of_sensetime", "company:qualcomm-venture-arm", "OWNS", "company:sensetime"),
    ("macquarie_invested_in_megvii", "company:macquarie-group", "INVESTED_IN", "company:megvii"),
    ("calstrs_holds_hikvision", "fund:calstrs", "HOLDS", "company:hikvision"),
    ("nystrs_holds_hikvision", "fund:nystrs", "HOLDS", "company:hikvision"),
    # indexes
    ("hikvision_in_msci_em", "company:hikvision", "CONSTITUENT_OF", "index:msci-emerging-markets"),
    ("dahua_in_msci_em", "company:dahua", "CONSTITUENT_OF", "index:msci-emerging-markets"),
    ("iflytek_in_msci_em", "company:iflytek", "CONSTITUENT_OF", "index:msci-emerging-markets"),
    ("meiya_pico_in_ftse_russell", "company:meiya-pico", "CONSTITUENT_OF", "index:ftse-russell-global-equity"),
    # US Entity List
    *[(f"{c.replace('-', '_')}_on_entity_list", f"company:{c}", "LISTED_ON", "us-bis-entity-list")
      for c in ("dahua", "iflytek", "megvii", "sensetime", "meiya-pico", "yitu", "hikvision", "huawei")],
    # supply links
    ("iflytek_speech_in_huawei_phones", "company:iflytek", "SUPPLIES", "company:huawei"),
    ("yitu_software_in_huawei_smart_cities", "company:yitu", "SUPPLIES", "company:huawei"),
    ("meiya_pico_sells_to_russian_military", "company:meiya-pico", "SUPPLIES", "gov:russian-military"),
    ("meiya_pico_trained_interpol", "company:meiya-pico", "SUPPLIES", "gov:interpol"),
    ("cloudwalk_terminals_for_zimbabwe", "company:cloudwalk", "SUPPLIES", "gov:zimbabwe-government"),
    # Zimbabwe, Belt and Road, Meiya Pico labs
    ("cloudwalk_builds_zimbabwe_face_database", "company:cloudwalk", "PARTY_TO", "project:cloudwalk-zimbabwe-facial-recognition"),
    ("zimbabwe_signed_cloudwalk_deal", "gov:zimbabwe-government", "PARTY_TO", "project:cloudwalk-zimbabwe-facial-recognition"),
    ("zimbabwe_deal_in_zimbabwe", "project:cloudwalk-zimbabwe-facial-recognition", "LOCATED_IN", "ZW"),
    ("zimbabwe_deal_part_of_bri", "project:cloudwalk-zimbabwe-facial-recognition", "PART_OF", "project:belt-and-road-initiative"),
    ("zimbabwe_second_agreement_2019", "gov:zimbabwe-government", "PARTY_TO", "project:cloudwalk-zimbabwe-2019-agreement"),
    ("mps_funds_meiya_bri_labs", "gov:ministry-of-public-security", "PARTY_TO", "project:meiya-pico-bri-forensics-labs"),
    ("meiya_lab_in_vietnam", "project:meiya-pico-forensics-lab-vietnam", "LOCATED_IN", "VN"),
    ("meiya_lab_in_sri_lanka", "project:meiya-pico-forensics-lab-sri-lanka", "LOCATED_IN", "LK"),
    ("meiya_trains_bri_police", "company:meiya-pico", "PARTY_TO", "project:meiya-pico-bri-police-training"),
    ("meiya_makes_mfsocket", "company:meiya-pico", "PARTY_TO", "project:mfsocket-police-phone-checks"),
    # BeiDou
    ("brunei_beidou_agreement", "gov:brunei-government", "PARTY_TO", "project:beidou-brunei-agreement"),
    ("pakistan_beidou_agreement", "gov:pakistan-government", "PARTY_TO", "project:beidou-pakistan-agreement"),
    ("beidou_stations_in_thailand", "project:beidou-thailand-reference-stations", "LOCATED_IN", "TH"),
    ("geoscience_australia_operates_beidou_stations", "gov:geoscience-australia", "PARTY_TO", "project:beidou-ground-stations-australia"),
    ("cetc_receivers_for_beidou_stations", "company:cetc", "PARTY_TO", "project:beidou-ground-stations-australia"),
    ("wuhan_university_in_ga_cooperation", "university:wuhan-university", "PARTY_TO", "project:beidou-geoscience-australia-cooperation"),
    ("satnav_office_in_ga_cooperation", "gov:china-satellite-navigation-office", "PARTY_TO", "project:beidou-geoscience-australia-cooperation"),
    ("yarragadee_station_in_australia", "project:beidou-yarragadee-station", "PART_OF", "project:beidou-ground-stations-australia"),
    ("wuhan_university_links_to_pla", "university:wuhan-university", "PARTNERS_WITH", "gov:pla"),
    # Xinjiang
    ("huawei_karamay_police_cloud", "company:huawei", "PARTY_TO", "project:huawei-karamay-police-cloud"),
    ("karamay_police_client_of_huawei", "gov:karamay-police-department", "PARTY_TO", "project:huawei-karamay-police-cloud"),
    ("huawei_aksu_data_center", "gov:aksu-prefecture-public-security-bureau", "PARTY_TO", "project:huawei-aksu-modular-data-center"),
    ("huawei_xbtn_agreement", "gov:xinjiang-broadcasting-and-television-network", "PARTY_TO", "project:huawei-xbtn-strategic-agreement"),
    ("huawei_xinjiang_psd_lab", "gov:xinjiang-public-security-department", "PARTY_TO", "project:huawei-xinjiang-psd-innovation-lab"),
    ("huawei_xinjiang_government_cloud_2016", "gov:xinjiang-government", "PARTY_TO", "project:huawei-xinjiang-cloud-bigdata-partnership"),
    ("huawei_safe_xinjiang", "company:huawei", "PARTY_TO", "project:safe-xinjiang"),
    ("alibaba_cloud_for_xinjiang_government", "company:alibaba", "PARTY_TO", "project:alibaba-xinjiang-government-cloud"),
    ("mps_bytedance_douyin_agreement", "gov:mps-press-and-publicity-bureau", "PARTY_TO", "project:mps-bytedance-cooperation-agreement"),
    ("xinjiang_internet_police_on_douyin", "gov:xinjiang-internet-police", "PARTY_TO", "project:xinjiang-internet-police-douyin"),
    ("beijing_rtb_hotan_measures", "gov:beijing-radio-and-television-bureau", "PARTY_TO", "project:beijing-rtb-hotan-xinjiang-aid"),
    ("bytedance_in_xinjiang_aid", "company:bytedance", "PARTY_TO", "project:xinjiang-aid"),
    ("china_unicom_fanghuiju", "company:china-unicom", "PARTY_TO", "project:fanghuiju"),
    ("iflytek_xinjiang_lab_2010", "company:iflytek", "PARTY_TO", "project:iflytek-xinjiang-lab"),
    ("hikvision_xinjiang_bids", "company:hikvision", "PARTY_TO", "project:hikvision-dahua-xinjiang-surveillance"),
    ("mps_funds_skynet", "gov:ministry-of-public-security", "PARTY_TO", "project:skynet"),
    ("mps_funds_sharp_eyes", "gov:ministry-of-public-security", "PARTY_TO", "project:sharp-eyes"),
    ("eximbank_finances_huawei", "gov:china-eximbank", "PARTNERS_WITH", "company:huawei"),
    # AI champions
    *[(f"{c.replace('-', '_')}_is_ai_champion", f"company:{c}", "PARTY_TO", "project:ai-champions")
      for c in ("iflytek", "sensetime", "megvii", "yitu", "huawei", "hikvision", "baidu", "alibaba", "tencent")],
    # people
    ("xu_li_ceo_of_sensetime", "person:xu-li", "OFFICER_OF", "company:sensetime"),
    ("xu_bing_cofounder_of_sensetime", "person:xu-bing", "OFFICER_OF", "company:sensetime"),
    ("yao_zhiqiang_ceo_of_cloudwalk", "person:yao-zhiqiang", "OFFICER_OF", "company:cloudwalk"),
    ("fan_lixin_xinjiang_psd_official", "person:fan-lixin", "OFFICER_OF", "gov:xinjiang-public-security-department"),
    ("zhou_nengwen_hotan_propaganda", "person:zhou-nengwen", "OFFICER_OF", "gov:hotan-propaganda-bureau"),
    ("huawei_headquartered_in_china", "company:huawei", "HEADQUARTERED_IN", "CN"),
    ("fidelity_international_london", "company:fidelity-international", "HEADQUARTERED_IN", "GB"),
]


@pytest.mark.parametrize("src,rtype,dst", [f[1:] for f in FACTS], ids=[f[0] for f in FACTS])
def test_report_fact(src, rtype, dst):
    assert (src, rtype, dst) in facts()


def test_fact_report_has_23_mapped_companies_and_organisations():
    assert len(FIRST_REPORT) == 12 and len(ADDED) + 1 == 11  # + BeiDou
    assert nodes()["project:beidou"].props["kind"] == "other"  # BeiDou "isn't a company"


def test_fact_cetc_is_a_state_owned_enterprise():
    assert nodes()["company:cetc"].props["kind"] == "state_enterprise"


def test_fact_us_based_investors():
    ns = nodes()
    for i in ("company:idg-capital", "company:silver-lake", "company:tiger-global", "company:qualcomm",
              "company:fidelity-investments", "fund:calstrs", "fund:nystrs"):
        assert ns[i].props["us_based"] is True, i
    for i in ("company:fidelity-international", "company:temasek", "company:softbank-group"):
        assert ns[i].props["us_based"] is False, i
    assert ns["company:temasek"].props["kind"] == "investment_firm"
    assert ns["fund:calstrs"].props["kind"] == "pension"


def test_fact_macquarie_put_30_million_into_megvii():
    assert rel("company:macquarie-group", "INVESTED_IN", "company:megvii").props["amount_usd"] == 30_000_000


def test_fact_tiktok_ftc_settlement_5_7_million():
    assert nodes()["project:tiktok-ftc-coppa-settlement"].props["amount_usd"] == 5_700_000


def test_fact_entity_list_october_2019_has_no_invented_day_or_notice():
    for r in rels():
        if r.type == "LISTED_ON":
            assert "since" not in r.props and "notice" not in r.props  # the report gives only "October 2019"


def test_fact_bytedance_is_not_on_entity_list():
    assert ("company:bytedance", "LISTED_ON", "us-bis-entity-list") not in facts()


def test_fact_ownership_shares_unknown():
    assert all("share" not in r.props for r in rels() if r.type == "OWNS")


def test_fact_dated_events():
    assert nodes()["project:uk-commons-huawei-xinjiang-hearing"].props["start"] == "2019-06-10"
    assert nodes()["project:tiktok-intelligence-assessment-request"].props["start"] == "2019-10-24"


def test_fact_roles():
    assert rel("gov:ministry-of-public-security", "PARTY_TO", "project:meiya-pico-bri-forensics-labs").props["role"] == "funder"
    assert rel("company:meiya-pico", "PARTY_TO", "project:meiya-pico-bri-police-training").props["role"] == "trainer"
    assert rel("gov:geoscience-australia", "PARTY_TO", "project:beidou-ground-stations-australia").props["role"] == "operator"
    assert rel("person:xu-li", "OFFICER_OF", "company:sensetime").props["role"] == "CEO"
    assert "voice assistant" in rel("company:iflytek", "SUPPLIES", "company:huawei").props["product"]


def test_fact_facts_cite_footnotes():
    assert "src:aspi-2021#fn87" in rel("company:macquarie-group", "INVESTED_IN", "company:megvii").props["sources"]
    assert "src:aspi-2021#fn89" in rel("fund:calstrs", "HOLDS", "company:hikvision").props["sources"]
    assert "src:aspi-2021#fn82" in rel("company:hikvision", "CONSTITUENT_OF", "index:msci-emerging-markets").props["sources"]
    assert "src:aspi-2021#sec-methodology" in rel("company:cetc", "OWNS", "company:hikvision").props["sources"]


def test_sanctions_list_ids_come_from_the_registry():
    for n in nodes().values():
        if n.label == "SanctionsList":
            assert n.id in LISTS
