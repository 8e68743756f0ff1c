"""Deterministic, realistic raw-data lake generator (pure Python, no Spark).

`generate_lake` writes a landing zone following `insight.landing` (customers and products
as CSV, events and reviews as JSON lines, with injected bad records) plus a hidden
`truth/` folder (archetypes, future behaviour, every injected bad record) for evaluation.

A development tool behind `insight generate`, with its own distribution (pyproject.toml
here, installed by `make setup`): the production wheel does not contain it.
"""

from .lake import DEFAULT_END_DATE, GENERATOR_VERSION, GenerationSummary, generate_lake
from .languages import parse_languages

__all__ = [
    "DEFAULT_END_DATE",
    "GENERATOR_VERSION",
    "GenerationSummary",
    "generate_lake",
    "parse_languages",
]
