/*
title: Sources behind an entity
description: >
  Which reports, list snapshots and filings support what the graph says about this entity,
  and how many of its relationships each one states? Read these before you quote a fact.
tags: [evidence, start, sources]
order: 40
anchors:
  entity: [Company, Fund, GovernmentBody, Person, University, Project, Index, Country, SanctionsList, Source]
params:
  entity:
    type: string
    default: company:hikvision
    help: Id of the entity.
*/
MATCH (n:label($entity) {id: $entity})
MATCH (s:Source)
WHERE s.id IN n.sources OR EXISTS { MATCH (n)-[r]-() WHERE s.id IN r.sources }
OPTIONAL MATCH (n)-[r2]-() WHERE s.id IN r2.sources
OPTIONAL MATCH (p:Source {id: s.parent})
RETURN s.id AS source_id, coalesce(s.title, s.name) AS source, coalesce(s.publisher, p.publisher) AS publisher,
       coalesce(s.date, p.date) AS date, s.locator AS locator, coalesce(s.url, p.url) AS url,
       s.id IN n.sources AS about_entity, count(r2) AS facts
ORDER BY facts DESC, source_id
