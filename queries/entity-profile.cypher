/*
title: Everything about one entity
description: >
  What does the graph know about this entity? One row per relationship, in both directions:
  owners and holdings, lists, projects, clients and suppliers, partners, officers, with the
  details of each fact and how many sources state it.
tags: [start, profile]
order: 30
anchors:
  entity: [Company, Fund, GovernmentBody, Person, University, Project, Index, Country, SanctionsList, Source]
params:
  entity:
    type: string
    default: company:hikvision
    help: Id of the entity (find it with find-entity or search-identifier).
    choices_query: "MATCH (n) WHERE n.id STARTS WITH 'company:' OR n.id STARTS WITH 'gov:' OR n.id STARTS WITH 'fund:' OR n.id STARTS WITH 'person:' OR n.id STARTS WITH 'university:' OR n.id STARTS WITH 'project:' RETURN n.id AS value, n.name AS label ORDER BY label, value"
*/
MATCH (n:label($entity) {id: $entity})-[r]-(m)
WITH n, r, m, EXISTS { MATCH (n)-[r2]->(m) WHERE r2.id = r.id } AS outgoing
RETURN labels(n)[0] AS kind, n.name AS name,
       CASE WHEN outgoing THEN '->' ELSE '<-' END AS direction, type(r) AS relationship,
       labels(m)[0] AS other_kind, m.id AS other_id, m.name AS other,
       coalesce(r.role, r.kind, r.product, r.reason, r.rule, r.round) AS detail,
       coalesce(r.share, r.weight, r.aggregate, r.amount_usd) AS amount,
       coalesce(r.since, r.start, r.as_of, r.date) AS since, r.`end` AS until,
       size(r.sources) AS sources
ORDER BY relationship, direction, other_kind, toLower(other), other_id, r.id
// variant: ladybug
// Anchored on the label that holds the id (an index lookup, not a scan of every node table).
MATCH (n:label($entity) {id: $entity})-[r]-(m)
WITH n, r, m, EXISTS { MATCH (n)-[r2]->(m) WHERE r2.id = r.id } AS outgoing
RETURN label(n) AS kind, n.name AS name,
       CASE WHEN outgoing THEN '->' ELSE '<-' END AS direction, label(r) AS relationship,
       label(m) AS other_kind, m.id AS other_id, m.name AS other,
       coalesce(r.role, r.kind, r.product, r.reason, r.rule, r.round) AS detail,
       coalesce(r.share, r.weight, r.aggregate, r.amount_usd) AS amount,
       coalesce(r.since, r.start, r.as_of, r.date) AS since, r.`end` AS until,
       size(r.sources) AS sources
ORDER BY relationship, direction, other_kind, toLower(other), other_id, r.id
