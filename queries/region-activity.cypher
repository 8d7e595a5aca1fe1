/*
title: Companies active in a region (Xinjiang by default)
description: >
  Which companies take part in projects, supply, partner with or work for state bodies whose
  name or description mentions the region, and with whom? Default Xinjiang: police cloud,
  surveillance, propaganda and "Xinjiang Aid" work.
tags: [projects, xinjiang, state]
order: 30
params:
  region:
    type: string
    default: Xinjiang
    help: Word to look for in the names and descriptions of projects and state bodies (case does not matter).
*/
WITH toLower($region) AS region
MATCH (c:Company)-[r:PARTY_TO|SUPPLIES|PARTNERS_WITH]-(x)
WHERE (x:Project OR x:GovernmentBody)
  AND (toLower(x.name) CONTAINS region OR toLower(coalesce(x.description, '')) CONTAINS region)
RETURN c.name AS company, c.id AS company_id, type(r) AS activity,
       coalesce(r.role, r.product, r.kind) AS detail, labels(x)[0] AS with_kind, x.name AS with_whom, x.id AS with_id,
       EXISTS { MATCH (c)-[:LISTED_ON]->(:SanctionsList) } AS company_listed
ORDER BY toLower(company), company_id, activity, toLower(with_whom), with_id, r.id
// variant: ladybug
WITH toLower($region) AS region
MATCH (c:Company)-[r:PARTY_TO|SUPPLIES|PARTNERS_WITH]-(x)
WHERE label(x) IN ['Project', 'GovernmentBody']
  AND (toLower(x.name) CONTAINS region OR toLower(coalesce(x.description, '')) CONTAINS region)
RETURN c.name AS company, c.id AS company_id, label(r) AS activity,
       coalesce(r.role, r.product, r.kind) AS detail, label(x) AS with_kind, x.name AS with_whom, x.id AS with_id,
       EXISTS { MATCH (c)-[:LISTED_ON]->(:SanctionsList) } AS company_listed
ORDER BY toLower(company), company_id, activity, toLower(with_whom), with_id, r.id
