"""Entity resolution (ingest/resolve.py): pure rules, the review queue and judgements, the CLI,
and real multi-source ingests on both stores (one node per real company, re-runs change nothing)."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml

from ingest.resolve import (FUZZY_THRESHOLD, Judgement, Judgements, Resolver, ReviewQueue, append_judgement,
                            keys_for, name_key, zh_key)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """No test reads the project's judgements or writes a queue into the work tree."""
    monkeypatch.setenv("TECHGIANTS_REVIEW_QUEUE", str(tmp_path / "queue.jsonl"))
    monkeypatch.setenv("TECHGIANTS_JUDGEMENTS", str(tmp_path / "judgements.yaml"))


def co(id_, name, **props):
    return {"id": id_, "name": name, "sources": ["src:test"], **props}


def resolver(tmp_path, judgements=()) -> Resolver:
    return Resolver(Judgements(list(judgements)), ReviewQueue(tmp_path / "queue.jsonl"))


def queued(r: Resolver) -> list[dict]:
    r.flush_queue()
    return r.queue.entries()


# ---------------------------------------------------------------- name keys


def test_legal_forms_accents_scripts():
    assert name_key("Zhejiang Dahua Technology Co., Ltd.") == name_key("ZHEJIANG DAHUA TECHNOLOGY COMPANY LIMITED")
    assert name_key("Huawei Technologies Co. Ltd") == "huawei technologies"
    assert name_key("Société Générale S.A.") == name_key("Societe Generale SA") == "societe generale"
    assert name_key("OOO Achim Development") == "achim development"
    assert zh_key("商湯集團有限公司") == zh_key("商汤集团有限公司") == "商汤集团"
    assert zh_key("杭州海康威视数字技术股份有限公司") == "杭州海康威视数字技术"
    assert zh_key("Hikvision") == ""
    # a trailing parenthesis also gives the name without it; the full form keeps the legal form
    assert "lat:academy of aerospace solid propulsion technology" in keys_for(
        "University", "Academy of Aerospace Solid Propulsion Technology (AASPT)")
    assert "full:cnooc limited" in keys_for("Company", "CNOOC Limited")
    assert keys_for("Person", "WANG Wei") == keys_for("Person", "Wei Wang")


# ---------------------------------------------------------------- rules


def test_identifier_merge(tmp_path):
    r = resolver(tmp_path)
    assert r.resolve("Company", co("ofac:30946", "HANGZHOU HIKVISION", identifiers=["isin:CNE100000PM8"])) \
        == ("ofac:30946", "Company")
    rec = co("holdings:x", "Hik-Vision A shares", identifiers=["isin:CNE100000PM8"])
    assert r.resolve("Company", rec) == ("ofac:30946", "Company")
    # the record is rewritten for the merge: its own name kept as an alias, the entity keeps its name
    assert rec["name"] == "HANGZHOU HIKVISION" and "Hik-Vision A shares" in rec["aliases"]


def test_name_merge_legal_forms_and_accents(tmp_path):
    r = resolver(tmp_path)
    assert r.resolve("Company", co("a:1", "Zhejiang Dahua Technology Co., Ltd.", country="CN"))[0] == "a:1"
    assert r.resolve("Company", co("b:1", "ZHEJIANG DAHUA TECHNOLOGY COMPANY LIMITED", country="CN"))[0] == "a:1"
    assert r.resolve("Company", co("c:1", "Zhejiang Dahua Technology Company"))[0] == "a:1"  # country unknown
    assert r.resolve("Company", co("a:2", "Société Générale S.A.", country="FR"))[0] == "a:2"
    assert r.resolve("Company", co("b:2", "SOCIETE GENERALE", country="FR"))[0] == "a:2"


