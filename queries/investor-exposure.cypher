/*
title: What an investor is exposed to
description: >
  What does this fund or investor hold, own or finance, itself or through the companies and
  funds it owns or manages, and how many of those holdings are on a restriction list, captured
  by the 50% rule, or own a listed firm further down?
tags: [investors]
order: 40
anchors:
  investor: [Company, Fund, GovernmentBody, University, Person]
params:
  investor:
    type: string
    default: company:fidelity-investments
    help: Id of the fund, asset manager or investor.
    choices_query: "MATCH (i)-[:HOLDS|OWNS|INVESTED_IN|MANAGES]->() RETURN DISTINCT i.id AS value, i.name AS label ORDER BY label, value"
*/
MATCH (i:label($investor) {id: $investor})
MATCH (i)-[:OWNS|MANAGES*0..4]->(v)
MATCH (v)-[r:OWNS|HOLDS|INVESTED_IN]->(h)
WITH DISTINCT v, r, h
OPTIONAL MATCH (h)-[:LISTED_ON]->(l:SanctionsList)
WITH v, r, h, count(l) AS listed_on
OPTIONAL MATCH (h)-[:CAPTURED_BY]->(k:SanctionsList)
WITH v, r, h, listed_on, count(k) AS captured_by
OPTIONAL MATCH (h)-[:OWNS*1..4]->(s)-[:LISTED_ON]->(:SanctionsList)
WITH v, r, h, listed_on, captured_by, count(DISTINCT s) AS listed_below
RETURN v.name AS vehicle, type(r) AS position, h.name AS holding, h.id AS holding_id, h.country AS country,
       coalesce(r.share, r.weight) AS share_or_weight, r.value_usd AS value_usd, r.as_of AS as_of,
       listed_on, captured_by, listed_below
ORDER BY listed_on DESC, captured_by DESC, toLower(holding), holding_id, toLower(vehicle), r.id
// variant: ladybug
MATCH (i:label($investor) {id: $investor})
MATCH (i)-[:OWNS|MANAGES*0..4]->(v)
MATCH (v)-[r:OWNS|HOLDS|INVESTED_IN]->(h)
WITH DISTINCT v, r, h
OPTIONAL MATCH (h)-[:LISTED_ON]->(l:SanctionsList)
WITH v, r, h, count(l) AS listed_on
OPTIONAL MATCH (h)-[:CAPTURED_BY]->(k:SanctionsList)
WITH v, r, h, listed_on, count(k) AS captured_by
OPTIONAL MATCH (h)-[:OWNS*1..4]->(s)-[:LISTED_ON]->(:SanctionsList)
WITH v, r, h, listed_on, captured_by, count(DISTINCT s) AS listed_below
RETURN v.name AS vehicle, label(r) AS position, h.name AS holding, h.id AS holding_id, h.country AS country,
       coalesce(r.share, r.weight) AS share_or_weight, r.value_usd AS value_usd, r.as_of AS as_of,
       listed_on, captured_by, listed_below
ORDER BY listed_on DESC, captured_by DESC, toLower(holding), holding_id, toLower(vehicle), r.id
