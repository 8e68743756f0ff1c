"""Classifier metrics on the validation snapshot: AUC-ROC, PR-AUC, log loss, lift in the
top decile and a 10-bin calibration table, the same for every model."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

DECILES = 10


def lift_top_decile(y: np.ndarray, p: np.ndarray) -> float:
    """Positive rate among the 10% highest scores / the overall positive rate."""
    base = y.mean()
    if base == 0:
        return 0.0
    top = np.argsort(-p, kind="stable")[: max(1, len(p) // DECILES)]
    return float(y[top].mean() / base)


def calibration(y: np.ndarray, p: np.ndarray, bins: int = DECILES) -> list[dict[str, float]]:
    """Per score decile (lowest first): rows, mean predicted probability, actual rate."""
    order = np.argsort(p, kind="stable")
    out = []
    for i, idx in enumerate(np.array_split(order, bins)):
        if len(idx):
            out.append({"decile": i + 1, "rows": len(idx), "predicted": float(p[idx].mean()),
                        "actual": float(y[idx].mean())})  # fmt: skip
    return out


def classification_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """auc, pr_auc, log_loss, lift_top_decile, positive_rate; AUCs are 0.5 / base rate when
    the validation set has one class only (undefined otherwise)."""
    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 1e-7, 1 - 1e-7)
    both = 0 < y.sum() < len(y)
    return {
        "auc": float(roc_auc_score(y, p)) if both else 0.5,
        "pr_auc": float(average_precision_score(y, p)) if both else float(y.mean()),
        "log_loss": float(log_loss(y, p, labels=[0.0, 1.0])),
        "lift_top_decile": lift_top_decile(y, p),
        "positive_rate": float(y.mean()),
        "rows": float(len(y)),
    }
