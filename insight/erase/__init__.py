"""Right to be forgotten: remove a customer from every table, suppress re-ingestion."""
