"""Benchmark: load time and peak memory, per-move backtest time of the engine, and three baselines that compute the same outputs.

    python benchmarks/bench_backtest.py --rows 1000000
    python benchmarks/bench_backtest.py --rows 1000000 --data hostile   # or --data both

``--data hostile`` (benchmarks/hostile.py) is data that is not ours: quoted/SQL column names,
a level holding ~30% of the leads, heavy-tailed counts, the starter model's bins and every
points value random in -40..40; it prints each figure against the bars of issue 8.

A "move" changes the points of one level of one attribute (a slider), then computes every
lead's score, MQL count / precision / recall at every threshold, deciles and AUC. The engine
reuses one ScoringEngine across moves, so it recounts only the leads of the moved level
(lead_model/histograms.py); the same moves recounting every lead are timed too; the baselines are a naive pandas ``df.apply(row_fn, axis=1)``
(timed on a sample, scaled linearly), vectorised pandas (``Series.map`` on category dtype,
sort/groupby) and DuckDB SQL (``CASE`` per column, ``GROUP BY`` score, window sums).
Prints figures only; see ../shared/PERFORMANCE.md for the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import hostile  # noqa: E402
import synthetic  # noqa: E402

COUNT_EDGES = (1.0, 2.0, 4.0, 8.0)  # 6 counts binned into 5 bins
PLACEHOLDERS = ("", "N/A", "Select", "unknown")


# ----- load, in a fresh process so the peak RSS is the load's own -------------------------
def load_only(csv_path: str, store_path: str) -> None:
    """Child process: time load_leads and report peak RSS as one JSON line."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    import lead_model.data.leads as leads_module
    import lead_model.data.store as store_module

    after_imports = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stages: dict[str, float] = {}

    def timed(owner, name: str, label: str) -> None:
        fn = getattr(owner, name, None)
        if fn is None:
            return

        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                stages[label] = stages.get(label, 0.0) + time.perf_counter() - t

        setattr(owner, name, wrapper)

    # Stage timings (best effort: wraps whichever of these internals exist).
    timed(leads_module, "read_source", "read CSV (DuckDB -> Arrow)")
    timed(leads_module, "_profile", "profile columns")
    timed(leads_module, "infer_roles", "infer roles")
    timed(leads_module, "_encode", "encode attributes")
    timed(store_module.LeadStore, "stage", "write raw rows to the store (background, during encoding)")
    t = time.perf_counter()
    leads = leads_module.load_leads(csv_path, "converted", store=store_path, wait=False)
    ready = time.perf_counter() - t
    leads.wait_stored()
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "ready_seconds": ready, "seconds": seconds, "peak_rss_mb": peak / 1024, "rss_before_imports_mb": before / 1024,
        "rss_after_imports_mb": after_imports / 1024, "vm_hwm_mb": _vm_hwm_mb(), "leads": leads.n_leads, "stages": stages,
    }))


def _vm_hwm_mb() -> float | None:
    """This process's own RSS high-water mark (Linux); getrusage's can include the parent's RSS at fork."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def generate_only(rows: int, csv_path: str, seed: int, data: str = "synthetic") -> None:
    """Child process: write the synthetic CSV, so the parent stays small before the load is measured."""
    gen = (hostile if data == "hostile" else synthetic).write_csv(rows, csv_path, seed=seed)
    print(json.dumps({"conversion_rate": gen.conversion_rate}))


def measure_load(csv_path: Path, store_path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--load-only", str(csv_path), str(store_path)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# ----- the model and the moves ---------------------------------------------------------
def bench_model(leads, rng: np.random.Generator):
    from lead_model.model.schema import Attribute, Bin, Level, PointsOnly, ScoringModel

    attrs = []
    for name in synthetic.CATEGORICAL:
        enc = leads.attribute(name)
        attrs.append(Attribute(
            name=name, kind="categorical", group="fit",
            levels=tuple(Level(value=v, points=int(rng.integers(-5, 11))) for v in enc.levels),
            missing=PointsOnly(points=int(rng.integers(-3, 1))),
        ))
    for name in synthetic.COUNTS:
        bins = (Bin(min=None, points=0),) + tuple(Bin(min=e, points=int(rng.integers(0, 11))) for e in COUNT_EDGES)
        attrs.append(Attribute(name=name, kind="numeric", group="engagement", bins=bins))
    return ScoringModel(attributes=tuple(attrs), mql_threshold=45)


def make_moves(model, count: int, rng: np.random.Generator) -> tuple[list, list[float]]:
    """``count`` successive models, each one attribute's points changed; and the time of each edit."""
    models, edit_times = [], []
    for _ in range(count):
        attr = model.attributes[int(rng.integers(len(model.attributes)))]
        if attr.kind == "numeric":
            value = f"bin:{int(rng.integers(len(attr.bins)))}"
        else:
            value = attr.levels[int(rng.integers(len(attr.levels)))].value
        t = time.perf_counter()
        model = model.with_points(attr.name, value, int(rng.integers(-10, 16)))
        edit_times.append(time.perf_counter() - t)
        models.append(model)
    return models, edit_times


