"""The restriction lists the project knows, as SanctionsList nodes with stable ids.

Every ingester maps its own list codes (CSL `source`, OFAC programme, the
parsed-lists JSON `id`) to these ids, so the same list is one node whatever
file named it.
"""
from __future__ import annotations

from ingest.records import Node

# id -> (name, authority, url)
LISTS: dict[str, tuple[str, str, str]] = {
    "us-bis-entity-list": ("Entity List (BIS)", "U.S. Department of Commerce, Bureau of Industry and Security",
                           "https://www.ecfr.gov/current/title-15/subtitle-B/chapter-VII/subchapter-C/part-744#Supplement-No.-4-to-Part-744"),
    "us-bis-meu": ("Military End-User List (BIS)", "U.S. Department of Commerce, Bureau of Industry and Security",
                   "https://www.ecfr.gov/current/title-15/subtitle-B/chapter-VII/subchapter-C/part-744/appendix-Supplement%20No.%207%20to%20Part%20744"),
    "us-bis-uvl": ("Unverified List (BIS)", "U.S. Department of Commerce, Bureau of Industry and Security",
                   "https://www.bis.doc.gov/index.php/policy-guidance/lists-of-parties-of-concern/unverified-list"),
    "us-bis-dpl": ("Denied Persons List (BIS)", "U.S. Department of Commerce, Bureau of Industry and Security",
                   "https://www.bis.doc.gov/index.php/policy-guidance/lists-of-parties-of-concern/denied-persons-list"),
    "us-ofac-sdn": ("Specially Designated Nationals List (OFAC)", "U.S. Department of the Treasury, Office of Foreign Assets Control",
                    "https://sanctionssearch.ofac.treas.gov/"),
    "us-ofac-ns-cmic": ("Non-SDN Chinese Military-Industrial Complex Companies List (OFAC NS-CMIC)",
                        "U.S. Department of the Treasury, Office of Foreign Assets Control",
                        "https://ofac.treasury.gov/consolidated-sanctions-list-non-sdn-lists/ns-cmic-list"),
    "us-ofac-ssi": ("Sectoral Sanctions Identifications List (OFAC)", "U.S. Department of the Treasury, Office of Foreign Assets Control",
                    "https://ofac.treasury.gov/consolidated-sanctions-list-non-sdn-lists"),
    "us-ofac-fse": ("Foreign Sanctions Evaders List (OFAC)", "U.S. Department of the Treasury, Office of Foreign Assets Control",
                    "https://ofac.treasury.gov/consolidated-sanctions-list-non-sdn-lists"),
    "us-ofac-plc": ("Palestinian Legislative Council List (OFAC)", "U.S. Department of the Treasury, Office of Foreign Assets Control",
                    "https://ofac.treasury.gov/consolidated-sanctions-list-non-sdn-lists"),
    "us-ofac-cons": ("Other OFAC Non-SDN Lists", "U.S. Department of the Treasury, Office of Foreign Assets Control",
                     "https://ofac.treasury.gov/consolidated-sanctions-list-non-sdn-lists"),
    "us-dod-1260h": ("Section 1260H List of Chinese Military Companies (DoD)", "U.S. Department of Defense (Department of War)",
                     "https://www.federalregister.gov/documents/search?conditions%5Bterm%5D=1260H"),
    "us-dod-1286": ("Section 1286 List of Foreign Institutions (DoD)", "U.S. Department of Defense (Department of War)",
                    "https://basicresearch.defense.gov/Programs/Academic-Research-Security/"),
    "us-dhs-uflpa": ("UFLPA Entity List (DHS)", "U.S. Department of Homeland Security, Forced Labor Enforcement Task Force",
                     "https://www.dhs.gov/uflpa-entity-list"),
    "us-cbp-wro": ("Withhold Release Orders (CBP)", "U.S. Customs and Border Protection",
                   "https://www.cbp.gov/trade/forced-labor/withhold-release-orders-and-findings"),
    "us-fcc-covered": ("Covered List (FCC)", "U.S. Federal Communications Commission",
                       "https://www.fcc.gov/supplychain/coveredlist"),
    "us-state-isn": ("Nonproliferation Sanctions (State Department)", "U.S. Department of State",
                     "https://www.state.gov/key-topics-bureau-of-international-security-and-nonproliferation/nonproliferation-sanctions/"),
    "us-state-debarred": ("ITAR Debarred Parties (State Department)", "U.S. Department of State, Directorate of Defense Trade Controls",
                          "https://www.pmddtc.state.gov/ddtc_public/ddtc_public?id=ddtc_kb_article_page&sys_id=c22d1833dbb8d300d0a370131f9619f0"),
    "us-ofac-eo14032": ("EO 14032 Annex (OFAC)", "U.S. Department of the Treasury, Office of Foreign Assets Control",
                        "https://ofac.treasury.gov/"),
    "us-ndaa-889": ("NDAA Section 889 Covered Telecommunications Companies", "U.S. Congress",
                    "https://www.acquisition.gov/far/52.204-25"),
}

SOURCE_ID = "src:techgiants-lists"


def list_node(list_id: str) -> Node:
    name, authority, url = LISTS[list_id]
    return Node("SanctionsList", {"id": list_id, "name": name, "authority": authority, "country": "US",
                                  "url": url, "sources": [SOURCE_ID]})


def source_node() -> Node:
    return Node("Source", {"id": SOURCE_ID, "name": "Official pages of the US restriction lists",
                           "title": "Official pages of the US restriction lists", "kind": "list",
                           "publisher": "U.S. Government", "sources": [SOURCE_ID]})
