"""Reading lead files: hostile column names, byte-order marks and row positions survive the read."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import write_csv

from lead_model import LeadModelError
from lead_model.data.sources import is_parquet, read_source, sniff_dialect, sniff_encoding

HOSTILE = ['Job "Level"', "it's; DROP TABLE leads;--", "company.size", "country, region", "tier\\name", "converted"]


@pytest.mark.parametrize("bom", [False, True])
def test_hostile_column_names_and_values_read_back_exactly(tmp_path, bom):
    rows = [['VP "Sales"', "O'Neil; --", "a.b", "x, y", "c:\\temp", "yes"], ["", "plain", "", "z", "", "no"]]
    path = write_csv(tmp_path / "hostile.csv", HOSTILE, rows, bom=bom)
    table = read_source(path)
    assert table.column_names == ["__row", *HOSTILE]
    assert np.array_equal(table.column("__row").to_numpy(), [0, 1])
    assert table.column('Job "Level"').to_pylist() == ['VP "Sales"', None]
    assert table.column("it's; DROP TABLE leads;--").to_pylist() == ["O'Neil; --", "plain"]
    assert table.column("tier\\name").to_pylist() == ["c:\\temp", None]


def test_sniffing_reads_the_delimiter_from_the_header(tmp_path):
    path = write_csv(tmp_path / "semi.csv", ["a b", "c.d", "converted"], [["1", "x;y", "yes"], ["2", "z", "no"]], delimiter="\t")
    encoding = sniff_encoding(path)
    assert encoding == "utf-8"
    assert "delim='\t'" in sniff_dialect(path, encoding)
    assert not is_parquet(path)


def test_an_empty_file_is_a_sentence(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(LeadModelError, match="is empty"):
        read_source(path)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_integers_past_2_53_stay_exact_as_text(tmp_path, fmt):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lead_model import load_leads

    ids = [5094572997602054286, 9007199254740993, -9007199254740993, 12]  # 2^53 + 1 would round as a float
    phones = [4915112345678901, 4915112345678902, 4915112345678903, 4915112345678904]  # below 2^53: numbers stay numbers
    if fmt == "csv":
        path = write_csv(tmp_path / "big.csv", ["crm id", "phone", "converted"], [[i, p, c] for i, p, c in zip(ids, phones, ["yes", "no", "no", "yes"])])
    else:
        path = tmp_path / "big.parquet"
        pq.write_table(pa.table({"crm id": pa.array(ids, pa.int64()), "phone": phones, "converted": ["yes", "no", "no", "yes"]}), path)
    table = read_source(path)
    assert table.column("crm id").to_pylist() == [str(i) for i in ids]
    assert pa.types.is_integer(table.column("phone").type)
    leads = load_leads(path, "converted", store=tmp_path / "s.duckdb")
    assert leads.n_leads == 4 and leads.roles["crm id"].role in ("id", "ignore")
    assert leads.rows(np.arange(4))["crm id"].tolist() == [str(i) for i in ids]