def test_chinese_exact_simplified_traditional(tmp_path):
    r = resolver(tmp_path)
    r.resolve("Company", co("ofac:33114", "SENSETIME GROUP LIMITED", name_zh="商汤集团有限公司", country="CN"))
    assert r.resolve("Company", co("x:1", "Shangtang Jituan", aliases=["商湯集團有限公司"], country="CN"))[0] \
        == "ofac:33114"
    # two Han characters are too few to merge on: a candidate only
    r.resolve("Company", co("y:1", "Huawei", name_zh="华为", country="CN"))
    assert r.resolve("Company", co("z:1", "Hua Wei Tech", name_zh="華為", country="CN"))[0] == "z:1"
    assert any({e["a"], e["b"]} == {"y:1", "z:1"} for e in queued(r))


def test_country_conflict_prevents_merge(tmp_path):
    r = resolver(tmp_path)
    r.resolve("Company", co("a:1", "Megvii Technology Limited", country="CN"))
    assert r.resolve("Company", co("b:1", "Megvii Technology Limited", country="KY"))[0] == "b:1"
    [e] = queued(r)
    assert (e["a"], e["b"]) == ("a:1", "b:1") and any("countries differ" in x for x in e["evidence"])


def test_short_alias_is_a_candidate_not_a_merge(tmp_path):
    r = resolver(tmp_path)
    r.resolve("Company", co("company:zte", "ZTE", country="CN"))
    assert r.resolve("Company", co("l:1", "ZTE Corporation", country="CN"))[0] == "l:1"
    assert r.resolve("Company", co("l:2", "Zhongxing Telecom", aliases=["ZTE"], country="CN"))[0] == "l:2"
    pairs = {(e["a"], e["b"]): e for e in queued(r)}
    assert ("company:zte", "l:1") in pairs and ("company:zte", "l:2") in pairs  # curated side is `a`
    assert "(short)" in pairs[("company:zte", "l:2")]["evidence"][0]


def test_long_alias_merges_onto_curated(tmp_path):
    r = resolver(tmp_path)
    r.resolve("Company", co("company:hikvision", "Hikvision", country="CN"))
    rec = co("us-bis-entity-list:hangzhou-hikvision", "Hangzhou Hikvision Digital Technology Co., Ltd.",
             aliases=["Hikvision"], country="CN", description="from the list", kind="company")
    assert r.resolve("Company", rec) == ("company:hikvision", "Company")
    assert rec["name"] == "Hikvision" and "description" not in rec  # curated name and text win


def test_ambiguous_name_merges_nothing(tmp_path):
    r = resolver(tmp_path)
    r.resolve("Company", co("a:1", "Mobile Group Alpha", aliases=["China Mobile"], country="CN"))
    r.resolve("Company", co("b:1", "Mobile Group Beta", aliases=["China Mobile"], country="CN"))
    assert r.resolve("Company", co("c:1", "China Mobile", country="CN"))[0] == "c:1"
    assert {frozenset((e["a"], e["b"])) for e in queued(r)} >= {frozenset(("a:1", "c:1")), frozenset(("b:1", "c:1"))}


def test_labels_and_people(tmp_path):
    r = resolver(tmp_path)
    r.resolve("Company", co("a:1", "Harbin Institute of Technology Holdings"))
    assert r.resolve("University", co("b:1", "Harbin Institute of Technology Holdings"))[0] == "b:1"
    assert any("labels differ" in x for e in queued(r) for x in e["evidence"])
    # a person's name alone never merges; with an equal birth date it does; another birth date: no candidate
    # (distinct id prefixes: two ids of one source namespace never merge automatically)
    r.resolve("Person", co("p1:1", "Li Fangwei", birth_date="1972-12-01"))
    assert r.resolve("Person", co("p2:1", "LI, Fangwei"))[0] == "p2:1"
    assert r.resolve("Person", co("p3:1", "Fangwei Li", birth_date="1972-12-01"))[0] == "p1:1"
    assert r.resolve("Person", co("p4:1", "Li Fangwei", birth_date="1980-01-01"))[0] == "p4:1"
    pairs = {frozenset((e["a"], e["b"])) for e in queued(r)}
    assert frozenset(("p1:1", "p2:1")) in pairs and frozenset(("p1:1", "p4:1")) not in pairs


