"""The app's error boundary and messages: one sentence for the room, never a traceback.

``no_traceback`` wraps every page run and fragment; ``callback`` wraps every widget callback
(a callback runs before the page, so its message is flashed and shown where the page puts it).
"""

from __future__ import annotations

import functools
import os
import re
import sys
import threading
import time
import traceback
from contextlib import contextmanager

import streamlit as st

from lead_model.errors import LeadModelError
from lead_model.formatting import markdown_escape

FLASH = "flash"
DEBUG = bool(os.environ.get("LEAD_MODEL_DEBUG"))

_CLI_HINTS = (  # the core's advice names CLI options; the app says where to do it here
    (re.compile(r"pass (it|the outcome) with --outcome( COLUMN)?"), "type the outcome's name in 'Outcome column' and load the file again"),
    (re.compile(r"pass another --store( path)?"), "set LEAD_MODEL_STORE to another file"),
    (re.compile(r"load it with 'lead-model load FILE'"), "load the file again"),
    (re.compile(r"; leave it out with --exclude \S+"), "; set its role to ignore on the Data page"),
)


def for_app(exc: LeadModelError | str) -> str:
    """The core's one sentence, with CLI advice (--outcome, --store) said the app's way, starting with a capital, Markdown-escaped.

    The core's sentences start in lower case (the CLI prints them after "Error: "); a first
    word that is a file or column name ("leads.csv ...", "'email' ...") keeps its spelling.
    They name columns, levels and files from the user's data, so the whole sentence is escaped
    here, once: st.error and st.warning render Markdown.
    """
    text = str(exc)
    for pattern, replacement in _CLI_HINTS:
        text = pattern.sub(replacement, text)
    first = text.split(" ", 1)[0]
    if first.isalpha() and first.islower():
        text = text[0].upper() + text[1:]
    return markdown_escape(text)


def unexpected(exc: BaseException) -> str:
    """Our bug, in one line for the room (the traceback goes to the server's log)."""
    detail = str(exc).splitlines()[0] if str(exc) else "no details"
    return markdown_escape(f"Something went wrong ({type(exc).__name__}: {detail}); the model and data are unchanged, so undo or reload the page.")


@contextmanager
def no_traceback():
    """Show a failure as one sentence (st.error) instead of a traceback; the state is left as it was.

    A LeadModelError is the user's to fix and says how; anything else is our bug, logged to
    stderr with its traceback for us and shown to the room as one line.
    """
    try:
        yield
    except LeadModelError as exc:
        st.error(for_app(exc))
    except Exception as exc:  # noqa: BLE001 - the last line of defence in front of a projector
        traceback.print_exc()
        st.error(unexpected(exc))


def callback(where: str = "page"):
    """Decorator for widget callbacks: a LeadModelError (or our bug) becomes a flashed sentence shown at ``where``."""

    def wrap(fn):
        @functools.wraps(fn)
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except LeadModelError as exc:
                flash("error", for_app(exc), where)
            except Exception as exc:  # noqa: BLE001 - a callback's traceback would replace the whole page
                traceback.print_exc()
                flash("error", unexpected(exc), where)

        return run

    return wrap


def flash(kind: str, text: str, where: str = "page") -> None:
    """A message for the next draw (callbacks cannot place elements where they belong).

    ``where`` names the spot that shows it (``show_flash(where)``): "page" under the title,
    or a control's own place, so an error about a cap appears next to the caps.
    """
    st.session_state.setdefault(FLASH, []).append((kind, text, where))


def show_flash(where: str = "page") -> None:
    pending = st.session_state.get(FLASH, [])
    for kind, text, _ in [m for m in pending if m[2] == where]:
        getattr(st, kind)(text)
    rest = [m for m in pending if m[2] != where]
    if rest:
        st.session_state[FLASH] = rest
    else:
        st.session_state.pop(FLASH, None)


_timing = threading.local()  # fragments timed on this script thread, outermost first


@contextmanager
def fragment_timing(name: str):
    """With LEAD_MODEL_TIMINGS set, log ``script_ms=`` for a fragment-only rerun, as app.py does for full runs.

    Only the outermost fragment of a rerun logs (the Designer's threshold fragment runs inside
    its results fragment), so each rerun is one line.
    """
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    started = time.perf_counter()
    depth = getattr(_timing, "depth", 0)
    _timing.depth = depth + 1
    try:
        yield
    finally:
        _timing.depth = depth
    ctx = get_script_run_ctx()
    if depth == 0 and os.environ.get("LEAD_MODEL_TIMINGS") and ctx is not None and ctx.fragment_ids_this_run:
        print(f"script_ms={(time.perf_counter() - started) * 1000:.1f} fragment={name}", file=sys.stderr, flush=True)
