"""YAML mappings (ingest/mapping.py): the examples in data/examples, value cleaning, the
mapping's own errors (with their line), bad rows (quarantined with row and column while the
row's independent records land), encodings, Excel, JSON, the preview and the CLI check; and,
on both stores, every example through the pipeline, idempotently."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from graph.schema import validate_node, validate_rel
from ingest import mapping as mp
from ingest import pipeline
from ingest.records import Node, Rejected, Rel

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "data" / "examples"
FIX = Path(__file__).parent / "fixtures" / "mapping"
EXAMPLE_MAPPINGS = ["overseas-projects.mapping.yaml", "shareholders.mapping.yaml", "fund-holdings.mapping.yaml"]


def split(records):
    records = list(records)
    nodes = {r.id: r for r in records if isinstance(r, Node)}
    rels = [r for r in records if isinstance(r, Rel)]
    rejected = [r for r in records if isinstance(r, Rejected)]
    return nodes, rels, rejected


def rel(rels, rtype, src, dst):
    found = [r for r in rels if r.type == rtype and r.src == src and r.dst == dst]
    assert found, f"no {rtype} {src} -> {dst}"
    return found[0]


def load_text(tmp_path, text, name="m.yaml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def problems_of(text_or_path) -> list[mp.Problem]:
    with pytest.raises(mp.MappingError) as e:
        mp.load_mapping(text_or_path)
    return e.value.problems


# ---------------------------------------------------------------- the examples


@pytest.mark.parametrize("name", EXAMPLE_MAPPINGS)
def test_examples_read_without_rejects_and_validate(name):
    nodes, rels, rejected = split(mp.parse(EXAMPLES / name))
    assert not rejected, [r.line() for r in rejected]
    assert nodes and rels
    for n in nodes.values():
        validate_node(n.label, n.props)
        assert n.props["sources"], n.id
        for s in n.props["sources"]:
            assert s in nodes, f"{n.id} cites {s}, which the file does not define"
    for r in rels:
        assert r.src in nodes and r.dst in nodes
        validate_rel(r.type, nodes[r.src].label, nodes[r.dst].label, r.props)
        assert all(s in nodes for s in r.props["sources"])


@pytest.mark.parametrize("name", EXAMPLE_MAPPINGS)
def test_examples_are_marked_as_example_data(name):
    nodes, _, _ = split(mp.parse(EXAMPLES / name))
    titles = [n.props.get("title", "") for n in nodes.values() if n.label == "Source"]
    assert titles and all("Example" in t and "not a factual claim" in t for t in titles)


def test_overseas_project_row():
    nodes, rels, _ = split(mp.parse(EXAMPLES / "overseas-projects.mapping.yaml"))
    p = nodes["project:example-safe-city-nairobi"]
    assert p.label == "Project"
    assert p.props["kind"] == "smart_city"
    assert p.props["start"] == "2015-05-12"
    assert p.props["amount_usd"] == 99_000_000
    assert p.props["description"] == "example row"
    assert p.origin == "overseas-projects.csv row 5"
    assert set(p.props["sources"]) == {"src:example-overseas-projects",
                                       "src:example-link:https-example-org-techgiants-examples-safe-city-nairobi"}
    assert nodes["src:example-overseas-projects"].props["title"] == "Example data — not a factual claim"
    link = nodes["src:example-link:https-example-org-techgiants-examples-safe-city-nairobi"]
    assert link.props["url"] == "https://example.org/techgiants/examples/safe-city-nairobi"
    assert rel(rels, "PARTY_TO", "company:huawei", p.id).props["role"] == "contractor"
    assert rel(rels, "PARTY_TO", "gov:national-police-service-kenya", p.id).props["role"] == "client"
    assert nodes["gov:national-police-service-kenya"].props["country"] == "KE"
    rel(rels, "LOCATED_IN", p.id, "KE")
    assert nodes["KE"].label == "Country" and nodes["KE"].props["name"] == "Kenya"
    # every map category became a project kind
    kinds = {n.props["kind"] for n in nodes.values() if n.label == "Project"}
    assert kinds == {"5g", "smart_city", "surveillance", "university_partnership", "rnd_lab", "data_centre", "cable"}
    assert sum(1 for n in nodes.values() if n.label == "Project") == 15


def test_overseas_counterparty_filters_and_common_country_names():
    nodes, rels, _ = split(mp.parse(EXAMPLES / "overseas-projects.mapping.yaml"))
    # university rows: a University partner and PARTNERS_WITH; no GovernmentBody of that name
    assert nodes["university:chulalongkorn-university"].label == "University"
    assert "gov:chulalongkorn-university" not in nodes
    assert rel(rels, "PARTY_TO", "university:chulalongkorn-university",
               "project:example-joint-innovation-lab-bangkok").props["role"] == "partner"
    rel(rels, "PARTNERS_WITH", "company:huawei", "university:chulalongkorn-university")
    # "South Korea", "Russia", "UK", "USA" became ISO codes
    rel(rels, "LOCATED_IN", "project:example-5g-radio-supply-seoul", "KR")
    rel(rels, "LOCATED_IN", "project:example-5g-trial-network-moscow", "RU")
    rel(rels, "LOCATED_IN", "project:example-street-camera-supply-london", "GB")
    rel(rels, "LOCATED_IN", "project:example-ai-lab-seattle", "US")
    # an R&D lab row without counterparty: no client, no reject
    helsinki = "project:example-r-d-centre-helsinki"
    assert [r.type for r in rels if helsinki in (r.src, r.dst)] == ["PARTY_TO", "LOCATED_IN"]
    # a row without a link cites only the fixed source
    dodoma = nodes["project:example-fibre-backbone-extension-dodoma"]
    assert dodoma.props["sources"] == ["src:example-overseas-projects"]


def test_partial_dates_are_dropped():
    nodes, _, _ = split(mp.parse(EXAMPLES / "overseas-projects.mapping.yaml"))
    assert "start" not in nodes["project:example-5g-core-network-agreement-belgrade"].props  # "2019"
    assert "start" not in nodes["project:example-5g-trial-network-moscow"].props  # "06/2019"
    assert nodes["project:example-5g-radio-supply-seoul"].props["start"] == "2018-10-01"


def test_shareholders_shares_dates_and_keys():
    nodes, rels, _ = split(mp.parse(EXAMPLES / "shareholders.mapping.yaml"))
    target = "company:example-vision-technology-co-ltd"
    holding = "company:example-holding-group-co-ltd"
    stakes = sorted((r.props["start"], r.props["share"]) for r in rels
                    if r.type == "OWNS" and r.src == holding and r.dst == target)
    assert stakes == [("2019-06-15", 0.3888), ("2021-01-03", 0.455)]  # two dates: two relationships
    assert rel(rels, "OWNS", "person:zhang-example", target).props["share"] == 0.2112
    assert nodes["person:zhang-example"].props["nationality"] == "HK"
    state = rel(rels, "OWNS", "gov:example-provincial-state-owned-assets-supervision-and-administration-commission",
                holding)
    assert state.props["share"] == 0.6 and "start" not in state.props  # plain fraction; "2017" dropped
    assert rel(rels, "OWNS", "person:li-example", holding).props["share"] == 0.125  # "12.5 %"
    assert nodes[target].props["name_zh"] == "示例视觉科技有限公司"
    assert nodes["fund:example-pension-fund"].label == "Fund"
    src = nodes[rel(rels, "OWNS", "person:zhang-example", target).props["sources"][0]]
    assert src.props["locator"] == "Exhibit 12, page 4" and src.props["kind"] == "filing"


def test_fund_holdings_xlsx():
    nodes, rels, _ = split(mp.parse(EXAMPLES / "fund-holdings.mapping.yaml"))
    fund = "fund:example-em-equity-fund"
    holds = {r.dst: r for r in rels if r.type == "HOLDS"}
    assert len(holds) == 7  # the cash line is filtered out
    assert not any("cash" in n.props["name"].lower() for n in nodes.values())
    baba = holds["issuer:KYG017191142"]
    assert baba.src == fund
    assert baba.props["weight"] == 0.0299 and baba.props["value_usd"] == 29_900_000
    assert baba.props["shares"] == 2_150_000 and baba.props["as_of"] == "2025-09-30"
    assert nodes["issuer:KYG017191142"].props["identifiers"] == ["isin:KYG017191142", "ticker:9988"]
    rel(rels, "MANAGES", "manager:example-asset-management", fund)
    # same HOLDS id as `techgiants ingest holdings` gives for that position
    from graph.ids import rel_id
    assert baba.id == rel_id("HOLDS", fund, "issuer:KYG017191142", "2025-09-30|isin:KYG017191142")


def test_xlsx_is_what_make_xlsx_writes(tmp_path):
    from importlib import util
    spec = util.spec_from_file_location("make_xlsx", EXAMPLES / "make_xlsx.py")
    mod = util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.build(tmp_path / "h.xlsx")
    assert out.read_bytes() == (EXAMPLES / "fund-holdings.xlsx").read_bytes()


def test_parse_is_deterministic():
    for name in EXAMPLE_MAPPINGS:
        a = [(type(r).__name__, getattr(r, "props", None)) for r in mp.parse(EXAMPLES / name)]
        b = [(type(r).__name__, getattr(r, "props", None)) for r in mp.parse(EXAMPLES / name)]
        assert a == b


def test_parse_many_and_parse_forms():
    a = list(mp.parse_many([str(EXAMPLES / "shareholders.mapping.yaml")]))
    b = list(mp.parse_many([str(EXAMPLES / "shareholders.mapping.yaml"), str(EXAMPLES / "shareholders.csv")]))
    c = list(mp.parse(EXAMPLES / "shareholders.csv", mapping=EXAMPLES / "shareholders.mapping.yaml"))
    assert [r.props for r in a] == [r.props for r in b] == [r.props for r in c]
    with pytest.raises(ValueError, match="mapping"):
        list(mp.parse_many([str(EXAMPLES / "shareholders.csv")]))
    with pytest.raises(ValueError, match="mapping"):
        list(mp.parse_many([]))


# ---------------------------------------------------------------- value cleaning


@pytest.mark.parametrize("text,code", [
    ("South Korea", "KR"), ("Republic of Korea", "KR"), ("Russia", "RU"), ("Russian Federation", "RU"),
    ("UK", "GB"), ("United Kingdom", "GB"), ("England", "GB"), ("USA", "US"), ("U.S.", "US"), ("Ivory Coast", "CI"),
    ("Côte d'Ivoire", "CI"), ("CIV", "CI"), ("Burma", "MM"), ("Hong Kong", "HK"), ("PRC", "CN"), ("China", "CN"),
    ("cn", "CN"), ("Türkiye", "TR"), ("Saudi", "SA"), ("Kosovo", "XK"), (" Viet  Nam ", "VN"),
])
def test_country_names(text, code):
    assert mp.to_country(text) == code


@pytest.mark.parametrize("text", ["Narnia", "Texas", "Sichuan", "QQ", "Atlantis"])
def test_unknown_countries(text):
    with pytest.raises(ValueError):
        mp.to_country(text)


def test_shares():
    assert mp.to_share("38.88%") == 0.3888
    assert mp.to_share(" 38.88 % ") == 0.3888
    assert mp.to_share("0.6") == 0.6
    assert mp.to_share(0.25) == 0.25
    assert mp.to_share(38.88, unit="percent") == 0.3888
    assert mp.to_share("100%") == 1.0
    assert mp.to_share("12,5%", decimal=",") == 0.125
    assert mp.to_share("") is None
    for bad in ("140%", "1.5", "-3%", "abc", "50%%"):
        with pytest.raises(ValueError):
            mp.to_share(bad)


def test_dates():
    import datetime as dt
    assert mp.to_date("15/06/2019", ["%d/%m/%Y"]) == "2019-06-15"
    assert mp.to_date("2019", ["%d/%m/%Y", "%Y"]) is None  # partial: dropped
    assert mp.to_date("06/2019", ["%d/%m/%Y", "%m/%Y"]) is None
    with pytest.raises(ValueError, match="partial"):
        mp.to_date("2019", ["%Y"], partial="reject")
    with pytest.raises(ValueError, match="unreadable date"):
        mp.to_date("31/02/2020", ["%d/%m/%Y"])
    assert mp.to_date("2020-01-02") == "2020-01-02"
    assert mp.to_date("2020-01-02T10:00:00Z") == "2020-01-02"
    assert mp.to_date(dt.datetime(2025, 9, 30)) == "2025-09-30"
    assert mp.to_date(2019) is None  # a year from a JSON number
    assert mp.to_number("US$ 1,234.50") == 1234.5
    assert mp.to_number("1.234.567,50", decimal=",") == 1234567.5
    with pytest.raises(ValueError):
        mp.to_number("CNY 100")


# ---------------------------------------------------------------- malformed mappings

GOOD = """\
data: bad-rows.csv
entities:
  company:
    label: Company
    id: "company:{slug(Company)}"
    properties:
      name: "{Company}"
