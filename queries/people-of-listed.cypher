/*
title: People running listed firms
description: >
  Who are the founders, executives and other office-holders of the firms on this list (and of
  the firms those own)? Names to check against other lists and registries.
tags: [people, lists]
order: 20
params:
  list_id:
    type: string
    default: us-bis-entity-list
    help: The restriction list.
    choices_query: "MATCH (l:SanctionsList) RETURN l.id AS value, l.name AS label ORDER BY label, value"
*/
MATCH (f)-[:LISTED_ON]->(l:SanctionsList {id: $list_id})
MATCH (f)-[:OWNS*0..3]->(o)
MATCH (p:Person)-[r:OFFICER_OF]->(o)
WITH DISTINCT p, r, o, f
RETURN p.name AS person, p.id AS person_id, r.role AS role, o.name AS organisation, o.id AS organisation_id,
       f.name AS listed_firm, EXISTS { MATCH (p)-[:LISTED_ON]->(:SanctionsList) } AS person_listed
ORDER BY toLower(person), person_id, toLower(organisation), organisation_id, role, toLower(listed_firm), r.id
