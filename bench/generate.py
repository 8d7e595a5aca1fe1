"""A seeded synthetic techgiants graph, vectorised with numpy and Arrow.

    python -m bench.generate --companies 1000000 [--seed 7] [--out bench/.work/1m]

writes the same graph in every bulk format the stores take:

    OUT/ladybug/nodes/<Label>.parquet                 columns = the schema's properties, schema order
    OUT/ladybug/rels/<TYPE>__<From>__<To>.parquet     `from`, `to`, then the type's properties
    OUT/ladybug/copy.cypher                           the COPY statements, in load order
    OUT/neo4j/nodes_<Label>.csv                       header `id:ID(<Label>),name,sources:string[],...`
    OUT/neo4j/rels_<TYPE>__<From>__<To>.csv           header `:START_ID(<From>),:END_ID(<To>),id,...`
    OUT/neo4j/import.sh                               the `neo4j-admin database import full` command
    OUT/manifest.json                                 counts, seed, timings, parameters

and, in Python, `records(graph)` (pipeline Node/Rel records) and `unwind_batches(graph)`
(plain `UNWIND ... CREATE` batches for a live Neo4j).

The shape (N companies; everything else scales with N):
- corporate groups with Pareto sizes (alpha 1.2, mean ~5, capped at N/30 or 30,000): inside a
  group every company is owned by an earlier member, biased towards the head (trees ~10 deep);
  majority stakes for 60%; a second, minority owner anywhere earlier for 10% (links groups);
  cross-holdings from a later company for 0.5% (cycles); 2% unknown stakes, 1% given as ranges;
- state-owned groups: 60% of groups of 20+ companies and 8% of the others are held by a SASAC
  (national for the 50 largest, provincial or municipal for the rest: GovernmentBody with
  PART_OF up the hierarchy), some with a second stake from the state pension fund; 40% of the
  private groups are controlled by a founder (Person);
- N/50 investors (80% Fund, 20% investment Company), each with 50-5,000 HOLDS (truncated
  Pareto, tail index 3), assets weighted towards big group heads; asset managers MANAGE funds;
  venture funds INVESTED_IN start-ups;
- N/50,000 (>= 3) Index nodes with 300 CONSTITUENT_OF each (big heads), 10% of funds TRACK one;
- the six US lists as SanctionsList nodes (`us-bis-entity-list`, ...); 0.2% of companies
  LISTED_ON one (half group heads), with `since` dates, Federal Register notices; a few police
  bureaus and people too;
- N/100 Projects (PARTY_TO companies and a client government body, LOCATED_IN one of 40
  countries), universities PARTNERS_WITH companies, SUPPLIES between companies and to bureaus,
  OFFICER_OF for founders and managers;
- names with legal forms and Chinese names ("Zhejiang Huaxin Digital Technology Co., Ltd.",
  alias "Huaxin Digital", "浙江华信数字科技有限公司"); search_key as graph.names.search_key
  computes it (composed from normalised parts; a sample is checked against search_key itself);
- every node and relationship cites one Source, `src:synthetic`.

Deterministic for a seed: the same N and seed give byte-identical tables.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph.names import SEP, norm, search_key  # noqa: E402
from graph.schema import SCHEMA  # noqa: E402
from graph.store import _q  # noqa: E402

SOURCE_ID = "src:synthetic"
PA_TYPES = {"string": pa.string(), "float": pa.float64(), "int": pa.int64(), "bool": pa.bool_(),
            "date": pa.string(), "list": pa.list_(pa.string())}
NEO4J_TYPES = {"string": "", "float": ":double", "int": ":long", "bool": ":boolean", "date": "",
               "list": ":string[]"}
ARRAY_DELIMITER = ";"

# ------------------------------------------------------------------ vocabulary for names
PROVINCES = [("Beijing", "北京"), ("Shanghai", "上海"), ("Tianjin", "天津"), ("Chongqing", "重庆"),
             ("Hebei", "河北"), ("Shanxi", "山西"), ("Liaoning", "辽宁"), ("Jilin", "吉林"),
             ("Heilongjiang", "黑龙江"), ("Jiangsu", "江苏"), ("Zhejiang", "浙江"), ("Anhui", "安徽"),
             ("Fujian", "福建"), ("Jiangxi", "江西"), ("Shandong", "山东"), ("Henan", "河南"),
             ("Hubei", "湖北"), ("Hunan", "湖南"), ("Guangdong", "广东"), ("Hainan", "海南"),
             ("Sichuan", "四川"), ("Guizhou", "贵州"), ("Yunnan", "云南"), ("Shaanxi", "陕西"),
             ("Gansu", "甘肃"), ("Qinghai", "青海"), ("Inner Mongolia", "内蒙古"), ("Guangxi", "广西"),
             ("Tibet", "西藏"), ("Ningxia", "宁夏"), ("Xinjiang", "新疆")]
CITIES = [("Hangzhou", "杭州", 10), ("Shenzhen", "深圳", 18), ("Guangzhou", "广州", 18), ("Wuhan", "武汉", 16),
          ("Chengdu", "成都", 20), ("Nanjing", "南京", 9), ("Xi'an", "西安", 23), ("Suzhou", "苏州", 9),
          ("Hefei", "合肥", 11), ("Qingdao", "青岛", 14), ("Dalian", "大连", 6), ("Xiamen", "厦门", 12),
          ("Ningbo", "宁波", 10), ("Changsha", "长沙", 17), ("Zhengzhou", "郑州", 15), ("Jinan", "济南", 14),
          ("Shenyang", "沈阳", 6), ("Harbin", "哈尔滨", 8), ("Kunming", "昆明", 22), ("Urumqi", "乌鲁木齐", 30),
          ("Kashgar", "喀什", 30), ("Lhasa", "拉萨", 28), ("Nanning", "南宁", 27), ("Fuzhou", "福州", 12),
          ("Wuxi", "无锡", 9), ("Foshan", "佛山", 18), ("Dongguan", "东莞", 18), ("Tangshan", "唐山", 4),
          ("Yantai", "烟台", 14), ("Changchun", "长春", 7)]
SYLLABLES = [("Hua", "华"), ("Xin", "信"), ("Zhong", "中"), ("Tian", "天"), ("Hai", "海"), ("Long", "龙"),
             ("Teng", "腾"), ("Kang", "康"), ("Rui", "瑞"), ("Feng", "丰"), ("Sheng", "盛"), ("Guang", "光"),
             ("Ming", "明"), ("Da", "大"), ("Hong", "宏"), ("Yuan", "远"), ("Tai", "泰"), ("An", "安"),
             ("Jin", "金"), ("Bao", "宝"), ("Cheng", "诚"), ("De", "德"), ("Fu", "福"), ("Heng", "恒"),
             ("Hui", "慧"), ("Jia", "嘉"), ("Kai", "凯"), ("Li", "立"), ("Lian", "联"), ("Mei", "美"),
             ("Nan", "南"), ("Pu", "普"), ("Qi", "启"), ("Rong", "荣"), ("Shi", "世"), ("Shun", "顺"),
             ("Tong", "通"), ("Wei", "威"), ("Xiang", "祥"), ("Xing", "星"), ("Yi", "亿"), ("Ying", "英"),
             ("Yong", "永"), ("Yu", "宇"), ("Zhi", "智"), ("Chuang", "创"), ("Bo", "博"), ("Chen", "晨"),
             ("Dong", "东"), ("Fang", "方"), ("Gao", "高"), ("Guo", "国"), ("Hao", "浩"), ("Ke", "科"),
             ("Lan", "蓝"), ("Ning", "宁"), ("Qing", "青"), ("Ren", "仁"), ("Run", "润"), ("Sen", "森"),
             ("Shang", "尚"), ("Xun", "讯"), ("Yao", "耀"), ("Zhan", "展")]
INDUSTRIES = [("Digital Technology", "数字科技"), ("Intelligent Technology", "智能科技"), ("Electronics", "电子"),
              ("Semiconductor", "半导体"), ("Optoelectronics", "光电"), ("Network Technology", "网络科技"),
              ("Software", "软件"), ("Communication Technology", "通信技术"), ("Information Technology", "信息技术"),
              ("Microelectronics", "微电子"), ("Robotics", "机器人"), ("New Energy", "新能源"),
              ("Advanced Materials", "新材料"), ("Precision Machinery", "精密机械"), ("Aerospace", "航天"),
              ("Biotechnology", "生物科技"), ("Pharmaceutical", "医药"), ("Data Services", "数据服务"),
              ("Cloud Computing", "云计算"), ("Security Technology", "安防科技"), ("Vision Technology", "视觉科技"),
              ("Automotive", "汽车"), ("Shipbuilding", "船舶"), ("Logistics", "物流"), ("Investment", "投资"),
              ("Trading", "贸易"), ("Construction", "建设"), ("Power Equipment", "电力设备"),
              ("Chemical", "化工"), ("Mining", "矿业")]
FORMS = [("Co., Ltd.", "有限公司", 0.55), ("Stock Co., Ltd.", "股份有限公司", 0.2),
         ("Industrial Co., Ltd.", "实业有限公司", 0.1), ("Corporation", "总公司", 0.05),
         ("Holdings Co., Ltd.", "控股有限公司", 0.05), ("Group Co., Ltd.", "集团有限公司", 0.05)]
HEAD_FORMS = [4, 5]  # group heads: Holdings / Group
FAMILY = [("Zhang", "张"), ("Wang", "王"), ("Li", "李"), ("Liu", "刘"), ("Chen", "陈"), ("Yang", "杨"),
          ("Huang", "黄"), ("Zhao", "赵"), ("Wu", "吴"), ("Zhou", "周"), ("Xu", "徐"), ("Sun", "孙"),
          ("Ma", "马"), ("Zhu", "朱"), ("Hu", "胡"), ("Guo", "郭"), ("He", "何"), ("Lin", "林"),
          ("Luo", "罗"), ("Gao", "高")]
WEST = ["Northbridge", "Lakeview", "Granite", "Summit", "Harbor", "Pinecrest", "Redwood", "Bluewater",
        "Ironwood", "Silverline", "Meridian", "Crescent", "Beacon", "Keystone", "Evergreen", "Falcon",
        "Orion", "Atlas", "Cedar", "Westport", "Highland", "Riverton", "Stonebridge", "Oakmont"]
THEMES = ["China Technology", "Emerging Markets", "Asia Pacific", "China A-Share", "Greater China",
          "Global Semiconductor", "Total World", "Dividend Growth", "Small Cap", "ESG Leaders",
          "Frontier Innovation", "Robotics and AI", "Clean Energy", "Internet Leaders"]
FUND_KINDS = [("etf", "ETF", 0.3), ("mutual_fund", "Fund", 0.4), ("pension", "Pension Plan", 0.05),
              ("hedge", "Partners Fund", 0.1), ("private_equity", "Capital Partners", 0.07),
              ("venture", "Ventures Fund", 0.07), ("sovereign", "Sovereign Fund", 0.01)]
INVESTOR_KINDS = [("asset_manager", "Asset Management", 0.4), ("vc", "Venture Capital", 0.25),
                  ("pe", "Private Equity", 0.2), ("investment_firm", "Capital Management", 0.15)]
COUNTRIES = [("CN", "Asia"), ("HK", "Asia"), ("SG", "Asia"), ("MY", "Asia"), ("ID", "Asia"), ("TH", "Asia"),
             ("VN", "Asia"), ("PH", "Asia"), ("PK", "Asia"), ("BD", "Asia"), ("LK", "Asia"), ("KZ", "Asia"),
             ("UZ", "Asia"), ("LA", "Asia"), ("KH", "Asia"), ("MM", "Asia"), ("AE", "Middle East"),
             ("SA", "Middle East"), ("IR", "Middle East"), ("EG", "Africa"), ("KE", "Africa"), ("NG", "Africa"),
             ("ET", "Africa"), ("ZA", "Africa"), ("ZW", "Africa"), ("UG", "Africa"), ("AO", "Africa"),
             ("ZM", "Africa"), ("EC", "Americas"), ("VE", "Americas"), ("BO", "Americas"), ("BR", "Americas"),
             ("AR", "Americas"), ("US", "Americas"), ("RS", "Europe"), ("HU", "Europe"), ("DE", "Europe"),
             ("GB", "Europe"), ("KY", "Americas"), ("VG", "Americas")]
LISTS = [("us-bis-entity-list", "Entity List", "Bureau of Industry and Security", 0.6),
         ("us-bis-meu", "Military End-User List", "Bureau of Industry and Security", 0.1),
         ("us-ofac-sdn", "Specially Designated Nationals List", "Office of Foreign Assets Control", 0.1),
         ("us-ofac-ns-cmic", "Non-SDN Chinese Military-Industrial Complex Companies List",
          "Office of Foreign Assets Control", 0.1),
         ("us-dod-1260h", "Section 1260H List (Chinese military companies)", "Department of Defense", 0.05),
         ("us-fcc-covered", "FCC Covered List", "Federal Communications Commission", 0.05)]
PROJECT_KINDS = [("smart_city", "Safe City"), ("public_security", "Public Security Platform"),
                 ("surveillance", "Surveillance Network"), ("5g", "5G Network"), ("cable", "Submarine Cable"),
                 ("data_centre", "Data Centre"), ("rnd_lab", "Joint R&D Lab"), ("cloud", "Government Cloud"),
                 ("training", "Police Training Programme"), ("ground_station", "Ground Station")]
PRODUCTS = ["surveillance cameras", "facial recognition software", "servers", "network switches",
            "optical modules", "image sensors", "AI chips", "storage systems", "radar components", "drones"]

# ------------------------------------------------------------------ containers
@dataclass
class SynthGraph:
    """The generated graph: Arrow tables in the stores' bulk layouts."""
    companies: int
    seed: int
    nodes: dict[str, pa.Table] = field(default_factory=dict)                  # label -> table
    rels: dict[str, list[tuple[str, str, pa.Table]]] = field(default_factory=dict)  # type -> [(from, to, table)]
    params: dict = field(default_factory=dict)   # ids worth querying (a company with owners, ...)
    timings: dict = field(default_factory=dict)

    def counts(self) -> dict:
        return {"nodes": {l: t.num_rows for l, t in self.nodes.items()},
                "rels": {r: sum(t.num_rows for _, _, t in parts) for r, parts in self.rels.items()}}

    @property
    def n_nodes(self) -> int:
        return sum(t.num_rows for t in self.nodes.values())

    @property
    def n_rels(self) -> int:
        return sum(t.num_rows for parts in self.rels.values() for _, _, t in parts)

    @property
    def n_elements(self) -> int:
        return self.n_nodes + self.n_rels