"""


def test_bad_yaml_names_the_line():
    ps = problems_of("entities:\n  company:\n    label: Company\n   id: x\n")
    assert ps[0].line == 4 and "not valid YAML" in ps[0].message
    assert str(ps[0]).startswith("mapping line 4:")


def test_unknown_label_names_the_line(tmp_path):
    p = load_text(tmp_path, GOOD.replace("label: Company", "label: Compnay"))
    ps = problems_of(p)
    assert len(ps) == 1 and ps[0].line == 4
    assert "unknown label 'Compnay'" in ps[0].message and "did you mean 'Company'" in ps[0].message
    assert str(ps[0]).startswith("m.yaml line 4:")


def test_missing_id_template_names_the_line():
    ps = problems_of(GOOD.replace('    id: "company:{slug(Company)}"\n', ""))
    assert [p.line for p in ps] == [3]
    assert "no `id` template" in ps[0].message


def test_unknown_column_names_the_line(tmp_path):
    shutil.copy(FIX / "bad-rows.csv", tmp_path / "bad-rows.csv")
    p = load_text(tmp_path, GOOD.replace('name: "{Company}"', 'name: "{Compnay}"'))
    problems = mp.check(p)
    assert len(problems) == 1 and problems[0].line == 7
    assert "unknown column 'Compnay'" in problems[0].message and "did you mean 'Company'" in problems[0].message
    # ingesting reports the file, naming the column and the mapping line, and reads no row
    _, _, rejected = split(mp.parse(p))
    assert len(rejected) == 1
    assert rejected[0].record == "file" and rejected[0].field == "Compnay"
    assert "m.yaml line 7" in rejected[0].reason


@pytest.mark.parametrize("change,line,words", [
    (('name: "{Company}"', 'name: "{Company}"\n      kinds: company'), 8, "unknown property 'kinds'"),
    (('name: "{Company}"', 'name: "{Company}"\n      kind: compnay'), 8, "'compnay' is not one of"),
    (('name: "{Company}"', "name: {Company}"), 7, "without quotes is a YAML mapping"),
    (('name: "{Company}"', 'name: "{slugg(Company)}"'), 7, "unknown function 'slugg'"),
    (('name: "{Company}"', 'name: "{Company"'), 7, "unbalanced brace"),
    (('name: "{Company}"', 'name: {column: Company, type: share}'), 7, "type share does not fit name"),
    (('name: "{Company}"', 'name: "{Company}"\n      founded: {column: Date, formats: "%d/%m/%Y", typo: 1}'), 8,
     "unknown key 'typo'"),
    (("data: bad-rows.csv", "data: bad-rows.csv\ndata: again.csv"), 2, "duplicate key 'data'"),
    (("data: bad-rows.csv", "data: bad-rows.csv\nsheeet: 1"), 2, "unknown key 'sheeet'"),
    (('    label: Company\n', '    label: Project\n'), 3, "Project requires `kind`"),
])
def test_mapping_errors_name_their_line(change, line, words):
    ps = problems_of(GOOD.replace(*change))
    assert any(p.line == line and words in p.message for p in ps), [str(p) for p in ps]


def test_relationship_errors_name_their_line():
    text = GOOD + """\
  country:
    label: Country
    id: "{country(Country)}"
