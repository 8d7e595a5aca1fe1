"""The schema is declared once; the docs page and both stores' DDL come from it."""
from graph.schema import SCHEMA, schema_markdown, validate_node, validate_rel, SchemaError
from graph.stores.ladybug import schema_ddl as lb_ddl
from graph.stores.neo4j import schema_ddl as neo_ddl
from pathlib import Path
import pytest


def test_docs_page_is_generated_and_current():
    page = Path(__file__).parent.parent / "docs" / "schema.md"
    assert page.read_text(encoding="utf-8") == schema_markdown(), "run `techgiants schema-doc`"


def test_docs_list_every_label_relationship_and_property():
    md = schema_markdown()
    for label, nt in SCHEMA.nodes.items():
        assert f"### {label}" in md
        for p in nt.props.values():
            assert f"| `{p.name}` | {p.type} |" in md
    for rtype, rt in SCHEMA.rels.items():
        assert f"### {rtype}" in md
        for p in rt.props.values():
            assert f"| `{p.name}` | {p.type} |" in md


def test_ddl_covers_every_label_and_type():
    lb = "\n".join(lb_ddl())
    neo = "\n".join(neo_ddl())
    for label in SCHEMA.labels:
        assert f"`{label}`(" in lb and f"(n:`{label}`)" in neo
    for rtype in SCHEMA.rel_types:
        assert f"REL TABLE IF NOT EXISTS `{rtype}`(" in lb and f"[r:`{rtype}`]" in neo


@pytest.mark.parametrize("label,props,field", [
    ("Company", {"id": "c", "name": "C", "sources": ["s"], "country": "XX"}, "country"),
    ("Company", {"id": "c", "name": "C", "sources": ["s"], "founded": "10/9/19"}, "founded"),
    ("Company", {"id": "c", "name": "C", "sources": ["s"], "kind": "bakery"}, "kind"),
    ("Company", {"id": "c", "name": "C"}, "sources"),
    ("Company", {"id": "c", "name": "C", "sources": ["s"], "colour": "red"}, "colour"),
    ("Project", {"id": "p", "name": "P", "sources": ["s"]}, "kind"),
])
def test_validation_names_the_field(label, props, field):
    with pytest.raises(SchemaError) as e:
        validate_node(label, props)
    assert e.value.field == field


def test_relationship_validation():
    ok = validate_rel("OWNS", "Person", "Company", {"id": "r", "sources": ["s"], "share": 0.25})
    assert ok["share"] == 0.25
    for props, field in [({"id": "r", "sources": ["s"], "share": 1.4}, "share"),
                         ({"id": "r", "sources": ["s"], "share_min": 0.6, "share_max": 0.5}, "share_min"),
                         ({"id": "r", "sources": ["s"], "start": "2020-01-02", "end": "2020-01-01"}, "end")]:
        with pytest.raises(SchemaError) as e:
            validate_rel("OWNS", "Company", "Company", props)
        assert e.value.field == field
    with pytest.raises(SchemaError) as e:
        validate_rel("OWNS", "Company", "Country", {"id": "r", "sources": ["s"]})
    assert e.value.field == "dst_label"