def test_single_valued_identifier_conflict_and_same_source(tmp_path):
    r = resolver(tmp_path)
    r.resolve("Company", co("a:1", "Alpha Precision Instruments", identifiers=["lei:529900T8BM49AURSDO55"]))
    assert r.resolve("Company", co("b:1", "Alpha Precision Instruments",
                                   identifiers=["lei:5493001KJTIIGC8Y1R12"]))[0] == "b:1"
    # two entries of one list are two entities: same name -> candidate (a duplicate on the list?)
    r.resolve("Company", co("us-bis-entity-list:x", "Gamma Trading Company", country="AE"))
    r.resolve("Company", co("ofac:1", "Gamma Trading", country="AE"))  # merges onto the list entry
    assert r.resolve("Company", co("us-bis-entity-list:y", "Gamma Trading", country="AE"))[0] == "us-bis-entity-list:y"
    ev = [x for e in queued(r) for x in e["evidence"]]
    assert any("different lei identifiers" in x for x in ev)
    assert any("lists each entity once" in x for x in ev)


def test_fuzzy_candidate_with_blocking(tmp_path):
    r = resolver(tmp_path)
    r.resolve("Company", co("a:1", "Minsk Wheeled Tractor Plant", country="BY"))
    r.resolve("Company", co("a:2", "CETC 13th Research Institute", country="CN"))
    assert r.resolve("Company", co("b:1", "Minsk Wheel Tractor Plant", country="BY"))[0] == "b:1"
    assert r.resolve("Company", co("b:2", "CETC 14th Research Institute", country="CN"))[0] == "b:2"
    [e] = queued(r)  # numbers differ: no candidate for the institutes
    assert (e["a"], e["b"]) == ("a:1", "b:1") and FUZZY_THRESHOLD <= e["score"] < 100
    assert e["evidence"][0].startswith("fuzzy")


def test_records_of_one_run_merge_and_order_does_not_change_the_partition(tmp_path):
    recs = [
        ("Company", co("l1:a", "Beijing Alpha Semiconductor Co., Ltd.", country="CN")),
        ("Company", co("l2:a", "BEIJING ALPHA SEMICONDUCTOR COMPANY LIMITED", identifiers=["isin:CNE000000001"])),
        ("Company", co("l3:a", "Beijing Alpha Semiconductor Corp.", aliases=["Alpha Semi"],
                       identifiers=["isin:CNE000000001", "uscc:91110000000000000X"])),
        ("Company", co("l1:b", "Shenzhen Beta Optoelectronics Co., Ltd.", country="CN")),
        ("Company", co("l2:b", "Shenzhen Beta Optoelectronics Corporation", country="CN")),
        ("Company", co("l3:c", "Gamma Networks Limited", country="HK")),
        ("Person", co("p1:a", "Zhang San", birth_date="1970-01-01")),
        ("Person", co("p2:a", "San Zhang", birth_date="1970-01-01")),
    ]

    def partition(order):
        r = resolver(tmp_path)
        groups: dict[str, set] = {}
        for label, props in order:
            cid, _ = r.resolve(label, dict(props))
            groups.setdefault(cid, set()).add(props["id"])
        r.candidates.clear()
        return sorted(sorted(g) for g in groups.values())

    expected = partition(recs)
    assert expected == [["l1:a", "l2:a", "l3:a"], ["l1:b", "l2:b"], ["l3:c"], ["p1:a", "p2:a"]]
    rng = random.Random(4)
    for _ in range(10):
        shuffled = recs[:]
        rng.shuffle(shuffled)
        assert partition(shuffled) == expected


def test_a_record_bridging_two_entities_queues_them(tmp_path):
    """Entities already written are never merged by a later record that matches both: the record
    goes to the best match (identifier over name) and the two entities become a candidate pair."""
    r = resolver(tmp_path)
    r.resolve("Company", co("l1:a", "Beijing Alpha Semiconductor Co., Ltd.", country="CN"))
    r.resolve("Company", co("l3:a", "Alpha Semi", identifiers=["isin:CNE000000001"]))
    assert r.resolve("Company", co("l2:a", "Beijing Alpha Semiconductor", identifiers=["isin:CNE000000001"]))[0] \
        == "l3:a"
    [e] = queued(r)
    assert (e["a"], e["b"]) == ("l1:a", "l3:a") and "via record l2:a" in e["evidence"]


