"""The lead-model command line: a thin layer over the lead_model API (every command has a Python twin)."""

from __future__ import annotations

import errno
import json
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lead_model.errors import LeadModelError

if TYPE_CHECKING:  # the commands import the core themselves, so `lead-model --help` starts fast
    from lead_model.data.leads import LeadSet
    from lead_model.engine.backtest import BacktestResult
    from lead_model.model.schema import ScoringModel

STORE_HELP = "DuckDB lead store file (default: $LEAD_MODEL_STORE or ./lead_store.duckdb)."
DEBUG_ENV = "LEAD_MODEL_DEBUG"


# ----- the error boundary ----------------------------------------------------------------
def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].rstrip(".") if text else exc.__class__.__name__


def _os_error_message(exc: OSError) -> str:
    name = exc.filename or "the file"
    if exc.errno == errno.ENOENT:
        return f"{name} does not exist (or its folder does not); check the path and create the folder first."
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied for {name}; choose a path you can read and write, or fix its permissions."
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return f"the disk is full while writing {name}; free some space or write somewhere else."
    if exc.errno == errno.EISDIR:
        return f"{name} is a folder; give the path of a file."
    if exc.errno == errno.ENOTDIR:
        return f"part of the path {name} is a file, not a folder; check the path."
    if exc.errno == errno.EROFS:
        return f"{name} is on a read-only disk; write somewhere else."
    return f"{exc.strerror or _first_line(exc)} ({name}); check the path, its permissions and free disk space."


def error_message(exc: BaseException) -> str:
    """One sentence naming the problem and the fix, for any exception a command raised.

    Library modules are only looked at if a command already imported them, so the error
    path never imports pandas, DuckDB or Arrow itself.
    """
    if isinstance(exc, LeadModelError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "ran out of memory; close other programs, or use a smaller file or fewer attributes."
    if isinstance(exc, UnicodeEncodeError):  # printing 'Société' to a terminal that is not UTF-8
        return f"a character cannot be written as {exc.encoding} ({exc.reason}); use a UTF-8 terminal or set PYTHONIOENCODING=utf-8."
    if isinstance(exc, UnicodeError):
        where = f" at byte {exc.start}" if isinstance(exc, UnicodeDecodeError) else ""
        detail = f"{getattr(exc, 'encoding', 'text')}{where}: {getattr(exc, 'reason', _first_line(exc))}"
        return f"a file is not in the expected text encoding ({detail}); save it as UTF-8 and rerun."
    pydantic = sys.modules.get("pydantic")
    if pydantic is not None and isinstance(exc, pydantic.ValidationError):
        err = exc.errors()[0] if exc.errors() else {"loc": (), "msg": _first_line(exc)}
        field = ".".join(str(p) for p in err.get("loc", ())) or exc.title
        return f"invalid value for '{field}': {err.get('msg', '').rstrip('.')}; fix it and rerun."
    duckdb = sys.modules.get("duckdb")
    if duckdb is not None and isinstance(exc, duckdb.Error):
        if isinstance(exc, duckdb.OutOfMemoryException):
            return "the lead store ran out of memory; close other programs or use a smaller file."
        if isinstance(exc, duckdb.IOException):
            return f"the lead store could not read or write a file ({_first_line(exc)}); check the path, its permissions and free disk space."
        return f"the data could not be processed ({_first_line(exc)}); check the file's format and values."
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None and isinstance(exc, pyarrow.ArrowException):
        return f"the data could not be read ({_first_line(exc)}); check the file for malformed or mixed-up values."
    if isinstance(exc, OSError):
        return _os_error_message(exc)
    return f"unexpected error ({exc.__class__.__name__}: {_first_line(exc)}); rerun with {DEBUG_ENV}=1 for the traceback."


class LeadModelGroup(click.Group):
    """A command group whose every command ends in one 'Error: ...' line (exit 1), never a traceback.

    Usage errors stay click's. With LEAD_MODEL_DEBUG=1 the traceback is printed too.
    """

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except OSError as exc:
            if exc.errno == errno.EPIPE:  # output piped into `head`: click closes quietly
                raise
            raise self._user_error(exc) from None
        except Exception as exc:
            raise self._user_error(exc) from None

    @staticmethod
    def _user_error(exc: Exception) -> click.ClickException:
        if os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            traceback.print_exception(exc, file=sys.stderr)
        return click.ClickException(error_message(exc))


def _store_value(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """--store's callback: every store the command opens says on stderr, once per command, that it waits for a busy file."""
    from lead_model.data.store import set_wait_notice

    said: list[Path] = []

    def say_waiting(path: Path) -> None:
        if not said:
            said.append(path)
            click.echo(f"Waiting for the lead store {path} (another lead-model or app is using it) ...", err=True)

    set_wait_notice(say_waiting)
    return value


def store_option(fn):
    return click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None, help=STORE_HELP, callback=_store_value)(fn)


def outcome_option(fn):
    return click.option("--outcome", default=None, help="The converted yes/no column (inferred when not given).")(fn)


def engine_options(fn):
    fn = click.option("--spark-master", default=None, metavar="URL",
                      help="With --engine spark: the cluster's master URL (default: $SPARK_MASTER, else local mode on 2 cores).")(fn)
    return click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
                        help="local: this machine; spark: the model's SQL on Apache Spark (DATA: a CSV/Parquet path Spark reads).")(fn)


