"""Suggested points: a regularised logistic regression on attribute levels, scaled to integer points people can defend.

How the points are made (each step is a parameter of ``suggest_points``):

1. Attributes: weak ones (IV < 0.02) and ones flagged leaky (unless ``include_leaky``) are
   left out; of the rest, the ``max_attributes`` strongest stay. Strength is measured in a
   joint fit of all of them (``selection="joint"``): the spread (lead-weighted standard
   deviation) of each attribute's log-odds across leads, so an attribute that only echoes
   others (email opens riding on demo requests) does not push out one with an effect of
   its own. ``selection="iv"`` ranks by each attribute's information value on its own
   instead. Locked attributes always stay. Numeric attributes use the bins of
   ``attribute_statistics``.
2. Fit: logistic regression on every level one-hot (missing and other are levels too), with
   an L2 penalty ``l2`` on the level coefficients (the intercept is free), by L-BFGS-B with
   an analytic gradient on a sparse design; identical rows are counted once with weights.
3. Shrink: each coefficient is pulled toward its attribute's lead-weighted average (no
   evidence either way): average + (coefficient - average) * n / (n + ``shrink_leads``)
   (n = leads at the level), so a level seen on a handful of leads gets average points.
4. Scale: ``points_to_double`` N gives points = coefficient * N / ln 2 (N points double the
   odds); otherwise the coefficients are scaled so the best possible lead scores about
   ``max_score``. Before scaling each attribute is shifted so its lowest level gets 0 points
   (``baseline="lowest"``: scores stay positive, which is what sales teams read easily) or so
   its most common level gets 0 (``baseline="most_common"``: clearly negative levels keep
   negative points). Rounding to integers is monotone, so no level ever overtakes another.
   Neighbouring numeric bins that round to the same points become one bin
   (``merge_equal_bins``): no lead's score changes and there are fewer rows to agree on.
5. Locks: locked attributes keep their current points; locked levels keep theirs and the
   other levels of that attribute are fit around them (no shift there). Locked points enter
   the regression as a fixed offset of points / scale log-odds.
6. Threshold: the suggested model's ``mql_threshold`` is the max-F1 threshold on the leads
   it was fit on (``thresholds.best_f1``); other threshold rules are shown beside it.
7. Bands: the suggested points may run on another scale than the model's grades and tiers, so
   the suggested model carries bands placed on its own scores (``model.bands.suggest_bands``:
   grades from fit-score shares of the leads, tiers from the MQL threshold up).
8. Notes: a level whose points disagree with its raw conversion rate (it converts above the
   base rate yet gets fewer points than a level converting below it, or the reverse; the level
   noted is one the Designer shows green or red beside its slider, ``describe.level_caption``:
   at least 1.2x or at most 0.8x the base rate) gets a
   note in ``why`` naming the other attribute that explains the difference: the one whose
   suggested points differ most, on average, between that level's leads and all leads
   (the mean of that attribute's points over the level's leads minus its mean over all leads,
   in the direction of the disagreement), and that attribute's level most over-represented
   among them. Levels on fewer than 3 x ``shrink_leads`` leads are left to the shrinkage note.
9. Levels recorded after sales contact (the room's answer, ``leaks.save_level_answer``; carried
   by ``AttributeStats.ignored_levels``) get no points of their own: 0 points, the note
   ``leaks.LEVEL_NOTE`` in ``why``. They keep a coefficient of their own in the fit, so their
   leads' conversions are explained by that term and lift no other level or attribute, but
   that coefficient takes no part in the scale, the shift to 0, the joint ranking or the notes.

The fit keeps the current model's caps and knock-outs (``suggest`` reports what they cost:
the same points scored without them, side by side, in ``Suggestion.kept``).
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

from lead_model.suggest.stats import WEAK_IV, AttributeStats, attribute_statistics, level_codes
from lead_model.engine.backtest import BacktestResult, backtest
from lead_model.errors import LeadModelError
from lead_model.suggest.validation import HoldoutSplit, Validation, split_leads, subset, validate
from lead_model.data.leads import LeadSet
from lead_model.data.leaks import LEVEL_NOTE, LeakVerdict, leak_check
from lead_model.model.bands import band_table, suggest_bands, unreachable_bands
from lead_model.model.schema import Attribute, Bin, Caps, Level, Metadata, PointsOnly, ScoringModel
from lead_model.engine.scoring import attribute_codes, points_vector
from lead_model.model.semantics import MISSING_LABEL, OTHER_LABEL, edge_labels
from lead_model.engine import thresholds as th
from lead_model.engine.thresholds import ThresholdChoice
from lead_model.formatting import count, pct

LN2 = math.log(2.0)
TABLE_COLUMNS = ["attribute", "group", "level", "current_points", "suggested_points", "leads", "conversion_rate", "coefficient", "why"]
RANKING_COLUMNS = ["attribute", "information_value", "joint_spread", "chosen", "why"]
SELECTIONS = ("joint", "iv")
RANKING_MAX_LEADS = 200_000  # the joint ranking fit runs on a seeded sample of at most this many leads


@dataclass(frozen=True, eq=False)
class PointsSuggestion:
    """A suggested model, the table that justifies it (one row per level) and the statistics it used."""

    model: ScoringModel
    table: pd.DataFrame
    stats: AttributeStats
    chosen: tuple[str, ...]
    left_out: pd.DataFrame  # attribute, why
    points_per_doubling: float  # points that double the odds under the chosen scale
    ranking: pd.DataFrame  # every attribute: information_value, joint_spread (log-odds; NaN when not in the joint fit), chosen, why
    bands: pd.DataFrame | None = None  # the model's grades and tiers on the leads it was fit on (model.bands.band_table)


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
    ignored: tuple[int, ...] = ()  # codes recorded after sales contact (the room's answer): fit, but no points of their own

    def known(self, values: np.ndarray) -> np.ndarray:
        """``values`` (one per code) without the ignored codes."""
        return np.delete(values, list(self.ignored)) if self.ignored else values


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
    monotonic_bins: bool = False,
    selection: str = "joint",
    merge_equal_bins: bool = True,
    name: str | None = None,
    leaks: dict[str, LeakVerdict] | None = None,
) -> PointsSuggestion:
    """Suggest integer points for ``leads`` (fit on all of them: pass the training part to validate honestly).

    ``current`` is the model in use (its points fill the current column and the locks).
    ``locked_levels`` are (attribute, level label) pairs with labels as in the table:
    values, 'true'/'false', '(missing)', '(other)', or bin labels like '10 to < 50'.
    ``monotonic_bins`` merges numeric bins until conversion rates rise or fall steadily
    (ignored when ``stats`` is given: its bins are used). Returns the model (points, bins,
    max-F1 threshold) and a per-level table. ``leaks`` are the leak verdicts to follow
    (``leak_check`` of the whole dataset; default: judged on ``leads``).
    """
    if max_attributes < 1:
        raise LeadModelError(f"max attributes must be at least 1, not {max_attributes}.")
    if points_to_double is not None and points_to_double <= 0:
        raise LeadModelError(f"points to double the odds must be positive, not {points_to_double}; use e.g. 20.")
    if points_to_double is None and max_score <= 0:
        raise LeadModelError(f"the maximum score must be positive, not {max_score}; use e.g. 100.")
    if baseline not in ("lowest", "most_common"):
        raise LeadModelError(f"baseline '{baseline}' is not 'lowest' or 'most_common'.")
    if selection not in SELECTIONS:
        raise LeadModelError(f"selection '{selection}' is not 'joint' or 'iv'.")
    locked_attributes = tuple(locked_attributes)
    locked_levels = tuple((a, str(v)) for a, v in locked_levels)
    cur = {a.name: a for a in current.attributes} if current is not None else {}
    for a in set(locked_attributes) | {a for a, _ in locked_levels}:
        if a not in cur:
            raise LeadModelError(f"'{a}' is locked but the current model has no attribute '{a}'; add it to the model or unlock it.")
    for a, lv in locked_levels:
        labels = _model_labels(leads, cur[a])
        if lv not in labels:
            raise LeadModelError(f"'{a}' has no level '{lv}' to lock; pick one of: {', '.join(labels)}.")
    # Numeric attributes with locked bins keep the current bins so the locked bins line up.
    edges = {a: cur[a].edges for a, _ in locked_levels if cur[a].kind == "numeric"}
    if stats is None:
        stats = attribute_statistics(leads, edges=edges, monotonic=monotonic_bins, leaks=leaks)
    locked = tuple(dict.fromkeys(locked_attributes + tuple(a for a, _ in locked_levels)))
    chosen, left_out, ranking = _choose(leads, stats, max_attributes, min_iv, include_leaky, locked, selection, l2)
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
                    if lv_attr == a:  # checked above: lv is one of the labels
                        fixed[labels.index(lv)] = pts[labels.index(lv)] / scale
            out.append(_Block(a, enc.kind, enc.group, codes, labels, e, fixed, _ignored_codes(stats, a, labels, locked_levels)))
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
        coefs = _fit(leads.converted, blocks, offset_at(scale), l2)
    else:
        # Scale from an unlocked fit, so locked points can be turned into log-odds before the real fit.
        blocks = blocks_at(None)
        coefs = _fit(leads.converted, blocks, None, l2)
        shrunk = [_shrink(c, b.codes, shrink_leads, ignored=b.ignored) for c, b in zip(coefs, blocks)]
        free_range = sum(float(np.ptp(b.known(c))) for c, b in zip(shrunk, blocks))
        locked_range = sum(int(points_vector(leads, a).max() - points_vector(leads, a).min()) for a in whole_locked)
        if free_range <= 0:
            raise LeadModelError("no attribute separates converted from unconverted leads, so there are no points to suggest; check the outcome column.")
        scale = max(max_score - locked_range, 1.0) / free_range
        if has_locks:
            blocks = blocks_at(scale)
            coefs = _fit(leads.converted, blocks, offset_at(scale), l2)
    rows, attrs = [], []
    scored: dict[str, tuple[np.ndarray, np.ndarray, list[str]]] = {}  # attribute: lead codes, points per code, labels (for the notes)
    for block, coef in zip(blocks, coefs):
        coef = _shrink(coef, block.codes, shrink_leads, block.fixed, block.ignored)
        counts = np.bincount(block.codes, minlength=len(block.labels))[: len(block.labels)]
        conv = np.bincount(block.codes[: leads.n_converted], minlength=len(block.labels))[: len(block.labels)]
        if np.isnan(block.fixed).all():
            known, known_counts = block.known(coef), block.known(counts)
            shift = known.min() if baseline == "lowest" else known[int(np.argmax(known_counts))]
        else:
            shift = 0.0  # locked levels anchor the attribute
        points = np.rint((coef - shift) * scale).astype(int)
        points[~np.isnan(block.fixed)] = np.rint(block.fixed[~np.isnan(block.fixed)] * scale).astype(int)
        points[list(block.ignored)] = 0  # recorded after sales contact: no points of its own
        if np.abs(points).max() > 1000:
            raise LeadModelError(f"'{block.name}' would get more than 1000 points; use fewer points to double the odds or a lower maximum score.")
        if merge_equal_bins and block.kind == "numeric" and np.isnan(block.fixed).all():
            block, coef, points, counts, conv = _merge_equal_bins(block, coef, points, counts, conv)
        attrs.append(_attribute(block, points))
        scored[block.name] = (block.codes, points.astype(np.float64), list(block.labels))
        current_pts = _current_points(leads, cur.get(block.name), block.labels, block.edges)
        for code, label in enumerate(block.labels):
            rows.append({
                "attribute": block.name, "group": block.group, "level": label, "current_points": current_pts[code],
                "suggested_points": int(points[code]), "leads": int(counts[code]),
                "conversion_rate": conv[code] / counts[code] if counts[code] else math.nan, "coefficient": float(coef[code]),
                "why": _why(counts[code], conv[code], leads.base_rate, not math.isnan(block.fixed[code]), shrink_leads, points[code], points.min(),
                            code in block.ignored),
            })
    for attr in whole_locked:
        vec = points_vector(leads, attr)
        codes, _ = attribute_codes(leads, attr)
        counts = np.bincount(codes, minlength=vec.size)
        conv = np.bincount(codes[: leads.n_converted], minlength=vec.size)
        labels = _model_labels(leads, attr)
        attrs.append(attr)
        scored[attr.name] = (codes, vec.astype(np.float64), labels)
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
    model = model.replace(mql_threshold=choice.threshold if choice.threshold is not None else 0)
    sc = leads.engine(model).scores(model)
    grades, tiers = suggest_bands(model, sc.fit, sc.total, sc.knocked_out)
    model = model.replace(grades=grades, tiers=tiers).stamped()
    bands = band_table(model, sc.fit, sc.total, leads.converted)
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    table["why"] = _with_joint_notes(table, scored, leads.base_rate, 3 * shrink_leads)
    table["_o"] = table["attribute"].map(order)
    table = table.sort_values("_o", kind="stable").drop(columns="_o").reset_index(drop=True)
    return PointsSuggestion(model, table, stats, tuple(chosen), left_out, scale * LN2, ranking, bands)


JOINT_NOTE = "points are fitted jointly: other attributes explain part of this level's conversion"


def _with_joint_notes(table: pd.DataFrame, scored: dict[str, tuple[np.ndarray, np.ndarray, list[str]]], base: float, min_leads: float) -> list[str]:
    """``table['why']`` with a note on each level whose points disagree with its raw conversion rate (step 8 above)."""
    from lead_model.workbench.describe import level_caption  # the Designer's green and red beside a slider

    why = table["why"].tolist()
    for name, rows in table.groupby("attribute", sort=False):
        if name not in scored:
            continue
        ok = rows[(rows["leads"] >= min_leads) & rows["conversion_rate"].notna() & ~rows["why"].str.startswith(LEVEL_NOTE)]
        tone = pd.Series([level_caption(lv, n, rate, base)[2] for lv, n, rate in zip(ok["level"], ok["leads"], ok["conversion_rate"])], index=ok.index)
        above, below = ok[ok["conversion_rate"] > base], ok[ok["conversion_rate"] < base]
        if above.empty or below.empty:
            continue
        for i, r in ok[tone != "near"].iterrows():  # a level the Designer shows green or red
            if tone[i] == "above":
                sign, disagrees = 1.0, bool((below["suggested_points"] > r["suggested_points"]).any())
            else:
                sign, disagrees = -1.0, bool((above["suggested_points"] < r["suggested_points"]).any())
            if disagrees and not why[i].startswith("locked"):
                why[i] += "; " + _joint_note(name, r["level"], sign, scored)
    return why


def _joint_note(name: str, level: str, sign: float, scored: dict[str, tuple[np.ndarray, np.ndarray, list[str]]]) -> str:
    """Which other attribute explains level ``level`` of ``name`` converting above (sign +1) or below (-1) what its points say."""
    codes, _, labels = scored[name]
    mine = codes == labels.index(level)
    best, best_shift = None, 0.0
    for other, (oc, pts, olabels) in scored.items():
        if other == name:
            continue
        per_lead = pts[oc]
        shift = sign * (float(per_lead[mine].mean()) - float(per_lead.mean()))
        if shift > best_shift:
            best, best_shift = other, shift
    if best is None:
        return JOINT_NOTE
    oc, pts, olabels = scored[best]
    n = len(olabels)
    share_here = np.bincount(oc[mine], minlength=n)[:n] / max(int(mine.sum()), 1)
    share_all = np.bincount(oc, minlength=n)[:n] / oc.size
    pull = (share_here - share_all) * sign * (pts - float(pts[oc].mean()))
    pull = np.where(share_here > share_all, pull, -np.inf)  # name a level these leads hold more of than others do
    j = int(np.argmax(pull))
    direction = "more" if sign > 0 else "fewer"
    return (f"fitted jointly: {share_here[j]:.0%} of these leads have {best} {olabels[j]} ({share_all[j]:.0%} of all leads), "
            f"which gives them {best_shift:.1f} {direction} points on average there")


def _choose(
    leads: LeadSet, stats: AttributeStats, k: int, min_iv: float, include_leaky: bool, locked: tuple[str, ...], selection: str, l2: float,
) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """The attributes to score on (locked first, then strongest first), why the others are left out, and the ranking table."""
    iv = dict(zip(stats.attributes["attribute"], stats.attributes["information_value"]))
    why: dict[str, str] = {}
    candidates = []
    for r in stats.attributes.itertuples():
        if r.attribute in locked:
            continue
        if r.leaky and not include_leaky:
            why[r.attribute] = f"looks leaky ({r.leak_evidence.rstrip('.')}); opt in to use it"
        elif r.information_value < min_iv:
            why[r.attribute] = f"weak (information value {r.information_value:.3f} < {min_iv})"
        else:
            candidates.append(r.attribute)
    room = max(k - len(locked), 0)
    spread: dict[str, float] = {}
    if selection == "joint" and len(candidates) > room:
        spread = _joint_spread(leads, stats, list(locked) + candidates, l2)
        candidates.sort(key=lambda a: -spread[a])
    chosen = list(locked) + candidates[:room]
    for a in candidates[room:]:
        why[a] = (f"not among the {k} strongest in a joint fit (moves the log-odds by {spread[a]:.2f} on average)" if spread
                  else f"not among the {k} strongest attributes")
    if not chosen:
        raise LeadModelError("no attribute is strong enough to score on; include leaky ones, lower the minimum IV or add data.")
    names = chosen + [a for a in stats.attributes["attribute"] if a not in chosen]
    ranking = pd.DataFrame({
        "attribute": names, "information_value": [iv.get(a, math.nan) for a in names], "joint_spread": [spread.get(a, math.nan) for a in names],
        "chosen": [a in chosen for a in names], "why": ["locked" if a in locked else why.get(a, "chosen") for a in names],
    }, columns=RANKING_COLUMNS)
    left_out = pd.DataFrame([(a, why[a]) for a in names if a in why], columns=["attribute", "why"])
    return chosen, left_out, ranking


def _joint_spread(leads: LeadSet, stats: AttributeStats, names: list[str], l2: float) -> dict[str, float]:
    """Each attribute's spread in one joint fit: the lead-weighted standard deviation of its log-odds (on at most
    RANKING_MAX_LEADS seeded-sampled leads, which is plenty to rank by)."""
    rows = None
    if leads.n_leads > RANKING_MAX_LEADS:
        rows = np.sort(np.random.default_rng(0).choice(leads.n_leads, RANKING_MAX_LEADS, replace=False))
    blocks = []
    for a in names:
        codes, labels, _ = level_codes(leads, a, stats.edges.get(a))
        blocks.append(_Block(a, "", "", codes if rows is None else codes[rows], labels, None, np.full(len(labels), np.nan),
                             _ignored_codes(stats, a, labels)))
    y = leads.converted if rows is None else leads.converted[rows]
    out = {}
    for block, coef in zip(blocks, _fit(y, blocks, None, l2)):
        n = np.bincount(block.codes, minlength=coef.size)[: coef.size].astype(np.float64)
        n[list(block.ignored)] = 0.0  # a level recorded after sales contact moves no lead's score
        mean = float(n @ coef / n.sum())
        out[block.name] = math.sqrt(float(n @ np.square(coef - mean) / n.sum()))
    return out


def _fit(y: np.ndarray, blocks: list[_Block], offset: np.ndarray | None, l2: float) -> list[np.ndarray]:
    """L2-regularised logistic regression of ``y`` (bool per lead) on one-hot codes; one coefficient array per block."""
    sizes = [len(b.labels) for b in blocks]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    p = int(sum(sizes))
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


def _merge_equal_bins(block: _Block, coef: np.ndarray, points: np.ndarray, counts: np.ndarray, conv: np.ndarray):
    """Join neighbouring bins (codes 1..) with equal points; missing (code 0) stays. The joined bin's coefficient
    is the lead-weighted average of its parts, so the coefficients still order the points."""
    edges = block.edges or ()
    keep = [i for i in range(len(edges)) if points[i + 2] != points[i + 1]]  # edges[i] starts bin code i + 2
    if len(keep) == len(edges):
        return block, coef, points, counts, conv
    new_code = np.zeros(len(block.labels), dtype=np.int64)
    new_code[1:] = 1 + np.concatenate([[0], np.cumsum(points[2:] != points[1:-1])])
    k = len(keep) + 2
    n = np.bincount(new_code, weights=counts, minlength=k)
    w = np.bincount(new_code, weights=counts * coef, minlength=k)
    plain = np.bincount(new_code, weights=coef, minlength=k) / np.bincount(new_code, minlength=k)
    new_coef = np.divide(w, n, out=plain.copy(), where=n > 0)
    new_points = np.zeros(k, dtype=int)
    new_points[new_code] = points
    new_edges = tuple(edges[i] for i in keep)
    labels = [block.labels[0], *edge_labels(new_edges)]
    merged = _Block(block.name, block.kind, block.group, new_code[block.codes], labels, new_edges, np.full(k, np.nan))
    return merged, new_coef, new_points, n.astype(np.int64), np.bincount(new_code, weights=conv, minlength=k).astype(np.int64)


def _shrink(coef: np.ndarray, codes: np.ndarray, shrink_leads: float, fixed: np.ndarray | None = None, ignored: tuple[int, ...] = ()) -> np.ndarray:
    """Pull sparse levels toward their attribute's average (of the levels not ``ignored``); levels no lead has get exactly the average."""
    counts = np.bincount(codes, minlength=coef.size)[: coef.size].astype(np.float64)
    weights = counts.copy()
    weights[list(ignored)] = 0.0
    mean = float(weights @ coef / weights.sum()) if weights.sum() else 0.0
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
    """The current model's points for each suggested code (NaN when the attribute is not in the model, or is
    a numeric one the model bins differently: ``current_bins`` shows those bins as they are)."""
    if attr is None:
        return np.full(len(labels), np.nan)
    vec = points_vector(leads, attr).astype(np.float64)
    if attr.kind != "numeric":
        return vec[: len(labels)]  # a boolean's code 3 ("other") never occurs
    if tuple(attr.edges) != tuple(float(e) for e in (edges or ())):
        return np.full(len(labels), np.nan)
    return vec[: len(labels)]


