"""The session's undo commands: every edit of the points or the centres is one of these.

Each command keeps only what it needs to undo (the rows it added, removed or
moved), so undo is cheap at any N.  They write through the session's one
private door, ``_assign``, which restarts the run.

The points carry their true components z (``session.truth``, None when
unknown): a command on the points hands ``_assign`` the z that goes with its
points, so z stays aligned with them, and undo gives back the z that was there.
Replacing the points also replaces their columns' names (``session.names``),
and undo gives those back.
"""

import numpy as np
from PySide6.QtGui import QUndoCommand


class SetArray(QUndoCommand):
    """Replace the points (and their z and column names) or the centres; undo puts the old ones back.

    ``names``: (names before, names after) for the points; None keeps the session's.
    """

    def __init__(self, session, which, before, after, text, truth_before=None, truth_after=None,
                 names=None):
        super().__init__(text)
        self._session, self._which = session, which
        self._before, self._after = before, after
        self._truth_before, self._truth_after = truth_before, truth_after
        self._names = names

    def _put(self, value, truth, names):
        if self._names is None:
            self._session._assign(self._which, value, truth)
        else:
            self._session._assign(self._which, value, truth, names)

    def redo(self):
        self._put(self._after, self._truth_after, None if self._names is None else self._names[1])

    def undo(self):
        self._put(self._before, self._truth_before, None if self._names is None else self._names[0])


class AddRows(QUndoCommand):
    """Append rows (cheap to undo at any N: stores only the new rows).

    A point added by hand has no true component: z becomes unknown (None), and
    undo gives it back (the z array is never changed in place, so keeping it costs nothing).
    """

    def __init__(self, session, which, rows, text):
        super().__init__(text)
        self._session, self._which, self._rows = session, which, rows
        self._truth = session.truth

    def redo(self):
        current = self._session._array(self._which)
        self._session._assign(self._which, np.vstack([current, self._rows]), None)

    def undo(self):
        current = self._session._array(self._which)
        self._session._assign(self._which, current[:len(current) - len(self._rows)].copy(), self._truth)


class RemoveRows(QUndoCommand):
    """Remove rows; the removed points' z goes with them and comes back on undo."""

    def __init__(self, session, which, indices, text):
        super().__init__(text)
        self._session, self._which = session, which
        self._indices = np.sort(np.asarray(indices, dtype=np.int64))
        self._rows = session._array(which)[self._indices].copy()
        truth = session.truth if which == "points" else None
        self._truth_rows = None if truth is None else truth[self._indices].copy()

    def redo(self):
        current = self._session._array(self._which)
        truth = self._session.truth if self._which == "points" else None
        if truth is not None:
            truth = np.delete(truth, self._indices)
        self._session._assign(self._which, np.delete(current, self._indices, axis=0), truth)

    def undo(self):
        current = self._session._array(self._which)
        keep = np.ones(len(current) + len(self._rows), dtype=bool)
        keep[self._indices] = False
        out = np.empty((len(keep), current.shape[1]))
        out[keep] = current
        out[self._indices] = self._rows
        truth = self._session.truth if self._which == "points" else None
        if truth is not None and self._truth_rows is not None:
            z = np.empty(len(keep), dtype=truth.dtype)
            z[keep] = truth
            z[self._indices] = self._truth_rows
            truth = z
        else:
            truth = None
        self._session._assign(self._which, out, truth)


class MoveRow(QUndoCommand):
    def __init__(self, session, which, index, before, after, text):
        super().__init__(text)
        self._session, self._which, self._index = session, which, index
        self._before, self._after = np.array(before), np.array(after)

    def _put(self, value):
        arr = self._session._array(self._which).copy()
        arr[self._index] = value
        # a moved point keeps its z: it is still the point drawn from that component
        self._session._assign(self._which, arr, self._session.truth)

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
