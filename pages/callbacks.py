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