def _const_str(n: int, value: str) -> pa.Array:
    return pa.array([value], pa.string()).take(pa.array(np.zeros(n, dtype=np.int64)))


def _const_list(n: int, value: str) -> pa.Array:
    return pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32)), _const_str(n, value))


def _list_of_one(values: pa.Array) -> pa.Array:
    """[[v] for v in values], nulls becoming null lists."""
    n = len(values)
    offsets = pa.array(np.arange(n + 1, dtype=np.int32))
    arr = pa.ListArray.from_arrays(offsets, values.fill_null(""))
    if values.null_count:
        arr = pc.if_else(pc.is_null(values), pa.scalar(None, pa.list_(pa.string())), arr)
    return arr


def _arr(x, typ: pa.DataType) -> pa.Array:
    if isinstance(x, pa.ChunkedArray):
        x = x.combine_chunks()
    if isinstance(x, pa.Array):
        return x if x.type == typ else x.cast(typ)
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return pa.array(x, typ, from_pandas=True)  # NaN -> null
    return pa.array(x, typ)


def node_table(label: str, n: int, cols: dict) -> pa.Table:
    """A table with exactly the schema's properties of `label`, in schema order."""
    props = SCHEMA.nodes[label].props
    unknown = set(cols) - set(props)
    if unknown:
        raise ValueError(f"{label}: not in the schema: {sorted(unknown)}")
    cols = {"sources": _const_list(n, SOURCE_ID), **cols}
    out = {}
    for p in props.values():
        typ = PA_TYPES[p.type]
        out[p.name] = _arr(cols[p.name], typ) if p.name in cols else pa.nulls(n, typ)
        if len(out[p.name]) != n:
            raise ValueError(f"{label}.{p.name}: {len(out[p.name])} values, expected {n}")
    return pa.table(out)


def rel_table(rtype: str, src, dst, cols: dict) -> pa.Table:
    """`from`, `to`, then the schema's properties of `rtype` in schema order; ids `<type>:syn-<k>`."""
    props = SCHEMA.rels[rtype].props
    src, dst = _arr(src, pa.string()), _arr(dst, pa.string())
    n = len(src)
    unknown = set(cols) - set(props)
    if unknown:
        raise ValueError(f"{rtype}: not in the schema: {sorted(unknown)}")
    out = {"from": src, "to": dst}
    for p in props.values():
        typ = PA_TYPES[p.type]
        if p.name in cols:
            out[p.name] = _arr(cols[p.name], typ)
        elif p.name == "sources":
            out[p.name] = _const_list(n, SOURCE_ID)
        else:
            out[p.name] = pa.nulls(n, typ)
    return pa.table(out)


