"""Reading lead files: CSV (encoding and dialect sniffed, gzip too) or Parquet, into Arrow with each row's file position."""

from __future__ import annotations

import csv
import gzip
import io
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lead_model.data.store import ROW_COLUMN, literal
from lead_model.errors import LeadModelError


@dataclass(frozen=True)
class SourceFile:
    """A file's rows (with ``__row``) and, in sentences, every choice the reader made (shown in the load summary)."""

    table: pa.Table
    notes: tuple[str, ...] = ()


def read_source(path: Path) -> pa.Table:
    """Read a CSV/Parquet file into Arrow with its row positions in ``__row`` (``read_file`` also says what it chose)."""
    return read_file(path).table


def read_file(path: Path) -> SourceFile:
    """Read a CSV (or gzip of one)/Parquet file into Arrow with its row positions in ``__row``, and the reader's notes.

    Nested Parquet columns are left out; a text column whose values are nearly all dates becomes a
    date column; inf and nan in number columns count as missing. Each choice is one note.
    """
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
    table, notes = tidy_columns(table, path.name)
    # DuckDB keeps file order (preserve_insertion_order), so positions can be numbered here.
    return SourceFile(table.add_column(0, ROW_COLUMN, pa.array(np.arange(table.num_rows, dtype=np.int64))), notes)


def tidy_columns(table: pa.Table, file_name: str = "the file") -> tuple[pa.Table, tuple[str, ...]]:
    """``table`` as the loader can encode it, and a note per change: nested columns out, near-date text as dates, inf/nan missing."""
    notes: list[str] = []
    nested = [f.name for f in table.schema if pa.types.is_nested(f.type)]
    if nested:
        if len(nested) == table.num_columns:
            raise LeadModelError(f"{file_name} holds only nested columns (lists, structs or maps: {', '.join(repr(n) for n in nested[:5])}); "
                                 "flatten them into plain columns and load that.")
        table = table.drop_columns(nested)
        notes.append(f"{len(nested)} nested column{'s' if len(nested) > 1 else ''} (lists, structs or maps) left out: "
                     f"{', '.join(repr(n) for n in nested[:5])}{' and more' if len(nested) > 5 else ''}; flatten them to use them.")
    for i, name in enumerate(table.column_names):
        col = table.column(i)
        if pa.types.is_floating(col.type):
            bad = pc.sum(pc.and_(pc.invert(pc.is_finite(col)), pc.is_valid(col))).as_py() or 0
            if bad:
                table = table.set_column(i, name, pc.if_else(pc.is_finite(col), col, pa.scalar(None, col.type)))
                notes.append(f"{bad:,} value{'s' if bad > 1 else ''} of '{name}' {'are' if bad > 1 else 'is'} inf or nan, "
                             f"not a number anyone means, and count{'' if bad > 1 else 's'} as missing.")
        elif pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            dates = text_as_dates(col)
            if dates is not None:
                values, bad, note = dates
                table = table.set_column(i, name, values)
                if bad:
                    notes.append(f"{bad:,} value{'s' if bad > 1 else ''} of '{name}' {'are not dates and count' if bad > 1 else 'is not a date and counts'} as missing.")
                if note:
                    notes.append(f"'{name}' {note}.")
    return table, tuple(notes)


DATE_SHARE = 0.95  # a text column whose non-blank values are at least this share dates is a date column
_DATE_SHAPE = r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*$"
_ISO = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d")
_TIMES = ("", " %H:%M", " %H:%M:%S", "T%H:%M", "T%H:%M:%S")


