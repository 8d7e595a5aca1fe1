/*
title: Unlisted subsidiaries of listed firms
description: >
  Which companies owned (directly or down a chain) by a firm on this list are not on the list
  themselves? These are the names a screening against the list alone misses; the `captured`
  column says whether the 50% rule analysis already caught them.
tags: [ownership, lists]
order: 40
analytical: >
  Walks up to 6 ownership hops down from every firm on the list (over 120,000 subsidiaries at 1M
  companies) and sorts them all: the answer is the size of the list's whole ownership tree, and no
  index serves a multi-hop walk from every listed firm. Use `techgiants analyze fifty-percent` for
  which of them the 50% rule captures, or `subsidiaries` for one parent.
params:
  list_id:
    type: string
    default: us-bis-entity-list
    help: The restriction list the parents are on.
    choices_query: "MATCH (l:SanctionsList) RETURN l.id AS value, l.name AS label ORDER BY label, value"
*/
MATCH (parent)-[:LISTED_ON]->(l:SanctionsList {id: $list_id})
MATCH p = (parent)-[:OWNS*1..6]->(sub)
WHERE NOT EXISTS { MATCH (sub)-[:LISTED_ON]->(l) }
WITH l, parent, sub, min(length(p)) AS hops
RETURN parent.name AS listed_parent, parent.id AS parent_id, sub.name AS subsidiary, sub.id AS subsidiary_id,
       sub.country AS country, hops,
       EXISTS { MATCH (sub)-[:CAPTURED_BY]->(l) } AS captured
ORDER BY toLower(listed_parent), parent_id, hops, toLower(subsidiary), subsidiary_id
