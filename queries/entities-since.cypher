/*
title: Entities with sources since a date
description: >
  Which companies, funds, state bodies, people and projects are backed by a source dated on or
  after this date (new entities, or known ones with new information)?
tags: [evidence, timeline]
order: 40
analytical: >
  Reads every node of every label: `any(x IN n.sources WHERE x IN fresh)` tests a list on each
  one, and neither store can index list elements. Use the ingest reports for what a run added, or
  `sources-for` on one entity.
params:
  since:
    type: date
    default: "2024-01-01"
    help: Show entities with a source dated on or after this day (YYYY-MM-DD).
*/
MATCH (s:Source)
OPTIONAL MATCH (parent:Source {id: s.parent})
WITH s, coalesce(s.date, parent.date) AS dated
WHERE dated >= $since
WITH collect(s.id) AS fresh
MATCH (n)
WHERE labels(n)[0] IN ['Company', 'Fund', 'GovernmentBody', 'Person', 'University', 'Project', 'Index']
  AND any(x IN n.sources WHERE x IN fresh)
RETURN labels(n)[0] AS kind, n.id AS id, n.name AS name, [x IN n.sources WHERE x IN fresh] AS new_sources
ORDER BY kind, toLower(name), id
// variant: ladybug
MATCH (s:Source)
OPTIONAL MATCH (parent:Source {id: s.parent})
WITH s, coalesce(s.date, parent.date) AS dated
WHERE dated >= $since
WITH collect(s.id) AS fresh
MATCH (n)
WHERE label(n) IN ['Company', 'Fund', 'GovernmentBody', 'Person', 'University', 'Project', 'Index']
  AND any(x IN n.sources WHERE x IN fresh)
RETURN label(n) AS kind, n.id AS id, n.name AS name, list_filter(n.sources, x -> list_contains(fresh, x)) AS new_sources
ORDER BY kind, toLower(name), id
