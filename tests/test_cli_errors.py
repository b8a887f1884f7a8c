"""The CLI's error boundary: every command on real and broken files ends in a result or one 'Error: ...' line, never a traceback."""

from __future__ import annotations

import csv
import errno
import json
import random
from pathlib import Path

import pytest
from conftest import data_missing
from click.testing import CliRunner

from lead_model.cli.main import error_message, main

BANK = Path(__file__).resolve().parents[2] / "shared" / "data" / "bank-marketing" / "bank-full.csv"
needs_bank = pytest.mark.skipif(not BANK.exists(), reason=f"the shared bank-marketing data is not beside the checkout ({BANK})")

LEADS_CSV = "title,visits,converted\nVP,10,yes\nManager,2,no\nVP,7,yes\nStudent,0,no\nManager,12,no\nDirector,5,yes\n"
MODEL = {
    "metadata": {"name": "errors test", "outcome": "converted"},
    "attributes": [
        {"name": "title", "kind": "categorical", "group": "fit", "levels": [{"value": "VP", "points": 20}]},
        {"name": "visits", "kind": "numeric", "group": "engagement", "bins": [{"min": None, "points": 0}, {"min": 5, "points": 10}]},
    ],
    "mql_threshold": 20,
}


def noisy_leads_csv(n: int = 600) -> str:
    """Leads whose title and visits raise the odds without deciding them (nothing looks leaky)."""
    rng = random.Random(1)
    rows = ["title,visits,converted"]
    for _ in range(n):
        title, visits = rng.choice(["VP", "Director", "Manager", "Student"]), rng.randint(0, 20)
        p = {"VP": 0.35, "Director": 0.25, "Manager": 0.12, "Student": 0.06}[title] + visits / 100
        rows.append(f"{title},{visits},{'yes' if rng.random() < p else 'no'}")
    return "\n".join(rows) + "\n"


