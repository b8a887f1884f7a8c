"""Reading lead files: CSV (encoding and dialect sniffed) or Parquet, into Arrow with each row's file position."""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lead_model.data.store import ROW_COLUMN, literal
from lead_model.errors import LeadModelError


def read_source(path: Path) -> pa.Table:
    """Read a CSV/Parquet file into Arrow with its row positions in ``__row``."""
    con = duckdb.connect()
    try:
        with _without_bom(path) as readable:
            try:
                table = con.sql(f"SELECT * FROM {source_relation_sql(readable)}").to_arrow_table()
            except duckdb.ConversionException:
                # A late row broke the type sniffed from the sample: decide types on every row.
                table = con.sql(f"SELECT * FROM {source_relation_sql(readable, full_sniff=True)}").to_arrow_table()
            except duckdb.Error as exc:
                if "parallel=false" not in str(exc):
                    raise
                # Quoted newlines: DuckDB's parallel reader cannot pad short rows around them.
                table = con.sql(f"SELECT * FROM {source_relation_sql(readable, parallel=False)}").to_arrow_table()
    except duckdb.Error as exc:
        raise LeadModelError(f"{path.name} could not be read: {str(exc).strip().splitlines()[0].rstrip('.')}; check the file.") from None
    finally:
        con.close()
    if table.num_rows == 0:
        raise LeadModelError(f"{path.name} has a header but no rows; export the leads again with data.")
    table = _big_integers_as_text(table)
    if ROW_COLUMN in table.column_names:
        raise LeadModelError(f"{path.name} has a column named '{ROW_COLUMN}', which the store reserves; rename it.")
    # DuckDB keeps file order (preserve_insertion_order), so positions can be numbered here.
    return table.add_column(0, ROW_COLUMN, pa.array(np.arange(table.num_rows, dtype=np.int64)))


EXACT_INTEGER = 2**53  # past this a float64 (how numbers are scored) no longer holds every integer


def _big_integers_as_text(table: pa.Table) -> pa.Table:
    """Whole-number columns with values past 2^53 (19-digit ids, phone numbers) as text, exactly as written.

    Scores read numbers as float64, which would round such values (and Arrow refuses the
    cast); as text they keep every digit, and a unique one per lead is found to be an id.
    """
    for i, name in enumerate(table.column_names):
        col = table.column(i)
        whole = pa.types.is_integer(col.type) or (pa.types.is_decimal(col.type) and col.type.scale == 0)
        if not whole or col.null_count == len(col):
            continue
        bounds = pc.min_max(col).as_py()
        if max(abs(int(bounds["min"])), abs(int(bounds["max"]))) >= EXACT_INTEGER:
            table = table.set_column(i, name, pc.cast(col, pa.string()))
    return table


@contextmanager
def _without_bom(path: Path) -> Iterator[Path]:
    """The file itself, or a copy without its UTF-8 byte-order mark.

    DuckDB's reader takes a BOM for part of the first header name, so a quoted first name
    (one holding quotes or the delimiter) breaks the header; a copy without the BOM reads cleanly.
    """
    if not path.is_file():
        yield path
        return
    with path.open("rb") as fh:
        if fh.read(3) != b"\xef\xbb\xbf":
            yield path
            return
        with tempfile.TemporaryDirectory(prefix="lead_model_") as tmp:
            copy = Path(tmp) / path.name
            with copy.open("wb") as out:
                shutil.copyfileobj(fh, out, 1 << 22)
            yield copy


def source_relation_sql(path: Path, full_sniff: bool = False, parallel: bool = True) -> str:
    """SQL for reading a CSV (delimiter, quoting and encoding sniffed) or Parquet file.

    Column types are sniffed from a sample of rows; ``full_sniff`` reads every row to
    decide (slower, for files whose late rows break the sampled types).
    """
    if not path.exists():
        raise LeadModelError(f"file {path} does not exist; check the path.")
    if path.is_dir():
        raise LeadModelError(f"{path} is a folder; give the path of a CSV or Parquet file.")
    if path.stat().st_size == 0:
        raise LeadModelError(f"{path.name} is empty; export the leads again with a header row and data.")
    if is_parquet(path):
        return f"read_parquet({literal(str(path))})"
    encoding = sniff_encoding(path)
    return (
        f"read_csv({literal(str(path))}, header=true, encoding={literal(encoding)}, sample_size={-1 if full_sniff else 100_000},"
        f"{sniff_dialect(path, encoding)} null_padding=true, strict_mode=false,{'' if parallel else ' parallel=false,'}"
        # No BOOLEAN candidate: yes/no stays text, so scored output echoes the file's own values.
        " auto_type_candidates=['BIGINT', 'DOUBLE', 'DATE', 'TIMESTAMP', 'VARCHAR'])"
    )


