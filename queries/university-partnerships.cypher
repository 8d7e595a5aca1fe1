/*
title: Partnerships of a university
description: >
  With whom does this university cooperate: direct partnerships (joint labs, close links with
  the military, ...) and the other parties to the projects it takes part in?
tags: [projects, universities]
order: 60
params:
  university:
    type: string
    default: university:wuhan-university
    help: Id of the university or institute.
    choices_query: "MATCH (u:University) RETURN u.id AS value, u.name AS label ORDER BY label, value"
*/
MATCH (u:University {id: $university})-[r:PARTNERS_WITH|PARTY_TO]-(x)
OPTIONAL MATCH (x)<-[o:PARTY_TO]-(other)
WHERE x:Project AND other <> u
WITH u, r, x, o, other
RETURN coalesce(other.name, x.name) AS partner, coalesce(other.id, x.id) AS partner_id,
       labels(coalesce(other, x))[0] AS partner_kind,
       CASE WHEN other IS NULL THEN 'partnership' ELSE 'project' END AS through,
       CASE WHEN other IS NULL THEN r.kind ELSE x.name END AS detail,
       r.role AS university_role, o.role AS partner_role
ORDER BY toLower(partner), partner_id, through, detail, r.id
// variant: ladybug
// Ladybug compares and null-tests whole nodes by reading every property of every node table
// (2 s at 1M companies): so ids (unique, required) stand in for the nodes: `other.id <> u.id`,
// `oid IS NULL`. Same rows.
MATCH (u:University {id: $university})-[r:PARTNERS_WITH|PARTY_TO]-(x)
OPTIONAL MATCH (x)<-[o:PARTY_TO]-(other)
WHERE label(x) = 'Project' AND other.id <> u.id
WITH r, x, o, other.name AS oname, other.id AS oid, label(other) AS olabel
RETURN coalesce(oname, x.name) AS partner, coalesce(oid, x.id) AS partner_id,
       CASE WHEN oid IS NULL THEN label(x) ELSE olabel END AS partner_kind,
       CASE WHEN oid IS NULL THEN 'partnership' ELSE 'project' END AS through,
       CASE WHEN oid IS NULL THEN r.kind ELSE x.name END AS detail,
       r.role AS university_role, o.role AS partner_role
ORDER BY toLower(partner), partner_id, through, detail, r.id
