"""Model lifecycle shared by every model: MLflow tracking, registry and promotion."""