def exclude_option(fn):
    return click.option(
        "--exclude", multiple=True, metavar="COL", help="A column to leave out of the model (repeatable), e.g. one filled in after sales contact."
    )(fn)


@click.group(cls=LeadModelGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="lead-model-studio")
def main() -> None:
    """Design, backtest and ship a lead scoring model.

    DATA is a CSV/Parquet file (loaded into the store) or the name of a dataset already in the store.
    """


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--name", default=None, help="Dataset name in the store (default: the file name without extension).")
@outcome_option
@exclude_option
@click.option("--created", "created", default=None, metavar="COL",
              help="The column of the date each lead was created (inferred when not given); reviews put leads in periods by it.")
@store_option
def load(file: Path, name: str | None, outcome: str | None, exclude: tuple[str, ...], created: str | None, store: Path | None) -> None:
    """Load a CSV or Parquet file of historical leads into the store and show the inferred roles."""
    from lead_model.data.leads import load_leads
    from lead_model.data.roles import RoleOverride

    roles = {created: RoleOverride(role="created")} if created else None
    leads = load_leads(file, outcome, store=store, name=name, exclude=exclude, roles=roles)
    click.echo(load_report(leads))
    _warn_leaks(leads)


@main.command()
@store_option
def datasets(store: Path | None) -> None:
    """List the datasets in the store."""
    from lead_model.data.store import LeadStore

    rows = LeadStore(store).datasets()
    if not rows:
        click.echo("The store has no datasets yet; add one with 'lead-model load FILE'.")
        return
    for d in rows:
        click.echo(f"{d.name:30} {d.rows:>10,} rows  loaded {d.loaded_at}  from {d.source}")


@main.command()
@click.argument("data")
@outcome_option
@exclude_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Model file to write (.json, .yaml or .yml).")
@click.option("--name", "model_name", default=None, help="The model's name in its metadata.")
@store_option
def init(data: str, outcome: str | None, exclude: tuple[str, ...], output: Path, model_name: str | None, store: Path | None) -> None:
    """Write a starter model: every usable attribute at 0 points, numeric attributes in quantile bins."""
    from lead_model.data.leads import load_leads
    from lead_model.model.starter import starter_model

    leads = load_leads(data, outcome, store=store, exclude=exclude)
    model = starter_model(leads, name=model_name)
    model.to_file(output)
    fit = sum(a.group == "fit" for a in model.attributes)
    click.echo(f"Wrote {output} with {len(model.attributes)} attributes ({fit} fit, {len(model.attributes) - fit} engagement), all at 0 points.")
    _warn_leaks(leads)


