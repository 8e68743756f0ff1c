"""Customer features as of a date: RFM, behaviour, activity windows and review sentiment."""
