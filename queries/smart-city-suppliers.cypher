/*
title: Suppliers to a company's smart-city products
description: >
  Who supplies this company with software, components or services that go into its smart-city
  (or other kind of) projects and solutions, and are those suppliers on a restriction list?
  A supplier counts when its product mentions the kind (e.g. "smart city") or when the company
  runs projects of that kind.
tags: [projects, suppliers]
order: 40
params:
  company:
    type: string
    default: company:huawei
    help: Id of the company whose supply chain to look at.
    choices_query: "MATCH ()-[:SUPPLIES]->(c:Company) RETURN DISTINCT c.id AS value, c.name AS label ORDER BY label, value"
  project_kind:
    type: string
    default: smart_city
    help: Kind of project or product line.
    choices: [smart_city, public_security, surveillance, 5g, cable, data_centre, cloud, rnd_lab, forensics_lab, other]
*/
WITH $project_kind AS wanted, replace($project_kind, '_', ' ') AS words
MATCH (s:Company)-[r:SUPPLIES]->(c:Company {id: $company})
OPTIONAL MATCH (c)-[:PARTY_TO]->(p:Project)
WHERE p.kind = wanted
WITH s, r, c, words, count(p) AS company_projects
WHERE toLower(coalesce(r.product, '')) CONTAINS words OR company_projects > 0
RETURN s.name AS supplier, s.id AS supplier_id, s.country AS supplier_country, r.product AS product,
       company_projects, EXISTS { MATCH (s)-[:LISTED_ON]->(:SanctionsList) } AS supplier_listed
ORDER BY toLower(supplier), supplier_id, r.id
