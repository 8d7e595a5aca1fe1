/*
title: How are two entities connected
description: >
  What are the shortest links between two entities through ownership, investment, management,
  projects, supply, partnership and office-holding (up to 6 steps, any direction)? Country,
  list and index membership are left out: they connect everything to everything.
tags: [ownership, paths, projects]
order: 80
anchors:
  from: [Company, Fund, GovernmentBody, University, Person, Project, Index]
  to: [Company, Fund, GovernmentBody, University, Person, Project, Index]
params:
  from:
    type: string
    default: company:hikvision
    help: Id of the first entity.
  to:
    type: string
    default: company:dahua
    help: Id of the second entity.
*/
MATCH p = allShortestPaths((a:label($from) {id: $from})-[:OWNS|HOLDS|INVESTED_IN|MANAGES|TRACKS|PART_OF|PARTY_TO|SUPPLIES|PARTNERS_WITH|OFFICER_OF*1..6]-(b:label($to) {id: $to}))
RETURN length(p) AS hops,
       reduce(s = '', n IN nodes(p) | s + CASE WHEN s = '' THEN '' ELSE ' — ' END + n.name) AS chain,
       [r IN relationships(p) | type(r)] AS links,
       reduce(s = '', n IN nodes(p) | s + CASE WHEN s = '' THEN '' ELSE ' > ' END + n.id) AS chain_ids,
       p AS path
ORDER BY hops, chain_ids
// variant: ladybug
// Both ends anchored on their labels (index lookups, not a scan of every node table).
MATCH p = (a:label($from) {id: $from})-[:OWNS|HOLDS|INVESTED_IN|MANAGES|TRACKS|PART_OF|PARTY_TO|SUPPLIES|PARTNERS_WITH|OFFICER_OF* ALL SHORTEST 1..6]-(b:label($to) {id: $to})
RETURN length(p) AS hops,
       list_to_string(' — ', list_transform(nodes(p), n -> n.name)) AS chain,
       list_transform(rels(p), r -> label(r)) AS links,
       list_to_string(' > ', list_transform(nodes(p), n -> n.id)) AS chain_ids,
       p AS path
ORDER BY hops, chain_ids