relationships:
  - type: OWNS
    from: company
    to: nobody
  - type: LOCATED_IN
    from: country
    to: company
  - type: OWNZ
    from: company
    to: company
"""
    ps = problems_of(text)
    msgs = " | ".join(str(p) for p in ps)
    assert [p.line for p in ps] == [14, 16, 17, 18], msgs
    assert "`to: nobody` is not an entity of this mapping" in msgs
    assert "LOCATED_IN cannot start at Country" in msgs
    assert "unknown type 'OWNZ'; did you mean 'OWNS'" in msgs


def test_every_problem_is_reported_at_once():
    text = GOOD.replace("label: Company", "label: Compnay") + "  other:\n    label: Person\n    id: x\n"
    ps = problems_of(text)
    assert [p.line for p in ps] == [4, 8]  # unknown label; Person without a name


# ---------------------------------------------------------------- malformed rows


def test_bad_rows_are_rejected_with_row_and_column_and_independent_records_land():
    nodes, rels, rejected = split(mp.parse(FIX / "bad-rows.mapping.yaml"))
    by_row: dict[str, list[Rejected]] = {}
    for r in rejected:
        by_row.setdefault(r.record, []).append(r)
        assert r.file.endswith("bad-rows.csv")
        assert "bad-rows.mapping.yaml" in r.reason or r.field is None
    owns = {r.src: r for r in rels if r.type == "OWNS"}
    # row 2 is fine
    assert owns["company:owner-a"].props == {"id": owns["company:owner-a"].id, "sources": ["src:test-bad-rows"],
                                             "share": 0.25, "start": "2020-02-01"}
    # row 3: share 140% -> the OWNS is rejected; the owner and its headquarters land
    [r3] = by_row["row 3"]
    assert r3.field == "Share" and "more than 100%" in r3.reason and "line 29" in r3.reason
    assert "company:owner-b" not in owns and "company:owner-b" in nodes
    rel(rels, "HEADQUARTERED_IN", "company:owner-b", "CN")
    # row 4: a date that does not exist
    [r4] = by_row["row 4"]
    assert r4.field == "Date" and "unreadable date '31/02/2020'" in r4.reason and "line 30" in r4.reason
    # row 5: unknown country -> the owner and the country are rejected, and what depends on them
    r5 = by_row["row 5"]
    assert {r.field for r in r5} == {"Country"}
    assert any("unknown country 'Narnia'" in r.reason for r in r5)
    assert any("OWNS owner -> company not created" in r.reason for r in r5)
    assert any("HEADQUARTERED_IN owner -> country not created" in r.reason for r in r5)
    assert "company:owner-d" not in nodes
    # row 6: the required company is empty -> rejected; the owner still lands
    r6 = by_row["row 6"]
    assert r6[0].field == "Company" and "required" in r6[0].reason
    assert "company:owner-e" in nodes and "company:owner-e" not in owns
    # row 7: not a number
    [r7] = by_row["row 7"]
    assert r7.field == "Share" and "not a number: 'abc'" in r7.reason
    # row 8: partial date dropped, plain fraction, UK -> GB
    assert owns["company:owner-g"].props["share"] == 0.5 and "start" not in owns["company:owner-g"].props
    rel(rels, "HEADQUARTERED_IN", "company:owner-g", "GB")
    # row 9: a surplus cell rejects the row as a whole
    [r9] = by_row["row 9"]
    assert "expected 5 columns" in r9.reason
    assert "company:owner-h" not in nodes
    assert set(by_row) == {"row 3", "row 4", "row 5", "row 6", "row 7", "row 9"}


def test_required_property_and_partial_reject(tmp_path):
    shutil.copy(FIX / "bad-rows.csv", tmp_path / "bad-rows.csv")
    text = GOOD.replace('name: "{Company}"', 'name: "{Company}"\n      founded: {column: Date, formats: ["%d/%m/%Y", '
                                             '"%Y"], partial: reject, required: true}')
    _, _, rejected = split(mp.parse(load_text(tmp_path, text)))
    reasons = {r.record: r.reason for r in rejected}
    assert "partial date '2020'" in reasons["row 8"]
    assert "unreadable date" in reasons["row 4"]


# ---------------------------------------------------------------- encodings, formats


def _tiny_company_mapping(tmp_path, data, extra="", props='name: "{Company}"\n      country: "{Country}"'):
    return load_text(tmp_path, f"""\
