"""Small graphs for store tests, built through the real pipeline."""
from __future__ import annotations

from ingest.records import Node, Rel

SRC = "src:test"


def sample_records() -> list:
    s = [SRC]
    return [
        Node("Source", {"id": SRC, "name": "Test source", "title": "Test source", "kind": "file", "sources": s}),
        Node("Company", {"id": "company:hikvision", "name": "Hangzhou Hikvision Digital Technology Co., Ltd.",
                         "aliases": ["Hikvision", "海康威视"], "name_zh": "海康威视", "country": "CN",
                         "identifiers": ["isin:CNE100000PM8"], "sources": s}),
        Node("Company", {"id": "company:cetc", "name": "China Electronics Technology Group Corporation",
                         "aliases": ["CETC"], "country": "CN", "kind": "state_enterprise", "sources": s}),
        Node("Company", {"id": "company:societe", "name": "Société Générale", "country": "FR", "sources": s}),
        Node("Fund", {"id": "fund:em", "name": "Emerging Markets Fund", "us_based": True, "sources": s}),
        Node("Index", {"id": "index:msci-em", "name": "MSCI Emerging Markets", "sources": s}),
        Node("SanctionsList", {"id": "us-bis-entity-list", "name": "Entity List", "sources": s}),
        Node("Project", {"id": "project:x", "name": "Safe city", "kind": "smart_city", "start": "2018-01-01",
                         "sources": s}),
        Rel("OWNS", "company:cetc", "Company", "company:hikvision", "Company",
            {"share": 0.4, "start": "2001-01-01", "sources": s}),
        Rel("HOLDS", "fund:em", "Fund", "company:hikvision", "Company", {"weight": 0.01, "as_of": "2020-12-31",
                                                                         "sources": s}, key="2020-12-31"),
        Rel("CONSTITUENT_OF", "company:hikvision", "Company", "index:msci-em", "Index", {"sources": s}),
        Rel("LISTED_ON", "company:hikvision", "Company", "us-bis-entity-list", "SanctionsList",
            {"since": "2019-10-09", "notice": "84 FR 54002", "sources": s}),
        Rel("PARTY_TO", "company:hikvision", "Company", "project:x", "Project", {"role": "contractor",
                                                                                "end": "2020-01-01", "sources": s}),
    ]