def text_as_dates(col: pa.ChunkedArray) -> tuple[pa.ChunkedArray, int, str] | None:
    """A text column as dates when at least DATE_SHARE of its non-blank values are dates, else None.

    Returns (timestamps or dates, how many non-blank values are not dates (now missing), a note on
    the formats or ""). Formats may mix: 2024-01-05, 2024/01/05 and 05/01/2024 in one column; slashed
    or dotted day-first and month-first dates are told apart by a part past 12, day first when none is.
    """
    text = pc.utf8_trim_whitespace(col)
    filled = pc.and_(pc.is_valid(text), pc.not_equal(text, ""))
    n_filled = pc.sum(filled).as_py() or 0
    if n_filled == 0:
        return None
    sample = pc.filter(text, filled).slice(0, 2000)
    if (pc.sum(pc.match_substring_regex(sample, _DATE_SHAPE)).as_py() or 0) < DATE_SHARE * len(sample):
        return None
    shaped = pc.match_substring_regex(text, _DATE_SHAPE)
    if (pc.sum(shaped).as_py() or 0) < DATE_SHARE * n_filled:
        return None
    front = pc.extract_regex(pc.filter(text, pc.fill_null(shaped, False)), r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.]\d{4}")
    first = pc.cast(pc.struct_field(front, "a"), pa.int32())
    second = pc.cast(pc.struct_field(front, "b"), pa.int32())
    day_first = (pc.sum(pc.greater(first, 12)).as_py() or 0) > 0
    month_first = (pc.sum(pc.greater(second, 12)).as_py() or 0) > 0
    order = ("%m", "%d") if month_first and not day_first else ("%d", "%m")
    formats = [*_ISO, *(f"{order[0]}{sep}{order[1]}{sep}%Y" for sep in "/.-")]
    parsed = None
    has_time = False
    for fmt in (f + t for t in _TIMES for f in formats):
        got = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
        if (pc.sum(pc.is_valid(got)).as_py() or 0) == 0:
            continue
        has_time = has_time or bool(fmt.count(":"))
        parsed = got if parsed is None else pc.coalesce(parsed, got)
    if parsed is None:
        return None
    n_dates = pc.sum(pc.is_valid(parsed)).as_py() or 0
    if n_dates < DATE_SHARE * n_filled:
        return None
    styles = ["year first"] if pc.any(pc.match_substring_regex(text, r"^\s*\d{4}")).as_py() else []
    if front.null_count < len(front):
        styles.append("day/month/year" if order[0] == "%d" else "month/day/year")
    notes = [f"mixes date formats ({', '.join(styles)}); each date is read in its own format"] if len(styles) > 1 else []
    if "day/month/year" in styles and not day_first:
        notes.append("reads dates like 05/01/2024 as day/month/year (no day past 12 says otherwise)")
    note = "; it ".join(notes)
    values = parsed if has_time else pc.cast(parsed, pa.date32())
    return values, int(n_filled - n_dates), note


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
    if not path.is_file() or is_parquet(path):
        yield path
        return
    with open_bytes(path) as fh:  # a gzip's BOM is inside: the copy is the text, decompressed
        if fh.read(3) != b"\xef\xbb\xbf":
            yield path
            return
        with tempfile.TemporaryDirectory(prefix="lead_model_") as tmp:
            copy = Path(tmp) / (path.name.removesuffix(".gz") if is_gzip(path) else path.name)
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
    refuse_unreadable(path)
    encoding = sniff_encoding(path)
    compression = "gzip" if is_gzip(path) else "none"
    return (
        f"read_csv({literal(str(path))}, header=true, encoding={literal(encoding)}, compression={literal(compression)},"
        f" sample_size={-1 if full_sniff else 100_000},"
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
                    f" compression={literal('gzip' if is_gzip(path) else 'none')},"
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
    """``sniffed``, unless another delimiter reads the sampled rows as a table and it does not.

    The sniffer weighs every sampled row alike, so a few data cells holding ';' can outvote a
    tab-separated header, and a header name holding ';' can outvote a '|' file. An export's
    rows all have as many cells as its header: a delimiter that splits the header and gives
    every sampled row the header's width wins over one that does not.
    """
    with io.TextIOWrapper(open_bytes(path), encoding=encoding, errors="replace", newline="") as fh:
        head = fh.read(1 << 16).lstrip("\ufeff")
    lines = head.splitlines(keepends=True)
    if len(lines) > 1 and not head.endswith(("\n", "\r")):
        head = "".join(lines[:-1])  # the sample may end mid-row

    def fit(delimiter: str) -> tuple[bool, int]:
        """(every row as wide as the header, header width)."""
        try:
            rows = [r for r in csv.reader(io.StringIO(head), delimiter=delimiter, quotechar='"') if r]
        except csv.Error:
            return False, 0
        if not rows:
            return False, 0
        width = len(rows[0])
        return width > 1 and all(len(r) == width for r in rows[1:]), width

    consistent, width = fit(sniffed)
    if consistent:
        return sniffed
    tables = [d for d in DELIMITERS if d != sniffed and fit(d)[0]]
    if tables:
        return max(tables, key=lambda d: fit(d)[1])
    if width > 1:
        return sniffed
    best = max(DELIMITERS, key=lambda d: fit(d)[1])
    return best if fit(best)[1] > 1 else sniffed


GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old Excel (.xls), and Word/Outlook files


def is_gzip(path: Path) -> bool:
    """gzip by its magic bytes, whatever the name (DuckDB reads it natively)."""
    with path.open("rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def open_bytes(path: Path):
    """The file's bytes as written, or decompressed when it is gzip (for sniffing what DuckDB will read)."""
    return gzip.open(path, "rb") if is_gzip(path) else path.open("rb")


def refuse_unreadable(path: Path) -> None:
    """One sentence for files that are not text tables: Excel workbooks (by name or magic bytes) and zip archives."""
    with path.open("rb") as fh:
        magic = fh.read(8)
    suffix = "".join(path.suffixes[-1:]).lower()
    excel = suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods") or magic.startswith(OLE2_MAGIC)
    if magic.startswith(ZIP_MAGIC) and not excel:
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                excel = any(n.startswith("xl/") for n in archive.namelist())
        except zipfile.BadZipFile:
            pass
        if not excel:
            raise LeadModelError(f"{path.name} is a zip archive; unzip it and load the CSV inside (gzip files, .csv.gz, load as they are).")
    if excel:
        raise LeadModelError(f"{path.name} is an Excel workbook; save it as CSV (File > Save As > CSV UTF-8) and load that.")
    if magic.startswith(b"PAR1"):
        return
    with open_bytes(path) as fh:
        head = fh.read(1 << 16)
    # Text has no NUL bytes, except UTF-16 (said by its byte-order mark); a DuckDB "not latin-1 encoded" names no fix.
    if b"\0" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LeadModelError(f"{path.name} is not a text file (it holds binary data); export the leads as CSV (or Parquet) and load that.")


def sniff_encoding(path: Path) -> str:
    """utf-8 (a BOM is fine), utf-16 by its BOM, else latin-1 when the bytes are not UTF-8 (gzip: the bytes inside)."""
    with open_bytes(path) as fh:
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
