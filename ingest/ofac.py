"""OFAC's own CSV files (no header, OFAC "dat_spec" layout) and tables derived from them.

`parse(path)` takes a directory, one file or a list of files. Files are
recognised by name: a `cons` token marks the consolidated (non-SDN) set,
otherwise the SDN set; `prim`/`sdn` is the primary file, `add` addresses,
`alt` alternate names, `comments` the overflow of long remarks
(SDN.CSV, ADD.CSV, ALT.CSV, SDN_COMMENTS.CSV; CONS_PRIM.CSV, CONS_ADD.CSV, ...).
`-0-` is OFAC's null. CSVs in the folder whose header starts with
`ent_num` are derived tables and go to `parse_ns_cmic_table`.

Each primary row gives one entity `ofac:<ent_num>` (Person for
individuals, Company kind other for vessels and aircraft, otherwise a label
guessed from the name) and one LISTED_ON per list its programmes put it on:
the SDN file -> us-ofac-sdn; consolidated rows by programme: CMIC ->
us-ofac-ns-cmic, UKRAINE-EO13662 (sectoral sanctions) -> us-ofac-ssi, FSE ->
us-ofac-fse, NS-PLC -> us-ofac-plc, anything else (CAPTA, NS-MBS, ...) ->
us-ofac-cons.

The remarks (with their continuation in the comments file) are mined for
identifiers - ISIN (check digit verified, failures dropped), equity tickers
(`ticker:002415 CN`, as OFAC writes them), USCC (18 characters, verified),
LEI, registration and tax numbers, websites, IMO numbers - for a.k.a.
names, DOB and nationality of individuals, `Listing Date (...)` (the
earliest one is `since`) and `Effective Date (...)` (kept in the reason).
The full remarks are the entity's description.

"Linked To: NAME." is OFAC's statement of an association, not of a stake,
so it becomes PART_OF {kind: "linked_to"} from the entry to the linked
party, and only when that party is an organisation in the same files under
exactly that primary name (case and final period aside); otherwise it stays
in the description text. The direction is OFAC's, not a hierarchy: in the
Dec 2025 file 3 of the 9 NS-CMIC links run from a parent to its subsidiary
(China Electronics Corp -> Nanjing Panda, CCCG -> CCCC, Huawei Investment &
Holding -> Huawei Technologies).

Derived tables (`parse_ns_cmic_table`) yield extra Node records for the same
`ofac:<ent_num>` ids, each under its own Source, not merged into the OFAC
node here: the store merges them by id and every statement keeps its source.
Chinese names (`*_lixiaohui.csv`): the data folder's PROVENANCE says they
were added by the author of a GitHub scrape and are unverified. We keep
them, as `name_zh` on the same `ofac:<ent_num>` nodes, under a Source of
their own whose title says so, so a consumer can drop that source.
"""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Iterator

from graph.ids import slug
from ingest import lists
from ingest.records import Node, Record, Rejected, Rel
from ingest.textutil import (Batch, check, clean, country_code, csv_records, entity, guess_label, id_scheme,
                             identifier, listed_on, parse_date, read_text, single, source, split_list, undecodable)

ROLES = {"prim": 12, "add": 6, "alt": 5, "comments": 2}  # role -> number of columns
PRIM = ["ent_num", "name", "type", "program", "title", "call_sign", "vess_type", "tonnage", "grt", "vess_flag",
        "vess_owner", "remarks"]

# Remarks labels we turn into identifiers, longest first so "Registration Number" wins over "Registration".
_ID_LABELS = sorted(["ISIN", "Equity Ticker", "Legal Entity Number", "Unified Social Credit Code (USCC)",
                     "Registration Number", "Registration ID", "Tax ID No.", "Government Gazette Number",
                     "SWIFT/BIC", "Website", "Vessel Registration Identification", "Passport", "National ID No.",
                     "Business Registration Number", "Public Registration Number", "Company Number",
                     "Commercial Registry Number", "V.A.T. Number", "D-U-N-S Number", "CAGE Code"],
                    key=len, reverse=True)