def current_bins(leads: LeadSet, current: ScoringModel | None, suggested: ScoringModel, name: str) -> pd.DataFrame | None:
    """The current model's own bins of numeric attribute ``name`` (level, current_points, leads, conversion_rate) when
    they differ from the suggested model's bins; None when the bins are the same or either model lacks the attribute."""
    if current is None or name not in current.attribute_names or name not in suggested.attribute_names:
        return None
    attr, new = current.attribute(name), suggested.attribute(name)
    if attr.kind != "numeric" or new.kind != "numeric" or attr.edges == new.edges:
        return None
    codes, _ = attribute_codes(leads, attr)
    vec = points_vector(leads, attr)
    labels = _model_labels(leads, attr)
    n = np.bincount(codes, minlength=len(labels))[: len(labels)]
    k = np.bincount(codes[: leads.n_converted], minlength=len(labels))[: len(labels)]
    t = pd.DataFrame({"level": labels, "current_points": vec[: len(labels)].astype(int), "leads": n.astype(int),
                      "conversion_rate": np.divide(k, n, out=np.full(len(labels), np.nan), where=n > 0)})
    return t[(t["leads"] > 0) | (t["current_points"] != 0)].reset_index(drop=True)


def lockable_levels(leads: LeadSet, current: ScoringModel) -> list[tuple[str, str]]:
    """(attribute, level label) pairs of ``current`` that ``suggest_points(locked_levels=...)`` accepts, in model order."""
    return [(a.name, label) for a in current.attributes if a.name in leads.attributes for label in _model_labels(leads, a)]


