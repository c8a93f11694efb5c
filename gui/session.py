"""The one session model every view observes: data, settings, the run and its cursor.

Views subscribe to its signals and call its methods; they never compute the
maths.  Every edit of points or centres is an undoable command and restarts
the run from the initial state (settings changes too), keeping points and
centres.  The run itself lives on the engine worker; this model keeps the
snapshots it reports and the frame on screen.

Sampled points remember their true component z (``truth``), kept aligned with
the points by every edit, and the model keeps the agreement of z with the
half-step on screen (``agreement``, computed on the worker).

Points and centres have D >= 2 columns (all rows the same D); the model holds
the columns' names and the view ``projection`` (engine.projection) that shows
them in the plane.  Clustering uses every column; only what is drawn, clicked
and dragged goes through the projection.
"""

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from engine.agreement import MAX_TRUE_COMPONENTS, agreement_at, check_truth, n_true_components
from engine.captions import state_caption, stop_text
from engine.data import Dataset
from engine.description import INIT_PHASE
from engine.initialisation import initial_centres
from engine.registry import DEFAULT_ALGORITHM, check_algorithm, describe, make_algorithm
from engine.presets import PRESETS, old_faithful
from engine.projection import Projection, default_projection
from engine.scenario import Scenario
from engine.session_file import SESSION_DIM
from engine.settings import (DEFAULT_INIT, DEFAULT_N_CLUSTERS, DEFAULT_SAMPLE_N, DEFAULT_SEED, INIT,
                             N_CLUSTERS, SAMPLE_N, SEED, AlgorithmSettings, DisplayOptions)

from .cursor import HalfStepCursor
from .undo import AddRows, MoveRow, RemoveRows, ReturnToStep, SetArray
from .worker import EngineClient

_KEEP = object()  # ``_assign``'s names: keep the columns' names (the same columns)

# "Run to the end": a half-step past any run's last (max_iter bounds every run).


def _agreement_job(cache, points, algorithm, snapshot, truth, n_true):
    """On the worker: the Agreement of z with the most responsible cluster under ``snapshot``.
    ``cache`` keeps the Dataset of the points while they stay (only the worker touches it)."""
    if cache.get("points") is not points:
        cache["points"], cache["data"] = points, Dataset(points)
    return agreement_at(algorithm, cache["data"], snapshot, truth, n_true)


