"""Widget callbacks: each turns a widget's new value into one Workbench edit, inside the app's error boundary.

A refused edit (LeadModelError) is flashed as one sentence where the control is, and the
model stays as it was; see ``pages/messages.callback``.
"""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from lead_model.model.schema import ScoringModel
from pages.messages import callback
from pages.session import CAP_KEYS, RESULTS_FRAGMENT, RESUME, THRESHOLD_KEY, ss, workbench


def on_points(attribute: str, value, key: str) -> None:
    """A points slider moved: edit the model, then rerun only the Designer's results (``RESULTS_FRAGMENT``).

    The sidebar is left as drawn: the slider already shows its new value and nothing else
    there depends on points. A refused edit flashes its sentence and reruns the whole page.
    """
    if not _points(attribute, value, key):
        return
    try:
        st.rerun(RESULTS_FRAGMENT)
    except StreamlitAPIException:  # the fragment has not been drawn in this session: rerun the page
        return


@callback()
def _points(attribute: str, value, key: str) -> bool:
    workbench().set_points(attribute, value, int(ss[key]))
    return True


@callback()
def on_threshold() -> None:
    workbench().set_threshold(int(ss[THRESHOLD_KEY]))


@callback()
def use_threshold(threshold: int) -> None:
    workbench().set_threshold(int(threshold))


@callback(where="caps")
def on_caps() -> None:
    workbench().set_caps({g: ss.get(k) for g, k in CAP_KEYS.items()})


def bands_from_editor(rows: list[dict], edits: dict | None) -> list[dict]:
    """The bands a ``st.data_editor`` shows: its starting ``rows`` (name, min_score) with the widget's edit state applied
    (edited_rows, added_rows, deleted_rows), in the order the editor lists them."""
    edits = edits or {}
    out = [dict(r) for r in rows]
    for i, change in (edits.get("edited_rows") or {}).items():
        out[int(i)].update(change)
    deleted = {int(i) for i in edits.get("deleted_rows") or ()}
    out = [r for i, r in enumerate(out) if i not in deleted]
    out += [{"name": r.get("name"), "min_score": r.get("min_score")} for r in edits.get("added_rows") or ()]
    out = [r for r in out if not (_blank(r.get("name")) and _blank(r.get("min_score")))]  # an empty added row is no band
    # highest first whatever order the rows were typed in; the ones with no minimum last
    return sorted(out, key=lambda r: (1, 0.0) if _blank(r.get("min_score")) else (0, -_number(r["min_score"])))


def _number(x) -> float:
    """A typed minimum as a number for sorting; one that is not a number sorts first and the band rule names it."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("inf")


def _blank(x) -> bool:
    return x is None or (isinstance(x, float) and x != x) or (isinstance(x, str) and not x.strip())


@callback(where="bands")
def on_bands(kind: str, rows: list[dict], key: str) -> None:
    """The grades or tiers editor was saved: set those bands (the schema's rule refuses a bad list in one sentence)."""
    workbench().set_bands(kind, bands_from_editor(rows, ss.get(key)))
    ss.pop(key, None)


@callback(where="metadata")
def on_metadata(keys: dict[str, str]) -> None:
    """The model details form was saved: name, author and notes (``keys``: field -> widget key)."""
    workbench().set_metadata(**{field: ss.get(key) for field, key in keys.items()})


def on_edges(attribute: str, key: str) -> None:
    callback(where=key)(lambda: workbench().set_edges(attribute, ss[key]))()


@callback()
def on_attribute_set(key: str) -> None:
    """Add (at 0 points) or remove attributes from the model to match the multiselect."""
    workbench().set_attributes(ss[key])


@callback(where="knockouts")
def add_knockout(rule: dict, form_keys: tuple[str, ...] = ()) -> None:
    """Append a knock-out; the form's widgets are cleared once it is added."""
    workbench().add_knockout(rule)
    for k in form_keys:
        ss.pop(k, None)


@callback()
def remove_knockout(index: int) -> None:
    workbench().remove_knockout(index)


@callback()
def undo() -> None:
    workbench().undo()


@callback()
def redo() -> None:
    workbench().redo()


@callback()
def reset_to_baseline() -> None:
    workbench().reset_to_baseline()


@callback()
def set_baseline() -> None:
    workbench().set_baseline()


@callback()
def resume() -> None:
    """Continue the last session's autosaved model and baseline (undoable); the offer goes."""
    saved = ss.pop(RESUME, None)
    if saved is not None:
        workbench().resume(saved.model, saved.baseline, saved.changes)


@callback()
def dismiss_resume() -> None:
    """Start over: keep the model this session started with; the autosave is replaced by the next change."""
    ss.pop(RESUME, None)


def adopt_model(new_model: ScoringModel) -> None:
    """Continue from a model file (raises LeadModelError, nothing changes, if it does not fit the data)."""
    workbench().adopt(new_model)
