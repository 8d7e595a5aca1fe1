/*
title: Everything a company owns
description: >
  Which companies and funds does this company own, directly or down a chain of subsidiaries,
  and are any of them on a restriction list or captured by the 50% rule? Due diligence on a
  group starts here.
tags: [ownership]
order: 30
anchors:
  company: [Company, Fund, GovernmentBody, University, Person]
params:
  company:
    type: string
    default: company:fidelity-investments
    help: Id of the parent company.
    choices_query: "MATCH (c:Company)-[:OWNS]->() RETURN DISTINCT c.id AS value, c.name AS label ORDER BY label, value"
*/
MATCH p = (c:label($company) {id: $company})-[:OWNS*1..8]->(s)
WITH s, min(length(p)) AS hops
OPTIONAL MATCH (s)-[:LISTED_ON]->(l:SanctionsList)
WITH s, hops, count(l) AS lists
OPTIONAL MATCH (s)-[:CAPTURED_BY]->(k:SanctionsList)
RETURN s.name AS subsidiary, s.id AS subsidiary_id, s.country AS country, hops,
       lists AS listed_on, count(k) AS captured_by
ORDER BY hops, toLower(subsidiary), subsidiary_id
