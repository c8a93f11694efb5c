"""Image mode's session model: an image's pixels as points, the settings, the run and its cursor.

It speaks the same language as ``SessionModel`` (``history``, ``index``,
``goto``, ``step``, ``sigHistoryChanged``, ``sigStepChanged``, ...), so the cost
plot, the player and the transport bar work on it unchanged.  The pixels, the
run and every pass over them live in a ``PixelWork`` on the engine worker; this
model sends it calls (``EngineClient.call``) and keeps what comes back.  At most
one frame request is in flight: a newer wish waits for it and then asks for
the half-step wanted by then, so the window catches up instead of queueing.
"""

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from engine.captions import state_caption, stop_text
from engine.image import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_SPATIAL_WEIGHT,
    SPACES,
    SPATIAL_WEIGHT,
    PixelSpace,
)
from engine.registry import DEFAULT_ALGORITHM, check_algorithm, describe
from engine.settings import (
    DEFAULT_INIT,
    DEFAULT_SEED,
    INIT,
    N_CLUSTERS,
    SEED,
    AlgorithmSettings,
)

from .cursor import HalfStepCursor
from .image_work import PixelWork
from .worker import EngineClient

SAMPLE_IMAGE = Path(__file__).resolve().parent.parent / "resources" / "coffee.png"
DEFAULT_IMAGE_K = 3
# "Run to the end": a half-step past any run's last (max_iter bounds every run).


