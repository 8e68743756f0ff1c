"""Clean: bronze -> silver. Parse, type, normalise, pseudonymise, validate (GX suites),
quarantine what fails, and MERGE the rest so the latest version of each record wins."""
