/*
title: Designations by date and Federal Register notice
description: >
  What was added to the restriction lists between two dates, and under which Federal Register
  notice? Filter by list and by notice (e.g. `84 FR 54002`); undated designations (the report
  often gives only a month) are shown last unless you leave them out.
tags: [lists, timeline]
order: 30
params:
  list_id:
    type: string
    default: ""
    help: Only this list; empty for all lists.
    choices_query: "MATCH (l:SanctionsList) RETURN l.id AS value, l.name AS label ORDER BY label, value"
  from:
    type: date
    default: "1990-01-01"
    help: Designations that took effect on or after this date.
  to:
    type: date
    default: "2099-12-31"
    help: Designations that took effect on or before this date.
  notice:
    type: string
    default: ""
    help: Part of a Federal Register citation, e.g. `84 FR 54002`; empty for any.
  include_undated:
    type: bool
    default: true
    help: Also show designations without a date (only when no notice is asked for).
*/
MATCH (e)-[r:LISTED_ON]->(l:SanctionsList)
WHERE ($list_id = '' OR l.id = $list_id)
  AND ((r.since >= $from AND r.since <= $to) OR (r.since IS NULL AND $include_undated))
  AND ($notice = '' OR coalesce(r.notice, '') CONTAINS $notice)
RETURN r.since AS since, r.notice AS notice, l.name AS list, e.name AS name, e.id AS id,
       r.reason AS reason, r.until AS until
ORDER BY since, notice, list, toLower(name), id, r.id
