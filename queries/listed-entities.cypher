/*
title: Who is on a list
description: >
  Which companies, people and organisations are on this restriction list, since when, under
  which Federal Register notice and for what stated reason?
tags: [lists]
order: 20
params:
  list_id:
    type: string
    default: us-bis-entity-list
    help: The restriction list.
    choices_query: "MATCH (l:SanctionsList) RETURN l.id AS value, l.name AS label ORDER BY label, value"
*/
MATCH (e)-[r:LISTED_ON]->(l:SanctionsList {id: $list_id})
RETURN labels(e)[0] AS kind, e.id AS id, e.name AS name, e.country AS country, r.since AS since,
       r.until AS until, r.notice AS notice, r.reason AS reason, r.entry_name AS entry_name
ORDER BY toLower(name), id, r.id
// variant: ladybug
MATCH (e)-[r:LISTED_ON]->(l:SanctionsList {id: $list_id})
RETURN label(e) AS kind, e.id AS id, e.name AS name, e.country AS country, r.since AS since,
       r.until AS until, r.notice AS notice, r.reason AS reason, r.entry_name AS entry_name
ORDER BY toLower(name), id, r.id