@main.command("backtest")
@click.argument("data")
@click.option("--model", "model_path", type=click.Path(path_type=Path), required=True, help="The model file (.json or .yaml).")
@outcome_option
@click.option("--threshold", type=int, default=None, help="Backtest at this MQL threshold instead of the model's.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the report.")
@engine_options
@store_option
def backtest_command(data: str, model_path: Path, outcome: str | None, threshold: int | None, as_json: bool, engine: str, spark_master: str | None,
                     store: Path | None) -> None:
    """Backtest a model on historical leads: precision, recall, lift, AUC, deciles and every threshold."""
    from lead_model.data.leads import load_leads
    from lead_model.engine.backtest import backtest
    from lead_model.model.schema import ScoringModel

    model = ScoringModel.from_file(model_path)
    if threshold is not None:
        model = model.replace(mql_threshold=threshold)
    if engine == "spark":  # Spark counts the histograms, this machine computes every metric from them
        from lead_model.data.store import dataset_name_for
        from lead_model.engine.spark import spark_backtest

        result, dataset = spark_backtest(data, model, outcome=outcome, master=spark_master), dataset_name_for(Path(data.rstrip("/")))
    else:
        leads = load_leads(data, outcome, store=store, model=model)
        result, dataset = backtest(leads, model), leads.name
    if as_json:
        click.echo(json.dumps(result.summary(), indent=2))
    else:
        click.echo(backtest_report(dataset, model, result))


