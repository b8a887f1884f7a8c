"""lead-model export-sql: the model as one SQL SELECT for a warehouse (twin of lead_model.export.sql.model_sql).

Imported by a line at the end of cli/main.py, which registers the command on ``main``.
"""

from __future__ import annotations

from pathlib import Path

import click

from lead_model.cli.main import main
from lead_model.errors import LeadModelError

DIALECT_HELP = "duckdb, postgres, snowflake, bigquery or spark"  # lead_model.export.sql.DIALECTS, without importing sqlglot for --help


@main.command("export-sql")
@click.option("--model", "model_path", type=click.Path(path_type=Path), required=True, help="The model file (.json or .yaml).")
@click.option("--dialect", required=True, help=f"The warehouse's SQL: {DIALECT_HELP}.")
@click.option("--table", default="leads", show_default=True,
              help="The leads table: name, schema.name or catalog.schema.name, in the dialect's quoting for a part with dots or spaces.")
@click.option("--column", "columns", multiple=True, metavar="COL",
              help="An input column to pass through, in order (repeatable; default: every column).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the SQL to this file instead of printing it.")
def export_sql(model_path: Path, dialect: str, table: str, columns: tuple[str, ...], output: Path | None) -> None:
    """Write the model as one SQL SELECT over a leads table: its columns plus points_<attribute>, scores, grade, tier, knocked_out and is_mql."""
    from lead_model.export.sql import check_dialect, model_sql, table_parts
    from lead_model.model.schema import ScoringModel

    dialect = check_dialect(dialect)
    model = ScoringModel.from_file(model_path)
    sql = model_sql(model, dialect, table=table_parts(table, dialect), columns=list(columns) or None) + "\n"
    if output is None:
        click.echo(sql, nl=False)
        return
    if not output.parent.is_dir():
        raise LeadModelError(f"cannot write {output}: the folder {output.parent} does not exist; create it first or write somewhere else.")
    tmp = output.with_name(f".{output.name}.tmp")
    tmp.write_text(sql, encoding="utf-8")
    tmp.replace(output)
    click.echo(f"Wrote {output}: '{model.metadata.name}' as one {dialect} SELECT over {table} ({len(model.attributes)} attributes).", err=True)
