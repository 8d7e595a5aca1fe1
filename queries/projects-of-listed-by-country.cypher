/*
title: Projects of listed companies, by country
description: >
  Where in the world do firms on this list run projects (surveillance, smart cities, forensics
  labs, cloud, training, ...), in what role, and since when? Filter by country to brief on one
  place.
tags: [projects, lists, countries]
order: 10
params:
  list_id:
    type: string
    default: us-bis-entity-list
    help: The restriction list the companies are on.
    choices_query: "MATCH (l:SanctionsList) RETURN l.id AS value, l.name AS label ORDER BY label, value"
  country:
    type: string
    default: ""
    help: ISO code of the country (e.g. ZW); empty for all.
    choices_query: "MATCH (c:Country) RETURN c.id AS value, c.name AS label ORDER BY label, value"
*/
MATCH (c)-[:LISTED_ON]->(l:SanctionsList {id: $list_id})
MATCH (c)-[r:PARTY_TO]->(p:Project)-[:LOCATED_IN]->(k:Country)
WHERE $country = '' OR k.id = $country
RETURN k.name AS country, k.id AS country_code, p.name AS project, p.id AS project_id, p.kind AS project_kind,
       c.name AS company, c.id AS company_id, r.role AS role, p.start AS start, p.status AS status
ORDER BY country, toLower(project), project_id, toLower(company), company_id, r.id
