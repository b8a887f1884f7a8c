"""How numbers read in every table, tile and text report: percentages, counts of leads, lifts."""

from __future__ import annotations

import math
import re

DASH = "–"  # an undefined number (no MQLs, no leads)


def is_number(x: float | None) -> bool:
    return x is not None and not (isinstance(x, float) and math.isnan(x))


def pct(x: float | None, digits: int = 1, missing: str = DASH) -> str:
    """A fraction as a percentage: 0.2534 -> '25.3%'; NaN or None -> ``missing``."""
    return f"{x:.{digits}%}" if is_number(x) else missing


def count(n: int, noun: str = "lead", plural: str | None = None) -> str:
    """'1 lead', '2 leads', '12,400 leads'."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def lift(x: float | None, missing: str = DASH) -> str:
    """A ratio to the base rate: '2.93x'."""
    return f"{x:.2f}x" if is_number(x) else missing


def score(x: float | None, digits: int = 3, missing: str = DASH) -> str:
    """An AUC or F1: '0.774'."""
    return f"{x:.{digits}f}" if is_number(x) else missing


def money(x: float | None, missing: str = DASH) -> str:
    """An amount in the file's currency, short enough for a tile: 950 -> '950', 45,600 -> '45.6k', 12,345,678 -> '12.3M'."""
    if not is_number(x):
        return missing
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= size * 0.9995:
            return f"{x / size:.1f}{suffix}"
    return f"{x:,.0f}"


def signed(x: float, fmt: str = "+.1f", suffix: str = "", scale: float = 1.0) -> str | None:
    """A change ``x * scale`` written signed by ``fmt`` with ``suffix`` ('+3.2 pts', '-120'); None when it rounds to zero
    (so never "-0.0 pts")."""
    text = format(x * scale if scale != 1 else x, fmt)  # a count stays an int: "+8,914", not "+8,914.0"
    return None if float(text.replace(",", "")) == 0 else text + suffix


def file_stem(name: str, default: str = "lead_model") -> str:
    """A name as the stem of a download's file name: 'RevOps Lead Score (v2)' -> 'revops_lead_score_v2' (``default`` when nothing is left)."""
    return re.sub(r"[^A-Za-z0-9]+", "_", str(name)).strip("_").lower() or default


_MARKDOWN_SPECIAL = set("\\`*_{}[]()#+-.!|~<>$:&")


def markdown_escape(text: str) -> str:
    """``text`` shown literally by a Markdown renderer: every ASCII punctuation mark that Markdown (or
    Streamlit's ``:color[...]`` and ``$math$`` extensions) could read is backslash-escaped, and line
    breaks become spaces; web and mail addresses, and runs of hyphens, get an invisible word joiner so that they are
    not made links or dashes. Use it on every string that comes from a user's file (column names, levels).
    """
    text = str(text).replace("\r", " ").replace("\n", " ")
    escaped = "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in text)
    return _DASHES.sub(WORD_JOINER, _AUTOLINK.sub(WORD_JOINER, escaped))


# GFM's autolinks ("http://x", "www.x", "a@b.c") become live links even with their punctuation escaped;
# an invisible word joiner (U+2060) before the ':', '.' or '@' breaks each up and shows nothing.
WORD_JOINER = "\u2060"
_DASHES = re.compile(r"(?<=\\-)(?=\\-)")  # "--" is typeset as a dash even escaped: a word joiner between the hyphens keeps them
_AUTOLINK = re.compile(r"(?i)(?<=https)(?=\\:)|(?<=http)(?=\\:)|(?<=ftp)(?=\\:)|(?<=www)(?=\\\.)|(?=@)")