def _model_labels(leads: LeadSet, attr: Attribute) -> list[str]:
    if attr.kind == "numeric":
        return [MISSING_LABEL] + [attr.bin_label(i) for i in range(len(attr.bins))]
    if attr.kind == "boolean":
        return [MISSING_LABEL, "false", "true"]
    return [MISSING_LABEL, *leads.attribute(attr.name).levels, OTHER_LABEL]


def _ignored_codes(stats: AttributeStats, name: str, labels: list[str], locked_levels: tuple[tuple[str, str], ...] = ()) -> tuple[int, ...]:
    """Codes of ``name``'s levels recorded after sales contact (a locked level keeps its lock instead)."""
    locked = {lv for a, lv in locked_levels if a == name}
    return tuple(i for i, label in enumerate(labels[1:-1], start=1) if label in stats.ignored_levels.get(name, ()) and label not in locked)


def _why(n: int, k: int, base: float, locked: bool, shrink_leads: float, points: int, lowest: int, ignored: bool = False) -> str:
    if locked:
        return "locked: kept as it is"
    if ignored:
        return LEVEL_NOTE + (f"; it converts at {k / n:.1%} on {count(n)}" if n else "")
    if n == 0:
        return "no lead has it: average points"
    rate = k / n
    text = f"converts at {rate:.1%} ({rate / base:.1f}x the {base:.1%} base rate) on {count(n)}"
    if n < 3 * shrink_leads:
        text += "; few leads, so shrunk toward the average"
    if points == lowest:
        text += "; lowest level"
    return text


