"""The one session model every view observes: data, settings, the run and its cursor.

Views subscribe to its signals and call its methods; they never compute the
maths.  Every edit of points or centres is an undoable command and restarts
the run from the initial state (settings changes too), keeping points and
centres.  The run itself lives on the engine worker; this model keeps the
snapshots it reports and the frame on screen.
"""

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from engine.initialisation import initial_centres
from engine.sampling import PRESETS, old_faithful
from engine.scenario import Scenario

from .render import state_caption
from .worker import EngineClient

DEFAULT_SETTINGS = {"beta": 1.0, "covariance_type": "full", "reg_covar": 1e-6,
                    "learn_weights": True, "max_iter": 100, "tol": 1e-6}
DEFAULT_DISPLAY = {"field": False, "lines": False, "trails": True, "ellipses": True,
                   "true_mixture": False, "marker_scale": 1.0}


class _SetArray(QUndoCommand):
    """Replace the points or the centres; undo puts the old array back."""

    def __init__(self, session, which, before, after, text):
        super().__init__(text)
        self._session, self._which = session, which
        self._before, self._after = before, after

    def redo(self):
        self._session._assign(self._which, self._after)

    def undo(self):
        self._session._assign(self._which, self._before)


class _AddRows(QUndoCommand):
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


class _RemoveRows(QUndoCommand):
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


class _MoveRow(QUndoCommand):
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


