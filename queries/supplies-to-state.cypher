/*
title: Suppliers of state bodies
description: >
  Which companies supply police, security, military and other state bodies, with what, and
  are the suppliers on a restriction list? Filter by the country of the state body.
tags: [projects, state, suppliers]
order: 50
params:
  country:
    type: string
    default: ""
    help: ISO code of the state body's country (e.g. CN); empty for all.
*/
MATCH (s:Company)-[r:SUPPLIES]->(g:GovernmentBody)
WHERE $country = '' OR g.country = $country
RETURN g.name AS state_body, g.id AS state_body_id, g.country AS country, g.kind AS body_kind,
       s.name AS supplier, s.id AS supplier_id, r.product AS product,
       EXISTS { MATCH (s)-[:LISTED_ON]->(:SanctionsList) } AS supplier_listed
ORDER BY toLower(state_body), state_body_id, toLower(supplier), supplier_id, r.id