def _ids(prefix: str, idx: np.ndarray, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(idx, dtype=np.int64)), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _dates(rng, n: int, start: str, end: str) -> np.ndarray:
    a, b = np.datetime64(start), np.datetime64(end)
    days = rng.integers(0, int((b - a).astype(int)) + 1, n)
    return np.datetime_as_string(a + days.astype("timedelta64[D]"), unit="D").astype(object)


def _pick(rng, weights, n: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), n, p=p / p.sum())


def _take(parts: list[str], idx: np.ndarray) -> pa.Array:
    return pa.array(parts, pa.string()).take(pa.array(np.asarray(idx, dtype=np.int64)))


def _join(*cols, sep: str = " ") -> pa.Array:
    """Element-wise join skipping nulls. (pyarrow drops rows whose every input is null: the
    first column must never be null.)"""
    out = pc.binary_join_element_wise(*cols, sep, null_handling="skip")
    if len(out) != len(cols[0]):
        raise AssertionError("join lost rows")
    return out


def _key_direct(names: list[str], aliases: list[list[str] | None], zh: list[str | None]) -> list[str]:
    return [search_key({"name": a, "aliases": b, "name_zh": c}) for a, b, c in zip(names, aliases, zh)]


# ------------------------------------------------------------------ the generator
def generate(companies: int, seed: int = 7, check_keys: bool = True) -> SynthGraph:
    t0 = time.perf_counter()
    N = int(companies)
    if N < 100:
        raise ValueError("at least 100 companies")
    rng = np.random.default_rng(seed)
    g = SynthGraph(N, seed)
    R: dict[str, list] = {}

    def add_rel(rtype, sl, dl, src, dst, **cols):
        if len(src):
            R.setdefault(rtype, []).append((sl, dl, src, dst, cols))

    # ---------------- groups and the ownership trees
    cap = int(max(50, min(30_000, N // 30)))
    sizes = np.minimum(np.ceil((1 - rng.random(N)) ** (-1 / 1.2)), cap).astype(np.int64)
    k = int(np.searchsorted(np.cumsum(sizes), N)) + 1
    sizes = sizes[:k]
    sizes[-1] -= sizes.sum() - N
    sizes = sizes[sizes > 0]
    heads = np.cumsum(sizes) - sizes
    n_groups = len(sizes)
    head_of = np.repeat(heads, sizes)
    gid = np.repeat(np.arange(n_groups), sizes)
    j = np.arange(N) - head_of
    member = np.flatnonzero(j > 0)
    parent = head_of[member] + (j[member] * rng.random(len(member)) ** 2).astype(np.int64)
    m = len(member)
    s1 = np.where(rng.random(m) < 0.6, rng.uniform(0.5, 0.98, m), rng.uniform(0.05, 0.5, m))
    rest = np.ones(N)
    rest[member] -= s1
    sec = np.flatnonzero(rng.random(N) < 0.10)
    sec = sec[sec > 0]
    s2 = rest[sec] * rng.uniform(0.2, 0.9, len(sec))
    sec_owner = (sec * rng.random(len(sec))).astype(np.int64)
    rest[sec] -= s2
    cross = np.flatnonzero(rng.random(N) < 0.005)
    cross = cross[cross + 1000 < N]
    cross_owner = cross + rng.integers(1, 1000, len(cross))
    s3 = rest[cross] * rng.uniform(0.1, 0.5, len(cross))
    rest[cross] -= s3
    o_src = np.concatenate([parent, sec_owner, cross_owner])
    o_dst = np.concatenate([member, sec, cross])
    o_share = np.concatenate([s1, s2, s3])

    # state-owned and founder-controlled group heads
    big = sizes >= 20
    state_g = np.where(big, rng.random(n_groups) < 0.6, rng.random(n_groups) < 0.08)
    state_heads = heads[state_g]
    state_sizes = sizes[state_g]
    private_g = np.flatnonzero(~state_g & (sizes > 1))
    founded_g = private_g[rng.random(len(private_g)) < 0.4]

    # ---------------- company attributes and names
    prov = rng.integers(0, len(PROVINCES), N)
    b1 = rng.integers(0, len(SYLLABLES), N)
    b2 = rng.integers(0, len(SYLLABLES), N)
    ind = rng.integers(0, len(INDUSTRIES), N)
    form = _pick(rng, [f[2] for f in FORMS], N)
    form[heads[sizes > 1]] = rng.choice(HEAD_FORMS, int((sizes > 1).sum()))
    brand_idx = b1 * len(SYLLABLES) + b2
    brands = [a[0] + b[0].lower() for a in SYLLABLES for b in SYLLABLES]
    brands_zh = [a[1] + b[1] for a in SYLLABLES for b in SYLLABLES]
    brand_n = [norm(x) for x in brands]
    brand_zhn = [norm(x) for x in brands_zh]
    country_idx = np.where(rng.random(N) < 0.95, 0, rng.choice([1, 2, 33, 36, 37, 38, 39], N))
    country_codes = [c for c, _ in COUNTRIES]
    foreign = country_idx != 0
    ind_first = [i[0].split()[0] for i in INDUSTRIES]

    name = _join(_take([p[0] for p in PROVINCES], prov), _take(brands, brand_idx),
                 _take([i[0] for i in INDUSTRIES], ind), _take([f[0] for f in FORMS], form))
    alias = _join(_take(brands, brand_idx), _take(ind_first, ind))
    zh_parts = [_take([p[1] for p in PROVINCES], prov), _take(brands_zh, brand_idx),
                _take([i[1] for i in INDUSTRIES], ind), _take([f[1] for f in FORMS], form)]
    name_zh = pc.binary_join_element_wise(*zh_parts, "")
    name_zh = pc.if_else(pa.array(foreign), pa.scalar(None, pa.string()), name_zh)
    # search_key, composed from the normalised parts (checked against graph.names.search_key below)
    k_name = _join(_take([norm(p[0]) for p in PROVINCES], prov), _take(brand_n, brand_idx),
                   _take([norm(i[0]) for i in INDUSTRIES], ind), _take([norm(f[0]) for f in FORMS], form))
    k_alias = _join(_take(brand_n, brand_idx), _take([norm(x) for x in ind_first], ind))
    k_zh = _join(_take([norm(p[1]) for p in PROVINCES], prov), _take(brand_zhn, brand_idx),
                 _take([norm(i[1]) for i in INDUSTRIES], ind), _take([norm(f[1]) for f in FORMS], form))
    k_zh = pc.if_else(pa.array(foreign), pa.scalar(None, pa.string()), k_zh)
    skey = _join(k_name, k_alias, k_zh, name_zh, sep=SEP)

    kind = np.full(N, "company", dtype=object)
    kind[heads[sizes > 1]] = "holding"
    kind[state_heads] = "state_enterprise"
    founded = _dates(rng, N, "1985-01-01", "2024-12-31")
    uscc = pc.binary_join_element_wise(
        "uscc:91", _take([f"{i:02d}" for i in range(11, 66)], rng.integers(0, 55, N)),
        pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 10**13, N)), pa.string()), width=14, padding="0"), "")
    uscc = pc.if_else(pa.array(foreign), pa.scalar(None, pa.string()), uscc)
    co_ids = _ids("co:", np.arange(N), len(str(N - 1)))

    # listed on an exchange: index constituents and 2% of group heads
    n_idx = max(3, N // 50_000)
    p_head = sizes / sizes.sum()
    n_cons = min(300, n_groups)
    cons = [heads[rng.choice(n_groups, n_cons, replace=False, p=p_head)] for _ in range(n_idx)]
    listed_ex = np.zeros(N, dtype=bool)
    for c in cons:
        listed_ex[c] = True
    listed_ex[heads[rng.random(n_groups) < 0.02]] = True
    exch = np.array(["SSE", "SZSE", "HKEX", "NASDAQ", "NYSE"], dtype=object)[rng.integers(0, 5, N)]
    exch = np.where(listed_ex, exch, None)
    ticker = pc.binary_join_element_wise("ticker:", pc.cast(pa.array(rng.integers(600000, 699999, N)),
                                                            pa.string()), "")
    tick = pc.if_else(pa.array(listed_ex), ticker, pa.scalar(None, pa.string()))
    # (binary_join_element_wise with null_handling='skip' drops all-null rows: join only non-null pairs)
    identifiers = pc.split_pattern(pc.coalesce(pc.binary_join_element_wise(uscc, tick, "|"), uscc, tick), "|")
    address = _join(pc.cast(pa.array(rng.integers(1, 999, N)), pa.string()),
                    _take([s[0] + " Road," for s in SYLLABLES], rng.integers(0, len(SYLLABLES), N)),
                    _take([c[0] for c in CITIES], rng.integers(0, len(CITIES), N)))
    company_cols = dict(id=co_ids, name=name, aliases=_list_of_one(alias), name_zh=name_zh,
                        country=_take(country_codes, country_idx), identifiers=identifiers, search_key=skey,
                        kind=pa.array(kind, pa.string()), listed_exchange=pa.array(exch, pa.string()),
                        founded=pa.array(founded, pa.string()), us_based=pa.array(country_idx == 33),
                        address=address)
    g.timings["companies_s"] = round(time.perf_counter() - t0, 3)

    # ---------------- government bodies
    gov_rows: list[dict] = []
    gov_rows.append(dict(id="gov:sasac", name="State-owned Assets Supervision and Administration Commission of "
                         "the State Council", name_zh="国务院国有资产监督管理委员会", aliases=["SASAC"],
                         level="national", kind="sasac", country="CN"))
    for i, (en, zh) in enumerate(PROVINCES):
        gov_rows.append(dict(id=f"gov:sasac-p{i:02d}", name=f"{en} Provincial State-owned Assets Supervision and "
                             f"Administration Commission", name_zh=f"{zh}省国有资产监督管理委员会",
                             aliases=[f"{en} SASAC"], level="provincial", kind="sasac", country="CN"))
    n_muni = max(10, N // 3000)
    muni_city = np.arange(n_muni) % len(CITIES)
    for i in range(n_muni):
        en, zh, _p = CITIES[muni_city[i]]
        d = i // len(CITIES)
        dist = "" if d == 0 else f" District {d}"
        gov_rows.append(dict(id=f"gov:sasac-m{i:05d}", name=f"{en}{dist} State-owned Assets Supervision and "
                             f"Administration Commission", name_zh=f"{zh}{'' if d == 0 else f'第{d}区'}国资委",
                             aliases=[f"{en}{dist} SASAC"], level="municipal", kind="sasac", country="CN"))
    gov_rows.append(dict(id="gov:mps", name="Ministry of Public Security", name_zh="公安部", aliases=["MPS"],
                         level="national", kind="police", country="CN"))
    gov_rows.append(dict(id="gov:miit", name="Ministry of Industry and Information Technology",
                         name_zh="工业和信息化部", aliases=["MIIT"], level="national", kind="ministry", country="CN"))
    gov_rows.append(dict(id="gov:moe", name="Ministry of Education", name_zh="教育部", aliases=["MOE"],
                         level="national", kind="ministry", country="CN"))
    for i in range(n_muni):
        en, zh, _p = CITIES[muni_city[i]]
        d = i // len(CITIES)
        dist = "" if d == 0 else f" District {d}"
        gov_rows.append(dict(id=f"gov:psb-{i:05d}", name=f"{en}{dist} Public Security Bureau",
                             name_zh=f"{zh}{'' if d == 0 else f'第{d}区'}公安局", level="municipal",
                             kind="police", country="CN"))
    foreign = [c for c, _ in COUNTRIES if c not in ("CN", "HK", "KY", "VG", "US")]
    for c in foreign:
        gov_rows.append(dict(id=f"gov:interior-{c.lower()}", name=f"Ministry of Interior ({c})",
                             level="national", kind="ministry", country=c))
    for r in gov_rows:
        r["search_key"] = search_key(r)
    gov_ids = [r["id"] for r in gov_rows]
    prov_sasac = np.arange(1, 1 + len(PROVINCES))
    muni_sasac = np.arange(1 + len(PROVINCES), 1 + len(PROVINCES) + n_muni)
    psb = np.arange(len(gov_rows) - len(foreign) - n_muni, len(gov_rows) - len(foreign))
    gov_foreign = {c: len(gov_rows) - len(foreign) + i for i, c in enumerate(foreign)}
    gid_arr = np.array(gov_ids, dtype=object)
    add_rel("PART_OF", "GovernmentBody", "GovernmentBody", gid_arr[prov_sasac],
            np.full(len(prov_sasac), "gov:sasac", dtype=object), kind=np.full(len(prov_sasac), "supervised_by", object))
    city_prov = np.array([CITIES[c][2] for c in muni_city])
    add_rel("PART_OF", "GovernmentBody", "GovernmentBody", gid_arr[muni_sasac], gid_arr[prov_sasac[city_prov]],
            kind=np.full(n_muni, "supervised_by", object))
    add_rel("PART_OF", "GovernmentBody", "GovernmentBody", gid_arr[psb], np.full(n_muni, "gov:mps", dtype=object),
            kind=np.full(n_muni, "bureau", object))

    # state owners of the state groups
    order = np.argsort(-state_sizes, kind="stable")
    owner_gov = np.empty(len(state_heads), dtype=np.int64)
    rank = np.empty(len(state_heads), dtype=np.int64)
    rank[order] = np.arange(len(state_heads))
    lvl = rng.random(len(state_heads))
    owner_gov[:] = np.where(lvl < 0.5, prov_sasac[prov[state_heads]], rng.choice(muni_sasac, len(state_heads)))
    owner_gov[rank < 50] = 0
    st_share = rest[state_heads] * rng.uniform(0.55, 0.95, len(state_heads))
    rest[state_heads] -= st_share
    st_start = _dates(rng, len(state_heads), "1995-01-01", "2015-12-31")
    add_rel("OWNS", "GovernmentBody", "Company", gid_arr[owner_gov], co_ids.take(pa.array(state_heads)),
            share=st_share, direct=np.ones(len(state_heads), bool), start=st_start)

    # ---------------- people
    n_person = max(50, N // 20)
    fam = rng.integers(0, len(FAMILY), n_person)
    g1 = rng.integers(0, len(SYLLABLES), n_person)
    g2 = np.where(rng.random(n_person) < 0.7, rng.integers(0, len(SYLLABLES), n_person), -1)
    p_names, p_zh = [], []
    for f, a, b in zip(fam.tolist(), g1.tolist(), g2.tolist()):
        given = SYLLABLES[a][0] + (SYLLABLES[b][0].lower() if b >= 0 else "")
        given_zh = SYLLABLES[a][1] + (SYLLABLES[b][1] if b >= 0 else "")
        p_names.append(f"{FAMILY[f][0]} {given}")
        p_zh.append(FAMILY[f][1] + given_zh)
    p_ids = _ids("person:", np.arange(n_person), len(str(n_person - 1)))
    person_cols = dict(id=p_ids, name=p_names, name_zh=p_zh, country=_const_str(n_person, "CN"),
                       nationality=_const_str(n_person, "CN"),
                       search_key=_key_direct(p_names, [None] * n_person, p_zh),
                       birth_date=_dates(rng, n_person, "1950-01-01", "1995-12-31"))
    # founders control 40% of private groups
    f_heads = heads[founded_g]
    founder = (n_person * rng.random(len(f_heads)) ** 1.5).astype(np.int64)   # a few serial founders
    add_rel("OWNS", "Person", "Company", p_ids.take(pa.array(founder)), co_ids.take(pa.array(f_heads)),
            share=rest[f_heads] * rng.uniform(0.3, 0.9, len(f_heads)), direct=np.ones(len(f_heads), bool),
            start=_dates(rng, len(f_heads), "1995-01-01", "2022-12-31"))
    # officers: founders chair their heads; others sit on random companies
    n_off = max(10, N // 20)
    off_p = rng.integers(0, n_person, n_off)
    off_c = np.where(rng.random(n_off) < 0.5, heads[rng.choice(n_groups, n_off, p=p_head)], rng.integers(0, N, n_off))
    add_rel("OFFICER_OF", "Person", "Company",
            pa.concat_arrays([p_ids.take(pa.array(founder)), p_ids.take(pa.array(off_p))]),
            pa.concat_arrays([co_ids.take(pa.array(f_heads)), co_ids.take(pa.array(off_c))]),
            role=np.r_[np.full(len(f_heads), "founder and chairman", object),
                       np.array(["CEO", "director", "supervisor", "legal representative", "party secretary"],
                                object)[rng.integers(0, 5, n_off)]],
            start=_dates(rng, len(f_heads) + n_off, "2000-01-01", "2024-12-31"))

    # ---------------- investors: funds and investment companies
    n_inv = max(20, N // 50)
    n_fund = int(n_inv * 0.8)
    n_icomp = n_inv - n_fund
    ik = _pick(rng, [x[2] for x in INVESTOR_KINDS], n_icomp)
    icomp_names, icomp_alias, icomp_country = [], [], []
    wb = rng.integers(0, len(WEST), n_icomp)
    cn_inv = rng.random(n_icomp) < 0.3
    for i in range(n_icomp):
        if cn_inv[i]:
            b = brands[(i * 7919) % len(brands)]
            icomp_names.append(f"{b} {INVESTOR_KINDS[ik[i]][1]} Co., Ltd. {i}")
            icomp_alias.append([f"{b} Capital {i}"])
            icomp_country.append("CN")
        else:
            icomp_names.append(f"{WEST[wb[i]]} {INVESTOR_KINDS[ik[i]][1]} LLC {i}")
            icomp_alias.append([f"{WEST[wb[i]]} Capital {i}"])
            icomp_country.append("US")
    icomp_ids = _ids("co:inv-", np.arange(n_icomp), len(str(n_icomp - 1)))
    icomp_cols = dict(id=icomp_ids, name=icomp_names, aliases=icomp_alias, country=icomp_country,
                      search_key=_key_direct(icomp_names, icomp_alias, [None] * n_icomp),
                      kind=[INVESTOR_KINDS[x][0] for x in ik], us_based=[c == "US" for c in icomp_country])
    fk = _pick(rng, [x[2] for x in FUND_KINDS], n_fund)
    managers = np.flatnonzero(ik == 0)
    if not len(managers):
        managers = np.arange(n_icomp)
    fund_mgr = managers[(len(managers) * rng.random(n_fund) ** 2).astype(np.int64)]
    th = rng.integers(0, len(THEMES), n_fund)
    f_names, f_alias, f_country = [], [], []
    for i in range(n_fund):
        mgr_name = icomp_alias[fund_mgr[i]][0].rsplit(" Capital", 1)[0]
        f_names.append(f"{mgr_name} {THEMES[th[i]]} {FUND_KINDS[fk[i]][1]} {i}")
        f_alias.append([f"{mgr_name} {THEMES[th[i]]} {i}"])
        f_country.append(icomp_country[fund_mgr[i]])
    f_ids = _ids("fund:", np.arange(n_fund), len(str(n_fund - 1)))
    fund_cols = dict(id=pa.concat_arrays([f_ids, pa.array(["fund:ssf"])]),
                     name=f_names + ["National Council for Social Security Fund"],
                     aliases=f_alias + [["NSSF"]], name_zh=[None] * n_fund + ["全国社会保障基金理事会"],
                     country=f_country + ["CN"], kind=[FUND_KINDS[x][0] for x in fk] + ["state_fund"],
                     us_based=[c == "US" for c in f_country] + [False])
    fund_cols["search_key"] = _key_direct(fund_cols["name"], fund_cols["aliases"], fund_cols["name_zh"])
    add_rel("MANAGES", "Company", "Fund", icomp_ids.take(pa.array(fund_mgr)), f_ids)
    # the state pension fund takes a small stake in 10% of state heads
    ssf = state_heads[rng.random(len(state_heads)) < 0.10]
    add_rel("OWNS", "Fund", "Company", np.full(len(ssf), "fund:ssf", object), co_ids.take(pa.array(ssf)),
            share=rest[ssf] * rng.uniform(0.1, 0.5, len(ssf)),
            direct=np.ones(len(ssf), bool))

    # holdings: 50-5,000 per investor (truncated Pareto, tail index 3)
    n_hold = np.minimum(np.floor(50 * (1 - rng.random(n_inv)) ** (-1 / 3.0)), 5000).astype(np.int64)
    n_hold = np.minimum(n_hold, N)
    inv = np.repeat(np.arange(n_inv), n_hold)
    tot = len(inv)
    asset = np.where(rng.random(tot) < 0.6, heads[rng.choice(n_groups, tot, p=p_head)], rng.integers(0, N, tot))
    key = np.sort(inv * N + asset)          # sort-based unique: numpy's hash unique is slow on int64
    key = key[np.r_[True, key[1:] != key[:-1]]]
    inv, asset = key // N, key % N
    w = rng.random(len(key))
    w /= np.bincount(inv, weights=w, minlength=n_inv)[inv]
    w = np.where(rng.random(len(key)) < 0.05, np.nan, w)
    val = rng.lognormal(14, 2, len(key))
    inv_ids = pa.concat_arrays([f_ids, icomp_ids])   # investor k < n_fund is a fund
    is_fund = inv < n_fund
    for lab, sel in (("Fund", is_fund), ("Company", ~is_fund)):
        add_rel("HOLDS", lab, "Company", inv_ids.take(pa.array(inv[sel])), co_ids.take(pa.array(asset[sel])),
                weight=w[sel], value_usd=val[sel], shares=np.round(val[sel] / 20),
                as_of=np.full(int(sel.sum()), "2025-06-30", object))
    # venture rounds
    vc = np.flatnonzero(np.isin(fk, [5, 4]))
    if len(vc):
        n_vc = max(1, N // 100)
        vs = vc[rng.integers(0, len(vc), n_vc)]
        vt = rng.integers(0, N, n_vc)
        add_rel("INVESTED_IN", "Fund", "Company", f_ids.take(pa.array(vs)), co_ids.take(pa.array(vt)),
                round=np.array(["Seed", "Series A", "Series B", "Series C", "Pre-IPO"], object)[rng.integers(0, 5, n_vc)],
                amount_usd=rng.lognormal(16, 1.5, n_vc), date=_dates(rng, n_vc, "2012-01-01", "2025-06-30"))

    # ---------------- indexes, constituents, trackers
    idx_ids = [f"index:synth-{i:03d}" for i in range(n_idx)]
    index_cols = dict(id=idx_ids, name=[f"CSI Synthetic {THEMES[i % len(THEMES)]} Index {i}" for i in range(n_idx)],
                      provider=["China Securities Index" if i % 2 else "Northbridge Indices" for i in range(n_idx)])
    c_src = np.concatenate(cons)
    c_dst = np.repeat(np.arange(n_idx), [len(c) for c in cons])
    cw = rng.random(len(c_src))
    cw /= np.bincount(c_dst, weights=cw)[c_dst]
    add_rel("CONSTITUENT_OF", "Company", "Index", co_ids.take(pa.array(c_src)), np.array(idx_ids, object)[c_dst],
            weight=cw, start=_dates(rng, len(c_src), "2015-01-01", "2024-12-31"))
    trackers = np.flatnonzero(rng.random(n_fund) < 0.10)
    add_rel("TRACKS", "Fund", "Index", f_ids.take(pa.array(trackers)),
            np.array(idx_ids, object)[rng.integers(0, n_idx, len(trackers))])

    # ---------------- restriction lists and listings (0.2% of companies)
    list_cols = dict(id=[l[0] for l in LISTS], name=[l[1] for l in LISTS], authority=[l[2] for l in LISTS],
                     country=["US"] * len(LISTS), url=[f"https://example.org/lists/{l[0]}" for l in LISTS])
    n_listed = max(4, N // 500)
    n_top = min(n_listed // 2, n_groups)
    top = heads[rng.choice(n_groups, n_top, replace=False, p=p_head)]
    anywhere = rng.choice(N, n_listed - n_top, replace=False)
    listed = np.unique(np.r_[top, anywhere])
    lst = _pick(rng, [l[3] for l in LISTS], len(listed))
    lst_ids = np.array([l[0] for l in LISTS], object)
    since = _dates(rng, len(listed), "2018-05-01", "2025-09-30")
    notice = np.array([f"{8 + y // 2}{y % 10} FR {p}" for y, p in
                       zip(rng.integers(3, 10, len(listed)).tolist(), rng.integers(10000, 99999, len(listed)).tolist())],
                      object)
    add_rel("LISTED_ON", "Company", "SanctionsList", co_ids.take(pa.array(listed)), lst_ids[lst], since=since,
            notice=notice, reason=np.full(len(listed), "Synthetic designation for benchmarking", object),
            entry_name=name.take(pa.array(listed)))
    bl = psb[rng.random(len(psb)) < 0.1]
    add_rel("LISTED_ON", "GovernmentBody", "SanctionsList", gid_arr[bl], np.full(len(bl), "us-bis-entity-list", object),
            since=_dates(rng, len(bl), "2019-10-09", "2021-12-31"))
    sp_ = rng.choice(n_person, max(1, n_person // 2500), replace=False)
    add_rel("LISTED_ON", "Person", "SanctionsList", p_ids.take(pa.array(sp_)), np.full(len(sp_), "us-ofac-sdn", object),
            since=_dates(rng, len(sp_), "2018-01-01", "2025-06-30"))

    # ---------------- countries, projects, universities, supply chains
    import pycountry
    ctry_cols = dict(id=[c for c, _ in COUNTRIES],
                     name=[pycountry.countries.get(alpha_2=c).name for c, _ in COUNTRIES],
                     region=[r for _, r in COUNTRIES])
    n_proj = max(20, N // 100)
    pk = rng.integers(0, len(PROJECT_KINDS), n_proj)
    domestic = rng.random(n_proj) < 0.3
    pc_idx = np.where(domestic, 0, rng.integers(2, 33, n_proj))   # abroad: not HK/US/offshore
    proj_names = []
    for i in range(n_proj):
        c = COUNTRIES[pc_idx[i]][0]
        where = PROVINCES[i % len(PROVINCES)][0] if domestic[i] else pycountry.countries.get(alpha_2=c).name
        proj_names.append(f"{where} {PROJECT_KINDS[pk[i]][1]} Phase {1 + i % 4} ({i})")
    proj_ids = _ids("project:", np.arange(n_proj), len(str(n_proj - 1)))
    proj_cols = dict(id=proj_ids, name=proj_names, kind=[PROJECT_KINDS[x][0] for x in pk],
                     country=[COUNTRIES[x][0] for x in pc_idx],
                     start=_dates(rng, n_proj, "2010-01-01", "2025-06-30"),
                     status=np.array(["completed", "ongoing", "announced"], object)[rng.integers(0, 3, n_proj)],
                     amount_usd=rng.lognormal(17, 1.5, n_proj))
    proj_cols["search_key"] = [search_key({"name": n}) for n in proj_names]
    add_rel("LOCATED_IN", "Project", "Country", proj_ids, np.array([COUNTRIES[x][0] for x in pc_idx], object))
    # contractors: big heads take most projects
    n_pt = n_proj * 2
    pt_proj = np.r_[np.arange(n_proj), rng.integers(0, n_proj, n_pt - n_proj)]
    pt_co = np.where(rng.random(n_pt) < 0.7, heads[rng.choice(n_groups, n_pt, p=p_head)], rng.integers(0, N, n_pt))
    add_rel("PARTY_TO", "Company", "Project", co_ids.take(pa.array(pt_co)), proj_ids.take(pa.array(pt_proj)),
            role=np.array(["contractor", "supplier", "partner", "operator"], object)[rng.integers(0, 4, n_pt)],
            start=_dates(rng, n_pt, "2010-01-01", "2025-06-30"))
    client = np.array([psb[i % len(psb)] if domestic[i] else gov_foreign.get(COUNTRIES[pc_idx[i]][0], psb[0])
                       for i in range(n_proj)])
    add_rel("PARTY_TO", "GovernmentBody", "Project", gid_arr[client], proj_ids,
            role=np.full(n_proj, "client", object))
    n_uni = max(5, N // 5000)
    uni_names = [f"{CITIES[i % len(CITIES)][0]} University of {INDUSTRIES[i % len(INDUSTRIES)][0]}"
                 + (f" {i}" if i >= len(CITIES) else "") for i in range(n_uni)]
    uni_ids = _ids("university:synth-", np.arange(n_uni), len(str(n_uni - 1)))
    uni_cols = dict(id=uni_ids, name=uni_names, country=_const_str(n_uni, "CN"),
                    kind=_const_str(n_uni, "university"),
                    search_key=[search_key({"name": n}) for n in uni_names])
    add_rel("PART_OF", "University", "GovernmentBody", uni_ids, np.full(n_uni, "gov:moe", object),
            kind=np.full(n_uni, "supervised_by", object))
    n_pw = max(5, N // 1000)
    add_rel("PARTNERS_WITH", "Company", "University", co_ids.take(pa.array(heads[rng.choice(n_groups, n_pw, p=p_head)])),
            uni_ids.take(pa.array(rng.integers(0, n_uni, n_pw))), kind=np.full(n_pw, "joint lab", object),
            start=_dates(rng, n_pw, "2012-01-01", "2025-06-30"))
    n_sup = max(10, N // 200)
    add_rel("SUPPLIES", "Company", "Company", co_ids.take(pa.array(rng.integers(0, N, n_sup))),
            co_ids.take(pa.array(heads[rng.choice(n_groups, n_sup, p=p_head)])),
            product=np.array(PRODUCTS, object)[rng.integers(0, len(PRODUCTS), n_sup)])
    n_sg = max(5, N // 1000)
    add_rel("SUPPLIES", "Company", "GovernmentBody", co_ids.take(pa.array(heads[rng.choice(n_groups, n_sg, p=p_head)])),
            gid_arr[psb[rng.integers(0, len(psb), n_sg)]],
            product=np.array(PRODUCTS, object)[rng.integers(0, len(PRODUCTS), n_sg)])

    # ---------------- company-to-company ownership (added last: the biggest part)
    unknown = rng.random(len(o_src)) < 0.02
    ranged = ~unknown & (rng.random(len(o_src)) < 0.01)
    share = np.where(unknown | ranged, np.nan, o_share)
    smin = np.where(ranged, np.floor(o_share * 20) / 20, np.nan)
    smax = np.where(ranged, np.minimum(np.floor(o_share * 20) / 20 + 0.05, 1.0), np.nan)
    o_start = _dates(rng, len(o_src), "1995-01-01", "2025-06-30")
    ended = rng.random(len(o_src)) < 0.01
    o_end = np.where(ended, "2025-07-01", None)
    add_rel("OWNS", "Company", "Company", co_ids.take(pa.array(o_src)), co_ids.take(pa.array(o_dst)),
            share=share, share_min=smin, share_max=smax, direct=np.ones(len(o_src), bool), start=o_start, end=o_end)

    # ---------------- assemble
    companies_tbl = node_table("Company", N, company_cols)
    icomp_tbl = node_table("Company", n_icomp, icomp_cols)
    g.nodes = {
        "Source": node_table("Source", 1, dict(id=[SOURCE_ID], name=[f"Synthetic benchmark graph (seed {seed})"],
                                               title=[f"techgiants synthetic graph, {N} companies, seed {seed}"],
                                               kind=["dataset"], publisher=["bench/generate.py"],
                                               date=["2025-06-30"])),
        "Country": node_table("Country", len(COUNTRIES), ctry_cols),
        "SanctionsList": node_table("SanctionsList", len(LISTS), list_cols),
        "GovernmentBody": node_table("GovernmentBody", len(gov_rows),
                                     {k: [r.get(k) for r in gov_rows] for k in
                                      ("id", "name", "name_zh", "aliases", "level", "kind", "country", "search_key")}),
        "Company": pa.concat_tables([companies_tbl, icomp_tbl]),
        "Fund": node_table("Fund", n_fund + 1, fund_cols),
        "Person": node_table("Person", n_person, person_cols),
        "Index": node_table("Index", n_idx, index_cols),
        "University": node_table("University", n_uni, uni_cols),
        "Project": node_table("Project", n_proj, proj_cols),
    }
    for label in SCHEMA.labels:   # every label present, schema order
        g.nodes.setdefault(label, node_table(label, 0, {}))
    g.nodes = {l: g.nodes[l] for l in SCHEMA.labels}
    g.rels = {}
    for rtype in SCHEMA.rel_types:
        merged: dict[tuple[str, str], list[pa.Table]] = {}
        for sl, dl, src, dst, cols in R.get(rtype, []):
            merged.setdefault((sl, dl), []).append(rel_table(rtype, src, dst, cols))
        parts = []
        for (sl, dl), tables in merged.items():
            t = pa.concat_tables(tables)
            parts.append((sl, dl, t))
        g.rels[rtype] = parts
    # relationship ids: <type>:syn-<k>, unique per type
    for rtype, parts in g.rels.items():
        off = 0
        out = []
        for sl, dl, t in parts:
            ids = _ids(f"{rtype.lower()}:syn-", np.arange(off, off + t.num_rows), 1)
            off += t.num_rows
            out.append((sl, dl, t.set_column(t.schema.get_field_index("id"), "id", ids)))
        g.rels[rtype] = out

    # ---------------- parameters worth querying
    depth = np.zeros(N, dtype=np.int64)   # parents come before children: one pass gives tree depth
    par = np.full(N, -1, dtype=np.int64)
    par[member] = parent
    for i in member.tolist() if N <= 20_000 else []:
        depth[i] = depth[par[i]] + 1
    if N > 20_000:  # vectorised depth by pointer jumping
        anc = par.copy()
        d = (par >= 0).astype(np.int64)
        while (anc >= 0).any():
            nxt = np.where(anc >= 0, par[np.maximum(anc, 0)], -1)
            d += nxt >= 0
            anc = nxt
        depth = d
    big_state = state_heads[np.argmax(state_sizes)] if len(state_heads) else heads[0]
    in_big = np.flatnonzero(head_of == big_state)
    deep = in_big[np.argmax(depth[in_big])] if len(in_big) else int(big_state)
    mid_groups = np.flatnonzero((sizes >= 30) & (sizes <= 200))
    mid_head = int(heads[mid_groups[0]]) if len(mid_groups) else int(heads[np.argmax(sizes)])
    mid_members = np.flatnonzero(head_of == mid_head)
    mid_deep = int(mid_members[np.argmax(depth[mid_members])])
    listed_ent = int(listed[np.argmax(np.isin(listed, heads))]) if len(listed) else 0
    busy_inv = int(np.argmax(n_hold[n_fund:])) if n_icomp else 0
    off_counts = np.bincount(np.r_[f_heads, off_c], minlength=N)
    cid = lambda i: co_ids[int(i)].as_py()  # noqa: E731
    g.params = {
        "company_with_owners": cid(mid_deep),           # deep in a mid-size group: owners up to the head
        "company_deep_state": cid(deep),                # deepest member of the biggest state group
        "group_head": cid(mid_head),                    # a mid-size group head (subsidiaries)
        "big_state_head": cid(big_state),
        "listed_company": cid(listed_ent),
        "investor_company": icomp_ids[busy_inv].as_py(),
        "fund": f_ids[int(np.argmax(n_hold[:n_fund]))].as_py(),
        "officer_company": cid(int(np.argmax(off_counts))),
        "university": uni_ids[0].as_py(),
        "identifier": company_cols["identifiers"][int(np.flatnonzero(country_idx == 0)[0])].as_py()[0],
        "search_name": name[mid_head].as_py(),
        "search_typo": name[mid_head].as_py().replace("Co., Ltd.", "").strip()[:-2] + "xx",
        "search_zh": name_zh[int(np.flatnonzero(country_idx == 0)[1])].as_py(),
        "supplier_target": None,
        "list_id": "us-bis-entity-list",
        "region": "Xinjiang",
        "group_size": int(sizes[gid[mid_head]]),
        "max_depth": int(depth.max()),
    }
    sup_parts = [t for sl, dl, t in g.rels["SUPPLIES"] if dl == "Company"]
    if sup_parts:
        g.params["supplier_target"] = sup_parts[0].column("to")[0].as_py()
    pt = [t for sl, dl, t in g.rels["PARTY_TO"] if sl == "Company"]
    g.params["project_company"] = pt[0].column("from")[0].as_py() if pt else None
    g.timings["generate_s"] = round(time.perf_counter() - t0, 3)
    if check_keys:
        check_search_keys(g, rng)
    return g


def check_search_keys(g: SynthGraph, rng, sample: int = 300) -> None:
    """The composed search keys equal graph.names.search_key on a random sample of every label."""
    for label, t in g.nodes.items():
        if "search_key" not in t.column_names or t.num_rows == 0:
            continue
        rows = rng.choice(t.num_rows, min(sample, t.num_rows), replace=False)
        sub = t.take(pa.array(rows)).to_pylist()
        for r in sub:
            want = search_key(r)
            if r["search_key"] != want:
                raise AssertionError(f"{label} {r['id']}: search_key {r['search_key']!r} != {want!r}")


# ------------------------------------------------------------------ bulk formats
def write_parquet(g: SynthGraph, out: Path) -> list[str]:
    """Parquet per label and per (type, from, to); returns the COPY statements in load order."""
    import pyarrow.parquet as pq
    out = Path(out)
    (out / "nodes").mkdir(parents=True, exist_ok=True)
    (out / "rels").mkdir(parents=True, exist_ok=True)
    stmts = []
    for label, t in g.nodes.items():
        if t.num_rows:
            p = out / "nodes" / f"{label}.parquet"
            pq.write_table(t, p, compression="zstd")
            stmts.append(f"COPY `{label}` FROM '{p.resolve()}'")
    for rtype, parts in g.rels.items():
        for sl, dl, t in parts:
            if t.num_rows:
                p = out / "rels" / f"{rtype}__{sl}__{dl}.parquet"
                pq.write_table(t, p, compression="zstd")
                stmts.append(f"COPY `{rtype}` FROM '{p.resolve()}' (from='{sl}', to='{dl}')")
    (out / "copy.cypher").write_text(";\n".join(stmts) + ";\n", encoding="utf-8")
    return stmts


def read_parquet(out: Path, companies: int = 0, seed: int = 0) -> SynthGraph:
    """Load a graph written by write_parquet (the manifest next to it gives N and seed)."""
    import pyarrow.parquet as pq
    out = Path(out)
    man = json.loads((out.parent / "manifest.json").read_text()) if (out.parent / "manifest.json").exists() else {}
    g = SynthGraph(man.get("companies", companies), man.get("seed", seed), params=man.get("params", {}))
    for label in SCHEMA.labels:
        p = out / "nodes" / f"{label}.parquet"
        g.nodes[label] = pq.read_table(p) if p.exists() else node_table(label, 0, {})
    for rtype in SCHEMA.rel_types:
        g.rels[rtype] = []
        for p in sorted((out / "rels").glob(f"{rtype}__*.parquet")):
            _, sl, dl = p.stem.split("__")
            g.rels[rtype].append((sl, dl, pq.read_table(p)))
    return g


def _csv_ready(t: pa.Table) -> pa.Table:
    """Lists joined with the array delimiter (CSV has no list type)."""
    cols = {}
    for name in t.column_names:
        c = t.column(name)
        if pa.types.is_list(c.type):
            c = pc.binary_join(c, ARRAY_DELIMITER)
        cols[name] = c
    return pa.table(cols)


def neo4j_header(label_or_type: str, is_rel: bool, sl: str = "", dl: str = "") -> list[str]:
    if is_rel:
        props = SCHEMA.rels[label_or_type].props
        head = [f":START_ID({sl})", f":END_ID({dl})"]
        return head + [p.name + NEO4J_TYPES[p.type] for p in props.values()]
    props = SCHEMA.nodes[label_or_type].props
    return [f"id:ID({label_or_type})" if p.name == "id" else p.name + NEO4J_TYPES[p.type] for p in props.values()]


def _write_csv(t: pa.Table, header: list[str], path: Path) -> None:
    """An unquoted header line, then the rows (quoted where needed; nulls as empty fields)."""
    import pyarrow.csv as pcsv
    with open(path, "wb") as f:
        f.write((",".join(header) + "\n").encode("utf-8"))
        pcsv.write_csv(t, f, pcsv.WriteOptions(include_header=False, quoting_style="needed"))


def write_neo4j_csv(g: SynthGraph, out: Path) -> str:
    """CSV files for `neo4j-admin database import full` (one id space per label) and the command."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    args = []
    for label, t in g.nodes.items():
        if not t.num_rows:
            continue
        p = out / f"nodes_{label}.csv"
        _write_csv(_csv_ready(t), neo4j_header(label, False), p)
        args.append(f"--nodes={label}={p.name}")
    for rtype, parts in g.rels.items():
        for sl, dl, t in parts:
            if not t.num_rows:
                continue
            p = out / f"rels_{rtype}__{sl}__{dl}.csv"
            _write_csv(_csv_ready(t), neo4j_header(rtype, True, sl, dl), p)
            args.append(f"--relationships={rtype}={p.name}")
    # the database name goes first: --nodes/--relationships take a variable number of files
    cmd = ("neo4j-admin database import full neo4j --overwrite-destination=true "
           f"--array-delimiter='{ARRAY_DELIMITER}' --id-type=string \\\n  " + " \\\n  ".join(args))
    (out / "import.sh").write_text("#!/bin/sh\n# Run from this folder with the Neo4j server stopped; then start it and\n"
                                   "# create the constraints and indexes (techgiants init, or GraphStore.create_schema()).\n"
                                   "cd \"$(dirname \"$0\")\"\n" + cmd + "\n", encoding="utf-8")
    return cmd


def validate_neo4j_csv(folder: Path) -> dict:
    """Check the CSV files as neo4j-admin would read them: header syntax and types against the
    schema, unique ids per id space, every relationship end in its id space, arrays split."""
    import pyarrow.csv as pcsv
    folder = Path(folder)
    spaces: dict[str, pa.Array] = {}
    report = {"files": 0, "nodes": 0, "rels": 0}
    col_types = {"": pa.string(), ":double": pa.float64(), ":long": pa.int64(), ":boolean": pa.bool_(),
                 ":string[]": pa.string()}

    def read(p: Path, header: list[str]) -> pa.Table:
        types = {}
        for h in header:
            name, _, typ = h.partition(":")
            if "(" in typ or typ in ("LABEL", "TYPE"):
                types[h] = pa.string()
            else:
                types[h] = col_types[":" + typ if typ else ""]
        return pcsv.read_csv(p, convert_options=pcsv.ConvertOptions(column_types=types, strings_can_be_null=False))

    for p in sorted(folder.glob("nodes_*.csv")):
        label = p.stem[len("nodes_"):]
        header = p.open(encoding="utf-8").readline().strip().split(",")
        want = neo4j_header(label, False)
        if header != want:
            raise AssertionError(f"{p.name}: header {header} != {want}")
        t = read(p, header)
        ids = t.column(f"id:ID({label})").combine_chunks()
        if pc.count_distinct(ids).as_py() != len(ids):
            raise AssertionError(f"{p.name}: duplicate ids in id space {label}")
        for h in header:
            if h.endswith(":string[]"):
                parts = pc.split_pattern(t.column(h), ARRAY_DELIMITER)
                if pc.any(pc.equal(pc.list_value_length(parts), 0)).as_py():
                    raise AssertionError(f"{p.name}: empty array element in {h}")
        spaces[label] = ids
        report["files"] += 1
        report["nodes"] += t.num_rows
    for p in sorted(folder.glob("rels_*.csv")):
        rtype, sl, dl = p.stem[len("rels_"):].split("__")
        header = p.open(encoding="utf-8").readline().strip().split(",")
        want = neo4j_header(rtype, True, sl, dl)
        if header != want:
            raise AssertionError(f"{p.name}: header {header} != {want}")
        t = read(p, header)
        for col, space in ((f":START_ID({sl})", sl), (f":END_ID({dl})", dl)):
            missing = pc.sum(pc.invert(pc.is_in(t.column(col), value_set=spaces[space]))).as_py() or 0
            if missing:
                raise AssertionError(f"{p.name}: {missing} ids of {col} not in id space {space}")
        report["files"] += 1
        report["rels"] += t.num_rows
    return report


# ------------------------------------------------------------------ pipeline records, UNWIND batches
def records(g: SynthGraph, chunk: int = 50_000, with_search_key: bool = False) -> Iterator:
    """Pipeline records (ingest.records.Node / Rel): every node, then every relationship,
    as an ingester would yield them (nulls left out, no search_key: the stores compute it)."""
    for label, t in g.nodes.items():
        cols = [c for c in t.column_names if with_search_key or c != "search_key"]
        yield from _node_records(label, t.select(cols).to_batches(chunk))
    for rtype, parts in g.rels.items():
        for sl, dl, t in parts:
            yield from _rel_records(rtype, sl, dl, t.to_batches(chunk))


def parquet_records(out: Path, chunk: int = 50_000) -> tuple[int, Iterator]:
    """(element count, records) read straight from a folder written by write_parquet, a batch
    at a time: what an ingester reading files holds, not the whole graph in memory (the
    pipeline benchmark's peak RSS is then the pipeline's own)."""
    import pyarrow.parquet as pq
    out = Path(out)
    node_files = [(label, out / "nodes" / f"{label}.parquet") for label in SCHEMA.labels]
    node_files = [(label, p) for label, p in node_files if p.exists()]
    rel_files = [(rtype, p) for rtype in SCHEMA.rel_types for p in sorted((out / "rels").glob(f"{rtype}__*.parquet"))]
    n = sum(pq.ParquetFile(p).metadata.num_rows for _, p in node_files + rel_files)

    def gen():
        for label, p in node_files:
            f = pq.ParquetFile(p)
            yield from _node_records(label, f.iter_batches(chunk, columns=[c for c in f.schema_arrow.names
                                                                           if c != "search_key"]))
        for rtype, p in rel_files:
            _, sl, dl = p.stem.split("__")
            yield from _rel_records(rtype, sl, dl, pq.ParquetFile(p).iter_batches(chunk))
    return n, gen()


def _node_records(label: str, batches: Iterable[pa.RecordBatch]) -> Iterator:
    from ingest.records import Node
    for b in batches:
        for props in _batch_dicts(b, b.column_names):
            yield Node(label, props)


def _rel_records(rtype: str, sl: str, dl: str, batches: Iterable[pa.RecordBatch]) -> Iterator:
    from ingest.records import Rel
    for b in batches:
        props_cols = [c for c in b.column_names if c not in ("from", "to")]
        src, dst = b.column("from").to_pylist(), b.column("to").to_pylist()
        for a, z, props in zip(src, dst, _batch_dicts(b, props_cols)):
            yield Rel(rtype, a, sl, z, dl, props)


def _batch_dicts(b: pa.RecordBatch, names: list[str]) -> Iterator[dict]:
    """One dict per row of `b` over `names`, nulls left out: columns null throughout the batch are
    skipped whole, and rows of a batch without nulls are zipped straight into dicts."""
    names = [n for n in names if b.column(n).null_count < b.num_rows]
    if not names:
        return ({} for _ in range(b.num_rows))
    cols = [b.column(n) for n in names]
    values = zip(*[c.to_pylist() for c in cols])
    if any(c.null_count for c in cols):
        return ({k: v for k, v in zip(names, row) if v is not None} for row in values)
    return (dict(zip(names, row)) for row in values)


def unwind_batches(g: SynthGraph, batch: int = 10_000) -> Iterator[tuple[str, list[dict], int]]:
    """(cypher, rows, n) for a live Neo4j: plain UNWIND CREATE, no validation, no merging.
    Nodes first; relationships MATCH their ends by id (run after the id constraints exist)."""
    for label, t in g.nodes.items():
        q = _q("UNWIND $rows AS r CREATE (n:{L}) SET n = r", L=label)
        for b in t.to_batches(batch):
            rows = [{k: v for k, v in r.items() if v is not None} for r in b.to_pylist()]
            yield q, rows, len(rows)
    for rtype, parts in g.rels.items():
        for sl, dl, t in parts:
            q = _q("UNWIND $rows AS r MATCH (a:{A} {{id: r.src}}) MATCH (b:{B} {{id: r.dst}}) "
                   "CREATE (a)-[e:{T}]->(b) SET e = r.props", A=sl, B=dl, T=rtype)
            for b in t.to_batches(batch):
                rows = []
                for r in b.to_pylist():
                    src, dst = r.pop("from"), r.pop("to")
                    rows.append({"src": src, "dst": dst, "props": {k: v for k, v in r.items() if v is not None}})
                yield q, rows, len(rows)


# ------------------------------------------------------------------ command line
SCALES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000, "5m": 5_000_000}


def parse_scale(s: str) -> int:
    s = str(s).strip().lower()
    if s in SCALES:
        return SCALES[s]
    mult = {"k": 1_000, "m": 1_000_000}.get(s[-1:], 1)
    return int(float(s[:-1] if mult > 1 else s) * mult)


def scale_name(n: int) -> str:
    for k, v in SCALES.items():
        if v == n:
            return k
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def build(companies: int, seed: int, out: Path, formats: tuple[str, ...] = ("parquet", "csv")) -> SynthGraph:
    """Generate and write everything; returns the graph (with timings) and writes manifest.json."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    g = generate(companies, seed)
    if "parquet" in formats:
        t = time.perf_counter()
        write_parquet(g, out / "ladybug")
        g.timings["parquet_s"] = round(time.perf_counter() - t, 3)
    if "csv" in formats:
        t = time.perf_counter()
        write_neo4j_csv(g, out / "neo4j")
        g.timings["csv_s"] = round(time.perf_counter() - t, 3)
    manifest = {"companies": g.companies, "seed": g.seed, "counts": g.counts(), "nodes": g.n_nodes,
                "rels": g.n_rels, "elements": g.n_elements, "timings": g.timings, "params": g.params}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return g


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--companies", required=True, help="number of companies: 10000, 100k, 1m, 5m")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=None, help="output folder (default bench/.work/<scale>)")
    ap.add_argument("--formats", default="parquet,csv", help="parquet, csv, or both")
    ap.add_argument("--validate", action="store_true", help="check the neo4j-admin CSV files afterwards")
    args = ap.parse_args(argv)
    n = parse_scale(args.companies)
    out = Path(args.out or Path(__file__).resolve().parent / ".work" / scale_name(n))
    g = build(n, args.seed, out, tuple(x.strip() for x in args.formats.split(",") if x.strip()))
    print(json.dumps({"out": str(out), "elements": g.n_elements, "nodes": g.n_nodes, "rels": g.n_rels,
                      "counts": g.counts(), "timings": g.timings}, indent=2))
    if args.validate and (out / "neo4j").exists():
        t = time.perf_counter()
        rep = validate_neo4j_csv(out / "neo4j")
        print(f"neo4j-admin CSV valid: {rep} ({time.perf_counter() - t:.1f} s)")


if __name__ == "__main__":
    main()
