/*
title: Find an entity by name
description: >
  Which companies, funds, state bodies, people, universities or projects have this text in
  their name, aliases or Chinese name? The starting point for every other query: it gives
  the ids they take.
tags: [start, search]
order: 10
analytical: >
  CONTAINS over every entity's name, aliases and Chinese name reads every node: a substring
  test has no index. Use the app's search box (store.search: prefiltered, ranked name search,
  under 150 ms at 1M names) to find an entity, then its id in the other queries.
params:
  text:
    type: string
    default: hik
    help: Part of a name, alias or Chinese name (case does not matter).
  label:
    type: string
    default: ""
    help: Only this kind of entity; empty for all.
    choices: ["", Company, Fund, GovernmentBody, Person, University, Project]
*/
WITH toLower($text) AS t, $label AS wanted_label
MATCH (n)
WHERE labels(n)[0] IN ['Company', 'Fund', 'GovernmentBody', 'Person', 'University', 'Project']
  AND (wanted_label = '' OR labels(n)[0] = wanted_label)
  AND (toLower(n.name) CONTAINS t
       OR any(a IN coalesce(n.aliases, []) WHERE toLower(a) CONTAINS t)
       OR toLower(coalesce(n.name_zh, '')) CONTAINS t)
RETURN labels(n)[0] AS kind, n.id AS id, n.name AS name, n.name_zh AS name_zh, n.country AS country,
       n.aliases AS aliases
ORDER BY toLower(name), id
// variant: ladybug
WITH toLower($text) AS t, $label AS wanted_label
MATCH (n)
WHERE label(n) IN ['Company', 'Fund', 'GovernmentBody', 'Person', 'University', 'Project']
  AND (wanted_label = '' OR label(n) = wanted_label)
  AND (toLower(n.name) CONTAINS t
       OR any(a IN coalesce(n.aliases, []) WHERE toLower(a) CONTAINS t)
       OR toLower(coalesce(n.name_zh, '')) CONTAINS t)
RETURN label(n) AS kind, n.id AS id, n.name AS name, n.name_zh AS name_zh, n.country AS country,
       n.aliases AS aliases
ORDER BY toLower(name), id
