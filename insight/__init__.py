"""Customer Insight Lakehouse: Spark jobs that turn raw customer lakes into insight tables."""

__version__ = "0.1.0"
