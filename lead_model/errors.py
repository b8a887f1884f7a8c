"""The one error type users see: a single sentence naming the problem and the fix."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class LeadModelError(Exception):
    """A problem with the user's input, phrased for a person.

    The CLI prints it as ``Error: <message>`` and exits 1; the app shows it with
    ``st.error``. It never carries a traceback to the user.
    """


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""`` if none is close."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    if name.lower() in lowered:
        return f" (did you mean '{lowered[name.lower()]}'?)"
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
