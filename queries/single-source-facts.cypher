/*
title: Facts that rest on a single source
description: >
  Which relationships (ownership, listings, projects, supply, ...) does only one source state?
  Corroborate these before relying on them. Derived results of the analytics are left out.
tags: [evidence, sources]
order: 20
analytical: >
  Reads every relationship (`size(r.sources) = 1` on each one, no index serves the size of a list)
  and sorts them all. Narrow it with `rel_type`; for one entity use `sources-for`.
params:
  rel_type:
    type: string
    default: ""
    help: Only this kind of relationship; empty for all.
    choices: ["", OWNS, HOLDS, INVESTED_IN, MANAGES, TRACKS, CONSTITUENT_OF, LISTED_ON, PART_OF, PARTY_TO, SUPPLIES, PARTNERS_WITH, LOCATED_IN, HEADQUARTERED_IN, OFFICER_OF]
*/
WITH $rel_type AS wanted_type
MATCH (a)-[r]->(b)
WHERE size(r.sources) = 1 AND coalesce(r.derived, false) = false
  AND (wanted_type = '' OR type(r) = wanted_type)
OPTIONAL MATCH (s:Source {id: r.sources[0]})
RETURN type(r) AS relationship, a.name AS from_name, a.id AS from_id, b.name AS to_name, b.id AS to_id,
       r.sources[0] AS source_id, s.locator AS locator
ORDER BY relationship, from_id, to_id, r.id
// variant: ladybug
// Sorts and cuts ($limit: the rows the runner reads) before the source lookup, carrying only
// plain columns: a sort whose rows a later OPTIONAL MATCH still needs is kept whole in Ladybug's
// buffer pool (over 1.5 GB at 1M companies), the top rows alone take a few MB.
MATCH (a)-[r]->(b)
WHERE size(r.sources) = 1 AND coalesce(r.derived, false) = false
  AND ($rel_type = '' OR label(r) = $rel_type)
WITH label(r) AS relationship, a.name AS from_name, a.id AS from_id, b.name AS to_name, b.id AS to_id,
     r.id AS rel_id, r.sources[1] AS source_id
ORDER BY relationship, from_id, to_id, rel_id
LIMIT $limit
OPTIONAL MATCH (s:Source {id: source_id})
RETURN relationship, from_name, from_id, to_name, to_id, source_id, s.locator AS locator
ORDER BY relationship, from_id, to_id, rel_id
