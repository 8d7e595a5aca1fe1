/*
title: Officers of an organisation
description: >
  Who are the founders, executives, officials and other office-holders of this company, fund,
  state body or university, and since when?
tags: [people]
order: 10
anchors:
  organisation: [Company, Fund, GovernmentBody, University]
params:
  organisation:
    type: string
    default: company:sensetime
    help: Id of the organisation.
    choices_query: "MATCH ()-[:OFFICER_OF]->(o) RETURN DISTINCT o.id AS value, o.name AS label ORDER BY label, value"
*/
MATCH (p:Person)-[r:OFFICER_OF]->(o:label($organisation) {id: $organisation})
RETURN p.name AS person, p.id AS person_id, r.role AS role, p.nationality AS nationality,
       r.start AS start, r.`end` AS until, size(r.sources) AS sources
ORDER BY toLower(person), person_id, role, r.id