# Programmes of OFAC's other non-SDN lists (CAPTA, NS-MBS) that count as a listing of their own.
CONS_PROGRAMS = {"561-RELATED", "RUSSIA-EO14024", "CAATSA - RUSSIA"}


def program_list(program: str, sdn_file: bool) -> str:
    if sdn_file:
        return "us-ofac-sdn"
    p = program.upper()
    if "CMIC" in p:
        return "us-ofac-ns-cmic"
    if p == "UKRAINE-EO13662":  # the sectoral sanctions (SSI) programme
        return "us-ofac-ssi"
    if p.startswith("FSE"):
        return "us-ofac-fse"
    if p == "NS-PLC":
        return "us-ofac-plc"
    return "us-ofac-cons"  # CAPTA (561-Related), NS-MBS (RUSSIA-EO14024, CAATSA), ...


def parse(path: str | Path | Iterable[str | Path], as_of: str | None = None) -> Iterator[Record]:
    paths = _expand(path)
    explicit = not (isinstance(path, (str, Path)) and Path(path).is_dir())  # files named by the caller
    groups: dict[str, dict[str, Path]] = defaultdict(dict)
    tables: list[Path] = []
    known: set[str] = set()  # ofac: ids of the OFAC files, to check derived tables against
    for p in paths:
        role = _role(p)
        if role:
            groups["cons" if "cons" in _tokens(p) else "sdn"][role] = p
        elif p.suffix.lower() == ".csv" and _first_line(p).lower().startswith("ent_num"):
            tables.append(p)
        elif explicit:
            yield Rejected(str(p), "file", "name", "not an OFAC file: no prim/sdn/add/alt/comments in the name "
                                                   "and no ent_num header")
    for name, files in sorted(groups.items()):
        if "prim" not in files:
            names = ", ".join(p.name for p in files.values())
            yield Rejected(str(next(iter(files.values()))), "file", "prim", f"no primary (prim/sdn) file with {names}")
            continue
        for r in _parse_set(files, sdn_file=name == "sdn", as_of=as_of):
            if isinstance(r, Node):
                known.add(r.id)
            yield r
    for t in tables:
        yield from parse_ns_cmic_table(t, as_of=as_of, known=known if groups else None)


def _expand(path) -> list[Path]:
    if isinstance(path, (str, Path)):
        p = Path(path)
        if p.is_dir():
            return sorted(x for x in p.iterdir() if x.is_file())
        if not p.exists():
            raise FileNotFoundError(p)
        # One OFAC file: take its siblings of the same set along.
        if _role(p):
            same = "cons" in _tokens(p)
            return sorted(x for x in p.parent.iterdir() if _role(x) and ("cons" in _tokens(x)) == same)
        return [p]
    out = [Path(x) for x in path]
    for p in out:
        if not p.exists():
            raise FileNotFoundError(p)
    return out


def _tokens(p: Path) -> set[str]:
    return set(re.split(r"[_\-. ]+", p.stem.lower()))


def _role(p: Path) -> str | None:
    if p.suffix.lower() not in (".csv", ".txt", ".del", ".ff", ".pip") and p.suffix:
        return None
    t = _tokens(p)
    for role in ("comments", "alt", "add"):
        if role in t:
            return role
    if "prim" in t or "sdn" in t:
        return "prim"
    return None


def _first_line(p: Path) -> str:
    with open(p, "rb") as f:
        return f.readline(200).decode("utf-8", "replace").lstrip("\ufeff")


# ---------------------------------------------------------------- the OFAC set


def _read(p: Path, ncols: int) -> Iterator[tuple[str, list[str] | Rejected]]:
    text, encoding = read_text(p)
    for line, fields, error in csv_records(text, ncols=ncols):
        where = f"line {line}"
        if error:
            yield where, Rejected(str(p), where, "columns" if "columns" in error else "quoting", error)
        elif any(undecodable(f) for f in fields):
            col = next(i for i, f in enumerate(fields) if undecodable(f))
            yield where, Rejected(str(p), where, PRIM[col] if ncols == 12 else f"column {col + 1}",
                                  f"bytes not valid in {encoding}")
        elif not fields[0].strip().isdigit():
            yield where, Rejected(str(p), where, "ent_num", f"ent_num {fields[0]!r} is not a number", raw=fields)
        else:
            yield where, fields