def test_resolving_again_is_stable(tmp_path):
    """Idempotence: the same records through a resolver that learnt them give the same ids."""
    r = resolver(tmp_path)
    recs = [co("a:1", "Delta Avionics Group Co., Ltd.", country="CN"), co("b:1", "Delta Avionics Group", country="CN"),
            co("c:1", "Epsilon Imaging", identifiers=["isin:US0000000001"]),
            co("d:1", "EPSILON IMAGING INC", identifiers=["isin:US0000000001"])]
    first = [r.resolve("Company", dict(p))[0] for p in recs]
    assert first == ["a:1", "a:1", "c:1", "c:1"]
    assert [r.resolve("Company", dict(p))[0] for p in reversed(recs)] == first[::-1]


# ---------------------------------------------------------------- judgements and the queue


def test_judgements_same_and_different(tmp_path):
    js = [Judgement("company:iflytek", "us-bis-entity-list:iflytek", "same"),
          Judgement("a:1", "b:1", "different")]
    r = resolver(tmp_path, js)
    r.resolve("Company", co("company:iflytek", "iFlytek", country="CN"))
    # same: merged although 'iflytek' is too short to merge on
    assert r.resolve("Company", co("us-bis-entity-list:iflytek", "IFLYTEK", country="CN"))[0] == "company:iflytek"
    # different: a shared strong identifier and name do not merge, and nothing is queued
    r.resolve("Company", co("a:1", "Omega Lasers Co., Ltd.", identifiers=["isin:CNE000000009"]))
    assert r.resolve("Company", co("b:1", "Omega Lasers Co., Ltd.", identifiers=["isin:CNE000000009"]))[0] == "b:1"
    assert queued(r) == []
    # `same` across labels is allowed; properties the target label lacks are dropped
    r2 = resolver(tmp_path, [Judgement("gov:mps", "x:1", "same")])
    r2.resolve("GovernmentBody", co("gov:mps", "Ministry of Public Security", country="CN"))
    rec = co("x:1", "Ministry of Public Security Institute", kind="institute")
    assert r2.resolve("University", rec) == ("gov:mps", "GovernmentBody")
    assert "kind" not in rec


def test_judgements_file_round_trip(tmp_path):
    p = tmp_path / "j.yaml"
    p.write_text("# header kept\n[]\n", encoding="utf-8")
    append_judgement(Judgement("a:1", "b:1", "different", "me", "2026-01-01", "no"), p)
    append_judgement(Judgement("a:1", "b:1", "same", "me", "2026-01-02"), p)
    assert p.read_text().startswith("# header kept")
    j = Judgements.load(p)
    assert j.target("b:1") == "a:1" and not j.different  # the later entry for the pair wins
    p.write_text("- {a: x, b: y, decision: maybe}\n")
    with pytest.raises(ValueError, match="decision"):
        Judgements.load(p)


def test_project_judgements_file_is_valid():
    path = ROOT / "data" / "judgements.yaml"
    j = Judgements.load(path)
    curated = {e["id"] for f in (ROOT / "data" / "curated").glob("*.yaml")
               for e in (yaml.safe_load(f.read_text(encoding="utf-8")) or []) if isinstance(e, dict) and "id" in e}
    for jd in j.by_pair.values():
        assert jd.by and jd.date and jd.note, jd
        for x in (jd.a, jd.b):
            assert ":" in x
            if x.split(":")[0] in ("company", "gov", "person", "university", "fund"):
                assert x in curated, f"{x} is not a curated id"


