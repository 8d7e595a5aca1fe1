/*
title: State ownership of a company
description: >
  Which state bodies and state-owned enterprises own this company, directly or down a chain,
  and how? A state-owned enterprise is a company of kind `state_enterprise`.
tags: [ownership, state]
order: 20
anchors:
  company: [Company, Fund]
params:
  company:
    type: string
    default: company:hikvision
    help: Id of the company.
    choices_query: "MATCH (c:Company) RETURN c.id AS value, c.name AS label ORDER BY label, value"
*/
MATCH p = (o)-[:OWNS*1..8]->(c:label($company) {id: $company})
WHERE o:GovernmentBody OR (o:Company AND o.kind = 'state_enterprise')
RETURN o.name AS state_owner, o.id AS owner_id, labels(o)[0] AS owner_kind,
       coalesce(o.level, '') AS level, o.kind AS kind, length(p) AS hops,
       reduce(s = '', n IN nodes(p) | s + CASE WHEN s = '' THEN '' ELSE ' > ' END + n.name) AS chain,
       [r IN relationships(p) | r.share] AS stakes
ORDER BY hops, toLower(state_owner), owner_id, chain
// variant: ladybug
// Anchored on the labelled company: the chains are walked up from it.
MATCH p = (o)-[:OWNS*1..8]->(c:label($company) {id: $company})
WHERE label(o) = 'GovernmentBody' OR (label(o) = 'Company' AND o.kind = 'state_enterprise')
RETURN o.name AS state_owner, o.id AS owner_id, label(o) AS owner_kind,
       coalesce(o.level, '') AS level, o.kind AS kind, length(p) AS hops,
       list_to_string(' > ', list_transform(nodes(p), n -> n.name)) AS chain,
       list_transform(rels(p), r -> r.share) AS stakes
ORDER BY hops, toLower(state_owner), owner_id, chain
