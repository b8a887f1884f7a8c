"""`lead-model export-config`, `check-config` and `report`: the agreed model out of the room (twins of lead_model.export).

Imported by the last lines of cli/main.py, which registers the commands on ``main``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from lead_model.cli.main import main, outcome_option, store_option
from lead_model.errors import LeadModelError

if TYPE_CHECKING:
    from lead_model.export.config import ShippingConfig, Signoff

CONFIG_SUFFIXES = (".json", ".yaml", ".yml")


def _signoff(sales: str | None, marketing: str | None, date: str | None, notes: str | None) -> Signoff | None:
    """The sign-off the options give, None when none was given; both names are needed."""
    if sales is None and marketing is None:
        if date is not None or notes is not None:
            raise LeadModelError("--signoff-date and --signoff-notes go with a sign-off; give --signed-sales NAME and --signed-marketing NAME too.")
        return None
    if sales is None or marketing is None:
        missing = "--signed-marketing" if marketing is None else "--signed-sales"
        raise LeadModelError(f"a sign-off needs a name for sales and for marketing; give {missing} NAME too.")
    from lead_model.export.config import make_signoff

    return make_signoff(sales, marketing, date, notes or "")


def _source(model_path: Path | None, version: int | None, store: Path | None) -> tuple[ShippingConfig, str]:
    """The config a --model file (a model or a shipping config) or a --version holds, and where it came from."""
    if (model_path is None) == (version is None):
        raise LeadModelError("give the model with --model FILE or --version ID (one of them).")
    from lead_model.export.config import config_from_version, open_config

    if model_path is not None:
        return open_config(model_path), Path(model_path).name
    from lead_model.model.versions import VersionRegistry

    saved = VersionRegistry(store).get(version)
    return config_from_version(saved), f"version {saved.id} '{saved.name}'"


@main.command("export-config")
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None,
              help="The agreed model file (.json or .yaml; a shipping config keeps its sign-off unless you give a new one).")
@click.option("--version", "version", type=int, default=None,
              help="A saved version's id instead of a file: its model, sign-off, dataset and backtest as saved.")
@click.option("--data", default=None, metavar="DATA", help="The dataset it was agreed on: its fingerprint and the backtest headline go in the config.")
@click.option("--signed-sales", default=None, metavar="NAME", help="Who agreed for sales.")
@click.option("--signed-marketing", default=None, metavar="NAME", help="Who agreed for marketing.")
@click.option("--signoff-date", default=None, metavar="YYYY-MM-DD", help="The day they agreed (default: today).")
@click.option("--signoff-notes", default=None, metavar="TEXT", help="What was agreed, conditions, follow-ups.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Config file to write (.json, .yaml or .yml).")
@outcome_option
@store_option
def export_config(model_path: Path | None, version: int | None, data: str | None, signed_sales: str | None, signed_marketing: str | None,
                  signoff_date: str | None, signoff_notes: str | None, output: Path, outcome: str | None, store: Path | None) -> None:
    """Write the shipping config: the model file with its sign-off, the dataset fingerprint and the backtest headline (JSON or YAML).

    With --version and a sign-off, the sign-off is saved with a new version (a version is never
    overwritten) and the config comes from that version.
    """
    if output.suffix.lower() not in CONFIG_SUFFIXES:
        raise LeadModelError(f"a config is written as .json, .yaml or .yml, not '{output.suffix or output.name}'; name the file config.yaml.")
    signed = _signoff(signed_sales, signed_marketing, signoff_date, signoff_notes)
    config, source = _source(model_path, version, store)
    saved_note = ""
    if version is not None:
        if data is not None and signed is None:
            raise LeadModelError("a saved version keeps the dataset and backtest it was saved with; give --data only with --model, or with a new sign-off.")
        if signed is not None:
            from lead_model.data.leads import load_leads
            from lead_model.export.config import config_from_version, save_signed_version
            from lead_model.model.versions import VersionRegistry

            dataset = data or (config.dataset.name if config.dataset is not None else None)
            leads = load_leads(dataset, outcome, store=store, model=config.model) if dataset is not None else None
            saved = save_signed_version(VersionRegistry(store), config.model, signed, leads)
            config = config_from_version(saved)
            saved_note = f"Saved version {saved.id} '{saved.name}' with the sign-off (version {version} is kept as it was).\n"
    else:
        from lead_model.export.config import build_config

        leads = None
        if data is not None:
            from lead_model.data.leads import load_leads

            leads = load_leads(data, outcome, store=store, model=config.model)
        built = build_config(config.model, leads, signed or config.signoff)
        config = built if leads is not None else built.model_copy(update={"dataset": config.dataset, "backtest": config.backtest})
    config.to_file(output)
    click.echo(saved_note + f"Wrote {output} from {source}:\n" + "\n".join(f"  {line}" for line in config.lines()))


@main.command("check-config")
@click.argument("file", type=click.Path(path_type=Path))
def check_config(file: Path) -> None:
    """Check a shipping config (JSON or YAML) and print what it holds, or the one thing wrong with it."""
    from lead_model.export.config import ShippingConfig
    from lead_model.model.schema import SCHEMA_VERSION, parse_text, read_text_file

    data = parse_text(read_text_file(file, "config file"), file.name, yaml_format=file.suffix.lower() in (".yaml", ".yml"))
    config = ShippingConfig.from_dict(data, file.name)
    written = data["model"].get("schema_version", 1 if "semantics" not in data["model"] else SCHEMA_VERSION)
    migrated = f" (its model was written in schema version {written} and reads as version {SCHEMA_VERSION})" if written != SCHEMA_VERSION else ""
    click.echo(f"{file} is a valid shipping config, config version {config.config_version}{migrated}:")
    click.echo("\n".join(f"  {line}" for line in config.lines()))


@main.command("report")
@click.argument("data")
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None,
              help="The model file (.json or .yaml); a shipping config brings its sign-off.")
@click.option("--version", "version", type=int, default=None, help="A saved version's id instead of a file (its sign-off too).")
@click.option("--compare", "compare_path", type=click.Path(path_type=Path), default=None, help="An earlier model file to compare with.")
@click.option("--compare-version", type=int, default=None, help="A saved version's id to compare with instead of a file.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="HTML file to write, e.g. report.html.")
@outcome_option
@store_option
def report_command(data: str, model_path: Path | None, version: int | None, compare_path: Path | None, compare_version: int | None, output: Path,
                   outcome: str | None, store: Path | None) -> None:
    """Write the workshop report: one HTML file that opens offline, with the points in words, rules, backtest, charts and sign-off."""
    from lead_model.data.leads import load_leads
    from lead_model.export.report import write_report

    config, source = _source(model_path, version, store)
    previous, previous_label = None, None
    if compare_path is not None and compare_version is not None:
        raise LeadModelError("give the earlier model with --compare FILE or --compare-version ID, not both.")
    if compare_path is not None or compare_version is not None:
        earlier, previous_label = _source(compare_path, compare_version, store)
        previous = earlier.model
    leads = load_leads(data, outcome, store=store, model=config.model)
    write_report(output, leads, config.model, previous=previous, signed=config.signoff, previous_label=previous_label)
    size = output.stat().st_size
    compared = f", compared with {previous_label}" if previous is not None else ""
    signed = "signed off" if config.signoff is not None else "not signed off yet"
    click.echo(f"Wrote {output} ({size / 1e6:.1f} MB): '{config.model.metadata.name}' from {source} on '{leads.name}'{compared}; {signed}. "
               "It opens offline in any browser.")
