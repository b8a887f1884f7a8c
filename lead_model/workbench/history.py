"""Undo history for the model being designed: a bounded stack of immutable values with undo, redo and reset."""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class ModelHistory(Generic[T]):
    """The current model plus the models before it (undo) and after it (redo).

    Values are immutable (``ScoringModel`` is), so the history keeps references, not
    copies. Pushing a value equal to the current one is a no-op, so a widget that
    re-sends the same value does not grow the stack. Pushing after an undo drops the
    redo branch, like every editor. At most ``limit`` past states are kept.
    """

    def __init__(self, initial: T, limit: int = 200):
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self._past: list[T] = []
        self._current: T = initial
        self._future: list[T] = []
        self.limit = limit

    @property
    def current(self) -> T:
        return self._current

    @property
    def can_undo(self) -> bool:
        return bool(self._past)

    @property
    def can_redo(self) -> bool:
        return bool(self._future)

    @property
    def undo_depth(self) -> int:
        """How many steps back are possible."""
        return len(self._past)

    @property
    def previous(self) -> T | None:
        """The value ``undo`` would bring back (None at the start)."""
        return self._past[-1] if self._past else None

    @property
    def following(self) -> T | None:
        """The value ``redo`` would bring back (None at the end)."""
        return self._future[-1] if self._future else None

    def push(self, value: T) -> bool:
        """Make ``value`` current; returns False (and changes nothing) if it equals the current value."""
        if value == self._current:
            return False
        self._past.append(self._current)
        if len(self._past) > self.limit:
            del self._past[: len(self._past) - self.limit]
        self._current = value
        self._future.clear()
        return True

    def undo(self) -> T:
        """Step back one change (no-op at the start) and return the current value."""
        if self._past:
            self._future.append(self._current)
            self._current = self._past.pop()
        return self._current

    def redo(self) -> T:
        """Step forward one undone change (no-op at the end) and return the current value."""
        if self._future:
            self._past.append(self._current)
            self._current = self._future.pop()
        return self._current

    def reset(self, value: T) -> T:
        """Go back to ``value`` (e.g. the baseline) as a change of its own, so the reset can be undone."""
        self.push(value)
        return self._current

    def restart(self, value: T) -> None:
        """Forget everything and start again from ``value`` (a new dataset or model file)."""
        self._past.clear()
        self._future.clear()
        self._current = value

    def __len__(self) -> int:
        """Number of states held, the current one included."""
        return len(self._past) + 1 + len(self._future)