def cli(*args) -> "click.testing.Result":  # noqa: F821 - the type is only for readers
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_line_error(result, *words: str) -> str:
    """Exit 1, no traceback, exactly one 'Error: ' line, naming the problem with ``words``."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for word in words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"
    return lines[0]


def assert_ok(result) -> str:
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "Error:" not in result.output
    return result.output


# ----- the bank-marketing data, loaded once ------------------------------------------
@pytest.fixture(scope="session")
def bank(tmp_path_factory):
    """The bank data loaded with `lead-model load` (no --exclude) into a store; returns (store, load output)."""
    if not BANK.exists():
        data_missing(f"the shared bank-marketing data is not beside the checkout ({BANK})")
    store = tmp_path_factory.mktemp("bank") / "store.duckdb"
    result = cli("load", BANK, "--store", store)
    assert_ok(result)
    return store, result.output


@pytest.fixture(scope="module")
def bank_suggested(bank, tmp_path_factory):
    """`lead-model suggest bank-full` (no --exclude): (model path, output)."""
    store, _ = bank
    out = tmp_path_factory.mktemp("suggested") / "suggested.json"
    result = cli("suggest", "bank-full", "--store", store, "-o", out)
    return out, assert_ok(result)


@needs_bank
def test_bank_load_shows_every_column(bank):
    _, output = bank
    assert "Dataset 'bank-full': 45,211 leads, 5,289 converted (11.70%); outcome 'y' = 'yes' means converted." in output
    assert "duration" in output and "poutcome" in output


@needs_bank
def test_bank_datasets_lists_it(bank):
    store, _ = bank
    output = assert_ok(cli("datasets", "--store", store))
    assert "bank-full" in output and "45,211 rows" in output


@needs_bank
def test_bank_init_by_name_warns_that_duration_leaks(bank, tmp_path):
    store, _ = bank
    result = cli("init", "bank-full", "--store", store, "-o", tmp_path / "starter.json")
    output = assert_ok(result)
    assert "Wrote" in output and "16 attributes" in output
    warnings = [ln for ln in output.splitlines() if ln.startswith("Warning: ")]
    assert warnings and all("--exclude duration" in w for w in warnings), output
    assert json.loads((tmp_path / "starter.json").read_text())["attributes"]


@needs_bank
def test_bank_init_from_the_file_as_a_new_user(tmp_path):
    # The reported bug: this wrote the model, then died in _warn_leaks with an AttributeError.
    result = cli("init", BANK, "--outcome", "y", "-o", tmp_path / "model.json", "--store", tmp_path / "s.duckdb")
    output = assert_ok(result)
    assert (tmp_path / "model.json").exists()
    assert "use --exclude duration" in output


@needs_bank
def test_bank_stats_flags_duration(bank):
    store, _ = bank
    output = assert_ok(cli("stats", "bank-full", "--store", store))
    suspicious = next(ln for ln in output.splitlines() if ln.startswith("Suspicious"))
    assert "duration" in suspicious


@needs_bank
def test_bank_suggest_leaves_duration_out(bank_suggested):
    path, output = bank_suggested
    model = json.loads(path.read_text())
    names = {a["name"] for a in model["attributes"]}
    assert "duration" not in names and 1 <= len(names) <= 10
    assert f"Wrote {path}" in output


@needs_bank
def test_bank_backtest_of_the_suggested_model(bank, bank_suggested):
    store, _ = bank
    path, _ = bank_suggested
    out = json.loads(assert_ok(cli("backtest", "bank-full", "--model", path, "--store", store, "--json")))
    assert out["leads"] == 45211 and out["converted"] == 5289
    assert 0.7 < out["auc"] < 0.95  # real attributes without the leaky duration
    report = assert_ok(cli("backtest", "bank-full", "--model", path, "--store", store))
    assert "45,211 leads, 5,289 converted" in report


@needs_bank
def test_bank_score_keeps_every_row(bank, bank_suggested, tmp_path):
    store, _ = bank
    path, _ = bank_suggested
    assert_ok(cli("score", "bank-full", "--model", path, "--store", store, "-o", tmp_path / "scored.csv"))
    with open(tmp_path / "scored.csv", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = sum(1 for _ in reader)
    assert rows == 45211
    assert header[:2] == ["age", "job"] and header[-7:] == ["score", "fit_score", "engagement_score", "grade", "tier", "knocked_out", "is_mql"]


def test_schema_prints_and_writes(tmp_path):
    assert json.loads(assert_ok(cli("schema")))["title"].startswith("Lead Model Studio")
    assert_ok(cli("schema", "-o", tmp_path / "schema.json"))
    assert json.loads((tmp_path / "schema.json").read_text())["type"] == "object"


# ----- broken files --------------------------------------------------------------------
@pytest.fixture()
def work(tmp_path, monkeypatch):
    monkeypatch.setenv("LEAD_MODEL_STORE", str(tmp_path / "store.duckdb"))
    monkeypatch.chdir(tmp_path)
    Path("leads.csv").write_text(LEADS_CSV)
    Path("model.json").write_text(json.dumps(MODEL))
    return tmp_path


def test_ragged_row_with_too_few_fields_is_left_out_and_said(work):
    Path("few.csv").write_text("title,visits,converted\nVP,10,yes\nManager,2\nVP,7,no\nStudent,0,no\n")
    output = assert_ok(cli("load", "few.csv"))
    assert "3 leads" in output
    assert "1 rows have no value in 'converted' and were left out" in output


def test_ragged_row_with_too_many_fields_shows_the_extra_column(work):
    Path("many.csv").write_text("title,visits,converted\nVP,10,yes\nManager,2,no,oops\nVP,7,no\nStudent,0,no\n")
    output = assert_ok(cli("load", "many.csv"))
    assert "4 leads" in output
    assert "column3" in output  # the stray field is a column of its own, shown (and ignored: one value)


def test_duplicate_column_names_are_told_apart(work):
    Path("dup.csv").write_text("title,title,converted\nVP,a,yes\nManager,b,no\nVP,a,no\n")
    output = assert_ok(cli("load", "dup.csv"))
    assert "title_1" in output


def test_blank_column_name_gets_a_name(work):
    Path("blank.csv").write_text("title,,converted\nVP,1,yes\nManager,2,no\nVP,3,no\n")
    output = assert_ok(cli("load", "blank.csv"))
    assert "column1" in output


def test_latin1_file_is_read_and_scored_with_its_accents(work):
    Path("latin.csv").write_bytes("company,visits,converted\nSociété,1,yes\nAcme,2,no\nCafé,3,no\n".encode("latin-1"))
    assert "3 leads" in assert_ok(cli("load", "latin.csv"))
    assert_ok(cli("init", "latin.csv", "-o", "latin.json"))
    assert_ok(cli("score", "latin.csv", "--model", "latin.json", "-o", "scored.csv"))
    assert Path("scored.csv").read_text(encoding="utf-8").splitlines()[1].startswith("Société,")


def test_dataset_name_with_a_dot_reopens_by_name(work):
    assert "Dataset 'my.leads'" in assert_ok(cli("load", "leads.csv", "--name", "my.leads"))
    assert "my.leads" in assert_ok(cli("datasets"))
    out = json.loads(assert_ok(cli("backtest", "my.leads", "--model", "model.json", "--json")))
    assert out["leads"] == 6
    assert_ok(cli("init", "my.leads", "-o", "from_name.json"))


def test_a_missing_dotted_name_is_still_a_missing_file(work):
    assert_one_line_error(cli("backtest", "nope.leads", "--model", "model.json"), "nope.leads", "does not exist")


@pytest.mark.parametrize(
    "args",
    [
        ("init", "leads.csv", "-o", "{missing}/model.json"),
        ("score", "leads.csv", "--model", "model.json", "-o", "{missing}/scored.csv"),
        ("suggest", "leads.csv", "--holdout", "none", "-o", "{missing}/suggested.json"),
    ],
    ids=["init", "score", "suggest"],
)
def test_output_in_a_missing_folder(work, args):
    Path("leads.csv").write_text(noisy_leads_csv())  # enough leads for a suggestion
    missing = work / "x" / "nope"
    line = assert_one_line_error(cli(*[a.format(missing=missing) for a in args]), str(missing), "does not exist")
    assert "create it" in line
    assert not (work / "x").exists()


def test_schema_output_in_a_missing_folder(work):
    assert_one_line_error(cli("schema", "-o", work / "x" / "nope" / "schema.json"), "nope", "does not exist")


@pytest.mark.parametrize("command", ["backtest", "score"])
def test_numeric_knock_out_with_a_word(work, command):
    Path("ko.json").write_text(json.dumps({**MODEL, "knockouts": [{"attribute": "visits", "values": ["lots"]}]}))
    args = ["backtest", "leads.csv", "--model", "ko.json"] if command == "backtest" else ["score", "leads.csv", "--model", "ko.json", "-o", "s.csv"]
    assert_one_line_error(cli(*args), "knock-out on 'visits'", "'lots'", "numeric")


def test_model_file_that_is_not_utf8(work):
    Path("latin.json").write_bytes(json.dumps({**MODEL, "metadata": {"name": "Société"}}, ensure_ascii=False).encode("latin-1"))
    assert_one_line_error(cli("backtest", "leads.csv", "--model", "latin.json"), "latin.json", "not UTF-8")


def test_an_excel_workbook_is_refused_by_name(work):
    import zipfile

    with zipfile.ZipFile("leads.xlsx", "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    line = assert_one_line_error(cli("load", "leads.xlsx"), "leads.xlsx is an Excel workbook", "CSV UTF-8")
    assert "latin-1" not in line


def test_a_gzip_csv_loads_and_reader_notes_are_printed(work):
    import gzip

    rows = noisy_leads_csv().splitlines()
    rows[0] += ",created,revenue"
    rows[1:] = [f"{r},{'never' if i == 5 else f'2024-01-{1 + i % 28:02d}'},{'inf' if i % 100 == 7 else i}" for i, r in enumerate(rows[1:])]
    Path("leads.csv.gz").write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    out = assert_ok(cli("load", "leads.csv.gz"))
    assert "600 leads" in out and "- 1 value of 'created' is not a date and counts as missing." in out
    assert "- 6 values of 'revenue' are inf or nan, not a number anyone means, and count as missing." in out


@pytest.mark.parametrize(("text", "words"), [
    ('{"attributes": [], "mql_threshold": true}', ("field 'mql_threshold'", "is true, not a whole number")),
    ('{"attributes": [], "mql_threshold": "50"}', ("field 'mql_threshold'", "is '50'")),
    ('{"attributes": [], "caps": {"fit": 1000000000000000000000000000000}}', ("field 'caps'", "fit cap")),
    ('{"attributes": [], "knockouts": [{"attribute": "visits", "below": NaN}]}', ("field 'knockouts.0.below'", "is NaN, not a number")),
    ("[" * 100_000 + "]" * 100_000, ("deep.json nests lists or objects more than 50 levels deep",)),
], ids=["true", "string", "cap", "nan", "deep"])
def test_hostile_model_files_are_one_sentence(work, text, words):
    Path("deep.json").write_text(text)
    assert_one_line_error(cli("backtest", "leads.csv", "--model", "deep.json"), *words)


def test_a_model_file_past_the_size_cap(work):
    with open("huge.json", "wb") as fh:
        fh.truncate(20_000_001)
    assert_one_line_error(cli("backtest", "leads.csv", "--model", "huge.json"), "huge.json is 20.0 MB, past the 20 MB a model file may be")


@pytest.mark.parametrize(
    "args, words",
    [
        (("load", "{dir}"), ("is a folder",)),
        (("init", "{dir}", "-o", "m.json"), ("is a folder",)),
        (("backtest", "leads.csv", "--model", "{dir}"), ("model file", "is a folder")),
        (("score", "leads.csv", "--model", "{dir}", "-o", "s.csv"), ("model file", "is a folder")),
    ],
    ids=["load", "init", "backtest-model", "score-model"],
)
def test_a_folder_given_as_a_file(work, args, words):
    (work / "adir").mkdir()
    assert_one_line_error(cli(*[a.format(dir=work / "adir") for a in args]), *words)


@pytest.mark.parametrize("command", ["load", "init", "stats", "suggest", "backtest", "score"])
def test_empty_data_file(work, command):
    Path("empty.csv").write_text("")
    extra = {"init": ["-o", "m.json"], "suggest": ["-o", "m.json"], "backtest": ["--model", "model.json"], "score": ["--model", "model.json", "-o", "s.csv"]}
    assert_one_line_error(cli(command, "empty.csv", *extra.get(command, [])), "empty.csv", "is empty")


def test_empty_model_file(work):
    Path("empty.json").write_text("")
    assert_one_line_error(cli("backtest", "leads.csv", "--model", "empty.json"), "empty.json", "is empty")


@pytest.mark.parametrize("command", ["load", "datasets"])
def test_a_store_that_is_not_a_store(work, command):
    Path("notes.duckdb").write_text("not a database\n")
    args = ["load", "leads.csv"] if command == "load" else ["datasets"]
    assert_one_line_error(cli(*args, "--store", "notes.duckdb"), "notes.duckdb", "not a DuckDB file", "pass another --store")


def test_usage_errors_stay_clicks(work):
    result = cli("backtest", "leads.csv")
    assert result.exit_code == 2 and "Usage:" in result.output and "--model" in result.output
    assert "Traceback" not in result.output


# ----- the boundary itself: what a command may raise --------------------------------------
def _raise(exc: BaseException):
    def fail(*args, **kwargs):
        raise exc

    return fail


def _validation_error():
    from pydantic import BaseModel

    class Threshold(BaseModel):
        mql_threshold: int

    try:
        Threshold(mql_threshold="high")
    except Exception as exc:  # pydantic.ValidationError
        return exc
    raise AssertionError("pydantic accepted 'high'")


def _duckdb_io_error():
    import duckdb

    return duckdb.IOException('IO Error: Cannot open file "/data/leads.csv": Permission denied')


def _arrow_error():
    import pyarrow as pa

    return pa.ArrowInvalid("CSV parse error: Expected 3 columns, got 5")


@pytest.mark.parametrize(
    "exc, words",
    [
        (PermissionError(errno.EACCES, "Permission denied", "/data/leads.csv"), ("permission denied", "/data/leads.csv")),
        (OSError(errno.ENOSPC, "No space left on device", "/data/scored.csv"), ("disk is full", "free some space")),
        (FileNotFoundError(errno.ENOENT, "No such file or directory", "/data/x/y.csv"), ("/data/x/y.csv", "does not exist")),
        (MemoryError(), ("ran out of memory",)),
        (UnicodeDecodeError("utf-8", b"\xe9", 0, 1, "invalid continuation byte"), ("encoding", "save it as UTF-8")),
        (UnicodeEncodeError("ascii", "Société", 4, 5, "ordinal not in range(128)"), ("cannot be written as ascii", "UTF-8 terminal")),
        (_duckdb_io_error, ("lead store could not read or write", "Permission denied")),
        (_arrow_error, ("could not be read", "Expected 3 columns")),
        (_validation_error, ("mql_threshold",)),
        (RuntimeError("boom\nsecond line"), ("unexpected error (RuntimeError: boom)", "LEAD_MODEL_DEBUG=1")),
    ],
    ids=["permission", "disk-full", "missing", "memory", "decoding", "encoding", "duckdb", "arrow", "pydantic", "unexpected"],
)
def test_every_error_type_is_one_line(work, monkeypatch, exc, words):
    exc = exc() if callable(exc) and not isinstance(exc, BaseException) else exc
    monkeypatch.setattr("lead_model.data.leads.load_leads", _raise(exc))
    for args in (["load", "leads.csv"], ["stats", "leads.csv"], ["backtest", "leads.csv", "--model", "model.json"]):
        assert_one_line_error(cli(*args), *words)
    assert error_message(exc).endswith(".")


def test_debug_shows_the_traceback(work, monkeypatch):
    monkeypatch.setattr("lead_model.data.leads.load_leads", _raise(RuntimeError("boom")))
    monkeypatch.setenv("LEAD_MODEL_DEBUG", "1")
    result = cli("load", "leads.csv")
    assert result.exit_code == 1
    assert "Traceback" in result.output and "RuntimeError: boom" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("Error: unexpected error (RuntimeError: boom)")
