/*
title: Facts that rest on a single source
description: >
  Which relationships (ownership, listings, projects, supply, ...) does only one source state?
  Corroborate these before relying on them. Derived results of the analytics are left out.
tags: [evidence, sources]
order: 20
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
WITH $rel_type AS wanted_type
MATCH (a)-[r]->(b)
WHERE size(r.sources) = 1 AND coalesce(r.derived, false) = false
  AND (wanted_type = '' OR label(r) = wanted_type)
OPTIONAL MATCH (s:Source {id: r.sources[1]})
RETURN label(r) AS relationship, a.name AS from_name, a.id AS from_id, b.name AS to_name, b.id AS to_id,
       r.sources[1] AS source_id, s.locator AS locator
ORDER BY relationship, from_id, to_id, r.id