def test_queue_deduplicates_across_runs(tmp_path):
    for _ in range(2):
        r = resolver(tmp_path)
        r.resolve("Company", co("company:zte", "ZTE"))
        r.resolve("Company", co("l:1", "ZTE Corporation"))
        r.resolve("Company", co("l:1", "ZTE Corporation"))
        r.flush_queue()
    lines = (tmp_path / "queue.jsonl").read_text().splitlines()
    assert len(lines) == 1
    e = json.loads(lines[0])
    assert set(e) == {"a", "b", "labels", "names", "score", "evidence"}
    assert e["names"] == ["ZTE", "ZTE Corporation"] and e["labels"] == ["Company", "Company"]


def test_queue_written_when_resolver_goes_away(tmp_path):
    r = resolver(tmp_path)
    r.resolve("Company", co("company:zte", "ZTE"))
    r.resolve("Company", co("l:1", "ZTE Corporation"))
    del r  # the pipeline never calls flush_queue(): the finaliser does
    assert (tmp_path / "queue.jsonl").exists()


def test_cli_list_accept_reject(tmp_path):
    from typer.testing import CliRunner
    import cli
    from ingest import commands
    if not any(getattr(g, "name", None) == "resolve" for g in cli.app.registered_groups):
        commands.register(cli.app)
    r = resolver(tmp_path)
    r.resolve("Company", co("company:zte", "ZTE"))
    r.resolve("Company", co("l:1", "ZTE Corporation"))
    r.resolve("Company", co("l:2", "Zhongxing Telecom", aliases=["ZTE"]))
    r.flush_queue()
    run = CliRunner().invoke
    out = run(cli.app, ["resolve", "list", "--limit", "5"])
    assert out.exit_code == 0, out.output
    assert "company:zte" in out.output and "l:1" in out.output
    out = run(cli.app, ["resolve", "accept", "company:zte", "l:1", "--note", "same firm", "--by", "tester"])
    assert out.exit_code == 0, out.output
    assert "next `techgiants ingest`" in out.output
    out = run(cli.app, ["resolve", "reject", "company:zte", "l:2"])
    assert out.exit_code == 0, out.output
    j = Judgements.load(tmp_path / "judgements.yaml")
    assert j.target("l:1") == "company:zte" and j.forbids(["l:2"], ["company:zte"])
    assert j.by_pair[("company:zte", "l:1")].note == "same firm"
    assert not [e for e in ReviewQueue(tmp_path / "queue.jsonl").entries() if "company:zte" in (e["a"], e["b"])]
    # the next resolver applies them
    r = Resolver(queue=tmp_path / "q2.jsonl")
    r.resolve("Company", co("company:zte", "ZTE"))
    assert r.resolve("Company", co("l:1", "ZTE Corporation"))[0] == "company:zte"
    for args in (["resolve", "--help"], ["resolve", "accept", "--help"]):
        out = run(cli.app, args)
        assert out.exit_code == 0 and "Example" in out.output or "list" in out.output


# ---------------------------------------------------------------- real data on both stores


def _ingest(store, records):
    from ingest import pipeline
    r = Resolver.from_store(store)
    rep = pipeline.run(store, records, resolver=r)
    r.flush_queue()
    return rep


def _load_all(store, shared: Path):
    from ingest import curated
    uslists = pytest.importorskip("ingest.uslists")
    csl = pytest.importorskip("ingest.csl")
    ofac = pytest.importorskip("ingest.ofac")
    _ingest(store, curated.parse(ROOT / "data" / "curated"))
    _ingest(store, uslists.parse(shared / "data" / "us-restricted-lists-2026-07"))
    for f in ("csl_sample_2025_watchman.csv", "csl_sample_2019_watchman.csv"):
        _ingest(store, csl.parse(shared / "data" / "csl-samples" / f))
    _ingest(store, ofac.parse(shared / "data" / "ofac-consolidated-2025-12"))


def _merged_ids(node: dict) -> set[str]:
    return {i[3:] for i in node.get("identifiers") or [] if i.startswith("id:")}