data: {data}
{extra}
entities:
  company:
    label: Company
    id: "company:{{slug(Company)}}"
    properties:
      {props}
""")


def test_gbk_csv(tmp_path):
    shutil.copy(FIX / "gbk.csv", tmp_path / "gbk.csv")
    p = load_text(tmp_path, """\
data: gbk.csv
entities:
  company:
    label: Company
    id: "company:{slug(英文名)}"
    properties:
      name: "{英文名}"
      name_zh: "{公司}"
      country: "{国家}"
  owner:
    label: Person
    id: person:test
    properties: {name: Test Owner}
relationships:
  - type: OWNS
    from: owner
    to: company
    properties: {share: "{持股比例}"}
""")
    nodes, rels, rejected = split(mp.parse(p))
    assert not rejected, [r.line() for r in rejected]
    assert nodes["company:hikvision"].props["name_zh"] == "海康威视"
    assert nodes["company:hikvision"].props["country"] == "CN"  # 中国
    assert rel(rels, "OWNS", "person:test", "company:hikvision").props["share"] == 0.3888
    assert "share" not in rel(rels, "OWNS", "person:test", "company:huawei").props  # empty cell


def test_cp1252_and_bom_csv(tmp_path):
    for f in ("cp1252.csv", "bom.csv"):
        shutil.copy(FIX / f, tmp_path / f)
    nodes, _, rejected = split(mp.parse(_tiny_company_mapping(tmp_path, "[cp1252.csv, bom.csv]")))
    assert not rejected
    assert nodes["company:societe-generale"].props["name"] == "Société Générale"
    assert nodes["company:societe-generale"].props["country"] == "FR"
    assert nodes["company:example-bom-co"].props["country"] == "DE"  # the BOM is not part of "Company"
    assert nodes["src:file:cp1252-csv"].props["kind"] == "file"  # no sources: declared: a file source


def test_semicolon_csv_with_decimal_comma(tmp_path):
    shutil.copy(FIX / "semicolon.csv", tmp_path / "semicolon.csv")
    p = load_text(tmp_path, """\