def _parse_set(files: dict[str, Path], sdn_file: bool, as_of: str | None) -> Iterator[Record]:
    prim = files["prim"]
    batch = Batch()
    src_id = f"src:ofac:{slug(prim.stem)}"
    rows: dict[str, tuple[str, list[str]]] = {}
    for where, f in _read(prim, ROLES["prim"]):
        if isinstance(f, Rejected):
            batch.add([f])
        elif f[0].strip() in rows:
            batch.add([Rejected(str(prim), where, "ent_num", f"ent_num {f[0].strip()} repeated", raw=f)])
        else:
            rows[f[0].strip()] = (where, f)
    extra: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for role in ("add", "alt", "comments"):
        if role not in files:
            continue
        for where, f in _read(files[role], ROLES[role]):
            if isinstance(f, Rejected):
                batch.add([f])
            elif f[0].strip() not in rows:
                batch.add([Rejected(str(files[role]), where, "ent_num", f"no primary record {f[0].strip()}", raw=f)])
            else:
                extra[f[0].strip()][role].append(f)

    # Names -> ent_num, for "Linked To:" (a name used by two entries links nowhere).
    by_name: dict[str, set[str]] = defaultdict(set)
    for ent, (_, f) in rows.items():
        by_name[_key(f[1])].add(ent)

    parsed = {ent: _entry(ent, f, extra[ent], sdn_file, src_id) for ent, (_, f) in rows.items()}
    used_lists: list[str] = []
    for ent, (where, f) in rows.items():
        node, rels, linked, problem = parsed[ent]
        if problem:
            batch.add([Rejected(str(prim), where, problem[0], problem[1], raw=f)])
            continue
        for name in linked:
            parent = by_name.get(_key(name), set())
            if len(parent) == 1 and (p := next(iter(parent))) != ent and not parsed[p][3] \
                    and parsed[p][0].label != "Person" and node.label != "Person":
                rels.append(Rel("PART_OF", node.id, node.label, parsed[p][0].id, parsed[p][0].label,
                                {"kind": "linked_to", "sources": [src_id]}, key="linked_to"))
        records = check([node, *rels], str(prim), where, raw=f)
        batch.add(records)
        used_lists += [r.dst for r in records if isinstance(r, Rel) and r.type == "LISTED_ON"]

    if batch.nodes:
        kind = "SDN List" if sdn_file else "Consolidated (non-SDN) Sanctions List"
        yield source(src_id, f"OFAC {kind} (CSV)", title=f"OFAC {kind}, CSV files",
                     publisher="U.S. Department of the Treasury, Office of Foreign Assets Control",
                     url=("https://ofac.treasury.gov/specially-designated-nationals-list-data-formats-data-schemas"
                          if sdn_file else "https://ofac.treasury.gov/consolidated-sanctions-list-non-sdn-lists"),
                     date=as_of, kind="list", locator=", ".join(p.name for p in files.values()))
        yield lists.source_node()
        for list_id in dict.fromkeys(used_lists):
            yield lists.list_node(list_id)
    yield from batch


def _key(name: str) -> str:
    return (clean(name) or "").rstrip(".").casefold()