class SessionModel(QObject, HalfStepCursor):
    """Points, centres, settings, display options; the run's snapshots and the cursor.

    Every change goes through a public method, which checks the value against
    its declaration in ``engine.settings``, marks the session modified and
    emits the signal the views listen to.
    """

    sigPointsChanged = Signal()
    sigCentresChanged = Signal()
    sigSettingsChanged = Signal()
    sigMixtureChanged = Signal()
    sigDisplayChanged = Signal()
    sigProjectionChanged = Signal()  # a new view projection (the plane shown, its axis names)
    sigHistoryChanged = Signal()
    sigStepChanged = Signal(int)
    sigFrameChanged = Signal()
    sigFrameMadeAhead = Signal()  # a prefetched frame landed (the player may be owed a tick)
    sigAgreementChanged = Signal()
    sigMessage = Signal(str)
    sigModifiedChanged = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.points = np.zeros((0, SESSION_DIM))
        self.truth = None  # (N,) int32 true component z of each point, None when unknown
        self.centres = np.zeros((0, SESSION_DIM))
        self.names = None  # the columns' names (a CSV header's), None when unknown
        self.projection = default_projection(SESSION_DIM)
        self._shown = None  # (points, projection, the points as shown): see shown_points
        self.algorithm = DEFAULT_ALGORITHM
        self.settings = AlgorithmSettings()
        self.init_method = DEFAULT_INIT
        self.n_clusters = DEFAULT_N_CLUSTERS
        self.seed = DEFAULT_SEED
        self.mixture = PRESETS["blobs"][1]
        self.sample_n = DEFAULT_SAMPLE_N
        self.display = DisplayOptions()
        self.undo_stack = QUndoStack(self)
        self.client = EngineClient(self)
        self.client.sigFrame.connect(self._on_client_frame)
        self.client.sigReset.connect(self._on_client_reset)
        self.client.sigCalled.connect(self._on_client_called)
        self.client.sigIdle.connect(self._on_client_idle)  # before any view's: see _on_client_idle
        self.agreement = None  # engine.agreement.Agreement at the half-step on screen, or None
        self._agreement_key = None  # what ``agreement`` was computed for
        self._agreement_call = None  # (generation, key) of the request on the worker
        self._agreement_cache = {}  # the worker's Dataset of the points (touched there only)
        self._clear_run()
        self.viewport = None
        self._dragging = None
        self._wanted = 0
        self._ahead = {}  # frame key -> Frame made ahead by ``prefetch``, not shown yet
        self._prefetching = {}  # generation -> [frame key, show when it lands] of the prefetches on their way
        self._prefetch_wanted = []  # frame keys to make ahead, in order
        self._prefetched = set()  # generations of the prefetches not landed yet (dropped ones too)
        self.modified = False
        self.edit_serial = 0  # bumped by every edit: the autosave writes when it moved
        self._restart()

    @property
    def description(self):
        """The current algorithm's ``AlgorithmDescription``."""
        return describe(self.algorithm)

    def mark_modified(self):
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

    @property
    def dim(self):
        """D, the points' (and the centres') number of columns."""
        return self.points.shape[1]

    def _assign(self, which, value, truth=None, names=_KEEP):
        """The one place the points and centres change: only the undo commands (gui/undo.py)
        call it, so every change is undoable.  ``truth``: the z of the new points (None:
        unknown); ignored for the centres.  ``names``: the new points' column names (kept
        when not given and D stays)."""
        value = np.asarray(value, dtype=np.float64)
        value = value.reshape(-1, value.shape[-1] if value.ndim == 2 else self.dim)
        self.mark_modified()
        if which == "points":
            if truth is not None and truth is not self.truth:
                truth = check_truth(truth, len(value))
            dim_changed = value.shape[1] != self.dim
            if names is _KEEP:
                names = None if dim_changed else self.names
            names = tuple(names) if names is not None and len(names) == value.shape[1] else None
            renamed = names != self.names
            self.points = value
            self.truth = truth if truth is not None and len(truth) == len(value) and len(value) else None
            if dim_changed or renamed:
                self.names = names
                self.projection = default_projection(value.shape[1], names)
            self.sigPointsChanged.emit()
            if dim_changed or renamed:
                self.sigProjectionChanged.emit()
        else:
            self.centres = value
            self.sigCentresChanged.emit()
        self._restart()

    def _clicked_row(self, x, y):
        """(1, D): the point drawn at (x, y), off the plane where the data's mean is."""
        if self.projection.identity:
            return np.array([[x, y]], dtype=float)
        reference = self.points.mean(axis=0) if len(self.points) else self.projection.offset
        return self.projection.lift([x, y], reference)[None, :]

    def add_point(self, x, y):
        self.undo_stack.push(AddRows(self, "points", self._clicked_row(x, y), "Add point"))

    def add_centre(self, x, y):
        self.undo_stack.push(AddRows(self, "centres", self._clicked_row(x, y), "Place centre"))

    def remove_points(self, indices):
        if len(indices):
            self.undo_stack.push(RemoveRows(self, "points", indices,
                                            "Remove point" if len(indices) == 1 else "Remove points"))

    def remove_centre(self, index):
        self.undo_stack.push(RemoveRows(self, "centres", [index], "Remove centre"))

    def set_points(self, points, text="Set points", truth=None, names=_KEEP):
        """New points, with the true component z of each (None: unknown) and the columns'
        names (kept when not given and D stays)."""
        points = np.asarray(points, float)
        if names is _KEEP:
            names = self.names if points.ndim == 2 and points.shape[1] == self.dim else None
        self.undo_stack.push(SetArray(self, "points", self.points, points, text,
                                      self.truth, truth, (self.names, names)))

    def set_centres(self, centres, text="Set centres"):
        self.undo_stack.push(SetArray(self, "centres", self.centres, np.asarray(centres, float), text))

    def clear_points(self):
        if len(self.points):
            self.set_points(np.zeros((0, self.dim)), "Clear points")

    def clear_centres(self):
        if len(self.centres):
            self.set_centres(np.zeros((0, self.centres.shape[1])), "Clear centres")

    # Dragging: the model follows the mouse live; one undo entry per drag.
    def begin_drag(self, which, index):
        macro = False
        if which == "centres" and self.index > 0 and self.history:
            # dragging a centre mid-run starts a new run from the centres on screen;
            # one undo step gives back the old run at the step it was at
            shown = np.array(self.history[self.index].centres)
            if shown.shape == self.centres.shape:
                self.undo_stack.beginMacro("Move centre")
                self.undo_stack.push(ReturnToStep(self, self.index))
                self.set_centres(shown, "Start from current centres")
                macro = True
        self._dragging = (which, index, self._array(which)[index].copy(), macro)

    def drag_to(self, x, y):
        if self._dragging is None:
            return
        which, index, before = self._dragging[:3]
        arr = self._array(which).copy()
        # only the in-plane part follows the mouse (all of it for 2-D data)
        arr[index] = self.projection.lift([x, y], before)
        self._assign(which, arr, self.truth)

    def end_drag(self):
        if self._dragging is None:
            return
        which, index, before, macro = self._dragging
        self._dragging = None
        after = self._array(which)[index].copy()
        if not np.array_equal(before, after):
            text = "Move point" if which == "points" else "Move centre"
            self.undo_stack.push(MoveRow(self, which, index, before, after, text))
        if macro:
            self.undo_stack.endMacro()

    # -- data sources --------------------------------------------------------
    def set_mixture(self, mixture):
        self.mixture = mixture
        self.mark_modified()
        self.sigMixtureChanged.emit()
        if self.display.colour_by != "fit":
            self.request_frame(self._wanted)  # colours under the true mixture follow its edits
        self._update_agreement()  # the table has a row per component

    def set_sample_n(self, n):
        self._set_checked("sample_n", SAMPLE_N.check(n, "N"))

    def sample(self, append=False):
        """Draw sample_n points from the mixture (seeded); replace them, or append more.

        New points get new centres by the current initialisation, K kept; appended
        points come from a stream of their own (the seed and the points already there),
        so Append never repeats the points it appends to.  Sampled points remember their
        component z (the row of the mixture table they were drawn from); appended points
        extend z when the points before them have it, else z stays unknown.
        """
        named = self.mixture.n_components <= MAX_TRUE_COMPONENTS  # else more than z may name
        if append and len(self.points):
            X, z = self.mixture.sample(self.sample_n, seed=[self.seed, len(self.points)])
            truth = np.concatenate([self.truth, z]) if named and self.truth is not None else None
            self.set_points(np.vstack([self.points, X]), "Append sample", truth)
        else:
            X, z = self.mixture.sample(self.sample_n, seed=self.seed)
            self.replace_points(X, "Sample points", z if named else None)

    def replace_points(self, points, text, truth=None, names=_KEEP):
        """New data (sampled or imported): the centres are drawn afresh, K kept (one undo step).
        ``truth``: the z of sampled points, None for imported ones; ``names``: the columns'
        names (a CSV header's)."""
        points = np.asarray(points, float)
        k = len(self.centres) or self.n_clusters
        placed = len(self.centres) > 0
        self.undo_stack.beginMacro(text)
        try:
            if placed and points.shape[1] != self.centres.shape[1]:
                # centres of the old D cannot meet the new points, not even for a moment
                self.set_centres(np.zeros((0, points.shape[1])), text)
            self.set_points(points, text, truth, names)
            if placed and k != self.n_clusters:
                self.set_n_clusters(k)
            if placed:
                self.initialise(self.init_method)
        finally:
            self.undo_stack.endMacro()

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
        self.init_method = INIT.check(method, "initialisation")
        k = min(self.n_clusters, len(self.points))
        try:
            centres = initial_centres(method, self.points, k, self.seed)
        except ValueError as exc:
            self.sigMessage.emit(f"Cannot initialise: {exc}")
            return
        self.set_centres(centres, f"Initialise ({method})")
        if k < self.n_clusters:
            self.sigMessage.emit(f"K = {self.n_clusters}, but there are only {len(self.points)} points: "
                                 f"placed {k} centres")

    # -- settings ----------------------------------------------------------
    def set_algorithm(self, name):
        if check_algorithm(name) != self.algorithm:
            self.algorithm = name
            self.mark_modified()
            self.sigSettingsChanged.emit()
            self._restart()

    def set_setting(self, key, value):
        """One algorithm setting; ValueError for an unknown key or a value out of its limits."""
        settings = self.settings.replace(**{key: value})
        if settings != self.settings:
            self.settings = settings
            self.mark_modified()
            self.sigSettingsChanged.emit()
            self._restart()

    def set_seed(self, seed):
        self._set_checked("seed", SEED.check(seed, "seed"))

    def set_n_clusters(self, k):
        self._set_checked("n_clusters", N_CLUSTERS.check(k, "K"))

    def _set_checked(self, name, value):
        """A checked value of the scenario's start (K, seed, N): no restart, the next draw uses it."""
        if value != getattr(self, name):
            setattr(self, name, value)
            self.mark_modified()
            self.sigSettingsChanged.emit()

    def set_display(self, key, value, edit=True):
        """One display option; ValueError for an unknown key or a value out of its limits.
        ``edit`` False: not the user's change to the session (presentation mode's markers)."""
        display = self.display.replace(**{key: value})
        if display != self.display:
            self.display = display
            if edit:
                self.mark_modified()
            self.sigDisplayChanged.emit()
            self.request_frame(self._wanted)

    # -- the view projection ----------------------------------------------------
    def set_projection(self, projection):
        """Show the points through ``projection`` (engine.projection.Projection, D columns)."""
        if not isinstance(projection, Projection) or projection.dim != self.dim:
            raise ValueError(f"the projection must take {self.dim} columns")
        if projection != self.projection:
            self.projection = projection
            self.mark_modified()
            self.sigProjectionChanged.emit()

    def show_columns(self, i, j):
        """Columns i and j (0-based) as the plane's x and y."""
        self.set_projection(Projection.of_columns(i, j, self.dim, self.names))

    def show_pca(self):
        """The plane of the points' two principal axes (as they are now)."""
        if len(self.points):
            self.set_projection(Projection.of_pca(self.points))

    def shown_points(self):
        """(N, 2): the points where they are drawn (the points themselves for 2-D data), cached."""
        if self.projection.identity:
            return self.points
        if self._shown is None or self._shown[0] is not self.points or self._shown[1] != self.projection:
            self._shown = (self.points, self.projection, self.projection.shown(self.points))
        return self._shown[2]

    # -- files ---------------------------------------------------------------
    def to_data(self, view=None):
        """The session as the engine's SessionData (what a session file holds)."""
        from engine.session_file import SessionData
        return SessionData(points=self.points.copy(), centres=self.centres.copy(),
                           algorithm=self.algorithm, settings=self.settings, seed=self.seed,
                           init_method=self.init_method, n_clusters=self.n_clusters,
                           mixture=self.mixture, sample_n=self.sample_n, view=view,
                           display=self.display, truth=self.truth, names=self.names,
                           projection=self.projection)

    def load_data(self, data):
        """Replace everything by a loaded session; the undo history starts afresh."""
        self.undo_stack.clear()
        points = np.asarray(data.points, dtype=float)
        self.points = points.reshape(-1, points.shape[-1] if points.ndim == 2 else SESSION_DIM)
        truth = getattr(data, "truth", None)
        self.truth = None if truth is None or not len(self.points) else check_truth(truth, len(self.points))
        self.centres = np.asarray(data.centres, dtype=float).reshape(-1, self.dim)
        names = getattr(data, "names", None)
        self.names = tuple(names) if names is not None and len(names) == self.dim else None
        projection = getattr(data, "projection", None)
        if projection is None or projection.dim != self.dim:
            projection = default_projection(self.dim, self.names)
        changed = projection != self.projection
        self.projection = projection
        self.algorithm = data.algorithm
        self.settings = data.settings
        self.seed, self.init_method, self.n_clusters = data.seed, data.init_method, data.n_clusters
        if data.mixture is not None:
            self.mixture = data.mixture
        self.sample_n = data.sample_n
        self.display = data.display
        for signal in (self.sigPointsChanged, self.sigCentresChanged, self.sigMixtureChanged,
                       self.sigSettingsChanged, self.sigDisplayChanged):
            signal.emit()
        if changed:
            self.sigProjectionChanged.emit()
        self._restart()

    # -- the run -----------------------------------------------------------
    def scenario(self):
        return Scenario.of_session(self.points, self.centres, self.algorithm, self.settings,
                                   self.init_method, self.seed)

    def _restart(self):
        self.run_id += 1
        self.history = ()
        self.finished = False
        self.stop_reason = None
        self.index = 0
        self.error = None
        self.client.reset(self.run_id, self.scenario() if len(self.points) else None)
        self.sigHistoryChanged.emit()
        self.request_frame(0)
        self._update_agreement()

    # -- the truth z --------------------------------------------------------
    @property
    def n_true(self):
        """True components the confusion table has rows for (0 when z is unknown)."""
        return n_true_components(self.truth, self.mixture)

    def colouring(self):
        """What the worker needs to colour the points other than by the fit:
        (colour_by, truth, mixture, n_true), for ``gui.palette.colour_source_colours``."""
        return self.display.colour_by, self.truth, self.mixture, self.n_true

    def _responsibility_source(self):
        """Index of the snapshot whose responsibilities the half-step on screen shows, or None."""
        snap = self.current
        if snap is None or snap.phase == INIT_PHASE:
            return None
        return self.index if snap.phase == self.description.responsibility_phase else self.index - 1

    def _wanted_agreement(self):
        """(key, source snapshot index) of the agreement the half-step on screen wants, or None."""
        source = self._responsibility_source()
        if self.truth is None or source is None or source >= len(self.history):
            return None
        return (self.run_id, source, id(self.truth), self.n_true), source

    def _update_agreement(self):
        """Ask the worker for the agreement of z with the half-step on screen; one request at a
        time (a newer wish waits for it, then is asked for), so playing never piles them up."""
        wanted = self._wanted_agreement()
        key = wanted[0] if wanted else None
        if key == self._agreement_key or self._agreement_call is not None:
            return  # shown already, or asked again when the answer comes
        if wanted is None:
            self._agreement_key, self.agreement = None, None
            self.sigAgreementChanged.emit()
            return
        job = (self._agreement_cache, self.points, make_algorithm(self.algorithm, self.settings),
               self.history[wanted[1]], self.truth, self.n_true)
        self._agreement_call = (self.client.call(_agreement_job, *job), key)

    def _on_client_called(self, generation, result, error):
        if self._agreement_call is None or generation != self._agreement_call[0]:
            return  # someone else's call
        key = self._agreement_call[1]
        self._agreement_call = None
        wanted = self._wanted_agreement()
        if wanted is not None and wanted[0] == key:
            self._agreement_key, self.agreement = key, (None if error is not None else result)
            self.sigAgreementChanged.emit()
        self._update_agreement()  # the half-step on screen may have moved meanwhile

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
        """Ask the worker for the frame of half-step ``index``; newer requests supersede it.
        A frame made ahead for exactly this (``prefetch``) is shown at once, or when it lands."""
        self._wanted = index
        key = self._frame_key(max(0, index))
        # only the last wish is shown: a prefetch still on its way for an earlier one lands unseen
        for entry in self._prefetching.values():
            entry[1] = entry[0] == key  # on its way: shown when it lands
        if key in self._ahead:
            self._on_client_frame(self._ahead.pop(key))
        elif not any(entry[0] == key for entry in self._prefetching.values()):
            self._ask_frame(max(0, index))

    def prefetch(self, *indices):
        """Have the worker make the frames of half-steps ``indices`` now, one after another, each
        shown when it is asked for: while playing, the next two half-steps are made while the
        canvas paints this one, so the worker and the UI thread work side by side, and the
        worker never waits for a tick between a cheap refit and the pass that follows it.
        All are asked at once (a prefetch supersedes nothing), so the worker goes on to the
        second while the UI thread is still painting and has not taken the first."""
        self._prefetch_wanted = [self._frame_key(i) for i in indices]
        self._ahead = {key: frame for key, frame in self._ahead.items() if key in self._prefetch_wanted}
        self._prefetch_next()

    def made_ahead(self, index):
        """Whether the frame of half-step ``index`` is made and waiting to be asked for."""
        return self._frame_key(index) in self._ahead

    def _prefetch_next(self):
        """Ask for every wanted frame neither made nor on its way."""
        on_their_way = [entry[0] for entry in self._prefetching.values()]
        for key in self._prefetch_wanted:
            if key not in self._ahead and key not in on_their_way and key[0] == self.run_id:
                generation = self._send_frame_request(key[1], ahead=True)
                self._prefetching[generation] = [key, False]  # what it makes, shown when it lands
                self._prefetched.add(generation)

    def _frame_key(self, index):
        """What a frame of half-step ``index`` is made from: a prefetched frame is shown only for
        the same run, view and colouring (the colouring's arrays by identity: replaced, never edited)."""
        # (n_true follows from the truth and the mixture: not worked out again for every frame)
        return (self.run_id, index, self.viewport, self.display.lines, self.display.colour_by, id(self.truth),
                id(self.mixture))

    def _ask_frame(self, index):
        """Ask for the frame of half-step ``index`` now: a request supersedes any prefetch."""
        self._ahead, self._prefetching, self._prefetch_wanted = {}, {}, []
        self._send_frame_request(index)

    def _send_frame_request(self, index, ahead=False):
        """The one place a frame is asked of the worker; returns the request's generation."""
        return self.client.request_frame(self.run_id, index, self.viewport, self.display.lines, self.colouring(),
                                         supersede=not ahead)

    def _on_client_idle(self):
        """Every request answered: a prefetch still on its way never will be (the worker failed on
        it), so nothing waits for it; the player's next tick asks afresh."""
        self._prefetched.difference_update(self._prefetching)
        self._prefetching = {}

    def _on_client_frame(self, frame):
        if frame.run_id != self.run_id:
            return  # a run that has since been replaced
        made_ahead = frame.generation in self._prefetched
        # frames land in the order asked: a prefetch older than this one was dropped by the worker
        self._prefetched = {g for g in self._prefetched if g > frame.generation}
        if made_ahead:
            entry = self._prefetching.pop(frame.generation, None)
            if entry is None:
                return  # made ahead for a wish since replaced: never shown
            key, show = entry
            if not show:
                self._ahead[key] = frame  # kept until asked for
                self._prefetch_next()
                self.sigFrameMadeAhead.emit()
                return
        if frame.error:
            self._on_client_reset(frame.run_id, frame.error)
        grew = len(frame.history) != len(self.history) or frame.finished != self.finished
        self.history, self.finished, self.frame = frame.history, frame.finished, frame
        self.stop_reason = frame.stop_reason
        if grew:
            self.sigHistoryChanged.emit()
        if frame.index != self.index:
            self.index = frame.index
        self.sigStepChanged.emit(self.index)
        self.sigFrameChanged.emit()
        if frame.index < self._wanted and not frame.finished and frame.index == len(frame.history) - 1:
            # the worker stepped for one slice and showed where it got: keep going
            self._ask_frame(self._wanted)
        else:
            self._update_agreement()  # not on the way: a long run to the end is not slowed by it

    @property
    def busy(self):
        return not self.client.idle

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
        if snap is None:
            return "Computing…"
        text = state_caption(self.description, snap)
        if self.at_end and stop_text(self.stop_reason):
            text += f" · {stop_text(self.stop_reason)}"
        return text

    def close(self):
        self.client.shutdown()
