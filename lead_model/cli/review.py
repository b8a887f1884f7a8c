"""`lead-model review` and `lead-model compare`: the quarterly review and a side-by-side of two models (twins of lead_model.review)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lead_model.cli.main import exclude_option, main, outcome_option, store_option
from lead_model.errors import LeadModelError

if TYPE_CHECKING:
    from lead_model.model.schema import ScoringModel
    from lead_model.review import Comparison, Review


def load_model(model_path: Path | None, version: int | None, store: Path | None, model_flag: str = "--model", version_flag: str = "--version",
               required: str = "the model to review") -> tuple[ScoringModel, str, bool]:
    """The model from a file or a saved version, where it came from ('b.yaml', "version 3 'Q3 tweaks'") and whether it is the live version.

    One sentence (LeadModelError) when both or neither are given.
    """
    if model_path is not None and version is not None:
        raise LeadModelError(f"give {model_flag} FILE or {version_flag} ID, not both.")
    if model_path is None and version is None:
        raise LeadModelError(f"give {required} with {model_flag} FILE or {version_flag} ID.")
    if model_path is not None:
        from lead_model.model.schema import ScoringModel

        return ScoringModel.from_file(model_path), Path(model_path).name, False
    from lead_model.model.versions import VersionRegistry

    saved = VersionRegistry(store).get(version)
    return saved.model, f"version {saved.id} '{saved.name}'", saved.live


def _table(header: list[str], rows: list[list[str]], left: tuple[int, ...] = (0,)) -> list[str]:
    """Columns padded to their widest cell; the columns in ``left`` (text) left-aligned, the others (numbers) right-aligned."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    fmt = lambda cells: "  ".join(str(c).ljust(w) if i in left else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()  # noqa: E731
    return [fmt(header), *[fmt(r) for r in rows]]


def review_report(r: Review, dataset: str) -> str:
    """The review as text: the periods table, the drift table and the summary."""
    from lead_model.formatting import count, pct, score
    from lead_model.review.describe import unit_value
    from lead_model.review.drift import share

    t = r.periods
    lines = [
        f"Review of '{r.model.metadata.name}' on '{dataset}' by {r.by}: {count(int(t['leads'].sum()))} from {t['period'].iloc[0]} to "
        f"{t['period'].iloc[-1]}; drift from {r.reference} (reference) to {r.recent} (recent).",
        "",
    ]
    money = "pipeline_captured" in t.columns
    header = ["period", "leads", "conversion", "MQLs", "MQL rate", "precision", "recall", "MQL conv.", "rest conv.", "AUC"]
    header += ["captured", "missed"] if money else []
    rows = []
    for row in t.itertuples(index=False):
        cells = [row.period, f"{row.leads:,}", pct(row.conversion), f"{row.mql:,}", pct(row.mql_rate), pct(row.precision), pct(row.recall),
                 pct(row.mql_conversion), pct(row.rest_conversion), score(row.auc)]
        if money:
            cells += [unit_value(row.pipeline_captured, "amount"), unit_value(row.pipeline_missed, "amount")]
        rows.append(cells)
    lines += _table(header, rows)
    lines += ["", f"Drift from {r.reference} to {r.recent} (PSI below 0.10 stable, 0.10 to 0.25 watch, 0.25 and above act):"]
    drift_rows = [["score", f"{r.score.psi:.3f}", r.score.verdict, ""]]
    for d in r.attributes:
        top = d.moved_most(1)
        moved = f"{top[0].level}: {share(top[0].reference_share)} -> {share(top[0].recent_share)}" if top else ""
        drift_rows.append([d.attribute, f"{d.psi:.3f}", d.verdict, moved])
    lines += _table(["attribute", "PSI", "verdict", "level that moved most"], drift_rows, left=(0, 2, 3))
    lines += ["", "Summary:", *[f"- {s}" for s in r.summary]]
    return "\n".join(lines)


