"""lead-model versions: save, list, show, diff, publish, rename and archive model versions (lead_model.model.versions).

Imported by the last line of cli/main.py, which registers the group on ``main``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from lead_model.cli.main import main, store_option
from lead_model.errors import LeadModelError

MODEL_SUFFIXES = (".json", ".yaml", ".yml")


def _registry(store: Path | None):
    from lead_model.model.versions import VersionRegistry

    return VersionRegistry(store)


@main.group()
def versions() -> None:
    """Saved model versions in the store: save, list, show, diff, publish (the live model), rename, archive."""


@versions.command("save")
@click.option("--model", "model_path", type=click.Path(path_type=Path), required=True, help="The model file (.json or .yaml) to save.")
@click.option("--name", required=True, help="The version's name, e.g. 'Q3 2025 review' (1-100 characters).")
@click.option("--author", default="", help="Who saved it.")
@click.option("--notes", default="", help="Why: what changed and what the room agreed.")
@click.option("--data", default=None, metavar="DATA",
              help="The dataset it was designed on (a stored dataset's name or a file): its fingerprint and the backtest headline are kept.")
@store_option
def save_command(model_path: Path, name: str, author: str, notes: str, data: str | None, store: Path | None) -> None:
    """Save a model as a new version and print its id (only the id, so scripts can capture it).

    A shipping config keeps its sign-off in the version (its sales name is the author unless --author is given)."""
    from lead_model.export.config import open_config

    config = open_config(model_path)
    model, signed = config.model, config.signoff
    leads = None
    if data is not None:
        from lead_model.data.leads import load_leads

        leads = load_leads(data, store=store, model=model)
    if signed is not None:
        author = author or signed.sales
        notes = notes or signed.notes
    version = _registry(store).save(model, name, author=author, notes=notes, leads=leads, signoff=signed.to_dict() if signed else None)
    click.echo(version.id)


@versions.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of objects instead of the table.")
@click.option("--all", "include_archived", is_flag=True, help="Include archived versions.")
@store_option
def list_command(as_json: bool, include_archived: bool, store: Path | None) -> None:
    """List the saved versions, newest first (the live one is marked)."""
    rows = _registry(store).list(include_archived=include_archived)
    if as_json:
        click.echo(json.dumps([version_record(v) for v in rows], indent=2))
        return
    if not rows:
        more = "" if include_archived else " (archived ones show with --all)"
        click.echo(f"The store has no saved versions yet{more}; save one with 'lead-model versions save --model M --name N'.")
        return
    click.echo(versions_table(rows))


@versions.command("show")
@click.argument("version_id", metavar="ID", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the model to this file (.json, .yaml or .yml) instead of printing it.")
@store_option
def show_command(version_id: int, output: Path | None, store: Path | None) -> None:
    """Print a saved version's model file as JSON (or write it with -o)."""
    version = _registry(store).get(version_id)
    if output is None:
        click.echo(version.model_json, nl=False)
        return
    if output.suffix.lower() not in MODEL_SUFFIXES:
        raise LeadModelError(f"cannot tell the format of {output.name}; end the file name with .json, .yaml or .yml.")
    version.model.to_file(output)
    click.echo(f"Wrote {output}: version {version.id} '{version.name}'.")


@versions.command("diff")
@click.argument("a", type=int)
@click.argument("b", type=int)
@store_option
def diff_command(a: int, b: int, store: Path | None) -> None:
    """What changed from version A to version B, one line per level, bin, cap, rule or setting."""
    from lead_model.model.diff import describe_changes

    registry = _registry(store)
    changes = describe_changes(registry.model(a), registry.model(b))
    click.echo("\n".join(changes) if changes else "no differences")


@versions.command("publish")
@click.argument("version_id", metavar="ID", type=int)
@click.option("--by", default="", help="Who published it.")
@store_option
def publish_command(version_id: int, by: str, store: Path | None) -> None:
    """Make a version the live model (one live at a time; the live history keeps every publish)."""
    version = _registry(store).publish(version_id, by=by)
    click.echo(f"Version {version.id} '{version.name}' is the live model.")


@versions.command("rename")
@click.argument("version_id", metavar="ID", type=int)
@click.argument("name")
@store_option
def rename_command(version_id: int, name: str, store: Path | None) -> None:
    """Give a version a new name."""
    version = _registry(store).rename(version_id, name)
    click.echo(f"Version {version.id} is now '{version.name}'.")


@versions.command("archive")
@click.argument("version_id", metavar="ID", type=int)
@click.option("--restore", is_flag=True, help="Bring an archived version back into the list.")
@store_option
def archive_command(version_id: int, restore: bool, store: Path | None) -> None:
    """Archive a version (hidden from 'versions list' unless --all; the live one cannot be archived)."""
    version = _registry(store).archive(version_id, archived=not restore)
    click.echo(f"Version {version.id} '{version.name}' is {'archived' if version.archived else 'back in the list'}.")


# ----- output ----------------------------------------------------------------------------
def version_record(v) -> dict:
    """One version as the JSON 'versions list' prints: its fields, the headline's precision, recall and MQLs, and the headline."""
    return {
        "id": v.id, "name": v.name, "author": v.author, "created": v.created, "live": v.live, "archived": v.archived,
        "dataset": v.dataset, "dataset_rows": v.dataset_rows, "dataset_hash": v.dataset_hash, "notes": v.notes,
        "precision": v.summary.get("precision"), "recall": v.summary.get("recall"), "mql": v.summary.get("mql"),
        "summary": v.summary,
    }


def versions_table(rows) -> str:
    from lead_model.formatting import pct

    lines = [f"{'id':>5}  {'':8} {'name':30} {'author':16} {'created':25} {'dataset':20} {'precision':>9} {'recall':>7} {'MQLs':>9}"]
    for v in rows:
        mark = "live" if v.live else "archived" if v.archived else ""
        mql = v.summary.get("mql")
        lines.append(
            f"{v.id:>5}  {mark:8} {_cut(v.name, 30):30} {_cut(v.author, 16):16} {v.created:25} {_cut(v.dataset or '-', 20):20} "
            f"{pct(v.summary.get('precision')):>9} {pct(v.summary.get('recall')):>7} {'-' if mql is None else f'{mql:,}':>9}"
        )
    return "\n".join(lines)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
