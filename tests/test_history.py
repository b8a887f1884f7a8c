"""ModelHistory: undo, redo, reset and the bound on remembered states."""

from __future__ import annotations

import pytest

from lead_model.workbench.history import ModelHistory
from lead_model.model.schema import ScoringModel


def test_push_undo_redo():
    h = ModelHistory("a")
    assert h.current == "a" and not h.can_undo and not h.can_redo
    assert h.push("b") and h.push("c")
    assert h.current == "c" and h.undo_depth == 2
    assert h.undo() == "b"
    assert h.undo() == "a"
    assert h.undo() == "a"  # nothing left to undo: a no-op
    assert not h.can_undo and h.can_redo
    assert h.redo() == "b"
    assert h.redo() == "c"
    assert h.redo() == "c"
    assert len(h) == 3


def test_push_equal_value_is_a_noop():
    h = ModelHistory(1)
    assert not h.push(1)
    assert not h.can_undo and len(h) == 1


def test_push_after_undo_drops_redo_branch():
    h = ModelHistory("a")
    h.push("b")
    h.undo()
    h.push("c")
    assert not h.can_redo
    assert h.undo() == "a"


def test_reset_is_an_undoable_change():
    h = ModelHistory("baseline")
    h.push("edit 1")
    h.push("edit 2")
    assert h.reset("baseline") == "baseline"
    assert h.undo() == "edit 2"


def test_restart_forgets_everything():
    h = ModelHistory("a")
    h.push("b")
    h.restart("z")
    assert h.current == "z" and not h.can_undo and not h.can_redo and len(h) == 1


def test_limit_keeps_the_newest_states():
    h = ModelHistory(0, limit=3)
    for i in range(1, 10):
        h.push(i)
    assert h.undo_depth == 3
    assert [h.undo() for _ in range(4)] == [8, 7, 6, 6]
    with pytest.raises(ValueError):
        ModelHistory(0, limit=0)


def test_models_compare_by_value():
    m = ScoringModel()
    h = ModelHistory(m)
    assert not h.push(ScoringModel.from_dict(m.to_dict()))  # an equal model is not a change
    changed = m.replace(mql_threshold=70)
    assert h.push(changed)
    assert h.undo() is m
