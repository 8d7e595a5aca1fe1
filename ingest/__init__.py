"""Ingesters (one module per source format) and the shared pipeline."""