def with_current_points(points: PointsSuggestion, leads: LeadSet, current: ScoringModel | None) -> pd.DataFrame:
    """The suggestion's table with ``current_points`` taken from ``current`` (e.g. the model after applying some points).

    ``leads`` must be the LeadSet the suggestion was made on or one it was cut from (same level
    codes). Attributes the current model lacks get NaN, and so do numeric attributes it bins
    differently (their current points belong to other bins: ``current_bins`` lists them).
    """
    cur = {a.name: a for a in current.attributes} if current is not None else {}
    table = points.table.copy()
    for name, rows in table.groupby("attribute", sort=False):
        suggested = points.model.attribute(name)
        edges = suggested.edges if suggested.kind == "numeric" else None
        table.loc[rows.index, "current_points"] = _current_points(leads, cur.get(name), rows["level"].tolist(), edges)
    return table


# ----- the whole suggestion, validated ---------------------------------------------------
@dataclass(frozen=True)
class KeptRules:
    """The current model's caps and knock-outs the fit kept, and what they cost: the suggested points scored
    with them and without them, on the held-out leads (the training leads when nothing was held out)."""

    caps: Caps
    knockouts: int
    part: str  # "held-out" or "training"
    threshold: int  # the suggested MQL threshold both precisions are measured at
    auc: float
    auc_without: float
    precision: float  # fractions 0-1
    precision_without: float

    def kept_sentence(self) -> str:
        """'Fit with your caps (fit 40, engagement 50) and 2 knock-outs'."""
        caps = ", ".join(f"{g} {getattr(self.caps, g)}" for g in ("fit", "engagement", "total") if getattr(self.caps, g) is not None)
        parts = ([f"caps ({caps})"] if caps else []) + ([count(self.knockouts, "knock-out")] if self.knockouts else [])
        return "Fit with your " + " and ".join(parts)

    def cost_sentence(self) -> str:
        """'without them: AUC 0.79 instead of 0.77 and precision 31.0% instead of 30.2% at threshold 45, on the held-out leads'."""
        return (f"without them: AUC {self.auc_without:.3f} instead of {self.auc:.3f} and precision {pct(self.precision_without)} "
                f"instead of {pct(self.precision)} at threshold {self.threshold}, on the {self.part} leads")

    def sentence(self) -> str:
        return f"{self.kept_sentence()}; {self.cost_sentence()}."