def compare_report(c: Comparison, dataset: str, before_source: str | None = None, after_source: str | None = None) -> str:
    """The comparison as text: what changed, the KPI table with deltas, the crossers."""
    from lead_model.review.describe import unit_delta, unit_value

    after = after_source or f"'{c.after.metadata.name}'"
    before = before_source or f"'{c.before.metadata.name}'"
    lines = [f"{after} (after) against {before} (before) on '{dataset}'.", "", f"What changed from {before} to {after}:"]
    lines += [f"- {s}" for s in c.changes] or ["- nothing: the two models are the same."]
    rows = []
    for k in c.kpis.itertuples(index=False):
        rows.append([k.metric, unit_value(k.before, k.unit), unit_value(k.after, k.unit), unit_delta(k.delta, k.unit) or "0"])
    lines += ["", *_table(["KPI", "before", "after", "delta"], rows)]
    lines += ["", "Leads crossing the MQL line: " + c.crossers.sentence()]
    if len(c.examples):
        cols = [col for col in ("lead_id", "row", "score_before", "score_after", "mql_after", "converted") if col in c.examples.columns]
        ex = [[str(v) for v in row] for row in c.examples[cols].head(10).itertuples(index=False)]
        lines += ["", "Examples (points per attribute with --json):", *_table(cols, ex, left=(0,))]
    return "\n".join(lines)


@main.command("review")
@click.argument("data")
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None, help="The model file (.json or .yaml) to review.")
@click.option("--version", "version", type=int, default=None, help="A saved version's id to review instead of a file (see 'lead-model versions list').")
@click.option("--by", type=click.Choice(["quarter", "month"]), default="quarter", show_default=True, help="Periods of the review.")
@click.option("--reference", default=None, metavar="PERIOD", help="The period drift is measured from, like 2024-Q1 or 2024-01 (default: the first).")
@click.option("--recent", default=None, metavar="PERIOD", help="The period drift is measured to (default: the last).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the report.")
@outcome_option
@exclude_option
@store_option
def review_command(data: str, model_path: Path | None, version: int | None, by: str, reference: str | None, recent: str | None, as_json: bool,
                   outcome: str | None, exclude: tuple[str, ...], store: Path | None) -> None:
    """Review a model over time: per-period volume, MQLs, precision and recall, score and attribute drift (PSI), and a summary."""
    from lead_model.data.leads import load_leads
    from lead_model.review import review

    model, source, live = load_model(model_path, version, store)
    label = "the live model" if live else (source if version is not None else "the model")
    leads = load_leads(data, outcome, store=store, model=model, exclude=exclude)
    result = review(leads, model, by=by, reference=reference, recent=recent, model_label=label)
    click.echo(json.dumps(result.to_json(), indent=2) if as_json else review_report(result, leads.name))


@main.command("compare")
@click.argument("data")
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None, help="The new model file (.json or .yaml): the 'after' side.")
@click.option("--version", "version", type=int, default=None, help="A saved version's id as the new model instead of a file.")
@click.option("--against", "against_path", type=click.Path(path_type=Path), default=None, help="The model file it is compared against: the 'before' side.")
@click.option("--against-version", type=int, default=None, help="A saved version's id to compare against instead of a file.")
@click.option("--examples", type=click.IntRange(min=0), default=20, show_default=True, help="Crossing leads to list (with --json, with their points).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the report.")
@outcome_option
@store_option
def compare_command(data: str, model_path: Path | None, version: int | None, against_path: Path | None, against_version: int | None, examples: int,
                    as_json: bool, outcome: str | None, store: Path | None) -> None:
    """Compare two models on the same leads: what changed, every KPI with its delta, and the leads crossing the MQL line."""
    from lead_model.data.leads import load_leads
    from lead_model.review import compare

    after, after_source, _ = load_model(model_path, version, store, required="the new model")
    before, before_source, _ = load_model(against_path, against_version, store, "--against", "--against-version", required="the model to compare against")
    leads = load_leads(data, outcome, store=store, model=after)
    result = compare(leads, before, after, examples=examples)
    if as_json:
        click.echo(json.dumps({**result.to_json(), "before_source": before_source, "after_source": after_source}, indent=2))
    else:
        click.echo(compare_report(result, leads.name, before_source, after_source))
