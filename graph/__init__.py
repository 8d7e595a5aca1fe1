"""The techgiants graph: schema, stores, analytics."""