@main.command()
@click.argument("data")
@click.option("--model", "model_path", type=click.Path(path_type=Path), required=True, help="The model file (.json or .yaml).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="File to write: CSV, or Parquet when the name ends in .parquet.")
@click.option("--reasons", is_flag=True, help="Also write points_<attribute> per attribute and each lead's top reasons in words (column 'reasons').")
@click.option("--raw", is_flag=True, help="CSV: write text cells starting with = + - @ as they are (by default they get a leading ' so spreadsheets never run them).")
@engine_options
@store_option
def score(data: str, model_path: Path, output: Path, reasons: bool, raw: bool, engine: str, spark_master: str | None, store: Path | None) -> None:
    """Score leads: the input rows in input order with score, fit_score, engagement_score, grade, tier, knocked_out, is_mql."""
    from lead_model.data.leads import load_leads
    from lead_model.export.scored import write_scored
    from lead_model.model.schema import ScoringModel

    model = ScoringModel.from_file(model_path)
    if engine == "spark":
        from lead_model.engine.spark import spark_score

        if reasons:
            raise LeadModelError("--reasons needs the local engine; drop --reasons or score with --engine local.")
        written = spark_score(data, model, output, raw=raw, master=spark_master)
        click.echo(f"Wrote {output}: {written.rows:,} rows scored with '{model.metadata.name}' on Spark.")
        return
    leads = load_leads(data, store=store, model=model, require_outcome=False)
    write_scored(leads, model, output, reasons=reasons, raw=raw)
    click.echo(f"Wrote {output}: {leads.summary.rows:,} rows scored with '{model.metadata.name}'.")


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to this file instead of printing.")
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the model file."""
    from lead_model.model.schema import json_schema

    text = json.dumps(json_schema(), indent=2)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"Wrote {output}")
    else:
        click.echo(text)


# ----- reports ----------------------------------------------------------------------
def load_report(leads: LeadSet) -> str:
    from lead_model.formatting import count

    s = leads.summary
    lines = [
        f"Dataset '{leads.name}': {count(s.leads)}, {s.converted:,} converted ({leads.base_rate:.2%}); outcome '{leads.outcome}' = '{s.positive_value}' means converted.",
        "",
        f"{'column':28} {'role':10} {'kind':12} {'group':11} why",
    ]
    for r in leads.roles.values():
        lines.append(f"{r.name[:28]:28} {r.role:10} {r.kind or '':12} {r.shown_group or '':11} {r.reason}")  # 'unknown': counted as fit
    if s.notes:
        lines += ["", *[f"- {n}" for n in s.notes]]
    return "\n".join(lines)


def backtest_report(dataset: str, model: ScoringModel, r: BacktestResult) -> str:
    from lead_model.formatting import count, pct

    lines = [
        f"Model '{model.metadata.name}' on '{dataset}': {count(r.leads)}, {r.converted:,} converted ({r.base_rate:.2%}).",
        f"MQL threshold {r.threshold}: {r.mql:,} MQLs ({pct(r.mql_rate)} of leads).",
        f"Of {r.mql:,} MQLs, {r.mql_converted:,} converted (precision {pct(r.precision)}); "
        f"{r.missed:,} conversions were missed below the threshold (recall {pct(r.recall)}).",
        f"F1 {r.f1:.3f}  lift at threshold {r.lift_at_threshold:.2f}x  ROC AUC {r.auc:.3f}  PR AUC {r.pr_auc:.3f}",
    ]
    if r.knocked_out:
        lines.append(f"Knocked out: {count(r.knocked_out)} ({r.knocked_out_converted:,} of them converted).")
    lines += ["", "Deciles (1 = top 10% by score):", f"{'decile':>6} {'leads':>9} {'converted':>10} {'conv rate':>9} {'lift':>6} {'cum recall':>10}"]
    for d in r.deciles.itertuples():
        lines.append(f"{d.decile:>6} {d.leads:>9,} {d.converted:>10,.1f} {pct(d.conversion_rate):>9} {d.lift:>6.2f} {pct(d.cumulative_recall):>10}")
    for title, table, col in (("Tiers", r.by_tier, "tier"), ("Grades (fit)", r.by_grade, "grade")):
        lines += ["", f"{title}:"]
        for t in table.itertuples():
            name = getattr(t, col)
            lines.append(f"  {name:12} {t.leads:>9,} {'lead ' if t.leads == 1 else 'leads'}  {pct(t.conversion_rate):>6} converted  (95% CI {pct(t.ci_low)}-{pct(t.ci_high)})")
    return "\n".join(lines)


def _warn_leaks(leads: LeadSet) -> None:
    """Warn (on stderr) about columns that look like they leak the outcome; the one place the CLI asks which columns leak."""
    from lead_model.data.leaks import leak_check

    for v in leak_check(leads).values():
        for line in leak_lines(v, leads.name):
            click.echo(line, err=True)


def leak_lines(v, dataset: str) -> list[str]:
    """What the CLI says about one leak verdict: a warning for a leaky column, a question for a doubtful one."""
    answer = f"answer with: lead-model leaks {_shell_word(dataset)} --known {_shell_word(v.column)} (or --after)"
    if v.leaky:
        fix = f" It stays out of suggestions; to leave it out of models too, use --exclude {_shell_word(v.column)}."
        if v.answer is None:
            fix += f" If it is known before sales contact, {answer}."
        if v.answer is None and v.pure_level is not None:  # the app's "Ignore level X only"
            fix += (f" If only '{v.pure_level}' is recorded after sales contact, answer with: lead-model leaks {_shell_word(dataset)} "
                    f"--level-after {_shell_word(f'{v.column}={v.pure_level}')}.")
        return [f"Warning: possible leak: {v.evidence}{fix}"]
    if v.needs_answer:
        return [f"Question: {v.question} {answer[0].upper()}{answer[1:]}."]
    return []


def _shell_word(name: str) -> str:
    """A column name as one shell word (names with spaces or quotes are common in CRM exports)."""
    import shlex

    return shlex.quote(name)


@main.command()
@click.argument("data")
@click.option("--known", multiple=True, metavar="COL", help="COL is known before sales contact: keep it even if a rule flags it (repeatable).")
@click.option("--after", multiple=True, metavar="COL", help="COL is filled in after sales contact: leave it out of suggestions (repeatable).")
@click.option("--level-after", multiple=True, metavar="COL=LEVEL",
              help="Only LEVEL of COL is recorded after sales contact: COL is judged without it and LEVEL gets no points of its own (repeatable).")
@click.option("--forget", multiple=True, metavar="COL[=LEVEL]", help="Forget the answers for COL (or for one LEVEL of it) (repeatable).")
@outcome_option
@store_option
def leaks(data: str, known: tuple[str, ...], after: tuple[str, ...], level_after: tuple[str, ...], forget: tuple[str, ...], outcome: str | None,
          store: Path | None) -> None:
    """Show which columns look like they leak the outcome, and record whether each (or one level of it) is known before sales contact."""
    from lead_model.data.leads import load_leads
    from lead_model.data.leaks import ignored_levels_sentence, leak_check, save_answer, save_level_answer, split_column_level, stored_levels, usable_levels

    leads = load_leads(data, outcome, store=store)
    for column, answer in [*((c, True) for c in known), *((c, False) for c in after)]:
        save_answer(leads, column, answer)
    for text in level_after:
        save_level_answer(leads, *split_column_level(leads, text), True)
    for text in forget:
        if text in leads.profiles:  # the column's answer and those of its levels
            save_answer(leads, text, None)
            for level in stored_levels(leads).get(text, ()):
                save_level_answer(leads, text, level, None)
        else:
            save_level_answer(leads, *split_column_level(leads, text), None)
    verdicts = leak_check(leads)
    lines = [line for v in verdicts.values() for line in leak_lines(v, leads.name)]
    kept = [v.column for v in verdicts.values() if v.answer is True]
    click.echo("\n".join(lines) if lines else f"No column of '{leads.name}' looks like it leaks the outcome.")
    if kept:
        click.echo(f"Known before sales contact (your answers, kept): {', '.join(kept)}.")
    for column, levels in usable_levels(leads, stored_levels(leads)).items():
        click.echo(f"{column}: {ignored_levels_sentence(levels)}")


# ----- suggestions -------------------------------------------------------------------
@main.command()
@click.argument("data")
@outcome_option
@exclude_option
@click.option("--monotonic-bins", is_flag=True, help="Merge numeric bins until conversion rates rise or fall steadily.")
@store_option
def stats(data: str, outcome: str | None, exclude: tuple[str, ...], monotonic_bins: bool, store: Path | None) -> None:
    """Print every attribute's predictive strength (information value, Cramer's V, chi-square p) and flag leaky ones."""
    from lead_model.data.leads import load_leads
    from lead_model.suggest.stats import attribute_statistics, stats_report

    leads = load_leads(data, outcome, store=store, exclude=exclude)
    click.echo(stats_report(attribute_statistics(leads, monotonic=monotonic_bins)))
    _warn_leaks(leads)


@main.command()
@click.argument("data")
@outcome_option
@exclude_option
@click.option("--max-attributes", type=click.IntRange(min=1), default=10, show_default=True, help="Score on at most this many attributes (the strongest in a joint fit; start with 5-10).")
@click.option("--holdout", type=click.Choice(["auto", "time", "random", "none"]), default="auto", show_default=True,
              help="Hold out the newest quarter(s) (time), a random 25% (random) or nothing; auto = time when there is a created date.")
@click.option("--points-to-double", type=click.FloatRange(min=0, min_open=True), default=None, help="Scale: this many points double the odds of converting.")
@click.option("--max-score", type=click.FloatRange(min=0, min_open=True), default=None, help="Scale: the best possible lead scores about this (default 100).")
@click.option("--include-leaky", is_flag=True, help="Also use attributes that look leaky (too good to be true).")
@click.option("--monotonic-bins", is_flag=True, help="Merge numeric bins until conversion rates rise or fall steadily.")
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None,
              help="The current model (.json or .yaml): its points are shown beside the suggested ones and can be locked.")
@click.option("--lock", multiple=True, metavar="ATTR[=LEVEL]",
              help="Keep an attribute of --model (or one level of it, e.g. job_level=VP) as it is; the rest is fit around it. Repeatable.")
@click.option("--target-precision", type=click.FloatRange(min=0, max=1, min_open=True), default=None, help="Threshold rule: the lowest score whose MQLs convert at least this often (0-1; default twice the base rate).")
@click.option("--target-recall", type=click.FloatRange(min=0, max=1, min_open=True), default=0.7, show_default=True, help="Threshold rule: the highest score that still catches this share of conversions (0-1).")
@click.option("--converted-share", type=click.FloatRange(min=0, max=1, min_open=True), default=0.9, show_default=True, help="Threshold rule: the score this share of past converted leads reached (0-1).")
@click.option("--capacity", type=click.FloatRange(min=0, min_open=True), default=None,
              help="MQLs sales can work per month, for the capacity threshold (default 10% of the leads arriving; "
                   "without a created date: MQLs in the whole training part).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Model file to write (.json, .yaml or .yml).")
@store_option
def suggest(data: str, outcome: str | None, exclude: tuple[str, ...], max_attributes: int, holdout: str, points_to_double: float | None,
            max_score: float | None, include_leaky: bool, monotonic_bins: bool, model_path: Path | None, lock: tuple[str, ...],
            target_precision: float | None, target_recall: float, converted_share: float, capacity: float | None, output: Path,
            store: Path | None) -> None:
    """Suggest points and an MQL threshold from history: fit on older leads (or a random part), checked on held-out ones."""
    from lead_model.data.leads import load_leads
    from lead_model.model.schema import ScoringModel
    from lead_model.suggest.fit import suggest as suggest_model
    from lead_model.suggest.fit import suggestion_report
    from lead_model.suggest.stats import stats_report

    if points_to_double is not None and max_score is not None:
        raise click.UsageError("give --points-to-double or --max-score, not both.")
    if lock and model_path is None:
        raise click.UsageError("--lock keeps points of the current model; give that model with --model FILE.")
    current = ScoringModel.from_file(model_path) if model_path is not None else None
    locked_attributes = tuple(item for item in lock if "=" not in item)
    locked_levels = tuple(tuple(item.split("=", 1)) for item in lock if "=" in item)
    leads = load_leads(data, outcome, store=store, exclude=exclude, model=current)
    result = suggest_model(
        leads, current, holdout=holdout, max_attributes=max_attributes, points_to_double=points_to_double,
        max_score=max_score if max_score is not None else 100.0, include_leaky=include_leaky, monotonic_bins=monotonic_bins,
        locked_attributes=locked_attributes, locked_levels=locked_levels, target_precision=target_precision,
        target_recall=target_recall, converted_share=converted_share, capacity_per_month=capacity,
    )
    result.model.to_file(output)  # before the report, so a bad path ends in one line
    scope = "training leads (the points are fit on these)" if result.split.method != "none" else "leads"
    click.echo(stats_report(result.points.stats, scope))
    click.echo("")
    click.echo(suggestion_report(result))
    _warn_leaks(leads)
    click.echo(f"\nWrote {output}: {len(result.model.attributes)} attributes fit on {result.split.n_train:,} training leads, "
               f"MQL threshold {result.model.mql_threshold} (max F1 on the training leads).")


from lead_model.cli import review as _review  # noqa: E402,F401  (registers the review and compare commands)
from lead_model.cli import versions as _versions  # noqa: E402,F401  (registers the versions group)
from lead_model.cli import ship as _ship  # noqa: E402,F401  (registers export-config, check-config and report)
from lead_model.cli import export_sql as _export_sql  # noqa: E402,F401  (registers export-sql)
