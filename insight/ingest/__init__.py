"""Ingest: landing files -> bronze Delta tables, append-only, raw lines kept as received."""