def _entry(ent: str, f: list[str], extra: dict[str, list], sdn_file: bool, src_id: str):
    """(node, rels, linked-to names, problem) for one primary row; problem = (field, reason) or None."""
    row = dict(zip(PRIM, f))
    remarks_raw = (row["remarks"] if clean(row["remarks"]) else "") + "".join(c[1] for c in extra["comments"])
    remarks = clean(remarks_raw)
    info = mine_remarks(remarks or "")
    if info.get("error"):
        return None, [], [], info["error"]
    name = clean(row["name"])
    if not name:
        return None, [], [], ("name", "no name")
    label, kind = guess_label(name, row["type"])
    addresses, countries = [], []
    for a in extra["add"]:
        parts = [clean(x) for x in a[2:5]]
        if any(parts):
            addresses.append(", ".join(p for p in parts if p))
        countries.append(country_code(a[4]))
    aliases = [clean(a[3]) for a in extra["alt"] if clean(a[3])] + info["aliases"]
    vessel = [f"{k} {clean(row[c])}" for k, c in (("call sign", "call_sign"), ("type", "vess_type"),
                                                   ("flag", "vess_flag"), ("owner", "vess_owner")) if clean(row[c])]
    description = "; ".join(x for x in [clean(row["title"]), ", ".join(vessel) or None, remarks] if x) or None
    node = entity(label, kind, id=f"ofac:{ent}", name=name, aliases=[a for a in aliases if a != name],
                  country=single(countries), identifiers=[f"ofac:{ent}", *info["identifiers"]],
                  address="; ".join(addresses) or None, description=description,
                  birth_date=info.get("dob"), nationality=info.get("nationality"), sources=[src_id])
    programs = [p for p in (clean(x) for x in re.split(r"\]\s*\[", row["program"].strip("[] "))) if p]
    by_list: dict[str, list[str]] = defaultdict(list)
    for p in programs or ["(no programme)"]:
        by_list[program_list(p, sdn_file)].append(p)
    # In the consolidated file an SDN programme next to a non-SDN one (SDGT with
    # NS-PLC, VENEZUELA-EO13850 with UKRAINE-EO13662) is context, not a listing
    # on "other non-SDN lists": fold it into the reason of the specific list.
    generic = by_list.get("us-ofac-cons", [])
    if len(by_list) > 1 and not any(p.upper() in CONS_PROGRAMS for p in generic):
        del by_list["us-ofac-cons"]
        for progs in by_list.values():
            progs += generic
    rels = []
    for list_id, progs in by_list.items():
        reason = "; ".join(progs + info["reason"])
        rels.append(listed_on(node, list_id, [src_id], f"{list_id}:ofac:{ent}", since=info.get("since"),
                              reason=reason, entry_name=name))
    return node, rels, info["linked"], None


def mine_remarks(remarks: str) -> dict:
    """Identifiers, aliases, dates and links from an OFAC remarks text."""
    out: dict = {"identifiers": [], "aliases": [], "linked": [], "reason": [], "listing": []}
    for item in (i.strip() for i in remarks.split(";")):
        if not item:
            continue
        body = re.sub(r"^alt\.\s+", "", item)
        if m := re.match(r"^(?:a\.k\.a\.|f\.k\.a\.|n\.k\.a\.)\s+'(.+)'\.?$", body):
            out["aliases"].append(m.group(1))
        elif m := re.match(r"^Linked To:\s*(.+?)\.?$", body):
            out["linked"].append(m.group(1))
        elif m := re.match(r"^Listing Date \(([^)]*)\):?\s*(.+?)\.?$", body):
            try:
                out["listing"].append(parse_date(m.group(2)))
            except ValueError as e:
                out["error"] = (f"remarks:Listing Date ({m.group(1)})", str(e))
        elif re.match(r"^(?:Effective Date|Purchase/Sales For Divestment Date) \(", body):
            out["reason"].append(body.rstrip("."))
        elif m := re.match(r"^DOB\s+(.+?)\.?$", body):
            try:
                out["dob"] = parse_date(m.group(1))
            except ValueError:
                pass  # "DOB 1962", "circa 1960": not a date the schema can hold; stays in the description
        elif m := re.match(r"^nationality\s+(.+?)\.?$", body):
            out["nationality"] = country_code(m.group(1))
        else:
            for label in _ID_LABELS:
                if body.lower().startswith(label.lower() + " "):
                    value = body[len(label):].strip()
                    value = re.split(r"\s+\(|\s+(?:expires|issued)\b", value)[0].rstrip(".")
                    ident = identifier(id_scheme(label), value)
                    if ident:
                        out["identifiers"].append(ident)
                    break
    out["since"] = min((d for d in out["listing"] if d), default=None)
    return out


