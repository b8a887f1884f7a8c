"""What the Review page and the CLI show of a review, in formatted numbers: KPI deltas, cohorts, drift and versions tables."""

from __future__ import annotations

import pandas as pd

from lead_model.formatting import DASH, count, is_number, lift, money, pct, score, signed


def unit_value(x: float, unit: str) -> str:
    """One number as its unit reads: 'share' -> '25.3%', 'leads' -> '1,240', 'ratio' -> '2.93x', 'auc' -> '0.774', 'points' -> '55', 'amount' -> '12.3M'."""
    if not is_number(x):
        return DASH
    if unit == "share":
        return pct(x)
    if unit == "ratio":
        return lift(x)
    if unit == "auc":
        return score(x)
    if unit == "amount":
        return money(x)
    return f"{int(round(x)):,}"


def unit_delta(x: float, unit: str) -> str:
    """A change as its unit reads, signed; '' when it rounds to nothing: '+3.2 pts', '-120', '+0.15x', '+0.012', '+1.4M'."""
    if not is_number(x):
        return ""
    if unit == "amount":
        shown = money(abs(x))
        return "" if shown == "0" else ("+" if x > 0 else "-") + shown
    scale, fmt, suffix = {"share": (100, "+.1f", " pts"), "ratio": (1, "+.2f", "x"), "auc": (1, "+.3f", "")}.get(unit, (1, "+,.0f", ""))
    return signed(x, fmt, suffix, scale) or ""


def kpi_rows(kpis: pd.DataFrame) -> pd.DataFrame:
    """``compare``'s KPI table for people: Metric, Before, After, Change (each formatted by its unit)."""
    return pd.DataFrame({
        "Metric": kpis["metric"],
        "Before": [unit_value(v, u) for v, u in zip(kpis["before"], kpis["unit"])],
        "After": [unit_value(v, u) for v, u in zip(kpis["after"], kpis["unit"])],
        "Change": [unit_delta(v, u) for v, u in zip(kpis["delta"], kpis["unit"])],
    })


_COHORT_VIEW = (
    ("period", "Period", None), ("leads", "Leads", "leads"), ("converted", "Converted", "leads"), ("conversion", "Conversion", "share"),
    ("mql", "MQLs", "leads"), ("mql_rate", "MQL rate", "share"), ("precision", "Precision", "share"), ("recall", "Recall", "share"),
    ("mql_conversion", "MQL conversion", "share"), ("rest_conversion", "Rest conversion", "share"),
    ("pipeline_captured", "Pipeline captured", "amount"), ("pipeline_missed", "Pipeline missed", "amount"),
)


def cohort_rows(periods: pd.DataFrame) -> pd.DataFrame:
    """The cohorts table (``review.cohorts``) for people: one row per period, numbers formatted, pipeline columns when present."""
    out = {}
    for key, label, unit in _COHORT_VIEW:
        if key in periods:
            out[label] = periods[key] if unit is None else [unit_value(v, unit) for v in periods[key]]
    return pd.DataFrame(out)


def band_rows(bands: pd.DataFrame) -> pd.DataFrame:
    """``cohort_bands`` as a wide table: one row per period, one 'conversion (leads)' cell per band."""
    cells = bands.assign(cell=[f"{pct(c)} ({n:,})" if n else DASH for c, n in zip(bands["conversion"], bands["leads"])])
    wide = cells.pivot(index="period", columns="band", values="cell")
    order = list(dict.fromkeys(bands["band"]))
    return wide[order].reindex(list(dict.fromkeys(bands["period"]))).reset_index().rename(columns={"period": "Period"})


def drift_rows(drift: pd.DataFrame) -> pd.DataFrame:
    """``Review.drift_table`` for people: Attribute, PSI, Verdict, Moved most, Reference, Recent."""
    return pd.DataFrame({
        "Attribute": drift["attribute"],
        "PSI": [f"{p:.3f}" if is_number(p) else DASH for p in drift["psi"]],
        "Verdict": drift["verdict"],
        "Moved most": drift["moved_most"].replace("", DASH),
        "Reference share": [pct(x) for x in drift["reference_share"]],
        "Recent share": [pct(x) for x in drift["recent_share"]],
    })


def level_rows(levels: pd.DataFrame) -> pd.DataFrame:
    """One attribute's levels (``AttributeDrift.table``) for people: Level, Reference, Recent, Change."""
    return pd.DataFrame({
        "Level": levels["level"],
        "Reference share": [pct(x) for x in levels["reference_share"]],
        "Recent share": [pct(x) for x in levels["recent_share"]],
        "Change": [unit_delta(b - a, "share") for a, b in zip(levels["reference_share"], levels["recent_share"])],
    })


def version_rows(versions) -> pd.DataFrame:
    """Saved versions (``VersionRegistry.list``) for people: Id, Name, Live, Author, Saved, Dataset, Precision, Recall, MQLs, Notes."""
    rows = []
    for v in versions:
        s = v.summary or {}
        rows.append({
            "Id": v.id, "Name": v.name, "Live": "live" if v.live else ("archived" if v.archived else ""), "Author": v.author or DASH,
            "Saved": v.created.replace("T", " ")[:16], "Dataset": v.dataset or DASH,
            "Precision": pct(s.get("precision")), "Recall": pct(s.get("recall")),
            "MQLs": f"{s['mql']:,}" if isinstance(s.get("mql"), int) else DASH, "Notes": (v.notes or "").replace("\n", " ")[:120],
        })
    return pd.DataFrame(rows, columns=["Id", "Name", "Live", "Author", "Saved", "Dataset", "Precision", "Recall", "MQLs", "Notes"])


def version_label(v) -> str:
    """'#3 Q3 tweaks (live)': how a version is named in pickers and sentences (plain text)."""
    tag = " (live)" if v.live else (" (archived)" if v.archived else "")
    return f"#{v.id} {v.name}{tag}"


def summary_text(sentences: list[str]) -> str:
    """The review's sentences as one paragraph per line, ready to paste into meeting notes."""
    return "\n".join(f"- {s}" for s in sentences)


def leads_share(n: int, total: int) -> str:
    """'1,240 leads (12.4%)'."""
    return f"{count(n)} ({pct(n / total) if total else DASH})"


__all__ = ["band_rows", "cohort_rows", "drift_rows", "kpi_rows", "leads_share", "level_rows", "summary_text", "unit_delta", "unit_value",
           "version_label", "version_rows"]