data: semicolon.csv
decimal: ","
entities:
  investor:
    label: Company
    id: "company:{slug(Investor)}"
    properties: {name: "{Investor}", kind: vc}
  target:
    label: Company
    id: "company:{slug(Company)}"
    properties: {name: "{Company}", country: "{Country}"}
relationships:
  - type: INVESTED_IN
    from: investor
    to: target
    properties:
      amount_usd: "{Amount (USD)}"
      date: {column: Date, formats: ["%d.%m.%Y"]}
""")
    nodes, rels, rejected = split(mp.parse(p))
    assert not rejected
    r = rel(rels, "INVESTED_IN", "company:example-semi-capital", "company:example-target-bv")
    assert r.props["amount_usd"] == 1234567.5 and r.props["date"] == "2022-03-15"
    assert rel(rels, "INVESTED_IN", "company:example-two-capital", "company:example-target-bv").props["amount_usd"] \
        == 750000
    assert nodes["company:example-target-bv"].props["country"] == "NL"


def test_json_rows_nested_keys_and_lists():
    nodes, rels, rejected = split(mp.parse(FIX / "projects.mapping.yaml"))
    assert [(r.record, r.reason) for r in rejected] == [("row 3", "row is not a JSON object")]
    p = nodes["project:example-json-safe-city"]
    assert p.props["kind"] == "smart_city" and p.props["start"] == "2015-05-12" and p.props["amount_usd"] == 1.5e6
    assert nodes["company:huawei"].props["aliases"] == ["Huawei Technologies", "华为"]
    assert nodes["project:example-json-cable"].props["amount_usd"] == 2e6
    rel(rels, "LOCATED_IN", "project:example-json-cable", "CI")
    assert rel(rels, "PARTY_TO", "company:zte", "project:example-json-cable").props["sources"] == \
        ["src:file:projects-json"]


def test_json_list_and_jsonl(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps([{"Company": "Example List Co", "Country": "Chile"}]),
                                     encoding="utf-8")
    (tmp_path / "b.jsonl").write_text('{"Company": "Example Lines Co", "Country": "Peru"}\n{broken\n',
                                      encoding="utf-8")
    nodes, _, rejected = split(mp.parse(_tiny_company_mapping(tmp_path, "[a.json, b.jsonl]")))
    assert nodes["company:example-list-co"].props["country"] == "CL"
    assert nodes["company:example-lines-co"].props["country"] == "PE"
    assert [(r.record, r.file.endswith("b.jsonl")) for r in rejected] == [("row 2", True)]


def test_xlsx_sheet_errors(tmp_path):
    shutil.copy(EXAMPLES / "fund-holdings.xlsx", tmp_path / "h.xlsx")
    p = _tiny_company_mapping(tmp_path, "h.xlsx", extra="sheet: Nope\nheader_row: 4",
                              props='name: "{Name}"')
    _, _, rejected = split(mp.parse(p))
    assert len(rejected) == 1 and rejected[0].record == "file"
    assert "line 2: no sheet 'Nope'" in rejected[0].reason and "Holdings" in rejected[0].reason


def test_filters(tmp_path):
    shutil.copy(FIX / "bad-rows.csv", tmp_path / "bad-rows.csv")
    p = _tiny_company_mapping(tmp_path, "bad-rows.csv", props='name: "{Shareholder}"').read_text()
    p = p.replace('id: "company:{slug(Company)}"', 'id: "company:{slug(Shareholder)}"')
    cases = {
        "where: {column: Country, equals: CHINA}": {"a", "b", "c", "e", "f"},  # row 9 ("h") is unreadable
        "where: {column: Country, in: [uk, narnia]}": {"d", "g"},
        "where: {column: Company, empty: true}": {"e"},
        "where: {not: {column: Share, regex: '%$'}}": {"f", "g"},
        "where: {any: [{column: Shareholder, equals: owner a}, {column: Date, equals: '2020'}]}": {"a", "g"},
        "where: [{column: Company, not_empty: true}, {column: Country, not_in: [China]}]": {"d", "g"},
    }
    for where, owners in cases.items():
        text = p.replace("entities:", where + "\nentities:")
        nodes, _, _ = split(mp.parse(load_text(tmp_path, text)))
        got = {n.id.rsplit("-", 1)[-1] for n in nodes.values() if n.label == "Company"}
        assert got == owners, where


def test_templates_functions_and_specials(tmp_path):
    shutil.copy(FIX / "bad-rows.csv", tmp_path / "bad-rows.csv")
    p = load_text(tmp_path, """\
