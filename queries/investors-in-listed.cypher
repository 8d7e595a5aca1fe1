/*
title: Funds and investors in listed firms
description: >
  Which funds and investors hold, own or have invested in firms on this list, directly, through
  a parent of the listed firm, or through their own subsidiaries and managed funds? `vehicle`
  is the entity that holds the position (the investor itself, one of its subsidiaries or a fund
  it manages), `target` is what it holds (the listed firm or a company above it).
tags: [investors, lists]
order: 10
analytical: >
  Walks, for every firm on the list, up to 4 ownership hops up to its parents and then up to 4
  hops of ownership and management up to every investor: the whole list's investor chains at once
  (millions of intermediate rows at 1M companies), sorted. No index serves a multi-hop walk from
  every listed firm. Use `techgiants analyze exposure --lists <list>` (whole-list investor
  exposure computed in memory, seconds at 1M), or `investor-exposure` for one investor.
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
WHERE i <> f AND v <> f
WITH DISTINCT f, i, v, r, t, length(ip) + 1 + length(tp) AS hops
RETURN f.name AS listed_firm, f.id AS listed_id, i.name AS investor, i.id AS investor_id,
       labels(i)[0] AS investor_kind, i.us_based AS us_based, type(r) AS position, v.name AS vehicle,
       t.name AS target, hops
ORDER BY toLower(listed_firm), listed_id, toLower(investor), investor_id, hops, v.id, t.id, r.id
// variant: ladybug
// DISTINCT and the sort carry plain columns, not whole nodes (a node is every property of its
// table on Ladybug): 1.2 GB instead of over 3 GB at 1M companies.
MATCH (f)-[:LISTED_ON]->(l:SanctionsList {id: $list_id})
MATCH tp = (t)-[:OWNS*0..4]->(f)
MATCH (v)-[r:OWNS|HOLDS|INVESTED_IN]->(t)
MATCH ip = (i)-[:OWNS|MANAGES*0..4]->(v)
WHERE i <> f AND v <> f
WITH DISTINCT f.name AS listed_firm, f.id AS listed_id, i.name AS investor, i.id AS investor_id,
     label(i) AS investor_kind, i.us_based AS us_based, label(r) AS position, v.name AS vehicle,
     t.name AS target, length(ip) + 1 + length(tp) AS hops, v.id AS vehicle_id, t.id AS target_id, r.id AS rel_id
RETURN listed_firm, listed_id, investor, investor_id, investor_kind, us_based, position, vehicle, target, hops
ORDER BY toLower(listed_firm), listed_id, toLower(investor), investor_id, hops, vehicle_id, target_id, rel_id