# ---------------------------------------------------------------- derived tables


def parse_ns_cmic_table(path: str | Path, as_of: str | None = None, known: set[str] | None = None
                        ) -> Iterator[Record]:
    """Derived NS-CMIC tables keyed by `ent_num`: extra identifiers and Chinese names for `ofac:<ent_num>`.

    `ns_cmic_parsed_from_ofac_cons_*.csv` (isins, equity_tickers, uscc, aliases)
    is OFAC's own data re-parsed, under a dataset Source saying so. The
    `*_lixiaohui.csv` files (Company Name, Chinese Name, Country) carry
    unverified author-added Chinese names, under their own Source. No
    designations: the LISTED_ON comes from the OFAC files themselves.
    `known`, when given (by `parse` on a folder), holds the `ofac:` ids of the
    OFAC files read alongside; rows for other entries (older editions of the
    list) are rejected rather than made into nodes with no designation.
    """
    path = Path(path)
    text, encoding = read_text(path)
    file = str(path)
    records = list(csv_records(text))
    if not records or records[0][1] is None:
        yield Rejected(file, "line 1", "header", "unreadable header")
        return
    header = [(clean(h) or "").lower() for h in records[0][1]]
    if "ent_num" not in header:
        yield Rejected(file, "line 1", "ent_num", "missing required column(s): ent_num")
        return
    zh = "chinese name" in header or "lixiaohui" in path.stem.lower()
    if zh:
        src = source(f"src:lixiaohui-ns-cmic:{slug(path.stem)}",
                     "NS-CMIC company names with Chinese names (li-xiaohui/grab-companies)",
                     title="NS-CMIC companies with Chinese names added by the author of li-xiaohui/grab-companies; "
                           "unverified, not from OFAC",
                     publisher="li-xiaohui (GitHub)", url="https://github.com/li-xiaohui/grab-companies",
                     kind="dataset", date=as_of, locator=path.name)
    else:
        src = source(f"src:ofac-ns-cmic-parsed:{slug(path.stem)}", "NS-CMIC entries parsed from OFAC remarks",
                     title="NS-CMIC entries regex-parsed from the OFAC consolidated list remarks (derived table)",
                     publisher="techgiants shared data (derived from OFAC)",
                     url="https://ofac.treasury.gov/consolidated-sanctions-list-non-sdn-lists",
                     kind="dataset", date=as_of, locator=path.name)
    batch = Batch()
    for line, fields, error in records[1:]:
        where = f"line {line}"
        if error or len(fields) != len(header):
            error = error or f"expected {len(header)} columns, found {len(fields)}"
            batch.add([Rejected(file, where, "columns", error)])
            continue
        row = dict(zip(header, fields))
        bad = [k for k, v in row.items() if undecodable(v)]
        ent = (clean(row["ent_num"]) or "")
        if bad:
            batch.add([Rejected(file, where, bad[0], f"bytes not valid in {encoding}")])
            continue
        if not ent.isdigit():
            batch.add([Rejected(file, where, "ent_num", f"ent_num {ent!r} is not a number", raw=row)])
            continue
        if known is not None and f"ofac:{ent}" not in known:
            batch.add([Rejected(file, where, "ent_num", f"ent_num {ent} is not in the OFAC files read with this table",
                                raw=row)])
            continue
        name = clean(row.get("name") or row.get("company name"))
        idents = [f"ofac:{ent}"]
        for col, scheme in (("isins", "isin"), ("equity_tickers", "ticker"), ("uscc", "uscc")):
            idents += [i for i in (identifier(scheme, v) for v in split_list(row.get(col))) if i]
        label, kind = guess_label(name or "", row.get("sdn_type"))
        node = entity(label, kind, id=f"ofac:{ent}", name=name, name_zh=clean(row.get("chinese name")),
                      aliases=[a for a in split_list(row.get("aliases")) if a != name],
                      country=country_code(row.get("country")), identifiers=idents, sources=[src.id])
        batch.add(check([node], file, where, raw=row))
    if batch.nodes:
        yield src
    yield from batch