def kept_rules(model: ScoringModel, leads: LeadSet, part: str = "held-out") -> KeptRules | None:
    """What ``model``'s caps and knock-outs cost on ``leads`` (AUC, and precision at its threshold, with and without
    them); None when the model has neither."""
    caps_set = any(getattr(model.caps, g) is not None for g in ("fit", "engagement", "total"))
    if not caps_set and not model.knockouts:
        return None
    free = model.replace(caps=Caps(), knockouts=())
    with_them, without = backtest(leads, model), backtest(leads, free)
    return KeptRules(model.caps, len(model.knockouts), part, model.mql_threshold, with_them.auc, without.auc,
                     with_them.precision, without.precision)


@dataclass(frozen=True, eq=False)
class Suggestion:
    """Points fit on the training part, reported on the held-out part, with threshold choices."""

    points: PointsSuggestion
    split: HoldoutSplit
    validation: Validation
    thresholds: pd.DataFrame
    kept: KeptRules | None = None  # the current caps and knock-outs the fit kept, and their cost

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
    target_precision: float | None = None,
    target_recall: float = 0.7,
    converted_share: float = 0.9,
    capacity_per_month: float | None = None,
    **options,
) -> Suggestion:
    """Split ``leads`` (``holdout``: auto, time, random or none), suggest points on the training
    part (``options`` go to ``suggest_points``), and report them on both parts.

    The threshold rules (``target_precision``, ``target_recall``, ``converted_share`` as
    fractions; ``capacity_per_month``, sales capacity in MQLs per month) are chosen on the training part; see
    ``suggest_thresholds``. The returned model is the one fit on the training part, so the
    holdout numbers describe exactly the model you get.
    """
    # Leaks are judged on the whole dataset, as the Data page and the CLI judge it, not on the training part.
    options.setdefault("leaks", leak_check(leads))
    split = split_leads(leads, holdout, holdout_share, seed)
    train = subset(leads, split.train) if split.method != "none" else leads
    test = subset(leads, split.holdout) if split.n_holdout else None
    points = suggest_points(train, current, **options)
    validation = validate(points.model, train, test)
    table = suggest_thresholds(
        validation.train, validation.holdout, target_precision=target_precision, target_recall=target_recall,
        converted_share=converted_share, capacity_per_month=capacity_per_month,
        months=th.months_covered(train.created), holdout_months=th.months_covered(test.created) if test is not None else None,
    )
    kept = kept_rules(points.model, test, "held-out") if test is not None and test.n_leads else kept_rules(points.model, train, "training")
    return Suggestion(points, split, validation, table, kept)


