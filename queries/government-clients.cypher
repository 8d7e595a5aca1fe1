/*
title: Government clients of a company
description: >
  Which state bodies, at home and abroad, are clients of this company's projects, where, and
  in what role does the company take part?
tags: [projects, state]
order: 20
params:
  company:
    type: string
    default: company:cloudwalk
    help: Id of the company.
    choices_query: "MATCH (c:Company)-[:PARTY_TO]->() RETURN DISTINCT c.id AS value, c.name AS label ORDER BY label, value"
*/
MATCH (c {id: $company})-[r:PARTY_TO]->(p:Project)<-[k:PARTY_TO]-(g:GovernmentBody)
WHERE k.role = 'client'
OPTIONAL MATCH (p)-[:LOCATED_IN]->(x:Country)
RETURN g.name AS client, g.id AS client_id, g.country AS client_country, g.level AS level, g.kind AS client_kind,
       p.name AS project, p.id AS project_id, p.kind AS project_kind, x.name AS located_in,
       r.role AS company_role, p.start AS start
ORDER BY toLower(client), client_id, toLower(project), project_id, located_in, r.id
