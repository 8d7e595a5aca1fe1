/*
title: What changed since a date
description: >
  Which facts (relationships) come from sources dated on or after this date, or are
  designations that took effect since then? A briefing on what is new since your last look.
  A report section or footnote takes the date of its report.
tags: [evidence, timeline]
order: 30
analytical: >
  Reads every relationship of every type: `any(x IN r.sources WHERE x IN fresh)` and `r.since >=
  $since` test a list and an optional date on each one, and neither store can index a list element
  or a property across all relationship types. For a feed of what changed, use the ingest reports
  (`techgiants ingest` prints what each run added) or narrow `since` to a recent date.
params:
  since:
    type: date
    default: "2024-01-01"
    help: Show facts from sources dated on or after this day (YYYY-MM-DD).
*/
MATCH (s:Source)
OPTIONAL MATCH (parent:Source {id: s.parent})
WITH s, coalesce(s.date, parent.date) AS dated
WHERE dated >= $since
WITH collect(s.id) AS fresh
MATCH (a)-[r]->(b)
WHERE any(x IN r.sources WHERE x IN fresh) OR r.since >= $since
RETURN type(r) AS relationship, a.name AS from_name, a.id AS from_id, b.name AS to_name, b.id AS to_id,
       r.since AS since, [x IN r.sources WHERE x IN fresh] AS new_sources
ORDER BY relationship, from_id, to_id, r.id
// variant: ladybug
MATCH (s:Source)
OPTIONAL MATCH (parent:Source {id: s.parent})
WITH s, coalesce(s.date, parent.date) AS dated
WHERE dated >= $since
WITH collect(s.id) AS fresh
MATCH (a)-[r]->(b)
WHERE any(x IN r.sources WHERE x IN fresh) OR r.since >= $since
RETURN label(r) AS relationship, a.name AS from_name, a.id AS from_id, b.name AS to_name, b.id AS to_id,
       r.since AS since, list_filter(r.sources, x -> list_contains(fresh, x)) AS new_sources
ORDER BY relationship, from_id, to_id, r.id