def point_notes(table: pd.DataFrame) -> list[tuple[str, str, int, float, str]]:
    """(attribute, level, points, conversion rate, note) for each level of a suggestion's table whose points need a word:
    the joint-fit note on points that disagree with the raw rate (step 8), and levels recorded after sales contact (step 9)."""
    out = []
    for r in table.itertuples():
        why = str(r.why)
        if why.startswith(LEVEL_NOTE):
            note = LEVEL_NOTE
        elif "fitted jointly" in why:
            start = why.find(JOINT_NOTE) if JOINT_NOTE in why else why.find("fitted jointly")
            note = why[start:]
        else:
            continue
        out.append((r.attribute, str(r.level), int(r.suggested_points), float(r.conversion_rate), note))
    return out


def suggestion_report(s: Suggestion) -> str:
    """The suggestion as text for the command line: attributes, points, train vs holdout, thresholds."""
    p = s.points
    joint = bool(p.ranking["joint_spread"].notna().any())
    order = "strongest in a joint fit first" if joint else "strongest first"
    if (p.ranking["why"] == "locked").any():
        order = "locked ones first, then " + order
    lines = [f"{s.kept.sentence()}", ""] if s.kept is not None else []
    lines += [f"Attributes chosen ({len(p.chosen)}), {order}; {p.points_per_doubling:.1f} points double the odds of converting:"]
    ranking = p.ranking.set_index("attribute")
    for a in p.chosen:
        r = ranking.loc[a]
        pts = p.table.loc[p.table["attribute"] == a, "suggested_points"]
        spread = f"  joint spread {r['joint_spread']:.2f}" if r["joint_spread"] == r["joint_spread"] else ""
        lines.append(f"  {a:28} IV {r['information_value']:6.3f}{spread}  points {pts.min()} to {pts.max()}")
    for r in p.left_out.itertuples():
        lines.append(f"  left out {r.attribute}: {r.why}")
    lines += ["", "Suggested points (level: points, conversion rate, leads):"]
    for a in p.chosen:
        t = p.table[(p.table["attribute"] == a) & (p.table["leads"] > 0)]
        items = ", ".join(f"{r.level} {r.suggested_points} ({pct(r.conversion_rate)}, {r.leads:,})" for r in t.itertuples())
        lines.append(f"  {a}: {items}")
    notes = point_notes(p.table)
    if notes:
        lines += ["", "Why some points differ from the raw conversion rate (the Suggestions page's 'Why' column):"]
        lines += [f"  {a} {level}: {points} points, converts at {pct(rate)}: {note}" for a, level, points, rate, note in notes]
    lines += ["", f"Validation ({s.split.description}):", f"  {'metric':20} {'train':>10} {'holdout':>10} {'gap':>10}"]
    for r in s.validation.display_table().itertuples():
        lines.append(f"  {r.metric:20} {r.train:>10} {r.holdout:>10} {r.gap:>10}")
    lines += [f"  Warning: {w}" for w in s.validation.warnings]
    lines += ["", "Grades and tiers for the suggested scale (leads on the training part):"]
    if p.bands is not None:
        for r in p.bands.itertuples():
            low = "below" if pd.isna(r.min_score) else f">= {r.min_score}"
            lines.append(f"  {r.kind:6} {r.band:12} {low:>8}  {r.leads:>10,} leads ({pct(r.share)}), converting at {pct(r.conversion_rate)}")
    lines += [f"  Warning: {w}" for w in unreachable_bands(s.model)]
    t = s.thresholds
    per_month = bool(t["mql_per_month"].notna().any())
    has_holdout = "holdout_precision" in t
    hold_month = has_holdout and bool(t["holdout_mql_per_month"].notna().any())
    volume = "MQLs/month" if per_month else "MQLs"
    lines += ["", f"MQL threshold suggestions, chosen on the training leads (the model uses max F1 = {s.model.mql_threshold}):"]
    head = f"  {'rule':26} {'score':>7} {volume:>10} {'MQL share':>9} {'precision':>9} {'recall':>7}"
    if has_holdout:
        head += f"  | holdout: {'MQLs/month' if hold_month else 'MQLs':>10} {'MQL share':>9} {'precision':>9} {'recall':>7}"
    lines.append(head)
    for r in t.itertuples():
        if r.threshold is None or r.threshold != r.threshold:
            lines.append(f"  {r.rule:26} {'none':>7}  {r.explanation}")
            continue
        line = f"  {r.rule:26} {'>= ' + str(int(r.threshold)):>7} {r.mql_per_month if per_month else r.mql:>10,.0f} {pct(r.mql_rate):>9} {pct(r.precision):>9} {pct(r.recall):>7}"
        if has_holdout:
            hv = r.holdout_mql_per_month if hold_month else r.holdout_mql
            line += f"  | {'':8} {hv:>10,.0f} {pct(r.holdout_mql_rate):>9} {pct(r.holdout_precision):>9} {pct(r.holdout_recall):>7}"
        lines += [line, f"  {'':26}   {r.explanation}"]
    return "\n".join(lines)


