/*
title: US-based investors in listed firms
description: >
  Which US-based funds, pension plans and companies hold, own or have invested in firms on
  this list, directly, through a parent of the listed firm, or through their subsidiaries and
  the funds they manage?
  The question behind the divestment campaigns and the NS-CMIC investment ban.
tags: [investors, lists, us]
order: 20
analytical: >
  The same walk as `investors-in-listed` (every listed firm's parents up to 4 hops, every investor
  chain up to 4 hops above them), then filtered to US-based investors: the filter sits at the far
  end of the walk, so no index can narrow it first. Use `techgiants analyze exposure --lists
  <list>` for whole-list exposure, or `investor-exposure` for one investor.
params:
  list_id:
    type: string
    default: us-bis-entity-list
    help: The restriction list.
    choices_query: "MATCH (l:SanctionsList) RETURN l.id AS value, l.name AS label ORDER BY label, value"
*/
MATCH (f)-[:LISTED_ON]->(l:SanctionsList {id: $list_id})
MATCH tp = (t)-[:OWNS*0..4]->(f)
MATCH (v)-[r:OWNS|HOLDS|INVESTED_IN]->(t)
MATCH ip = (i)-[:OWNS|MANAGES*0..4]->(v)
WHERE i.us_based = true AND i <> f AND v <> f
WITH DISTINCT f, i, v, r, t, length(ip) + 1 + length(tp) AS hops
RETURN i.name AS investor, i.id AS investor_id, labels(i)[0] AS investor_kind, i.kind AS kind,
       f.name AS listed_firm, f.id AS listed_id, type(r) AS position, v.name AS vehicle, t.name AS target,
       r.value_usd AS value_usd, r.as_of AS as_of, hops
ORDER BY toLower(investor), investor_id, toLower(listed_firm), listed_id, hops, v.id, t.id, r.id
// variant: ladybug
// DISTINCT and the sort carry plain columns, not whole nodes (a node is every property of its
// table on Ladybug): 1.2 GB instead of over 3 GB at 1M companies.
MATCH (f)-[:LISTED_ON]->(l:SanctionsList {id: $list_id})
MATCH tp = (t)-[:OWNS*0..4]->(f)
MATCH (v)-[r:OWNS|HOLDS|INVESTED_IN]->(t)
MATCH ip = (i)-[:OWNS|MANAGES*0..4]->(v)
WHERE i.us_based = true AND i <> f AND v <> f
WITH DISTINCT i.name AS investor, i.id AS investor_id, label(i) AS investor_kind, i.kind AS kind,
     f.name AS listed_firm, f.id AS listed_id, label(r) AS position, v.name AS vehicle, t.name AS target,
     r.value_usd AS value_usd, r.as_of AS as_of, length(ip) + 1 + length(tp) AS hops,
     v.id AS vehicle_id, t.id AS target_id, r.id AS rel_id
RETURN investor, investor_id, investor_kind, kind, listed_firm, listed_id, position, vehicle, target,
       value_usd, as_of, hops
ORDER BY toLower(investor), investor_id, toLower(listed_firm), listed_id, hops, vehicle_id, target_id, rel_id
