/*
title: Ultimate owners of a company
description: >
  Who sits at the top of the ownership chains above this company: owners that nobody in the
  graph owns in turn? Each chain is shown with its length and the direct stake at each step
  (where known).
tags: [ownership]
order: 10
anchors:
  company: [Company, Fund]
params:
  company:
    type: string
    default: company:hikvision
    help: Id of the company (or fund).
    choices_query: "MATCH (c:Company) RETURN c.id AS value, c.name AS label ORDER BY label, value"
*/
MATCH p = (o)-[:OWNS*1..8]->(c:label($company) {id: $company})
WHERE NOT EXISTS { MATCH ()-[:OWNS]->(o) }
RETURN o.name AS owner, o.id AS owner_id, labels(o)[0] AS owner_kind, o.country AS owner_country,
       length(p) AS hops,
       reduce(s = '', n IN nodes(p) | s + CASE WHEN s = '' THEN '' ELSE ' > ' END + n.name) AS chain,
       [r IN relationships(p) | r.share] AS stakes
ORDER BY hops, toLower(owner), owner_id, chain
// variant: ladybug
// Anchored on the labelled company; "nobody owns o" as a count of o's owners, because
// Ladybug plans NOT EXISTS { ()-[:OWNS]->(o) } as a join with every OWNS relationship.
// The rel ids keep two parallel chains (same names and stakes) apart, as the path rows do.
MATCH p = (o)-[:OWNS*1..8]->(c:label($company) {id: $company})
WITH o, length(p) AS hops,
     list_to_string(' > ', list_transform(nodes(p), n -> n.name)) AS chain,
     list_transform(rels(p), r -> r.share) AS stakes, list_transform(rels(p), r -> r.id) AS rel_ids
OPTIONAL MATCH ()-[up:OWNS]->(o)
WITH o, hops, chain, stakes, rel_ids, count(up) AS owners
WHERE owners = 0
RETURN o.name AS owner, o.id AS owner_id, label(o) AS owner_kind, o.country AS owner_country,
       hops, chain, stakes
ORDER BY hops, toLower(owner), owner_id, chain