class SessionModel(QObject):
    """Points, centres, settings, display options; the run's snapshots and the cursor."""

    sigPointsChanged = Signal()
    sigCentresChanged = Signal()
    sigSettingsChanged = Signal()
    sigMixtureChanged = Signal()
    sigDisplayChanged = Signal()
    sigHistoryChanged = Signal()
    sigStepChanged = Signal(int)
    sigFrameChanged = Signal()
    sigMessage = Signal(str)
    sigModifiedChanged = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.points = np.zeros((0, 2))
        self.centres = np.zeros((0, 2))
        self.algorithm = "kmeans"
        self.settings = dict(DEFAULT_SETTINGS)
        self.init_method = "kmeans++"
        self.n_clusters = 3
        self.seed = 0
        self.mixture = PRESETS["blobs"][1]
        self.sample_n = 300
        self.display = dict(DEFAULT_DISPLAY)
        self.undo_stack = QUndoStack(self)
        self.client = EngineClient(self)
        self.client.sigFrame.connect(self._on_client_frame)
        self.client.sigReset.connect(self._on_client_reset)
        self.run_id = 0
        self.history = ()
        self.finished = False
        self.index = 0
        self.frame = None
        self.error = None
        self.viewport = None
        self._dragging = None
        self._wanted = 0
        self.modified = False
        self.edit_serial = 0  # bumped by every edit: the autosave writes when it moved
        self._restart()

    def _touch(self):
        """Something the user set up changed: unsaved work now exists."""
        self.edit_serial += 1
        if not self.modified:
            self.modified = True
            self.sigModifiedChanged.emit(True)

    def mark_saved(self):
        if self.modified:
            self.modified = False
            self.sigModifiedChanged.emit(False)

    # -- arrays and the undo stack -----------------------------------------
    def _array(self, which):
        return self.points if which == "points" else self.centres

    def _assign(self, which, value):
        value = np.asarray(value, dtype=np.float64).reshape(-1, 2)
        self._touch()
        if which == "points":
            self.points = value
            self.sigPointsChanged.emit()
        else:
            self.centres = value
            self.sigCentresChanged.emit()
        self._restart()

    def add_point(self, x, y):
        self.undo_stack.push(_AddRows(self, "points", np.array([[x, y]], dtype=float), "Add point"))

    def add_centre(self, x, y):
        self.undo_stack.push(_AddRows(self, "centres", np.array([[x, y]], dtype=float), "Place centre"))

    def remove_points(self, indices):
        if len(indices):
            self.undo_stack.push(_RemoveRows(self, "points", indices,
                                             "Remove point" if len(indices) == 1 else "Remove points"))

    def remove_centre(self, index):
        self.undo_stack.push(_RemoveRows(self, "centres", [index], "Remove centre"))

    def set_points(self, points, text="Set points"):
        self.undo_stack.push(_SetArray(self, "points", self.points, np.asarray(points, float), text))

    def set_centres(self, centres, text="Set centres"):
        self.undo_stack.push(_SetArray(self, "centres", self.centres, np.asarray(centres, float), text))

    def clear_points(self):
        if len(self.points):
            self.set_points(np.zeros((0, 2)), "Clear points")

    def clear_centres(self):
        if len(self.centres):
            self.set_centres(np.zeros((0, 2)), "Clear centres")

    # Dragging: the model follows the mouse live; one undo entry per drag.
    def begin_drag(self, which, index):
        if which == "centres" and self.index > 0 and self.history:
            # dragging a centre mid-run starts a new run from the centres on screen
            shown = np.array(self.history[self.index].centres)
            if shown.shape == self.centres.shape:
                self.set_centres(shown, "Start from current centres")
        self._dragging = (which, index, self._array(which)[index].copy())

    def drag_to(self, x, y):
        if self._dragging is None:
            return
        which, index, _ = self._dragging
        arr = self._array(which).copy()
        arr[index] = (x, y)
        self._assign(which, arr)

    def end_drag(self):
        if self._dragging is None:
            return
        which, index, before = self._dragging
        self._dragging = None
        after = self._array(which)[index].copy()
        if not np.array_equal(before, after):
            text = "Move point" if which == "points" else "Move centre"
            self.undo_stack.push(_MoveRow(self, which, index, before, after, text))

    # -- data sources --------------------------------------------------------
    def set_mixture(self, mixture):
        self.mixture = mixture
        self._touch()
        self.sigMixtureChanged.emit()

    def sample(self, append=False):
        """Draw sample_n points from the mixture (seeded); replace or append."""
        X, _ = self.mixture.sample(self.sample_n, seed=self.seed)
        if append and len(self.points):
            self.set_points(np.vstack([self.points, X]), "Append sample")
        else:
            self.set_points(X, "Sample points")

    def load_preset(self, name):
        """A teaching scenario in one step: its points, its K and its initial centres."""
        self.undo_stack.beginMacro(f"Preset {name}")
        try:
            if name == "old-faithful":
                self.set_points(old_faithful(), "Old Faithful")
                self.n_clusters = 2
            else:
                _, mixture, k, centres = PRESETS[name]
                self.set_mixture(mixture)
                self.n_clusters = k
                self.sample()
                if centres is not None:
                    self.set_centres(centres, "Preset centres")
                    return
            self.initialise(self.init_method)
        finally:
            self.undo_stack.endMacro()
            self.sigSettingsChanged.emit()

    def initialise(self, method):
        """Initial centres by Forgy / random / k-means++ from the seed shown."""
        self.init_method = method
        try:
            centres = initial_centres(method, self.points, min(self.n_clusters, len(self.points)),
                                      self.seed)
        except ValueError as exc:
            self.sigMessage.emit(f"Cannot initialise: {exc}")
            return
        self.set_centres(centres, f"Initialise ({method})")

    # -- settings ----------------------------------------------------------
    def set_algorithm(self, name):
        if name != self.algorithm:
            self.algorithm = name
            self._touch()
            self.sigSettingsChanged.emit()
            self._restart()

    def set_setting(self, key, value):
        if self.settings.get(key) != value:
            self.settings[key] = value
            self._touch()
            self.sigSettingsChanged.emit()
            self._restart()

    def set_seed(self, seed):
        if int(seed) != self.seed:
            self.seed = int(seed)
            self._touch()
            self.sigSettingsChanged.emit()

    def set_n_clusters(self, k):
        if int(k) != self.n_clusters:
            self.n_clusters = int(k)
            self._touch()
            self.sigSettingsChanged.emit()

    def set_display(self, key, value):
        if self.display.get(key) != value:
            self.display[key] = value
            self._touch()
            self.sigDisplayChanged.emit()
            self.request_frame(self._wanted)

    # -- files ---------------------------------------------------------------
    def to_data(self, view=None):
        """The session as the engine's SessionData (what a session file holds)."""
        from engine.session_file import SessionData
        return SessionData(points=self.points.copy(), centres=self.centres.copy(),
                           algorithm=self.algorithm, settings=dict(self.settings), seed=self.seed,
                           init_method=self.init_method, n_clusters=self.n_clusters,
                           mixture=self.mixture, sample_n=self.sample_n, view=view,
                           display=dict(self.display))

    def load_data(self, data):
        """Replace everything by a loaded session; the undo history starts afresh."""
        self.undo_stack.clear()
        self.points = np.asarray(data.points, dtype=float).reshape(-1, 2)
        self.centres = np.asarray(data.centres, dtype=float).reshape(-1, 2)
        self.algorithm = data.algorithm
        self.settings = {**DEFAULT_SETTINGS, **data.settings}
        self.seed, self.init_method, self.n_clusters = data.seed, data.init_method, data.n_clusters
        if data.mixture is not None:
            self.mixture = data.mixture
        self.sample_n = data.sample_n
        self.display = {**DEFAULT_DISPLAY, **{k: v for k, v in data.display.items() if k in DEFAULT_DISPLAY}}
        for signal in (self.sigPointsChanged, self.sigCentresChanged, self.sigMixtureChanged,
                       self.sigSettingsChanged, self.sigDisplayChanged):
            signal.emit()
        self._restart()

    # -- the run -----------------------------------------------------------
    def scenario(self):
        return Scenario(points=self.points, algorithm=self.algorithm, settings=dict(self.settings),
                        centres=self.centres.copy() if len(self.centres) else None,
                        n_clusters=max(len(self.centres), 1), init=self.init_method, seed=self.seed)

    def _restart(self):
        self.run_id += 1
        self.history = ()
        self.finished = False
        self.index = 0
        self.error = None
        self.client.reset(self.run_id, self.scenario() if len(self.points) else None)
        self.sigHistoryChanged.emit()
        self.request_frame(0)

    def _on_client_reset(self, run_id, error):
        if run_id == self.run_id and error:
            self.error = error
            self.sigMessage.emit(error)

    def set_viewport(self, viewport):
        if viewport != self.viewport:
            self.viewport = viewport
            # the newest request supersedes older ones, so ask again for the step
            # the user asked for last, not the one on screen
            self.request_frame(self._wanted)

    def request_frame(self, index):
        """Ask the worker for the frame of half-step ``index``; newer requests supersede it."""
        self._wanted = index
        self.client.request_frame(self.run_id, max(0, index), self.viewport, self.display["lines"])

    def _on_client_frame(self, frame):
        if frame.run_id != self.run_id:
            return  # a run that has since been replaced
        grew = len(frame.history) != len(self.history) or frame.finished != self.finished
        self.history, self.finished, self.frame = frame.history, frame.finished, frame
        if grew:
            self.sigHistoryChanged.emit()
        if frame.index != self.index:
            self.index = frame.index
        self.sigStepChanged.emit(self.index)
        self.sigFrameChanged.emit()

    @property
    def busy(self):
        return not self.client.idle

    @property
    def at_end(self):
        return self.finished and self.index >= len(self.history) - 1

    @property
    def current(self):
        return self.history[self.index] if self.index < len(self.history) else None

    def goto(self, index):
        if self.finished:
            index = min(index, len(self.history) - 1)
        self.request_frame(max(0, index))

    def step(self, delta=1):
        self.goto(self.index + delta)

    def step_iteration(self, direction=1):
        """To the next (previous) refit / M-step: the end of an iteration."""
        i = self.index
        if direction > 0:
            self.goto(i + (2 if i % 2 == 0 else 1))
        else:
            self.goto(max(0, i - (2 if i % 2 == 0 else 1)))

    def reset(self):
        self.goto(0)

    def run_to_end(self):
        self.goto(10**9)

    # -- words on screen ----------------------------------------------------
    def state_text(self):
        """"Refitting step 3 — J = 12.3", or what to do next when there is nothing to run."""
        if not len(self.points):
            return "Click to add points, or sample from a mixture"
        if self.error:
            return self.error
        if not len(self.centres):
            return "Place centres (centre tool) or choose an initialisation"
        snap = self.current
        return "Computing…" if snap is None else state_caption(snap)

    def close(self):
        self.client.shutdown()
