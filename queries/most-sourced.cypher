/*
title: Entities with the most sources
description: >
  Which entities are best documented, by the number of sources (report sections, footnotes,
  list snapshots, filings) behind them? The well-documented ones are the safest to publish on.
tags: [evidence, sources]
order: 10
analytical: >
  Ranks every entity by its number of sources: a top-N over all nodes, which no index serves
  (the count is the size of a list). Give `label` to rank one table only; use `sources-for` for
  one entity's sources.
params:
  label:
    type: string
    default: ""
    help: Only this kind of entity; empty for all.
    choices: ["", Company, Fund, GovernmentBody, Person, University, Project]
  top:
    type: int
    default: 20
    help: How many entities to show.
*/
WITH $label AS wanted_label
MATCH (n)
WHERE labels(n)[0] IN ['Company', 'Fund', 'GovernmentBody', 'Person', 'University', 'Project']
  AND (wanted_label = '' OR labels(n)[0] = wanted_label)
RETURN labels(n)[0] AS kind, n.id AS id, n.name AS name, size(n.sources) AS sources
ORDER BY sources DESC, id
LIMIT $top
// variant: ladybug
WITH $label AS wanted_label
MATCH (n)
WHERE label(n) IN ['Company', 'Fund', 'GovernmentBody', 'Person', 'University', 'Project']
  AND (wanted_label = '' OR label(n) = wanted_label)
RETURN label(n) AS kind, n.id AS id, n.name AS name, size(n.sources) AS sources
ORDER BY sources DESC, id
LIMIT $top
