"""Ranking metrics from counts per rank level: the one ROC AUC every page, table and check uses."""

from __future__ import annotations

import math

import numpy as np


def roc_auc(leads: np.ndarray, converted: np.ndarray) -> float:
    """ROC AUC of a ranking given as lead and converted counts per rank level, lowest level first.

    AUC = P(a converted lead ranks above an unconverted one), leads on the same level counted
    as half (the Mann-Whitney statistic over tied groups). NaN when either class is empty.
    """
    conv = np.asarray(converted, dtype=np.float64)
    neg = np.asarray(leads, dtype=np.float64) - conv
    p, n = conv.sum(), neg.sum()
    if p == 0 or n == 0:
        return math.nan
    pos_above = p - np.cumsum(conv)
    return float(np.dot(neg, pos_above + 0.5 * conv) / (p * n))
