/*
title: Search by identifier
description: >
  Which entity carries this identifier (ISIN, LEI, ticker, CUSIP, OFAC or CSL number, Wikidata
  id, ...) or this graph id? Give it as `scheme:value`, e.g. `isin:CNE100000PM8`.
tags: [start, search, identifiers]
order: 20
params:
  identifier:
    type: string
    default: "isin:CNE100000PM8"
    help: "An identifier as scheme:value (isin:..., lei:..., ticker:..., ofac:...) or a graph id."
*/
WITH $identifier AS wanted
MATCH (n)
WHERE n.id = wanted
   OR any(i IN coalesce(n.identifiers, []) WHERE toLower(i) = toLower(wanted))
RETURN labels(n)[0] AS kind, n.id AS id, n.name AS name, n.country AS country, n.identifiers AS identifiers
ORDER BY id
// variant: ladybug
// Every node's identifiers are read (a case-insensitive match on a list element has no index):
// lower-case the wanted value once, not per element. A null list fails `any` as [] would.
WITH $identifier AS wanted, lower($identifier) AS w
MATCH (n)
WHERE n.id = wanted OR any(i IN n.identifiers WHERE lower(i) = w)
RETURN label(n) AS kind, n.id AS id, n.name AS name, n.country AS country, n.identifiers AS identifiers
ORDER BY id