# ----- thresholds ---------------------------------------------------------------------
THRESHOLD_COLUMNS = ["rule", "threshold", "mql", "mql_per_month", "mql_rate", "precision", "recall", "f1", "explanation"]
HOLDOUT_THRESHOLD_COLUMNS = ["holdout_mql", "holdout_mql_per_month", "holdout_mql_rate", "holdout_precision", "holdout_recall"]


def suggest_thresholds(
    train: BacktestResult,
    holdout: BacktestResult | None = None,
    *,
    target_precision: float | None = None,
    target_recall: float = 0.7,
    capacity_per_month: float | None = None,
    months: float | None = 1.0,
    holdout_months: float | None = None,
    converted_share: float = 0.9,
) -> pd.DataFrame:
    """Threshold rules chosen on the training backtest, with MQL volume, precision and recall on both parts.

    One row per rule: max F1, the lowest threshold reaching ``target_precision`` (default twice
    the base rate), the highest keeping ``target_recall``, the lowest whose MQLs fit
    ``capacity_per_month`` leads (default 10% of the leads arriving per month), and the score
    ``converted_share`` of past converted leads reached. Fractions are 0-1. ``months`` (and
    ``holdout_months``) is how many months each part spans, None when the leads have no created
    date: then capacity counts against all training leads and ``mql_per_month`` is NaN.
    """
    for what, x in (("target precision", target_precision), ("target recall", target_recall), ("converted share", converted_share)):
        if x is not None and not 0 < x <= 1:
            raise LeadModelError(f"the {what} must be a fraction between 0 and 1, not {x}; use e.g. 0.7 for 70%.")
    if capacity_per_month is not None and capacity_per_month <= 0:
        raise LeadModelError(f"the sales capacity must be a positive number of leads, not {capacity_per_month}.")
    precision = target_precision if target_precision is not None else min(0.95, round(2 * train.base_rate, 2))
    span = months if months is not None else 1.0
    capacity = capacity_per_month if capacity_per_month is not None else max(1.0, round(0.1 * train.leads / span))
    cap = th.for_capacity(train, capacity, span)
    unit = "per month" if months is not None else f"in the {train.leads:,} training leads (no created date, so no months)"
    fits = f"the lowest threshold whose MQL volume fits {capacity:,.0f} MQLs {unit}" if cap.threshold is not None else \
        f"even the highest score gives more than {capacity:,.0f} MQLs {unit}"
    cap = ThresholdChoice(f"capacity {capacity:,.0f}" + ("/month" if months is not None else ""), cap.threshold, cap.mql, cap.mql_rate,
                          cap.precision, cap.recall, cap.f1, fits)
    choices = [th.best_f1(train), th.for_precision(train, precision), th.for_recall(train, target_recall), cap, th.for_converted_share(train, converted_share)]
    rows = []
    for c in choices:
        row = {"rule": c.rule, "threshold": c.threshold, "mql": c.mql, "mql_per_month": c.mql / months if months else math.nan,
               "mql_rate": c.mql_rate, "precision": c.precision, "recall": c.recall, "f1": c.f1, "explanation": c.explanation}
        if holdout is not None:
            r = holdout.at_threshold(c.threshold) if c.threshold is not None else None
            mql = r.mql if r else 0
            row.update({"holdout_mql": mql, "holdout_mql_per_month": mql / holdout_months if holdout_months else math.nan,
                        "holdout_mql_rate": r.mql_rate if r else math.nan, "holdout_precision": r.precision if r else math.nan,
                        "holdout_recall": r.recall if r else math.nan})
        rows.append(row)
    return pd.DataFrame(rows, columns=THRESHOLD_COLUMNS + (HOLDOUT_THRESHOLD_COLUMNS if holdout is not None else []))
