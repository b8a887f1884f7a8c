"""Review periods: each lead's quarter ('2024-Q1') or month ('2024-01') from its created date.

A period is numbered by an absolute code (quarters: year x 4 + quarter - 1; months: year x 12
+ month - 1), so periods sort in time and the labels of a dataset run without gaps from its
first period to its last (a quarter with no leads is a period with 0 leads). Leads without a
created date are in no period: they are counted apart (``Periods.undated``) and every report
says how many there are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from lead_model.errors import LeadModelError
from lead_model.formatting import count

BY = ("quarter", "month")
MAX_PERIODS = 1200  # a hundred years of months: more means the created column holds something else
_QUARTER = re.compile(r"^\s*([0-9]{4})\s*-?\s*[Qq]([1-4])\s*$")
_MONTH = re.compile(r"^\s*([0-9]{4})\s*-\s*([0-9]{1,2})\s*$")
_EXAMPLE = {"quarter": "2024-Q1", "month": "2024-01"}


def check_by(by: str) -> str:
    """``by`` if it is 'quarter' or 'month'; otherwise LeadModelError."""
    if by not in BY:
        raise LeadModelError(f"periods by '{by}' are not possible; review by quarter or by month.")
    return by


def period_label(code: int, by: str) -> str:
    """The label of absolute period ``code``: '2024-Q1' (quarter) or '2024-01' (month)."""
    code = int(code)
    if check_by(by) == "quarter":
        return f"{code // 4:04d}-Q{code % 4 + 1}"
    return f"{code // 12:04d}-{code % 12 + 1:02d}"


def parse_period(text: str, by: str, span: tuple[str, str] | None = None) -> int:
    """The absolute code of a period label a person typed ('2024-Q1', '2024q1'; '2024-01', '2024-1').

    Raises LeadModelError, one sentence naming the allowed form (and the data's first and last
    period when ``span`` is given), when ``text`` is not a period of that kind.
    """
    check_by(by)
    text = str(text)
    runs = f" (the data runs from {span[0]} to {span[1]})" if span else ""
    shown = " ".join(text.split())[:40]  # the text as typed, on one line
    quarter, month = _QUARTER.match(text), _MONTH.match(text)
    if month and not 1 <= int(month.group(2)) <= 12:
        month = None
    if by == "quarter" and quarter:
        return int(quarter.group(1)) * 4 + int(quarter.group(2)) - 1
    if by == "month" and month:
        return int(month.group(1)) * 12 + int(month.group(2)) - 1
    if by == "quarter" and month:
        raise LeadModelError(f"'{shown}' is a month but the review is by quarter; give a quarter like 2024-Q1{runs} or review by month.")
    if by == "month" and quarter:
        raise LeadModelError(f"'{shown}' is a quarter but the review is by month; give a month like 2024-01{runs} or review by quarter.")
    raise LeadModelError(f"'{shown}' is not a {by}; write it like {_EXAMPLE[by]}{runs}.")


def date_codes(created: np.ndarray, by: str) -> np.ndarray:
    """int64 absolute period code per date (datetime64); NaT gets -1."""
    check_by(by)
    months = created.astype("datetime64[M]").astype(np.int64) + 1970 * 12
    codes = months if by == "month" else months // 3
    codes[np.isnat(created)] = -1
    return codes


@dataclass(frozen=True, eq=False)
class Periods:
    """The periods of one LeadSet's created dates, and each lead's period.

    ``index`` has one int16 per lead (LeadSet order, converted first): the position of its period
    in ``labels``, or -1 when the lead has no created date. ``labels`` run in time order from
    the first period with a lead to the last, without gaps.
    """

    by: str
    first: int  # absolute code of labels[0]
    labels: tuple[str, ...]
    index: np.ndarray
    undated: int  # leads without a created date: in no period
    column: str | None  # the created date column

    @property
    def span(self) -> tuple[str, str]:
        return self.labels[0], self.labels[-1]

    def position(self, label: str) -> int:
        """The position in ``labels`` of a period a person typed; one sentence when it is malformed or outside the data."""
        code = parse_period(label, self.by, self.span)
        pos = code - self.first
        if not 0 <= pos < len(self.labels):
            raise LeadModelError(
                f"{period_label(code, self.by)} is outside the data, which runs from {self.span[0]} to {self.span[1]}; pick a {self.by} in that range."
            )
        return pos

    def label(self, label: str | None, default: int) -> str:
        """The canonical label of ``label`` (validated), or of ``labels[default]`` when ``label`` is None."""
        return self.labels[default] if label is None else self.labels[self.position(label)]

    def mask(self, label: str) -> np.ndarray:
        """bool per lead: created in period ``label``."""
        return self.index == self.position(label)

    def leads_per_period(self) -> np.ndarray:
        """int64 leads per period (``labels`` order), undated leads left out."""
        return np.bincount(self.index[self.index >= 0], minlength=len(self.labels))

    def undated_sentence(self) -> str | None:
        """'12 leads have no created date: they are in no period.' (None when every lead has one)."""
        if not self.undated:
            return None
        verb = "has" if self.undated == 1 else "have"
        return f"{count(self.undated)} {verb} no created date{f' ({self.column})' if self.column else ''}: counted apart, in no period."


def periods(leads, by: str = "quarter") -> Periods:
    """The quarters or months of ``leads`` (a LeadSet) from its created date column.

    One sentence (LeadModelError) when the data has no created date column, when no lead has a
    date, or when the dates span more than MAX_PERIODS periods.
    """
    check_by(by)
    created = getattr(leads, "created", None)
    if created is None:
        raise LeadModelError(
            f"'{leads.name}' has no created date column, so its leads cannot be put in periods; pick one on the Data page "
            "(its role: created) or load the file again with lead-model load FILE --created COLUMN."
        )
    codes = date_codes(created, by)
    dated = codes >= 0
    if not dated.any():
        raise LeadModelError(f"no lead of '{leads.name}' has a created date in '{leads.created_column}'; pick another created date column on the Data page.")
    first, last = int(codes[dated].min()), int(codes[dated].max())
    n = last - first + 1
    if n > MAX_PERIODS:
        raise LeadModelError(
            f"the created dates in '{leads.created_column}' run from {period_label(first, by)} to {period_label(last, by)}, "
            f"{n:,} {by}s; check that column holds the date each lead was created."
        )
    index = np.where(dated, codes - first, -1).astype(np.int16)
    labels = tuple(period_label(c, by) for c in range(first, last + 1))
    return Periods(by, first, labels, index, int((~dated).sum()), getattr(leads, "created_column", None))
