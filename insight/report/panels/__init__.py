"""The report's panels, in page order: (key, title, builder). Each builder reads what it
needs through the Context and returns a Panel, or a "no data yet" panel naming the job to
run. A new panel is a function in one of these modules and a line here."""

from __future__ import annotations

from collections.abc import Callable

from insight.report.context import Context
from insight.report.page import Panel
from insight.report.panels import customers, quality, reviews, scoring

PANELS: tuple[tuple[str, str, Callable[[Context], Panel]], ...] = (
    ("segments", "Segments: size and value", customers.segments),
    ("rfm", "RFM grid", customers.rfm),
    ("clv", "Customer lifetime value", customers.clv),
    ("sentiment", "Review sentiment per brand", reviews.sentiment),
    ("keyphrases", "What customers praise and complain about", reviews.keyphrases),
    ("propensity", "Purchase and churn propensity", scoring.propensity),
    ("recommendations", "Recommendation coverage", scoring.recommendations),
    ("models", "Model metrics over versions", scoring.model_versions),
    ("quality", "Data quality per run", quality.quality),
)
