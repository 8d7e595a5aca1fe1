"""FtM ingester: the OpenSanctions yente samples (entities + ADD/MOD/DEL deltas) and fixtures for bad input."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from graph.ids import slug
from graph.schema import validate_node, validate_rel
from ingest import ftm
from ingest.records import Node, Rejected, Rel

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ftm-samples"
FIX = Path(__file__).parent / "fixtures" / "ftm"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared data not available")
T1 = DATA / "yente_t1_entities.ftm.json"
DELTAS = sorted(DATA.glob("yente_t2_*.delta.json"))


def split(records):
    records = list(records)
    return ([r for r in records if isinstance(r, Node)], [r for r in records if isinstance(r, Rel)],
            [r for r in records if isinstance(r, Rejected)], [r for r in records if isinstance(r, ftm.Delete)])


def check_invariants(records, known: set[str] = frozenset()):
    """Valid nodes and relationships, sources that were yielded, endpoints that were yielded, full rejects."""
    nodes, rels, rejected, _ = split(records)
    ids = {n.id for n in nodes} | set(known)
    sources = {n.id for n in nodes if n.label == "Source"}
    for n in nodes:
        validate_node(n.label, n.props)
        assert set(n.props["sources"]) <= sources, n
    for r in rels:
        validate_rel(r.type, r.src_label, r.dst_label, r.props)
        assert r.src in ids and r.dst in ids, r
        assert set(r.props["sources"]) <= sources, r
    for r in rejected:
        assert r.file and r.record and r.field and r.reason, r


# ---------------------------------------------------------------- real samples

@needs_data
def test_t1_entities():
    records = list(ftm.parse(T1))
    check_invariants(records)
    nodes, rels, rejected, _ = split(records)
    assert rejected == []
    entities = {n.id: n for n in nodes if n.label in ("Company", "Person", "GovernmentBody")}
    assert sorted(n.label for n in entities.values()) == ["Company"] * 2 + ["Person"] * 4
    tobacco = entities["ftm:NK-2GdmHtZTeNXjNVrBGEXZNj"]
    assert tobacco.props["country"] == "BY"
    assert "ofac:32733" in tobacco.props["identifiers"]  # from the OpenSanctions referents
    assert "LLC “Inter Tobacco”" in tobacco.props["aliases"]
    kuzmenko = entities["ftm:NK-2Ka3UvopqbpZmVDFjWd4LA"]
    assert kuzmenko.props["birth_date"] == "1971-01-22" and kuzmenko.props["nationality"] == "RU"
    # every entity has topic "sanction" and dataset eu_fsf: listed on the EU list node of our own
    assert {r.dst for r in rels} == {"ftm-list:eu-fsf"} and len(rels) == 6
    assert {r.src for r in rels} == set(entities)
    lists = [n for n in nodes if n.label == "SanctionsList"]
    assert [(n.id, n.props["country"]) for n in lists] == [("ftm-list:eu-fsf", "EU")]


@needs_data
def test_delta_files_in_order():
    assert [p.name.split("_")[2] for p in DELTAS] == ["20240527194702-wnk", "20240528014702-pfh",
                                                       "20240528074703-npf", "20240528134729-3iv"]
    wnk, pfh, npf, iv = (list(ftm.parse(p)) for p in DELTAS)
    for records in (wnk, pfh, npf, iv):
        check_invariants(records)
        assert split(records)[2] == []
    # ADD
    assert {n.id for n in split(wnk)[0] if n.label in ("Company", "Person")} == {
        "ftm:NK-2T3S8Hu29ktYnKSTgQp2wL", "ftm:NK-2sJaJRaPJcWUfMbHjTtWcL"}
    # ADD of a new entity + MOD of an existing one (renamed)
    mod = {n.id: n for n in split(pfh)[0]}
    assert "ftm:NK-500Poltergeist" in mod
    assert mod["ftm:NK-2T3S8Hu29ktYnKSTgQp2wL"].props["name"] == "Foobar Foobargroup"
    # DEL: only a marker with the namespaced id
    assert split(npf)[3] == [ftm.Delete(label_hint=None, id="ftm:NK-500Poltergeist")]
    assert split(npf)[0][0].label == "Source" and len(split(npf)[0]) == 1
    person = {n.id: n for n in split(iv)[0]}["ftm:Q4365364"]
    assert "wikidata:Q4365364" in person.props["identifiers"] and "ofac:35703" in person.props["identifiers"]
    # the US dataset an entity comes from maps onto the project's own list id
    assert "us-ofac-sdn" in {r.dst for r in split(pfh)[1]}


@needs_data
def test_folder_reads_entities_then_deltas_and_skips_the_index():
    records = list(ftm.parse(DATA))
    check_invariants(records)
    nodes, _, rejected, deletes = split(records)
    assert rejected == [] and len(deletes) == 1
    sources = [n.id for n in nodes if n.label == "Source" and n.id.startswith("src:ftm:")]
    assert sources == [f"src:ftm:{slug(p.name)}" for p in [T1, *DELTAS]]


@needs_data
def test_parsing_twice_gives_identical_records():
    for path in [T1, *DELTAS]:
        assert list(ftm.parse(path)) == list(ftm.parse(path))


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def mixed():
    return list(ftm.parse(FIX / "entities-mixed.ftm.json"))


def test_fixture_invariants(mixed):
    check_invariants(mixed)


def test_bad_lines_are_rejected_with_line_and_field(mixed):
    rejected = {r.record: r for r in split(mixed)[2]}
    expect = {"line 6": "share", "line 7": "share", "line 8": "incorporationDate", "line 9": "schema",
              "line 10": "schema", "line 11": "json", "line 15": "owner", "line 18": "issuer"}
    assert {k: r.field for k, r in rejected.items()} == expect
    assert "140" in rejected["line 6"].reason  # share 140 %
    assert "'-'" in rejected["line 7"].reason  # "-" is not a number
    assert "10/9/19" in rejected["line 8"].reason  # ambiguous date: rejected, not guessed
    assert rejected["line 9"].reason == "unknown FtM schema 'Spaceship'"
    assert rejected["line 10"].reason == "unsupported FtM schema Vessel"
    assert all(r.file.endswith("entities-mixed.ftm.json") for r in rejected.values())


def test_company_person_publicbody(mixed):
    nodes = {n.id: n for n in split(mixed)[0]}
    co = nodes["ftm:tg-co-1"]
    assert co.label == "Company" and co.props["country"] == "CN"
    assert co.props["name_zh"] == "示例监控技术有限公司"
    assert "founded" not in co.props and "founded 2019" in co.props["description"]  # partial date kept as text
    assert co.props["address"] == "1 Example Road, Hangzhou, China"  # from the Address entity
    # the Security adds its identifiers to the issuer
    assert {"isin:CNE100000PM8", "ticker:002415", "ofac:99999"} <= set(co.props["identifiers"])
    person = nodes["ftm:tg-person-1"]
    assert "birth_date" not in person.props and "birth date 1965-03" in person.props["description"]
    assert nodes["ftm:tg-pb-1"].label == "GovernmentBody"
    assert "ftm:tg-co-2" not in nodes and "ftm:tg-vessel-1" not in nodes


def test_ownership_directorship_sanction(mixed):
    rels = {r.id: r for r in split(mixed)[1]}
    own = rels["ftm:tg-own-1"]
    assert (own.type, own.src, own.dst, own.props["share"]) == ("OWNS", "ftm:tg-person-1", "ftm:tg-co-1", 0.51)
    assert "start" not in own.props  # "2019-10" is partial
    rng = rels["ftm:tg-own-5"]
    assert (rng.props["share_min"], rng.props["share_max"], rng.props["start"], rng.props["end"]) == \
        (0.2, 0.25, "2020-01-01", "2023-06-30")
    d = rels["ftm:tg-dir-1"]
    assert (d.type, d.props["role"], d.props["start"]) == ("OFFICER_OF", "Chairman", "2018-01-01")
    cmic = rels["ftm:tg-san-1"]
    assert (cmic.type, cmic.dst, cmic.props["since"]) == ("LISTED_ON", "us-ofac-ns-cmic", "2021-06-03")
    eu = rels["ftm:tg-san-2"]
    assert eu.dst == "ftm-list:eu-fsf" and eu.props["since"] == "2022-04-08"
    # the topic/dataset listing (us_ofac_cons) is not repeated: the Sanction entity already states it
    listed = [r for r in rels.values() if r.type == "LISTED_ON" and r.src == "ftm:tg-co-1"]
    assert [r.dst for r in listed] == ["us-ofac-ns-cmic"]
    nodes = {n.id: n for n in split(mixed)[0]}
    assert nodes["us-ofac-ns-cmic"].props["country"] == "US" and "src:techgiants-lists" in nodes


def test_known_labels_resolve_endpoints_outside_the_file():
    records = list(ftm.parse(FIX / "entities-mixed.ftm.json", known_labels={"ftm:not-in-this-file": "Company"}))
    rels = {r.id: r for r in split(records)[1]}
    assert rels["ftm:tg-own-4"].src_label == "Company" and rels["ftm:tg-own-4"].props["share"] == 0.1
    assert "line 15" not in {r.record for r in split(records)[2]}


def test_delta_fixture_delete_ids_match_relationship_and_node_ids(mixed):
    records = list(ftm.parse(FIX / "entities-mixed.delta.json"))
    check_invariants(records)
    nodes, rels, rejected, deletes = split(records)
    assert [d.id for d in deletes] == ["ftm:tg-own-1", "ftm:tg-co-2"]
    assert deletes[0].label is None  # the pipeline reads `.label`
    # a DEL of an Ownership names the relationship the entities file created
    assert "ftm:tg-own-1" in {r.id for r in split(mixed)[1]}
    assert [(r.record, r.field) for r in rejected] == [("line 6", "op")]
    assert {r.id for r in rels} == {"ftm:tg-own-9"}
    assert {n.id for n in nodes if n.label == "Company"} == {"ftm:tg-co-9", "ftm:tg-co-1"}


def test_fixture_parse_is_deterministic():
    for name in ("entities-mixed.ftm.json", "entities-mixed.delta.json"):
        assert list(ftm.parse(FIX / name)) == list(ftm.parse(FIX / name))


def test_helpers():
    assert ftm._share("50%") == {"share": 0.5}
    assert ftm._share("25 - 50 %") == {"share_min": 0.25, "share_max": 0.5}
    for bad in ("-", "140", "about half", ""):
        with pytest.raises(ValueError):
            ftm._share(bad)
    assert ftm._date("2019-10-09T12:00:00Z") == ("2019-10-09", None)
    assert ftm._date("2019") == (None, "2019")
    with pytest.raises(ValueError):
        ftm._date("10/9/19")
    with pytest.raises(ValueError):
        ftm._date("2019-02-30")


# ---------------------------------------------------------------- never raise on a bad record

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_json = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                     lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3),
                     max_leaves=8)
_entity = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=6), "schema": st.sampled_from(["Company", "Person", "Ownership", "Sanction",
                                                                        "Security", "Address", "Nope", "Directorship"])},
    optional={"properties": st.dictionaries(
        st.sampled_from(["name", "owner", "asset", "percentage", "startDate", "entity", "issuer", "isin",
                         "birthDate", "country", "topics"]),
        st.lists(st.text(max_size=10), max_size=2) | _json, max_size=5),
        "datasets": st.lists(st.text(max_size=8), max_size=2) | _json})


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_entity | st.fixed_dictionaries({"op": st.sampled_from(["ADD", "DEL", "X"]), "entity": _entity})
                | _json, max_size=6))
def test_arbitrary_lines_never_raise(items):
    import json
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "fuzz.ftm.json"
        p.write_text("\n".join(json.dumps(i) for i in items) + "\n", encoding="utf-8")
        records = list(ftm.parse(p))
    assert all(isinstance(r, (Node, Rel, Rejected, ftm.Delete)) for r in records)
    for r in records:
        if isinstance(r, Rejected):
            assert r.record and r.field
