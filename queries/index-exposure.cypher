/*
title: Index funds exposed through index membership
description: >
  Which securities indexes include firms on this list, with what weight, and which funds track
  those indexes (and so hold the listed firms passively)?
tags: [investors, lists, indexes]
order: 30
params:
  list_id:
    type: string
    default: us-bis-entity-list
    help: The restriction list.
    choices_query: "MATCH (l:SanctionsList) RETURN l.id AS value, l.name AS label ORDER BY label, value"
*/
MATCH (c)-[:LISTED_ON]->(l:SanctionsList {id: $list_id})
MATCH (c)-[m:CONSTITUENT_OF]->(x:`Index`)
OPTIONAL MATCH (f:Fund)-[:TRACKS]->(x)
RETURN x.name AS index_name, x.provider AS provider, c.name AS listed_firm, c.id AS listed_id,
       m.weight AS index_weight, f.name AS tracking_fund, f.id AS fund_id, f.us_based AS fund_us_based
ORDER BY toLower(index_name), x.id, toLower(listed_firm), listed_id, fund_id
