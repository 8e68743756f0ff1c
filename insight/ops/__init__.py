"""Operations tables: the run ledger (every job run and batch) and data-quality results."""