class ImageSession(QObject, HalfStepCursor):
    """An image's pixels as points (every pixel in the run; a subsample in the cloud), and the run."""

    sigImageChanged = Signal()  # a new image, or its pixels as points in a new space
    sigSettingsChanged = Signal()
    sigCentresChanged = Signal()
    sigHistoryChanged = Signal()
    sigStepChanged = Signal(int)
    sigFrameChanged = Signal()
    sigMessage = Signal(str)
    sigLoadFailed = Signal(str, str)  # path, why
    sigLoading = Signal(str)  # what the worker is doing now ("" when done)

    def __init__(self, client=None, parent=None):
        super().__init__(parent)
        self._own_client = client is None
        self.client = EngineClient(self) if client is None else client
        self.client.sigCalled.connect(self._on_client_called)
        self.work = PixelWork()  # touched only by the calls below, on the worker
        self.info = None  # ImageInfo
        self.features = None  # FeatureInfo
        self.max_pixels = DEFAULT_MAX_PIXELS
        self.space_name = "rgb"
        self.segmenting = False
        self.spatial_weight = DEFAULT_SPATIAL_WEIGHT
        self.algorithm = DEFAULT_ALGORITHM
        self.settings = AlgorithmSettings()
        self.n_clusters = DEFAULT_IMAGE_K
        self.init_method = DEFAULT_INIT
        self.seed = DEFAULT_SEED
        self.centres = np.zeros((0, 3))  # the initial centres m_k, in feature space
        self.cloud = None  # CloudRequest: what the cloud canvas shows
        self._clear_run()
        self.loading = ""
        self._wanted = 0
        self._calls = {}  # generation -> what to do with its answer
        self._frame_in_flight = False
        self._frame_owed = False

    # -- what the views read --------------------------------------------------------
    @property
    def description(self):
        return describe(self.algorithm)

    @property
    def space(self):
        return PixelSpace(self.space_name, self.spatial_weight if self.segmenting else None)

    @property
    def points(self):
        """The points the cloud shows: a subsample of the pixels, in feature space (M, D)."""
        return self.features.sample if self.features is not None else np.zeros((0, 3))

    @property
    def busy(self):
        return bool(self._calls) or not self.client.idle


    def state_text(self):
        if self.loading:
            return self.loading
        if self.info is None:
            return "Open an image (File ▸ Open image…, or drop one here)"
        if self.error:
            return self.error
        snap = self.current
        if snap is None:
            return "Computing…"
        text = state_caption(self.description, snap)
        if self.at_end and stop_text(self.stop_reason):
            text += f" · {stop_text(self.stop_reason)}"
        return text

    # -- calls to the worker ------------------------------------------------------------
    def _call(self, handler, fn, *args):
        self._calls[self.client.call(fn, *args)] = handler

    def _on_client_called(self, generation, result, error):
        handler = self._calls.pop(generation, None)
        if handler is None:
            return  # another window's call on a shared worker
        handler(result, error)
        if self._frame_owed and not self._frame_in_flight and self.info is not None:
            self._send_frame()

    def _set_loading(self, text):
        self.loading = text
        self.sigLoading.emit(text)

    # -- the image ------------------------------------------------------------------
    def open_image(self, path=None):
        """Load ``path`` (default: the shipped sample photo) on the worker; the old image stays
        until the new one is in, and stays if it cannot be read (sigLoadFailed says why)."""
        path = str(SAMPLE_IMAGE if path is None else path)
        self._set_loading(f"Loading {Path(path).name}…")
        asked = self._start_settings()
        self._call(lambda result, error: self._on_loaded(path, asked, result, error), self.work.load, path,
                   self.max_pixels, self.space, *asked)

    def _start_settings(self):
        """(K, initialisation, seed): what new centres are drawn with."""
        return self.n_clusters, self.init_method, self.seed

    def _on_loaded(self, path, asked, result, error):
        self._set_loading("")
        if error is not None:
            self.sigLoadFailed.emit(path, str(error))
            self.sigMessage.emit(str(error))
            return
        self.info, self.features, centres = result
        self.sigImageChanged.emit()
        self._take_centres(centres, asked)
        if self.features.space != self.space:  # the space changed while the image loaded
            self._remake_points()

    def _take_centres(self, centres, asked):
        """Centres drawn with the settings ``asked``; drawn again if K, the initialisation or the
        seed changed while they were being drawn."""
        self._set_centres(centres)
        if asked != self._start_settings():
            self.initialise()

    def set_space(self, name=None, segmenting=None, spatial_weight=None):
        """Colour space ("rgb" / "lab"), segmentation on or off, and lambda; the points are remade and
        new centres drawn (K kept)."""
        space = self.space_name if name is None else name
        if space not in SPACES:
            raise ValueError(f"colour space must be one of {', '.join(SPACES)}; got {space!r}")
        seg = self.segmenting if segmenting is None else bool(segmenting)
        weight = self.spatial_weight if spatial_weight is None else SPATIAL_WEIGHT.check(spatial_weight, "λ")
        if (space, seg, weight) == (self.space_name, self.segmenting, self.spatial_weight):
            return
        self.space_name, self.segmenting, self.spatial_weight = space, seg, weight
        self.sigSettingsChanged.emit()
        if self.info is not None:
            self._remake_points()

    def _remake_points(self):
        """The pixels as points in the session's space, on the worker; new centres, K kept."""
        self._set_loading(f"Pixels as points in {self.space.describe()}…")
        asked = self._start_settings()

        def done(result, error):
            self._set_loading("")
            if error is not None:
                self.sigMessage.emit(str(error))
                return
            self.features, centres = result
            self.sigImageChanged.emit()
            self._take_centres(centres, asked)
        self._call(done, self.work.use_space, self.space, *asked)

    # -- settings ---------------------------------------------------------------------
    def set_algorithm(self, name):
        if check_algorithm(name) != self.algorithm:
            self.algorithm = name
            self.sigSettingsChanged.emit()
            self._restart()

    def set_setting(self, key, value):
        settings = self.settings.replace(**{key: value})
        if settings != self.settings:
            self.settings = settings
            self.sigSettingsChanged.emit()
            self._restart()

    def set_n_clusters(self, k):
        k = N_CLUSTERS.check(k, "K")
        if k != self.n_clusters:
            self.n_clusters = k
            self.sigSettingsChanged.emit()
            self.initialise()

    def set_seed(self, seed):
        seed = SEED.check(seed, "seed")
        if seed != self.seed:
            self.seed = seed
            self.sigSettingsChanged.emit()
            self.initialise()

    def set_init_method(self, method):
        method = INIT.check(method, "initialisation")
        if method != self.init_method:
            self.init_method = method
            self.sigSettingsChanged.emit()
            self.initialise()

    def initialise(self):
        """New initial centres by the initialisation method and seed, K of them; the run restarts."""
        if self.info is None or self.loading:
            return  # the image or its points are on their way: their centres are checked when they come

        def done(result, error):
            if error is not None:
                self.sigMessage.emit(f"Cannot initialise: {error}")
            else:
                self._set_centres(result)
        self._call(done, self.work.draw_centres, *self._start_settings())

    def move_centre(self, k, axes, x, y):
        """Centre k moved to (x, y) in the feature columns ``axes``: a new run starts from the centres
        on screen with that one moved (dragging mid-run restarts from where the run is)."""
        shown = self.current.centres if self.current is not None else self.centres
        centres = np.array(shown, dtype=np.float64)
        centres[k, axes[0]], centres[k, axes[1]] = x, y
        self._set_centres(centres)

    def _set_centres(self, centres):
        self.centres = np.array(centres, dtype=np.float64)
        self.sigCentresChanged.emit()
        self._restart()

    # -- the run ---------------------------------------------------------------------
    def _restart(self):
        if self.info is None or not len(self.centres):
            return
        self.run_id += 1
        self.history, self.finished, self.stop_reason, self.index, self.error = (), False, None, 0, None
        self._wanted = 0
        self.sigHistoryChanged.emit()
        run_id = self.run_id
        self._frame_in_flight, self._frame_owed = True, False
        self._call(lambda frame, error: self._on_frame(run_id, frame, error), self.work.start, run_id,
                   self.algorithm, self.settings, self.centres, self.cloud)

    def _send_frame(self):
        run_id = self.run_id
        self._frame_in_flight, self._frame_owed = True, False
        self._call(lambda frame, error: self._on_frame(run_id, frame, error), self.work.frame, run_id,
                   max(0, self._wanted), self.cloud)

    def request_frame(self, index):
        """Ask for half-step ``index``; with a request in flight, it is asked for when that one is back."""
        self._wanted = index
        if self.info is None or not self.run_id:
            return
        if self._frame_in_flight or self._calls:
            self._frame_owed = True
        else:
            self._send_frame()

    def set_cloud(self, cloud):
        """The cloud canvas' axes, rectangle, size and colouring changed: draw the cloud again."""
        if cloud != self.cloud:
            self.cloud = cloud
            self.request_frame(self._wanted)

    def _on_frame(self, run_id, frame, error):
        if run_id == self.run_id:
            self._frame_in_flight = False
        if error is not None:
            if run_id == self.run_id:
                self.error = str(error)
                self.sigMessage.emit(self.error)
            return
        if frame is None or frame.run_id != self.run_id:
            return  # a run since replaced
        grew = len(frame.history) != len(self.history) or frame.finished != self.finished
        self.history, self.finished, self.stop_reason, self.frame = (frame.history, frame.finished,
                                                                     frame.stop_reason, frame)
        if frame.error:
            self.error = frame.error
            self.sigMessage.emit(frame.error)
        if grew:
            self.sigHistoryChanged.emit()
        self.index = frame.index
        self.sigStepChanged.emit(self.index)
        self.sigFrameChanged.emit()
        if frame.index < self._wanted and not frame.finished and frame.index == len(frame.history) - 1:
            self._frame_owed = True  # the worker stepped one slice: keep going
        elif frame.cloud_request != self.cloud or (frame.index != self._wanted and not (
                frame.finished and self._wanted > frame.index)):
            self._frame_owed = True  # the view or the wish moved on while this frame was made


    # -- exports ---------------------------------------------------------------------
    def export_quantised(self, path, done=None):
        """The quantised image of the half-step on screen, full size, as PNG (on the worker);
        ``done(path, error)`` when written."""
        self._call(lambda result, error: done and done(path, error), self.work.save_quantised,
                   self.run_id, self.index, str(path))

    def export_strip(self, path, ks=(2, 3, 10), done=None):
        """The lecture's strip for ``ks`` (runs from the current initialisation method and seed)."""
        self._call(lambda result, error: done and done(path, error), self.work.save_strip, tuple(ks),
                   self.algorithm, self.settings, self.init_method, self.seed, str(path))

    def close(self):
        if self._own_client:
            self.client.shutdown()
