"""The session's undo commands: every edit of the points or the centres is one of these.

Each command keeps only what it needs to undo (the rows it added, removed or
moved), so undo is cheap at any N.  They write through the session's one
private door, ``_assign``, which restarts the run.
"""

import numpy as np
from PySide6.QtGui import QUndoCommand


class SetArray(QUndoCommand):
    """Replace the points or the centres; undo puts the old array back."""

    def __init__(self, session, which, before, after, text):
        super().__init__(text)
        self._session, self._which = session, which
        self._before, self._after = before, after

    def redo(self):
        self._session._assign(self._which, self._after)

    def undo(self):
        self._session._assign(self._which, self._before)


class AddRows(QUndoCommand):
    """Append rows (cheap to undo at any N: stores only the new rows)."""

    def __init__(self, session, which, rows, text):
        super().__init__(text)
        self._session, self._which, self._rows = session, which, rows

    def redo(self):
        current = self._session._array(self._which)
        self._session._assign(self._which, np.vstack([current, self._rows]))

    def undo(self):
        current = self._session._array(self._which)
        self._session._assign(self._which, current[:len(current) - len(self._rows)].copy())


class RemoveRows(QUndoCommand):
    def __init__(self, session, which, indices, text):
        super().__init__(text)
        self._session, self._which = session, which
        self._indices = np.sort(np.asarray(indices, dtype=np.int64))
        self._rows = session._array(which)[self._indices].copy()

    def redo(self):
        current = self._session._array(self._which)
        self._session._assign(self._which, np.delete(current, self._indices, axis=0))

    def undo(self):
        current = self._session._array(self._which)
        out = np.empty((len(current) + len(self._rows), 2))
        keep = np.ones(len(out), dtype=bool)
        keep[self._indices] = False
        out[keep] = current
        out[self._indices] = self._rows
        self._session._assign(self._which, out)


class MoveRow(QUndoCommand):
    def __init__(self, session, which, index, before, after, text):
        super().__init__(text)
        self._session, self._which, self._index = session, which, index
        self._before, self._after = np.array(before), np.array(after)

    def _put(self, value):
        arr = self._session._array(self._which).copy()
        arr[self._index] = value
        self._session._assign(self._which, arr)

    def redo(self):
        self._put(self._after)

    def undo(self):
        self._put(self._before)


class ReturnToStep(QUndoCommand):
    """First in a macro whose edits restart the run: undoing the macro returns to ``index``,
    so undoing a centre dragged mid-run gives back the run as it was, at the step it was."""

    def __init__(self, session, index):
        super().__init__("Return to half-step")
        self._session, self._index = session, index

    def redo(self):
        pass

    def undo(self):
        self._session.goto(self._index)
