"""Suggested points: a regularised logistic regression on attribute levels, scaled to integer points people can defend.

How the points are made (each step is a parameter of ``suggest_points``):

1. Attributes: the ``max_attributes`` strongest by information value (IV), leaving out weak
   ones (IV < 0.02) and ones flagged leaky (unless ``include_leaky``); locked attributes
   always stay. Numeric attributes use the bins of ``attribute_statistics``.
2. Fit: logistic regression on every level one-hot (missing and other are levels too), with
   an L2 penalty ``l2`` on the level coefficients (the intercept is free), by L-BFGS-B with
   an analytic gradient on a sparse design; identical rows are counted once with weights.
3. Shrink: each coefficient is also multiplied by n / (n + ``shrink_leads``) (n = leads at
   the level), so a level seen on a handful of leads gets few points.
4. Scale: ``points_to_double`` N gives points = coefficient * N / ln 2 (N points double the
   odds); otherwise the coefficients are scaled so the best possible lead scores about
   ``max_score``. Before scaling each attribute is shifted so its lowest level gets 0 points
   (``baseline="lowest"``: scores stay positive, which is what sales teams read easily) or so
   its most common level gets 0 (``baseline="most_common"``: clearly negative levels keep
   negative points). Rounding to integers is monotone, so no level ever overtakes another.
5. Locks: locked attributes keep their current points; locked levels keep theirs and the
   other levels of that attribute are fit around them (no shift there). Locked points enter
   the regression as a fixed offset of points / scale log-odds.
6. Threshold: the suggested model's ``mql_threshold`` is the max-F1 threshold on the leads
   it was fit on (``thresholds.best_f1``); other threshold rules are shown beside it.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import minimize
from scipy.special import expit

from lead_model.attribute_stats import WEAK_IV, AttributeStats, attribute_statistics, level_codes
from lead_model.backtest import BacktestResult, backtest
from lead_model.errors import LeadModelError
from lead_model.holdout import HoldoutSplit, Validation, split_leads, subset, validate
from lead_model.leads import LeadSet
from lead_model.model import Attribute, Bin, Level, Metadata, PointsOnly, ScoringModel
from lead_model.scoring import attribute_codes, bin_label, points_vector
from lead_model import thresholds as th

LN2 = math.log(2.0)
TABLE_COLUMNS = ["attribute", "group", "level", "current_points", "suggested_points", "leads", "conversion_rate", "coefficient", "why"]


@dataclass(frozen=True, eq=False)
class PointsSuggestion:
    """A suggested model, the table that justifies it (one row per level) and the statistics it used."""

    model: ScoringModel
    table: pd.DataFrame
    stats: AttributeStats
    chosen: tuple[str, ...]
    left_out: pd.DataFrame  # attribute, why
    points_per_doubling: float  # points that double the odds under the chosen scale


@dataclass(frozen=True)
class _Block:
    """One attribute in the design: lead codes, a label per code, and fixed log-odds per code (NaN = free)."""

    name: str
    kind: str
    group: str
    codes: np.ndarray
    labels: list[str]
    edges: tuple[float, ...] | None
    fixed: np.ndarray  # float per code, NaN where the coefficient is fit


def suggest_points(
    leads: LeadSet,
    current: ScoringModel | None = None,
    *,
    stats: AttributeStats | None = None,
    max_attributes: int = 10,
    points_to_double: float | None = None,
    max_score: float = 100.0,
    baseline: str = "lowest",
    l2: float = 1.0,
    shrink_leads: float = 30.0,
    min_iv: float = WEAK_IV,
    include_leaky: bool = False,
    locked_attributes: tuple[str, ...] | list[str] = (),
    locked_levels: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
    name: str | None = None,
) -> PointsSuggestion:
    """Suggest integer points for ``leads`` (fit on all of them: pass the training part to validate honestly).

    ``current`` is the model in use (its points fill the current column and the locks).
    ``locked_levels`` are (attribute, level label) pairs with labels as in the table:
    values, 'true'/'false', '(missing)', '(other)', or bin labels like '10 to < 50'.
    Returns the model (points, bins, max-F1 threshold) and a per-level table.
    """
    if max_attributes < 1:
        raise LeadModelError(f"max attributes must be at least 1, not {max_attributes}.")
    if points_to_double is not None and points_to_double <= 0:
        raise LeadModelError(f"points to double the odds must be positive, not {points_to_double}; use e.g. 20.")
    if points_to_double is None and max_score <= 0:
        raise LeadModelError(f"the maximum score must be positive, not {max_score}; use e.g. 100.")
    if baseline not in ("lowest", "most_common"):
        raise LeadModelError(f"baseline '{baseline}' is not 'lowest' or 'most_common'.")
    locked_attributes = tuple(locked_attributes)
    locked_levels = tuple((a, str(v)) for a, v in locked_levels)
    cur = {a.name: a for a in current.attributes} if current is not None else {}
    for a in set(locked_attributes) | {a for a, _ in locked_levels}:
        if a not in cur:
            raise LeadModelError(f"'{a}' is locked but the current model has no attribute '{a}'; add it to the model or unlock it.")
    # Numeric attributes with locked bins keep the current bins so the locked bins line up.
    edges = {a: cur[a].edges for a, _ in locked_levels if cur[a].kind == "numeric"}
    if stats is None:
        stats = attribute_statistics(leads, edges=edges)
    chosen, left_out = _choose(stats, max_attributes, min_iv, include_leaky, locked_attributes + tuple(a for a, _ in locked_levels))
    free_names = [a for a in chosen if a not in locked_attributes]
    whole_locked = [cur[a] for a in chosen if a in locked_attributes]

    def blocks_at(scale: float | None) -> list[_Block]:
        out = []
        for a in free_names:
            enc = leads.attribute(a)
            e = edges.get(a, stats.edges.get(a)) if enc.kind == "numeric" else None
            codes, labels, _ = level_codes(leads, a, e)
            fixed = np.full(len(labels), np.nan)
            if scale is not None:
                pts = _current_points(leads, cur.get(a), labels, e)
                for lv_attr, lv in locked_levels:
                    if lv_attr == a:
                        if lv not in labels:
                            raise LeadModelError(f"'{a}' has no level '{lv}' to lock; pick one of: {', '.join(labels)}.")
                        fixed[labels.index(lv)] = pts[labels.index(lv)] / scale
            out.append(_Block(a, enc.kind, enc.group, codes, labels, e, fixed))
        return out

    def offset_at(scale: float) -> np.ndarray | None:
        if not whole_locked:
            return None
        off = np.zeros(leads.n_leads)
        for attr in whole_locked:
            codes, _ = attribute_codes(leads, attr)
            off += points_vector(leads, attr)[codes] / scale
        return off

    has_locks = bool(whole_locked or locked_levels)
    if points_to_double is not None:
        scale = points_to_double / LN2
        blocks = blocks_at(scale)
        coefs = _fit(leads, blocks, offset_at(scale), l2)
    else:
        # Scale from an unlocked fit, so locked points can be turned into log-odds before the real fit.
        blocks = blocks_at(None)
        coefs = _fit(leads, blocks, None, l2)
        shrunk = [_shrink(c, b.codes, shrink_leads) for c, b in zip(coefs, blocks)]
        free_range = sum(float(np.ptp(c)) for c in shrunk)
        locked_range = sum(int(points_vector(leads, a).max() - points_vector(leads, a).min()) for a in whole_locked)
        if free_range <= 0:
            raise LeadModelError("no attribute separates converted from unconverted leads, so there are no points to suggest; check the outcome column.")
        scale = max(max_score - locked_range, 1.0) / free_range
        if has_locks:
            blocks = blocks_at(scale)
            coefs = _fit(leads, blocks, offset_at(scale), l2)
    rows, attrs = [], []
    for block, coef in zip(blocks, coefs):
        coef = _shrink(coef, block.codes, shrink_leads, block.fixed)
        counts = np.bincount(block.codes, minlength=len(block.labels))[: len(block.labels)]
        conv = np.bincount(block.codes[: leads.n_converted], minlength=len(block.labels))[: len(block.labels)]
        if np.isnan(block.fixed).all():
            shift = coef.min() if baseline == "lowest" else coef[int(np.argmax(counts))]
        else:
            shift = 0.0  # locked levels anchor the attribute
        points = np.rint((coef - shift) * scale).astype(int)
        points[~np.isnan(block.fixed)] = np.rint(block.fixed[~np.isnan(block.fixed)] * scale).astype(int)
        if np.abs(points).max() > 1000:
            raise LeadModelError(f"'{block.name}' would get more than 1000 points; use fewer points to double the odds or a lower maximum score.")
        attrs.append(_attribute(block, points))
        current_pts = _current_points(leads, cur.get(block.name), block.labels, block.edges)
        for code, label in enumerate(block.labels):
            rows.append({
                "attribute": block.name, "group": block.group, "level": label, "current_points": current_pts[code],
                "suggested_points": int(points[code]), "leads": int(counts[code]),
                "conversion_rate": conv[code] / counts[code] if counts[code] else math.nan, "coefficient": float(coef[code]),
                "why": _why(counts[code], conv[code], leads.base_rate, not math.isnan(block.fixed[code]), shrink_leads, points[code], points.min()),
            })
    for attr in whole_locked:
        vec = points_vector(leads, attr)
        codes, _ = attribute_codes(leads, attr)
        counts = np.bincount(codes, minlength=vec.size)
        conv = np.bincount(codes[: leads.n_converted], minlength=vec.size)
        labels = _model_labels(leads, attr)
        attrs.append(attr)
        for code, label in enumerate(labels):
            rows.append({
                "attribute": attr.name, "group": attr.group, "level": label, "current_points": float(vec[code]), "suggested_points": int(vec[code]),
                "leads": int(counts[code]), "conversion_rate": conv[code] / counts[code] if counts[code] else math.nan,
                "coefficient": vec[code] / scale, "why": "locked: kept as it is",
            })
    order = {a: i for i, a in enumerate(chosen)}
    attrs.sort(key=lambda a: order[a.name])
    meta = Metadata(name=name or (current.metadata.name if current is not None else f"{leads.name} suggested model"), outcome=leads.outcome,
                    notes=f"Suggested points: {scale * LN2:.1f} points double the odds; fit on {leads.n_leads:,} leads.")
    base = current.replace(attributes=attrs, metadata=meta) if current is not None else ScoringModel(metadata=meta, attributes=tuple(attrs))
    model = base.replace(mql_threshold=0)
    choice = th.best_f1(backtest(leads, model))
    model = model.replace(mql_threshold=choice.threshold if choice.threshold is not None else 0).stamped()
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    table["_o"] = table["attribute"].map(order)
    table = table.sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)
    return PointsSuggestion(model, table, stats, tuple(chosen), left_out, scale * LN2)


def _choose(stats: AttributeStats, k: int, min_iv: float, include_leaky: bool, locked: tuple[str, ...]) -> tuple[list[str], pd.DataFrame]:
    chosen = list(dict.fromkeys(locked))
    out = []
    for r in stats.attributes.itertuples():
        if r.attribute in chosen:
            continue
        if r.leaky and not include_leaky:
            out.append((r.attribute, "looks leaky (" + r.verdict.split(": ", 1)[-1].split("; is it")[0] + "); opt in to use it"))
        elif r.information_value < min_iv:
            out.append((r.attribute, f"weak (information value {r.information_value:.3f} < {min_iv})"))
        elif len(chosen) >= k:
            out.append((r.attribute, f"not among the {k} strongest attributes"))
        else:
            chosen.append(r.attribute)
    if not chosen:
        raise LeadModelError("no attribute is strong enough to score on; include leaky ones, lower the minimum IV or add data.")
    return chosen, pd.DataFrame(out, columns=["attribute", "why"])


def _fit(leads: LeadSet, blocks: list[_Block], offset: np.ndarray | None, l2: float) -> list[np.ndarray]:
    """L2-regularised logistic regression on one-hot codes; returns one coefficient array per block."""
    sizes = [len(b.labels) for b in blocks]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    p = int(sum(sizes))
    y = leads.converted
    codes = np.column_stack([b.codes.astype(np.int64) for b in blocks])
    # Count identical rows once (same codes, same outcome, same offset) when that shrinks the data.
    weight, positive = np.ones(y.size), y.astype(np.float64)
    radix = float(np.prod([float(s) for s in sizes]))
    if offset is None and radix * 2 < 2**62:
        key = np.zeros(y.size, dtype=np.int64)
        for j, s in enumerate(sizes):
            key *= s
            key += codes[:, j]
        uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        if uniq.size < 0.5 * y.size:
            weight = np.bincount(inverse).astype(np.float64)
            positive = np.bincount(inverse, weights=y.astype(np.float64))
            codes = codes[first]
    m = codes.shape[0]
    cols = (codes + starts).ravel()
    X = sparse.csr_matrix((np.ones(cols.size), cols, np.arange(0, cols.size + 1, len(blocks))), shape=(m, p))
    XT = X.T.tocsr()
    fixed = np.concatenate([b.fixed for b in blocks])
    free = np.isnan(fixed)
    base_w = np.where(free, 0.0, fixed)
    off = offset if offset is not None else 0.0  # with an offset the rows were not aggregated
    total = float(weight.sum())
    rate = positive.sum() / total

    def unpack(theta: np.ndarray) -> np.ndarray:
        w = base_w.copy()
        w[free] = theta[1:]
        return w

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = unpack(theta)
        z = X @ w + theta[0] + off
        # elementwise sums, not BLAS dot products: threaded BLAS on a busy machine costs 10x here
        f = float((weight * np.logaddexp(0.0, z) - positive * z).sum()) + 0.5 * l2 * float(np.square(theta[1:]).sum())
        r = weight * expit(z) - positive
        g = np.empty_like(theta)
        g[0] = r.sum()
        g[1:] = (XT @ r)[free] + l2 * theta[1:]
        return f / total, g / total

    theta0 = np.zeros(1 + int(free.sum()))
    theta0[0] = math.log(rate / (1 - rate))
    with _one_blas_thread():
        res = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 2000, "ftol": 1e-12, "gtol": 1e-7})
    w = unpack(res.x)
    return [w[s : s + n] for s, n in zip(starts, sizes)]


def _one_blas_thread():
    """L-BFGS-B works on vectors of ~100 numbers; BLAS threads only spin on them (10x slower on a busy machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it the fit is just slower
        return contextlib.nullcontext()
    return threadpool_limits(1)


def _shrink(coef: np.ndarray, codes: np.ndarray, shrink_leads: float, fixed: np.ndarray | None = None) -> np.ndarray:
    """Pull sparse levels toward their attribute's average; levels no lead has get exactly the average."""
    counts = np.bincount(codes, minlength=coef.size)[: coef.size].astype(np.float64)
    mean = float(counts @ coef / counts.sum()) if counts.sum() else 0.0
    keep = np.divide(counts, counts + shrink_leads, out=np.zeros_like(counts), where=counts > 0)
    out = mean + (coef - mean) * keep
    if fixed is not None:
        out = np.where(np.isnan(fixed), out, fixed)
    return out


def _attribute(block: _Block, points: np.ndarray) -> Attribute:
    miss = PointsOnly(points=int(points[0]))
    if block.kind == "numeric":
        bins = (Bin(min=None, points=int(points[1])),) + tuple(Bin(min=e, points=int(p)) for e, p in zip(block.edges, points[2:]))
        return Attribute(name=block.name, kind="numeric", group=block.group, bins=bins, missing=miss)
    if block.kind == "boolean":
        return Attribute(name=block.name, kind="boolean", group=block.group, levels=(Level(value=True, points=int(points[2])), Level(value=False, points=int(points[1]))), missing=miss)
    levels = tuple(Level(value=v, points=int(p)) for v, p in zip(block.labels[1:-1], points[1:-1]))
    return Attribute(name=block.name, kind="categorical", group=block.group, levels=levels, missing=miss, other=PointsOnly(points=int(points[-1])))


def _current_points(leads: LeadSet, attr: Attribute | None, labels: list[str], edges: tuple[float, ...] | None) -> np.ndarray:
    """The current model's points for each suggested code (NaN when the attribute is not in the model)."""
    if attr is None:
        return np.full(len(labels), np.nan)
    vec = points_vector(leads, attr).astype(np.float64)
    if attr.kind != "numeric":
        return vec
    # a new bin gets the current points of the current bin holding its lower bound
    cur_edges = np.asarray(attr.edges, dtype=np.float64)
    lows = [-np.inf, *(edges or ())]
    return np.array([vec[0]] + [vec[1 + int(np.searchsorted(cur_edges, lo, side="right"))] for lo in lows])


def _model_labels(leads: LeadSet, attr: Attribute) -> list[str]:
    if attr.kind == "numeric":
        return ["(missing)"] + [bin_label(attr, i) for i in range(len(attr.bins))]
    if attr.kind == "boolean":
        return ["(missing)", "false", "true"]
    return ["(missing)", *leads.attribute(attr.name).levels, "(other)"]


def _why(n: int, k: int, base: float, locked: bool, shrink_leads: float, points: int, lowest: int) -> str:
    if locked:
        return "locked: kept as it is"
    if n == 0:
        return "no lead has it: average points"
    rate = k / n
    text = f"converts at {rate:.1%} ({rate / base:.1f}x the {base:.1%} base rate) on {n:,} leads"
    if n < 3 * shrink_leads:
        text += "; few leads, so shrunk toward the average"
    if points == lowest:
        text += "; lowest level"
    return text


# ----- the whole suggestion, validated ---------------------------------------------------
@dataclass(frozen=True, eq=False)
class Suggestion:
    """Points fit on the training part, reported on the held-out part, with threshold choices."""

    points: PointsSuggestion
    split: HoldoutSplit
    validation: Validation
    thresholds: pd.DataFrame

    @property
    def model(self) -> ScoringModel:
        return self.points.model

    @property
    def table(self) -> pd.DataFrame:
        return self.points.table


def suggest(
    leads: LeadSet,
    current: ScoringModel | None = None,
    *,
    holdout: str = "auto",
    holdout_share: float = 0.25,
    seed: int = 0,
    capacity_per_month: float | None = None,
    **options,
) -> Suggestion:
    """Split ``leads`` (``holdout``: auto, time, random or none), suggest points on the training
    part (``options`` go to ``suggest_points``), and report them on both parts.

    The returned model is the one fit on the training part, so the holdout numbers describe
    exactly the model you get.
    """
    split = split_leads(leads, holdout, holdout_share, seed)
    train = subset(leads, split.train) if split.method != "none" else leads
    test = subset(leads, split.holdout) if split.n_holdout else None
    points = suggest_points(train, current, **options)
    validation = validate(points.model, train, test)
    table = suggest_thresholds(validation.train, validation.holdout, capacity_per_month=capacity_per_month, months=th.months_covered(train.created))
    return Suggestion(points, split, validation, table)


def suggestion_report(s: Suggestion) -> str:
    """The suggestion as text for the command line: attributes, points, train vs holdout, thresholds."""
    pct = lambda x: "n/a" if x != x else f"{x:.1%}"  # noqa: E731 - NaN-safe percent
    p = s.points
    lines = [f"Attributes chosen ({len(p.chosen)}), strongest first; {p.points_per_doubling:.1f} points double the odds of converting:"]
    stats = p.stats.attributes.set_index("attribute")
    for a in p.chosen:
        iv = stats["information_value"].get(a, math.nan)
        pts = p.table.loc[p.table["attribute"] == a, "suggested_points"]
        lines.append(f"  {a:28} IV {iv:6.3f}  points {pts.min()} to {pts.max()}")
    for r in p.left_out.itertuples():
        lines.append(f"  left out {r.attribute}: {r.why}")
    lines += ["", "Suggested points (level: points, conversion rate, leads):"]
    for a in p.chosen:
        t = p.table[(p.table["attribute"] == a) & (p.table["leads"] > 0)]
        items = ", ".join(f"{r.level} {r.suggested_points} ({pct(r.conversion_rate)}, {r.leads:,})" for r in t.itertuples())
        lines.append(f"  {a}: {items}")
    lines += ["", f"Validation ({s.split.description}):", f"  {'metric':20} {'train':>10} {'holdout':>10}"]
    for r in s.validation.table.itertuples():
        fmt = (lambda x: f"{x:,.0f}") if r.metric == "leads" else (lambda x: f"{x:.3f}") if r.metric in ("ROC AUC", "lift at threshold") else pct
        lines.append(f"  {r.metric:20} {fmt(r.train):>10} {fmt(r.holdout) if r.holdout == r.holdout else 'n/a':>10}")
    lines += [f"  Warning: {w}" for w in s.validation.warnings]
    lines += ["", f"MQL threshold suggestions (chosen on the training leads; the model uses max F1 = {s.model.mql_threshold}):"]
    for r in s.thresholds.itertuples():
        if r.threshold is None or r.threshold != r.threshold:
            lines.append(f"  {r.rule:26} none: {r.explanation}")
            continue
        hold = f"; holdout precision {pct(r.holdout_precision)}, recall {pct(r.holdout_recall)}" if hasattr(r, "holdout_precision") else ""
        lines.append(f"  {r.rule:26} >= {int(r.threshold):4}: {r.mql:,} MQLs ({pct(r.mql_rate)}), precision {pct(r.precision)}, recall {pct(r.recall)}{hold}")
    return "\n".join(lines)


# ----- thresholds ---------------------------------------------------------------------
def suggest_thresholds(
    train: BacktestResult,
    holdout: BacktestResult | None = None,
    *,
    target_precision: float | None = None,
    target_recall: float = 0.7,
    capacity_per_month: float | None = None,
    months: float = 1.0,
    converted_share: float = 0.9,
) -> pd.DataFrame:
    """Threshold rules chosen on the training backtest, with MQL volume, precision and recall on both parts.

    ``target_precision`` defaults to twice the base rate; ``capacity_per_month`` to 10% of
    the leads arriving per month (``months`` is how many months the training leads span).
    """
    precision = target_precision if target_precision is not None else min(0.95, round(2 * train.base_rate, 2))
    capacity = capacity_per_month if capacity_per_month is not None else max(1.0, round(0.1 * train.leads / months))
    choices = [
        th.best_f1(train), th.for_precision(train, precision), th.for_recall(train, target_recall),
        th.for_capacity(train, capacity, months), th.for_converted_share(train, converted_share),
    ]
    rows = []
    for c in choices:
        row = {"rule": c.rule, "threshold": c.threshold, "mql": c.mql, "mql_rate": c.mql_rate, "precision": c.precision, "recall": c.recall,
               "f1": c.f1, "explanation": c.explanation.replace("per period", "per month")}
        if holdout is not None:
            r = holdout.at_threshold(c.threshold) if c.threshold is not None else None
            row.update({"holdout_mql": r.mql if r else 0, "holdout_precision": r.precision if r else math.nan, "holdout_recall": r.recall if r else math.nan})
        rows.append(row)
    return pd.DataFrame(rows)
