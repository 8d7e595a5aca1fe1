/*
title: Captured by the 50% rule
description: >
  Which entities are restricted not because they are named on a list but because listed
  parties own 50% or more of them (OFAC 50 Percent Rule, BIS Affiliates Rule), by how much,
  how certain that is, and through which owners? Results of the ownership analysis (derived
  CAPTURED_BY relationships).
tags: [ownership, lists, fifty-percent-rule]
order: 50
params:
  list_id:
    type: string
    default: ""
    help: Only captures under this list; empty for all.
    choices_query: "MATCH (l:SanctionsList) RETURN l.id AS value, l.name AS label ORDER BY label, value"
  certainty:
    type: string
    default: ""
    help: "`definite` (minimum stakes reach the threshold), `possible`, or empty for both."
    choices: ["", definite, possible]
*/
MATCH (e)-[k:CAPTURED_BY]->(l:SanctionsList)
WHERE ($list_id = '' OR l.id = $list_id) AND ($certainty = '' OR k.certainty = $certainty)
RETURN e.name AS name, e.id AS id, e.country AS country, l.name AS list, k.rule AS rule,
       k.aggregate AS aggregate, k.certainty AS certainty, k.via AS via, k.as_of AS as_of,
       k.rule_in_force AS rule_in_force
ORDER BY list, aggregate DESC, toLower(name), id, k.id
