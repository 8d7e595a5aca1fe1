/*
title: Restriction lists at a glance
description: >
  Which US restriction lists does the graph hold, and how many companies, people and other
  entities are on each, how many more are captured by the 50% rule, and when was the latest
  designation?
tags: [lists, overview]
order: 10
*/
MATCH (l:SanctionsList)
OPTIONAL MATCH (e)-[:LISTED_ON]->(l)
WITH l, count(DISTINCT e) AS listed
OPTIONAL MATCH (c:Company)-[:LISTED_ON]->(l)
WITH l, listed, count(DISTINCT c) AS companies
OPTIONAL MATCH (p:Person)-[:LISTED_ON]->(l)
WITH l, listed, companies, count(DISTINCT p) AS people
OPTIONAL MATCH (x)-[:CAPTURED_BY]->(l)
WITH l, listed, companies, people, count(DISTINCT x) AS captured
OPTIONAL MATCH ()-[d:LISTED_ON]->(l)
RETURN l.id AS list_id, l.name AS list, l.authority AS authority, listed, companies, people,
       listed - companies - people AS others, captured, max(d.since) AS latest_designation
ORDER BY listed DESC, list_id
