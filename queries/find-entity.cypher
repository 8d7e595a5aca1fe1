/*
title: Find an entity by name
description: >
  Which companies, funds, state bodies, people, universities or projects have this text in
  their name, aliases or Chinese name? The starting point for every other query: it gives
  the ids they take.
tags: [start, search]
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
MATCH (n)
WHERE labels(n)[0] IN ['Company', 'Fund', 'GovernmentBody', 'Person', 'University', 'Project']
  AND ($label = '' OR labels(n)[0] = $label)
  AND (toLower(n.name) CONTAINS toLower($text)
       OR any(a IN coalesce(n.aliases, []) WHERE toLower(a) CONTAINS toLower($text))
       OR coalesce(n.name_zh, '') CONTAINS $text)
RETURN labels(n)[0] AS kind, n.id AS id, n.name AS name, n.name_zh AS name_zh, n.country AS country,
       n.aliases AS aliases
ORDER BY toLower(name), id
// variant: ladybug
MATCH (n)
WHERE label(n) IN ['Company', 'Fund', 'GovernmentBody', 'Person', 'University', 'Project']
  AND ($label = '' OR label(n) = $label)
  AND (toLower(n.name) CONTAINS toLower($text)
       OR any(a IN coalesce(n.aliases, CAST([], 'STRING[]')) WHERE toLower(a) CONTAINS toLower($text))
       OR coalesce(n.name_zh, '') CONTAINS $text)
RETURN label(n) AS kind, n.id AS id, n.name AS name, n.name_zh AS name_zh, n.country AS country,
       n.aliases AS aliases
ORDER BY toLower(name), id