_SCRATCH: duckdb.DuckDBPyConnection | None = None


def _scratch_cursor() -> duckdb.DuckDBPyConnection:
    """A cursor on one shared in-memory database: duckdb.connect() costs ~40 ms, a cursor ~0.1 ms."""
    global _SCRATCH
    if _SCRATCH is None:
        _SCRATCH = duckdb.connect()
    return _SCRATCH.cursor()


def sniff_dialect(path: Path, encoding: str) -> str:
    """read_csv options fixing the delimiter, quote, escape and comment ("" to let read_csv guess)."""
    found = csv_dialect(path, encoding)
    if found is None:
        return ""
    delimiter, escape = found
    return f" delim={literal(delimiter)}, quote='\"', escape={literal(escape)}, comment='',"


def csv_dialect(path: Path, encoding: str) -> tuple[str, str] | None:
    """The file's (delimiter, escape) with '"' as the quote and no comments; None when no dialect fits.

    The one sniffing rule: DuckDB's reader (``sniff_dialect``) and Spark's both follow it.

    The lenient reader (strict_mode=false) guesses the dialect badly: a quoted field holding
    ';' makes it split on ';', doubled quotes ("") stay doubled in values and names, a name
    starting with ' makes ' the quote, and a value '#' makes '#' a comment (dropping rows).
    So the delimiter is sniffed strictly on a sample with '"' as the quote and no comments;
    inside quotes "" is the escape (RFC 4180) unless the file shows backslash escapes.
    """
    con = _scratch_cursor()
    try:
        for strict in ("true", "false"):  # strict guesses best; lenient still reads files strict rejects
            try:
                found = con.execute(
                    f"SELECT Delimiter, Escape FROM sniff_csv({literal(str(path))}, encoding={literal(encoding)}, null_padding=true,"
                    f" quote='\"', comment='', strict_mode={strict})"
                ).fetchall()
                break
            except duckdb.Error:
                found = None
    finally:
        con.close()
    if not found:
        return None
    delimiter, escape = found[0]
    delimiter = _header_delimiter(path, encoding, delimiter)
    escape = "\\" if escape == "\\" else '"'  # only a backslash is a believable alternative
    return delimiter, escape


DELIMITERS = (",", ";", "\t", "|")


def _header_delimiter(path: Path, encoding: str, sniffed: str) -> str:
    """``sniffed``, unless it leaves the header row one name while another delimiter splits it.

    The sniffer weighs every sampled row alike, so a few data cells holding ';' can outvote a
    tab-separated header; an export's header row always uses the real delimiter.
    """
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
        head = fh.read(1 << 16).lstrip("\ufeff")
    def width(delimiter: str) -> int:
        try:
            return len(next(csv.reader(io.StringIO(head), delimiter=delimiter, quotechar='"'), []))
        except csv.Error:
            return 0
    if width(sniffed) > 1:
        return sniffed
    best = max(DELIMITERS, key=width)
    return best if width(best) > 1 else sniffed


def sniff_encoding(path: Path) -> str:
    """utf-8 (a BOM is fine), utf-16 by its BOM, else latin-1 when the bytes are not UTF-8."""
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # a multi-byte char cut at the 1 MiB boundary is still UTF-8; a shorter file was not cut
        if exc.start < len(head) - 4 or len(head) < 1 << 20:
            return "latin-1"
    return "utf-8"


def is_parquet(path: Path) -> bool:
    """Parquet by its magic bytes (or extension); anything else is read as CSV."""
    with path.open("rb") as fh:
        magic = fh.read(4)
    return magic == b"PAR1" or path.suffix.lower() in (".parquet", ".pq")
