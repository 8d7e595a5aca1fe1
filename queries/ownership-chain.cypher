/*
title: Ownership chain between two entities
description: >
  Does the first entity own the second, directly or through intermediate companies, and
  along which chains? Swap the two ids to look the other way. Stakes are shown where known.
tags: [ownership, paths]
order: 70
anchors:
  owner: [Company, Fund, GovernmentBody, University, Person]
  owned: [Company, Fund]
params:
  owner:
    type: string
    default: company:fidelity-investments
    help: Id of the (possible) owner at the top of the chain.
  owned:
    type: string
    default: company:sensetime
    help: Id of the (possibly) owned company at the bottom.
*/
MATCH p = (a:label($owner) {id: $owner})-[:OWNS*1..8]->(b:label($owned) {id: $owned})
RETURN length(p) AS hops,
       reduce(s = '', n IN nodes(p) | s + CASE WHEN s = '' THEN '' ELSE ' > ' END + n.name) AS chain,
       [r IN relationships(p) | r.share] AS stakes,
       reduce(s = '', n IN nodes(p) | s + CASE WHEN s = '' THEN '' ELSE ' > ' END + n.id) AS chain_ids,
       p AS path
ORDER BY hops, chain_ids
// variant: ladybug
// Both ends anchored on their labels (index lookups, not a scan of every node table).
MATCH p = (a:label($owner) {id: $owner})-[:OWNS*1..8]->(b:label($owned) {id: $owned})
RETURN length(p) AS hops,
       list_to_string(' > ', list_transform(nodes(p), n -> n.name)) AS chain,
       list_transform(rels(p), r -> r.share) AS stakes,
       list_to_string(' > ', list_transform(nodes(p), n -> n.id)) AS chain_ids,
       p AS path
ORDER BY hops, chain_ids