data: bad-rows.csv
where: {column: Country, equals: China}
sources:
  row:
    id: "src:test:{_file}:{_row}"
    title: "Row {_row} of {_file}"
entities:
  company:
    label: Company
    id: "company:{slug(lower(Shareholder))}"
    properties:
      name: "{upper(Shareholder)}"
      description: "{{literal}} {country_name(Country)}"
      identifiers: ["test:{digits(Date)}", {column: Share, map: {25%: null}}]
      aliases: {template: "{Shareholder} ({Company})"}
""")
    nodes, _, rejected = split(mp.parse(p))
    a = nodes["company:owner-a"]
    assert a.props["name"] == "OWNER A"
    assert a.props["description"] == "{literal} China"
    assert a.props["identifiers"] == ["test:01022020"]  # "25%" mapped to nothing
    assert a.props["aliases"] == ["Owner A (Good Co)"]
    assert "aliases" not in nodes["company:owner-e"].props  # an empty placeholder empties the template
    assert nodes["src:test:bad-rows.csv:2"].props["title"] == "Row 2 of bad-rows.csv"
    assert a.props["sources"] == ["src:test:bad-rows.csv:2"]


def test_preview_from_text_and_row_limit(tmp_path):
    text = (FIX / "bad-rows.mapping.yaml").read_text(encoding="utf-8")
    nodes, rels, rejected = mp.preview(text, FIX / "bad-rows.csv", rows=2)
    assert {n.id for n in nodes} == {"src:test-bad-rows", "company:good-co", "company:owner-a", "company:owner-b",
                                     "CN"}
    assert [r.type for r in rels] == ["OWNS", "HEADQUARTERED_IN", "HEADQUARTERED_IN"]
    assert [r.record for r in rejected] == ["row 3"]
    with pytest.raises(mp.MappingError):
        mp.preview("entities: [", FIX / "bad-rows.csv")


# ---------------------------------------------------------------- CLI


def _cli():
    import typer
    from typer.testing import CliRunner
    from ingest import mapping_commands
    app = typer.Typer()
    app.callback()(lambda: None)
    mapping_commands.register(app)
    return app, CliRunner()


def test_cli_check(tmp_path):
    app, runner = _cli()
    res = runner.invoke(app, ["mapping", "check", str(EXAMPLES / "overseas-projects.mapping.yaml"), "--rows", "2"],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "valid" in res.output and "project:example-5g-core-network-agreement-belgrade" in res.output
    assert "PARTY_TO" in res.output and "LOCATED_IN" in res.output
    bad = load_text(tmp_path, GOOD.replace("label: Company", "label: Compnay"))
    res = runner.invoke(app, ["mapping", "check", str(bad), str(FIX / "bad-rows.csv")], env={"COLUMNS": "200"})
    assert res.exit_code == 1 and "m.yaml line 4: entity `company`: unknown label 'Compnay'" in res.output
    res = runner.invoke(app, ["mapping", "check", str(FIX / "bad-rows.mapping.yaml"), "--rows", "3"],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 3 and "more than 100%" in res.output
    col = load_text(tmp_path, GOOD.replace('"{Company}"', '"{Compnay}"'))
    res = runner.invoke(app, ["mapping", "check", str(col), str(FIX / "bad-rows.csv")], env={"COLUMNS": "200"})
    assert res.exit_code == 1 and "line 7" in res.output and "unknown column 'Compnay'" in res.output


def test_run_records_when_wired():
    from ingest import run
    if "mapping" not in run.KINDS:
        pytest.skip("ingest kind `mapping` is not registered in ingest/run.py yet")
    paths = [str(EXAMPLES / "shareholders.mapping.yaml"), str(EXAMPLES / "shareholders.csv")]
    recs = list(run.records("mapping", paths))
    assert [r.props for r in recs] == [r.props for r in mp.parse(EXAMPLES / "shareholders.mapping.yaml")]


# ---------------------------------------------------------------- both stores


def _export(store):
    return list(store.iter_export())


@pytest.mark.parametrize("name", EXAMPLE_MAPPINGS)
def test_examples_load_into_the_store_idempotently(store, name, tmp_path):
    q = tmp_path / "q.jsonl"
    rep = pipeline.run(store, mp.parse_many([str(EXAMPLES / name)]), file=name, quarantine=str(q))
    assert rep.total_rejected == 0, q.read_text(encoding="utf-8") if q.exists() else ""
    before = _export(store)
    counts = store.counts()
    assert sum(counts["relationships"].values()) > 0
    rep2 = pipeline.run(store, mp.parse_many([str(EXAMPLES / name)]), file=name)
    assert sum(w.created + w.updated for w in rep2.written.values()) == 0
    assert store.counts() == counts and _export(store) == before


def test_project_row_in_the_store(store):
    pipeline.run(store, mp.parse_many([str(EXAMPLES / "overseas-projects.mapping.yaml")]))
    p = store.get("project:example-safe-city-nairobi")
    assert p["label"] == "Project" and p["kind"] == "smart_city" and p["start"] == "2015-05-12"
    assert p["description"] == "example row"
    rels = [r for r in _export(store) if "rel" in r]
    party = [r for r in rels if r["rel"] == "PARTY_TO" and r["dst"] == p["id"]]
    assert {(r["src"], r["src_label"], r["props"]["role"]) for r in party} == {
        ("company:huawei", "Company", "contractor"), ("gov:national-police-service-kenya", "GovernmentBody", "client")}
    assert [(r["dst"], r["dst_label"]) for r in rels if r["rel"] == "LOCATED_IN" and r["src"] == p["id"]] == \
        [("KE", "Country")]
    assert store.get("src:example-overseas-projects")["title"] == "Example data — not a factual claim"
    assert store.get("KR")["name"] == "South Korea"


def test_shares_and_dates_in_the_store(store):
    pipeline.run(store, mp.parse_many([str(EXAMPLES / "shareholders.mapping.yaml")]))
    target = "company:example-vision-technology-co-ltd"
    rels = [r for r in _export(store) if r.get("rel") == "OWNS" and r["dst"] == target]
    got = sorted((r["src"], r["props"]["share"], r["props"].get("start")) for r in rels)
    assert ("company:example-holding-group-co-ltd", 0.3888, "2019-06-15") in got
    assert ("company:example-holding-group-co-ltd", 0.455, "2021-01-03") in got
    assert ("person:zhang-example", 0.2112, "2019-06-15") in got


def test_bad_rows_are_quarantined_in_the_store(store, tmp_path):
    q = tmp_path / "q.jsonl"
    rep = pipeline.run(store, mp.parse_many([str(FIX / "bad-rows.mapping.yaml")]), file="bad-rows", quarantine=str(q))
    entries = [json.loads(line) for line in q.read_text(encoding="utf-8").splitlines()]
    assert len(entries) == rep.total_rejected >= 6
    assert all(e["file"].endswith("bad-rows.csv") and e["record"].startswith("row ") for e in entries)
    assert {(e["record"], e["field"]) for e in entries} >= {("row 3", "Share"), ("row 4", "Date"), ("row 5", "Country"),
                                                            ("row 6", "Company"), ("row 7", "Share")}
    # the independent records of bad rows landed
    assert store.get("company:owner-b") is not None and store.get("company:owner-e") is not None
    assert store.get("company:owner-d") is None
    owns = {r["src"] for r in _export(store) if r.get("rel") == "OWNS"}
    assert owns == {"company:owner-a", "company:owner-g"}


def test_gbk_and_xlsx_in_the_store(store, tmp_path):
    shutil.copy(FIX / "gbk.csv", tmp_path / "gbk.csv")
    p = load_text(tmp_path, """\
data: gbk.csv
entities:
  company:
    label: Company
    id: "company:{slug(英文名)}"
    properties: {name: "{英文名}", name_zh: "{公司}"}
""")
    rep = pipeline.run(store, mp.parse_many([str(p)]))
    assert rep.total_rejected == 0
    assert store.get("company:dahua")["name_zh"] == "大华股份"
    pipeline.run(store, mp.parse_many([str(EXAMPLES / "fund-holdings.mapping.yaml")]))
    assert store.get("issuer:KYG875721634")["name"] == "Tencent Holdings Ltd"
    assert store.counts()["relationships"]["HOLDS"] == 7