# ----- the points a baseline needs, as plain dicts ------------------------------------------
def points_of(model) -> tuple[dict, dict]:
    """categorical: name -> (points by level, other, missing); numeric: name -> (mins, points, missing)."""
    cats, nums = {}, {}
    for a in model.attributes:
        if a.kind == "numeric":
            nums[a.name] = ([b.min for b in a.bins], [b.points for b in a.bins], a.missing.points)
        else:
            cats[a.name] = (a.level_points(), a.other.points, a.missing.points)
    return cats, nums


def counts_at(observed: np.ndarray, mql: np.ndarray, tp: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MQL and converted-MQL counts at every threshold, from cumulative counts at the observed scores (any order)."""
    order = np.argsort(observed)
    observed, mql, tp = observed[order], mql[order], tp[order]
    i = np.searchsorted(observed, thresholds, side="left")  # the lowest observed score >= threshold
    j = np.minimum(i, observed.size - 1)
    return np.where(i < observed.size, mql[j], 0), np.where(i < observed.size, tp[j], 0)


def auc_from_histogram(leads_by_score: np.ndarray, conv_by_score: np.ndarray) -> float:
    """AUC with ties counted as half, from counts per score ascending."""
    neg = leads_by_score - conv_by_score
    p, nn = conv_by_score.sum(), neg.sum()
    pos_above = p - np.cumsum(conv_by_score)
    return float(np.dot(neg, pos_above + 0.5 * conv_by_score) / (p * nn))


# ----- baseline 1: pandas row-wise ---------------------------------------------------------
def rowwise_move(df, y: np.ndarray, model) -> dict:
    import pandas as pd

    cats, nums = points_of(model)

    def row_fn(row) -> int:
        total = 0
        for name, (levels, other, missing) in cats.items():
            v = row[name]
            total += missing if v is None or v != v else levels.get(v, other)
        for name, (mins, pts, missing) in nums.items():
            v = row[name]
            if v is None or v != v:
                total += missing
                continue
            p = pts[0]
            for m, q in zip(mins[1:], pts[1:]):
                if v >= m:
                    p = q
            total += p
        return total

    scores = df.apply(row_fn, axis=1).to_numpy()
    n, p = len(scores), int(y.sum())
    sweep = []
    for t in range(int(scores.min()), int(scores.max()) + 1):
        mql = int((scores >= t).sum())
        tp = int(((scores >= t) & y).sum())
        sweep.append((t, mql, tp, tp / mql if mql else float("nan"), tp / p))
    decile = pd.qcut(pd.Series(scores).rank(method="first", ascending=False), 10, labels=False)
    deciles = pd.Series(y).groupby(decile).agg(["size", "sum"])
    ranks = pd.Series(scores).rank().to_numpy()
    auc = (ranks[y].sum() - p * (p + 1) / 2) / (p * (n - p))
    return {"scores": scores, "sweep": sweep, "deciles": deciles, "auc": auc}


# ----- baseline 2: vectorised pandas on category dtype ----------------------------------------
def pandas_move(cat_df, y_series, model) -> dict:
    import pandas as pd

    cats, nums = points_of(model)
    n = len(cat_df)
    score = np.zeros(n, dtype=np.int64)
    for name, (levels, other, missing) in cats.items():
        col = cat_df[name]
        mapping = {c: levels.get(c, other) for c in col.cat.categories}
        score += col.map(mapping).astype("float64").fillna(missing).to_numpy(dtype=np.int64)
    for name, (_mins, pts, missing) in nums.items():
        col = cat_df[name]  # pre-binned: categories 0..4 are the bins
        mapping = dict(enumerate(pts))
        score += col.map(mapping).astype("float64").fillna(missing).to_numpy(dtype=np.int64)
    frame = pd.DataFrame({"score": score, "y": y_series})
    hist = frame.groupby("score")["y"].agg(["size", "sum"]).sort_index(ascending=False)
    cum = hist.cumsum()
    p = int(y_series.sum())
    sweep = pd.DataFrame({"threshold": hist.index, "mql": cum["size"].to_numpy(), "converted": cum["sum"].to_numpy()})
    sweep["precision"] = sweep["converted"] / sweep["mql"]
    sweep["recall"] = sweep["converted"] / p
    # qcut-like deciles: sort by score (ties in row order), cut positions into tenths
    order = np.argsort(-score, kind="stable")
    decile = (np.arange(n) * 10) // n
    deciles = pd.DataFrame({"decile": decile, "y": y_series.to_numpy()[order]}).groupby("decile")["y"].agg(["size", "sum"])
    asc = hist.sort_index()
    auc = auc_from_histogram(asc["size"].to_numpy(dtype=float), asc["sum"].to_numpy(dtype=float))
    return {"sweep": sweep, "deciles": deciles, "auc": auc}


# ----- baseline 3: DuckDB SQL -----------------------------------------------------------------
def duckdb_sql(model) -> str:
    from lead_model.data.store import literal, quote

    cats, nums = points_of(model)
    terms = []
    for name, (levels, other, missing) in cats.items():
        whens = " ".join(f"WHEN {quote(name)} = {literal(v)} THEN {p}" for v, p in levels.items())
        terms.append(f"(CASE WHEN {quote(name)} IS NULL THEN {missing} {whens} ELSE {other} END)")
    for name, (mins, pts, missing) in nums.items():
        whens = " ".join(f"WHEN {quote(name)} >= {m} THEN {p}" for m, p in reversed(list(zip(mins[1:], pts[1:]))))
        terms.append(f"(CASE WHEN {quote(name)} IS NULL THEN {missing} {whens} ELSE {pts[0]} END)")
    return (
        f"WITH s AS (SELECT {' + '.join(terms)} AS score, y FROM leads),"
        " h AS (SELECT score, count(*) AS n, sum(y::INTEGER) AS c FROM s GROUP BY score)"
        " SELECT score, n, c, sum(n) OVER (ORDER BY score DESC) AS mql, sum(c) OVER (ORDER BY score DESC) AS tp"
        " FROM h ORDER BY score DESC"
    )


def duckdb_move(con, model) -> dict:
    res = con.execute(duckdb_sql(model)).fetchnumpy()
    score, n, c, mql, tp = (np.asarray(res[k]) for k in ("score", "n", "c", "mql", "tp"))
    p = c.sum()
    precision, recall = tp / mql, tp / p
    # deciles from the grouped counts: each decile's share of every score group it overlaps
    ends = np.concatenate(([0], np.cumsum(n)))
    total = ends[-1]
    bounds = (total * np.arange(11)) // 10
    conv_at = np.interp(bounds, ends, np.concatenate(([0], np.cumsum(c))))
    auc = auc_from_histogram(n[::-1].astype(float), c[::-1].astype(float))
    return {"score": score, "mql": mql, "tp": tp, "precision": precision, "recall": recall, "deciles": np.diff(conv_at), "auc": auc}


# ----- engine breakdown -----------------------------------------------------------------------
def engine_breakdown(leads, models, engine) -> dict[str, float]:
    """Median ms per step of a slider move: count scores (incremental), headline metrics, the sweep and decile tables, the other tables."""
    import importlib

    bt = importlib.import_module("lead_model.engine.backtest")  # the package exports a function of the same name

    steps: dict[str, list[float]] = {"count scores": [], "headline metrics and AUCs": [], "sweep + deciles tables": [], "grade, tier, distribution tables": []}
    for m in models:
        t0 = time.perf_counter()
        h = bt.score_histograms(leads, m, engine)
        t1 = time.perf_counter()
        r = bt.backtest_histograms(h, m)
        t2 = time.perf_counter()
        r.sweep, r.deciles
        t3 = time.perf_counter()
        r.by_grade, r.by_tier, r.score_distribution
        t4 = time.perf_counter()
        for key, seconds in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            steps[key].append(seconds)
    return {k: 1000 * statistics.median(v) for k, v in steps.items()}


def calibrate(rows: int) -> str:
    """The cost model's unit operations at this size, measured now (the machine may be shared)."""
    rng = np.random.default_rng(0)
    table = rng.integers(0, 50, 40_000).astype(np.int32)
    key = rng.integers(0, table.size, rows).astype(np.intp)
    out = np.empty(rows, dtype=np.int32)
    scores = rng.integers(0, 300, rows).astype(np.int32)
    take, count = [], []
    for _ in range(15):
        t = time.perf_counter()
        np.take(table, key, out=out)
        take.append(time.perf_counter() - t)
        t = time.perf_counter()
        np.bincount(scores, minlength=300)
        count.append(time.perf_counter() - t)
    return f"one np.take gather {1000 * statistics.median(take):.2f} ms, one np.bincount {1000 * statistics.median(count):.2f} ms over {rows:,} rows"


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"


# ----- main -----------------------------------------------------------------------------------
def run(rows: int, moves: int, baseline_moves: int, sample: int, seed: int) -> None:
    import duckdb
    import pandas as pd

    from lead_model import ScoringEngine, backtest, load_leads

    rng = np.random.default_rng(seed)
    print(f"== bench_backtest: {rows:,} leads, 18 attributes (12 categorical, 6 counts in 5 bins) ==")
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}, "
          f"pandas {pd.__version__}, duckdb {duckdb.__version__}")
    with tempfile.TemporaryDirectory(prefix="bench_leads_") as tmp:
        tmp = Path(tmp)
        csv_path = tmp / "leads.csv"
        t = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--generate-only", str(rows), str(csv_path), str(seed), "synthetic"],
                             capture_output=True, text=True, check=True)
        rate = json.loads(out.stdout.strip().splitlines()[-1])["conversion_rate"]
        print(f"generated {csv_path.stat().st_size / 1e6:,.0f} MB CSV in {time.perf_counter() - t:.1f} s "
              f"(converted {rate:.2%}; not part of any figure below)")

        # (a) load and encode, in a fresh process
        load = measure_load(csv_path, tmp / "child.duckdb")
        hwm = f", VmHWM {load['vm_hwm_mb']:,.0f} MB" if load.get("vm_hwm_mb") else ""
        print(f"load CSV -> ready-to-score LeadSet: {load['ready_seconds']:.2f} s | rows also in the store: {load['seconds']:.2f} s | "
              f"peak RSS {load['peak_rss_mb']:,.0f} MB (getrusage{hwm}; interpreter + imports {load['rss_after_imports_mb']:,.0f} MB)")
        if load.get("stages"):
            parts = ", ".join(f"{k} {v:.2f} s" for k, v in sorted(load["stages"].items(), key=lambda kv: -kv[1]))
            print(f"  load stages: {parts}")

        leads = load_leads(csv_path, "converted", store=tmp / "bench.duckdb")
        model = bench_model(leads, rng)
        models, edit_times = make_moves(model, moves + 3, rng)

        # (b) engine per move: reuse one engine across moves (3 warm-up moves not counted)
        t = time.perf_counter()
        engine = ScoringEngine(leads, model)
        build = time.perf_counter() - t
        times, results = [], []
        kinds = []
        for m in models:
            t = time.perf_counter()
            r = backtest(leads, m, engine)
            r.sweep, r.deciles  # the same outputs the baselines compute
            times.append(time.perf_counter() - t)
            results.append(r)
            kinds.append(engine._score_counter.last_move)
        engine_times = times[3:]
        engine_med = statistics.median(engine_times)
        # the same moves when every lead is recounted (an engine that kept no grid: apply-all, undo of many changes)
        recount_times = []
        for m in models[3:]:
            engine._score_counter.forget()
            t = time.perf_counter()
            r = backtest(leads, m, engine)
            r.sweep, r.deciles
            recount_times.append(time.perf_counter() - t)
        recount_med = statistics.median(recount_times)
        last_model, last = models[-1], results[-1]
        thresholds = list(range(int(last.sweep["threshold"].min()), int(last.sweep["threshold"].max()) + 1))
        th_times = []
        for thr in (thresholds * (1 + 50 // max(len(thresholds), 1)))[:60]:
            t = time.perf_counter()
            last.at_threshold(thr)
            th_times.append(time.perf_counter() - t)
        incremental = kinds[3:].count("delta")
        print(f"engine: built once in {ms(build)}; {len(engine_times)} slider moves ({incremental} incremental, {len(engine_times) - incremental} recounted), "
              f"median {ms(engine_med)} (min {ms(min(engine_times))}, max {ms(max(engine_times))}); model edit (with_points) median {ms(statistics.median(edit_times))}")
        print(f"  the same moves recounting every lead: median {ms(recount_med)} (min {ms(min(recount_times))}, max {ms(max(recount_times))})")
        print(f"threshold-only move (result.at_threshold): median {statistics.median(th_times) * 1e6:,.0f} us over {len(th_times)} thresholds")
        parts = " | ".join(f"{k} {v:.2f} ms" for k, v in engine_breakdown(leads, models[-10:], engine).items())
        print(f"  engine step medians: {parts}")
        keys = getattr(engine, "_keys", None)
        if keys is not None:
            shapes = ", ".join(f"{k.group} {'x'.join(map(str, k.radices))}" for k in keys)
            print(f"  packed keys: {len(keys)} ({shapes})")
        print(f"  this machine now: {calibrate(rows)}")

        # baselines: same data, same models (the last few moves)
        raw = duckdb.sql(f"SELECT * FROM read_csv({_lit(csv_path)}, header=true, all_varchar=false)").df()
        y = raw["converted"].astype(str).str.lower().isin(("yes", "true")).to_numpy()  # DuckDB may type yes/no as BOOLEAN
        cat_names, count_names = list(synthetic.CATEGORICAL), list(synthetic.COUNTS)
        for name in cat_names:  # placeholders are missing, as the engine treats them
            raw[name] = raw[name].where(~raw[name].isin(PLACEHOLDERS) & raw[name].notna(), None)
        base_models = models[-baseline_moves:]

        # vectorised pandas: category dtype and pre-binned counts are set up once, untimed
        cat_df = pd.DataFrame({n: raw[n].astype("category") for n in cat_names})
        for name in count_names:
            codes = np.searchsorted(np.asarray(COUNT_EDGES), raw[name].to_numpy(dtype=float), side="right")
            cat_df[name] = pd.Categorical(codes, categories=range(len(COUNT_EDGES) + 1))
        y_series = pd.Series(y)
        pd_times, agree = [], True
        for m in base_models:
            t = time.perf_counter()
            out = pandas_move(cat_df, y_series, m)
            pd_times.append(time.perf_counter() - t)
        r = backtest(leads, base_models[-1], engine)
        thr = r.sweep["threshold"].to_numpy()
        want = (r.sweep["mql"].to_numpy(), r.sweep["converted"].to_numpy())
        ps = out["sweep"]
        got = counts_at(ps["threshold"].to_numpy(), ps["mql"].to_numpy(), ps["converted"].to_numpy(), thr)
        agree &= bool((got[0] == want[0]).all() and (got[1] == want[1]).all()) and abs(out["auc"] - r.auc) < 1e-9

        # DuckDB SQL over the raw strings (placeholders already NULL), untimed table setup
        con = duckdb.connect()
        con.register("raw_df", raw.assign(y=y))
        con.execute("CREATE TABLE leads AS SELECT * FROM raw_df")
        con.unregister("raw_df")
        db_times = []
        for m in base_models:
            t = time.perf_counter()
            dout = duckdb_move(con, m)
            db_times.append(time.perf_counter() - t)
        got = counts_at(dout["score"], dout["mql"], dout["tp"], thr)
        agree &= bool((got[0] == want[0]).all() and (got[1] == want[1]).all()) and abs(dout["auc"] - r.auc) < 1e-9
        agree &= bool(np.allclose(dout["deciles"], r.deciles["converted"].to_numpy(), atol=1e-6))

        # naive pandas row-wise, on a sample, scaled linearly to all rows
        sample_n = min(sample, rows)
        sample_df = raw.iloc[:sample_n][cat_names + count_names]
        sample_df = sample_df.astype(object).where(sample_df.notna(), None)
        row_times = []
        rowwise_models = base_models[-min(3, len(base_models)):]
        for m in rowwise_models:
            t = time.perf_counter()
            rout = rowwise_move(sample_df, y[:sample_n], m)
            row_times.append(time.perf_counter() - t)
        from lead_model import score_leads

        engine_scores = score_leads(leads, rowwise_models[-1], engine)["score"].to_numpy()[:sample_n]
        rows_agree = bool((rout["scores"] == engine_scores).all())
        row_scaled = statistics.median(row_times) * rows / sample_n

        pd_med, db_med = statistics.median(pd_times), statistics.median(db_times)
        print(f"baselines: vectorised pandas and duckdb over {len(base_models)} of the same moves, "
              f"row-wise over {len(rowwise_models)} moves on the first {sample_n:,} rows, time scaled x{rows / sample_n:g} to {rows:,} rows")
        print("counts agree" if agree else "COUNTS DISAGREE", "(MQL and converted MQL at every threshold, AUC, deciles: engine vs pandas vs duckdb);",
              "row-wise scores agree" if rows_agree else "ROW-WISE SCORES DISAGREE", "(per lead, sample rows)")
        print(f"per-move engine median: {ms(engine_med)} | pandas vectorised: {ms(pd_med)} ({pd_med / engine_med:,.0f}x) | "
              f"duckdb sql: {ms(db_med)} ({db_med / engine_med:,.0f}x) | pandas row-wise (scaled): {ms(row_scaled)} ({row_scaled / engine_med:,.0f}x)")
        print(f"per-move engine median recounting every lead: {ms(recount_med)} | pandas vectorised {pd_med / recount_med:,.0f}x | "
              f"duckdb sql {db_med / recount_med:,.0f}x | pandas row-wise {row_scaled / recount_med:,.0f}x")


# ----- hostile data: the bars of issue 8 --------------------------------------------------------
BARS_MS = {"new model": 15.0, "full recount": 10.0, "one-level move": 5.0}
BAR_LOAD_SECONDS, BAR_PEAK_MB = 2.0, 1536.0


def prebinned_frame(raw, model):
    """Category-dtype columns for the pandas baseline: levels as is, counts as their bin index (NaN = missing)."""
    import pandas as pd

    frame = {}
    for a in model.attributes:
        if a.kind == "numeric":
            values = raw[a.name].to_numpy(dtype=float)
            codes = np.searchsorted(np.asarray(a.edges), values, side="right")
            codes[np.isnan(values)] = -1
            frame[a.name] = pd.Categorical.from_codes(codes, categories=range(len(a.edges) + 1))
        else:
            frame[a.name] = raw[a.name].astype("category")
    return pd.DataFrame(frame)


def _verdict(value_ms: float, bar_ms: float) -> str:
    return f"bar <= {bar_ms:g} ms {'MET' if value_ms <= bar_ms else 'NOT MET'}"


def run_hostile(rows: int, moves: int, baseline_moves: int, seed: int) -> None:
    import duckdb
    import pandas as pd

    from lead_model import backtest, load_leads
    from lead_model.model.starter import starter_model

    rng = np.random.default_rng(seed)
    print(f"== bench_backtest --data hostile: {rows:,} leads, 18 attributes (12 categorical with 2-12 levels, 3% missing, "
          f"a level with ~30% of leads; 6 negative-binomial counts 0-40), quoted/SQL column names, starter model, points -40..40 ==")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start, Python {platform.python_version()}, "
          f"numpy {np.__version__}, pandas {pd.__version__}, duckdb {duckdb.__version__}")
    with tempfile.TemporaryDirectory(prefix="bench_hostile_") as tmp:
        tmp = Path(tmp)
        csv_path = tmp / "hostile leads.csv"
        t = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--generate-only", str(rows), str(csv_path), str(seed), "hostile"],
                             capture_output=True, text=True, check=True)
        rate = json.loads(out.stdout.strip().splitlines()[-1])["conversion_rate"]
        print(f"generated {csv_path.stat().st_size / 1e6:,.0f} MB CSV in {time.perf_counter() - t:.1f} s (converted {rate:.2%}; not part of any figure below)")

        load = measure_load(csv_path, tmp / "child.duckdb")
        hwm = load.get("vm_hwm_mb") or load["peak_rss_mb"]
        met = load["ready_seconds"] <= BAR_LOAD_SECONDS and hwm <= BAR_PEAK_MB
        print(f"load CSV -> ready-to-score LeadSet: {load['ready_seconds']:.2f} s, peak RSS {hwm:,.0f} MB (VmHWM) | rows also in the store: "
              f"{load['seconds']:.2f} s | bar <= {BAR_LOAD_SECONDS:g} s and <= {BAR_PEAK_MB:,.0f} MB {'MET' if met else 'NOT MET'}")
        if load.get("stages"):
            parts = ", ".join(f"{k} {v:.2f} s" for k, v in sorted(load["stages"].items(), key=lambda kv: -kv[1]))
            print(f"  load stages: {parts}")

        leads = load_leads(csv_path, "converted", store=tmp / "bench.duckdb")
        start = starter_model(leads)
        keys_model = hostile.random_points_model(start, rng)

        # (1) a new model with the same layout, through the plain API: the first call builds the engine
        t = time.perf_counter()
        backtest(leads, keys_model)
        first = time.perf_counter() - t
        engine = leads.engine(keys_model)
        shapes = ", ".join(f"{k.group} {'x'.join(map(str, k.radices))}" for k in engine._keys)
        new_models = [hostile.random_points_model(start, rng) for _ in range(moves)]
        new_times, results = [], []
        for m in new_models:
            t = time.perf_counter()
            r = backtest(leads, m)
            r.sweep, r.deciles
            new_times.append(time.perf_counter() - t)
            results.append(r)
        new_med = statistics.median(new_times)

        # (2) a full recount: every points value changed at once, on the engine the caller holds
        recount_models = [hostile.random_points_model(start, rng) for _ in range(moves)]
        recount_times = []
        for m in recount_models:
            t = time.perf_counter()
            r = backtest(leads, m, engine)
            r.sweep, r.deciles
            recount_times.append(time.perf_counter() - t)
        recount_kind = engine._score_counter.last_move
        recount_med = statistics.median(recount_times)

        # (3) one-level slider moves: every level of every attribute, the ~30% levels included
        model = recount_models[-1]
        backtest(leads, model)
        slots = []
        for a in model.attributes:
            if a.kind == "numeric":
                slots += [(a.name, f"bin:{i}") for i in range(len(a.bins))] + [(a.name, "__missing__")]
            else:
                slots += [(a.name, lv.value) for lv in a.levels] + [(a.name, "__missing__")]
        order = rng.permutation(len(slots))
        by_share: dict[str, list[float]] = {}
        move_times, kinds = [], []
        top_times = []
        first_times, touched = [], set()  # the first move on an attribute also sorts its leads by code, once per engine
        for j in list(order) * 2:
            name, value = slots[j]
            model = model.with_points(name, value, int(rng.integers(-40, 41)))
            t = time.perf_counter()
            r = backtest(leads, model)
            r.sweep, r.deciles
            seconds = time.perf_counter() - t
            kinds.append(leads.engine(model)._score_counter.last_move)
            if name not in touched:
                touched.add(name)
                first_times.append(seconds)
                continue
            move_times.append(seconds)
            a = model.attribute(name)
            if a.kind != "numeric" and value == a.levels[0].value:
                top_times.append(seconds)
            by_share.setdefault(f"{name}={value}", []).append(seconds)
        move_med = statistics.median(move_times)
        worst_slot, worst = max(((k, statistics.median(v)) for k, v in by_share.items()), key=lambda kv: kv[1])
        top_med = statistics.median(top_times)
        top_share = float(np.mean([np.mean(leads.attribute(a.name).codes == 1) for a in model.attributes if a.kind != "numeric"]))

        # baselines on the same kind of model (every points value new), measured now
        raw = duckdb.sql(f"SELECT * FROM read_csv({_lit(csv_path)}, header=true)").df()
        y = raw["converted"].astype(str).str.lower().isin(("yes", "true")).to_numpy()
        base_models = recount_models[-baseline_moves:]
        cat_df = prebinned_frame(raw, base_models[-1])
        y_series = pd.Series(y)
        pd_times = []
        for m in base_models:
            t = time.perf_counter()
            pout = pandas_move(cat_df, y_series, m)
            pd_times.append(time.perf_counter() - t)
        con = duckdb.connect()
        con.register("raw_df", raw.assign(y=y))
        con.execute("CREATE TABLE leads AS SELECT * FROM raw_df")
        con.unregister("raw_df")
        db_times = []
        for m in base_models:
            t = time.perf_counter()
            dout = duckdb_move(con, m)
            db_times.append(time.perf_counter() - t)
        r = backtest(leads, base_models[-1], engine)
        thr = r.sweep["threshold"].to_numpy()
        want = (r.sweep["mql"].to_numpy(), r.sweep["converted"].to_numpy())
        agree = True
        for o, (score, mql, tp) in ((pout, (pout["sweep"]["threshold"].to_numpy(), pout["sweep"]["mql"].to_numpy(), pout["sweep"]["converted"].to_numpy())),
                                    (dout, (dout["score"], dout["mql"], dout["tp"]))):
            got = counts_at(score, mql, tp, thr)
            agree &= bool((got[0] == want[0]).all() and (got[1] == want[1]).all()) and abs(o["auc"] - r.auc) < 1e-9
        agree &= bool(np.allclose(dout["deciles"], r.deciles["converted"].to_numpy(), atol=1e-6))
        pd_med, db_med = statistics.median(pd_times), statistics.median(db_times)

        def vs(value: float) -> str:
            return f"pandas vectorised {pd_med / value:,.0f}x, duckdb sql {db_med / value:,.0f}x faster"

        print(f"engine: {len(engine._keys)} packed keys ({shapes}); first backtest(leads, model) built it: {ms(first)}")
        print(f"baselines (same run, {len(base_models)} models with every points value new): pandas vectorised median {ms(pd_med)}, "
              f"duckdb sql median {ms(db_med)}; " + ("counts agree" if agree else "COUNTS DISAGREE") +
              " (MQL and converted MQL at every threshold, AUC, deciles: engine vs pandas vs duckdb)")
        print(f"new model, same layout, lead_model.backtest(leads, model) + sweep + deciles: median {ms(new_med)} "
              f"(min {ms(min(new_times))}, max {ms(max(new_times))}) | {vs(new_med)} | {_verdict(1000 * new_med, BARS_MS['new model'])}")
        print(f"full recount (every points value changed, engine held): median {ms(recount_med)} (min {ms(min(recount_times))}, "
              f"max {ms(max(recount_times))}; counted as '{recount_kind}') | {vs(recount_med)} | {_verdict(1000 * recount_med, BARS_MS['full recount'])}")
        print(f"one-level slider move, every level and bin twice ({len(kinds)} moves, {kinds.count('delta')} incremental; the first move "
              f"on each of the 18 attributes left out, below): median {ms(move_med)} (max {ms(max(move_times))}) | {vs(move_med)} | "
              f"{_verdict(1000 * move_med, BARS_MS['one-level move'])}")
        print(f"  moves of each attribute's most common level (~{top_share:.0%} of leads): median {ms(top_med)} | "
              f"{_verdict(1000 * top_med, BARS_MS['one-level move'])}; slowest level (median of its moves): {worst_slot!r} {ms(worst)} | "
              f"{_verdict(1000 * worst, BARS_MS['one-level move'])}")
        print(f"  the first move on each attribute (also sorts that attribute's leads by code, once per engine): median "
              f"{ms(statistics.median(first_times))}, max {ms(max(first_times))}")
        print(f"  load average {os.getloadavg()[0]:.1f} at the end; this machine now: {calibrate(rows)}")


def _lit(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="synthetic leads to generate")
    parser.add_argument("--moves", type=int, default=30, help="weight moves timed for the engine (median)")
    parser.add_argument("--baseline-moves", type=int, default=7, help="moves timed for the pandas/duckdb baselines")
    parser.add_argument("--sample", type=int, default=20_000, help="rows the row-wise pandas baseline runs on")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--load-only", nargs=2, metavar=("CSV", "STORE"), help=argparse.SUPPRESS)
    parser.add_argument("--data", choices=("synthetic", "hostile", "both"), default="synthetic", help="which generated data set(s) to run on")
    parser.add_argument("--generate-only", nargs=4, metavar=("ROWS", "CSV", "SEED", "DATA"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_only:
        load_only(*args.load_only)
        return
    if args.generate_only:
        generate_only(int(args.generate_only[0]), args.generate_only[1], int(args.generate_only[2]), args.generate_only[3])
        return
    if args.data in ("synthetic", "both"):
        run(args.rows, max(args.moves, 25), args.baseline_moves, args.sample, args.seed)
    if args.data in ("hostile", "both"):
        run_hostile(args.rows, max(args.moves, 25), args.baseline_moves, args.seed)


if __name__ == "__main__":
    main()