@pytest.mark.slow
def test_one_node_per_company_across_sources(store, shared, tmp_path):
    _load_all(store, shared)
    counts = store.counts()

    # Hikvision: curated, five US lists and OFAC's own files are one node, the curated one
    hik = store.search("Hikvision", labels=["Company"])
    assert [n["id"] for n in hik if "hikvision" in n["name"].lower() or "Hikvision" in n.get("aliases", [])] \
        == ["company:hikvision"]
    node = store.get("company:hikvision")
    assert node["name"] == "Hikvision"
    assert {"us-bis-entity-list:hangzhou-hikvision-digital-technology-co-ltd", "ofac:30946",
            "us-ofac-ns-cmic:hangzhou-hikvision-digital-technology-co-ltd"} <= _merged_ids(node)
    assert {"uscc:91330000733796106P", "isin:CNE100000PM8"} <= set(node["identifiers"])
    assert "Hangzhou Hikvision Digital Technology Co., Ltd." in node["aliases"]
    assert node["name_zh"] == "杭州海康威视数字技术股份有限公司"
    assert any(s.startswith("src:uslists-") for s in node["sources"]) and any(s.startswith("src:aspi") for s in
                                                                             node["sources"])
    assert any("ofac" in s for s in node["sources"])
    lists = {row[0] for row in store.read("MATCH (n:Company {id: $id})-[:LISTED_ON]->(l:SanctionsList) RETURN l.id",
                                          {"id": "company:hikvision"}).rows}
    assert {"us-bis-entity-list", "us-dod-1260h", "us-fcc-covered", "us-ofac-eo14032", "us-ofac-ns-cmic"} <= lists
    for gone in ("ofac:30946", "us-bis-entity-list:hangzhou-hikvision-digital-technology-co-ltd"):
        assert store.node_label(gone) is None

    # NS-CMIC companies in both the OFAC consolidated files and the lists JSON
    for canonical, members in {
        "company:sensetime": {"ofac:33114", "us-ofac-ns-cmic:sensetime-group-limited"},
        "us-bis-entity-list:huawei-technologies-co-ltd": {"ofac:30947", "us-ofac-ns-cmic:huawei-technologies-co-ltd",
                                                           "us-dod-1260h:huawei-technologies-co-ltd"},
        "us-bis-entity-list:semiconductor-manufacturing-international-corporation-smic":
            {"ofac:30951", "us-ofac-ns-cmic:semiconductor-manufacturing-international-corporation"},
    }.items():
        assert members <= _merged_ids(store.get(canonical)), canonical
        assert all(store.node_label(m) is None for m in members)
    # the CSL: 2025 rows onto the lists JSON, 2019 rows and OFAC rows onto each other
    assert "csl:66f6ab3f26234b75a9093fce79ef0ce0" in _merged_ids(
        store.get("us-bis-meu:academy-of-aerospace-solid-propulsion-technology-aaspt"))
    assert {"csl:plc:9673", "ofac:9673"} <= _merged_ids(store.get("csl:9673"))

    # running the same ingests again changes nothing
    queue = Path(tmp_path / "queue.jsonl").read_text()
    _load_all(store, shared)
    assert store.counts() == counts
    assert Path(tmp_path / "queue.jsonl").read_text() == queue


def test_from_store_indexes_existing_entities(store, tmp_path):
    from ingest import pipeline
    from ingest.records import Node
    recs = [Node("Company", co("company:acme", "Acme Robotics", aliases=["Acme Robotics Group"], country="CN")),
            Node("Company", co("ofac:1", "ACME ROBOTICS GROUP CO., LTD.", country="CN",
                               identifiers=["ofac:1", "isin:CNE100000001"]))]
    pipeline.run(store, [Node("Source", {"id": "src:test", "name": "test", "sources": ["src:test"]}), *recs],
                 resolver=Resolver.from_store(store))
    assert store.node_label("ofac:1") is None
    r = Resolver.from_store(store)
    assert set(r.entities) >= {"company:acme"} and r.member_of["ofac:1"] == "company:acme"
    assert r.resolve("Company", co("h:1", "Acme A", identifiers=["isin:CNE100000001"]))[0] == "company:acme"
    assert r.resolve("Company", co("ofac:1", "ACME ROBOTICS GROUP CO., LTD."))[0] == "company:acme"
