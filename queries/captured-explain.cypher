/*
title: Why is an entity captured by the 50% rule
description: >
  Which restricted owners were counted when the 50% rule captured this entity, what stake
  does each hold, and is each owner listed itself or captured in turn (a cascade)?
tags: [ownership, fifty-percent-rule]
order: 60
anchors:
  entity: [Company, Fund, GovernmentBody, University, Person]
params:
  entity:
    type: string
    default: company:hikvision
    help: Id of the captured entity.
    choices_query: "MATCH (e)-[:CAPTURED_BY]->() RETURN DISTINCT e.id AS value, e.name AS label ORDER BY label, value"
*/
MATCH (e:label($entity) {id: $entity})-[k:CAPTURED_BY]->(l:SanctionsList)
UNWIND k.via AS owner_id
MATCH (o {id: owner_id})-[r:OWNS]->(e)
RETURN l.name AS list, k.rule AS rule, k.aggregate AS aggregate, k.certainty AS certainty,
       o.name AS owner, o.id AS owner_id,
       r.share AS share, r.share_min AS share_min, r.share_max AS share_max,
       CASE WHEN EXISTS { MATCH (o)-[:LISTED_ON]->(l) } THEN 'listed'
            WHEN EXISTS { MATCH (o)-[:CAPTURED_BY]->(l) } THEN 'captured'
            ELSE 'other' END AS owner_status
ORDER BY list, rule, share DESC, owner_id, r.id
// variant: ladybug
// Anchored on the labelled entity; the owners are found from it (OPTIONAL MATCH makes Ladybug
// expand e's few OWNS in-links instead of joining with every owner), not by an id lookup
// over every node table. Owner status by counts: Ladybug plans EXISTS { } here as a join
// with every LISTED_ON and CAPTURED_BY relationship (0.7 s at 1M companies).
MATCH (e:label($entity) {id: $entity})-[k:CAPTURED_BY]->(l:SanctionsList)
UNWIND k.via AS owner_id
OPTIONAL MATCH (e)<-[r:OWNS]-(o)
WITH k, l, owner_id, r, o
WHERE o.id = owner_id
OPTIONAL MATCH (o)-[li:LISTED_ON]->(l)
OPTIONAL MATCH (o)-[ca:CAPTURED_BY]->(l)
WITH k, l, owner_id, r, o, count(li) AS listed, count(ca) AS captured
RETURN l.name AS list, k.rule AS rule, k.aggregate AS aggregate, k.certainty AS certainty,
       o.name AS owner, o.id AS owner_id,
       r.share AS share, r.share_min AS share_min, r.share_max AS share_max,
       CASE WHEN listed > 0 THEN 'listed' WHEN captured > 0 THEN 'captured' ELSE 'other' END AS owner_status
ORDER BY list, rule, share DESC, owner_id, r.id
