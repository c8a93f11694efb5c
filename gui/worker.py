"""One worker thread does all engine and pixel work, so the UI thread never waits.

Numba's parallel kernels must never run from two Python threads at once, so
everything that calls them (stepping, responsibilities, colours, the point
splat) runs here, one job after another.  Requests carry a generation; a
request already superseded when its turn comes is dropped (like Orange's
t-SNE widget and ndv's controller), so the window always catches up to the
newest state instead of replaying a backlog.
"""

import contextlib
import dataclasses
import gc
import itertools
import os
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from numba import njit, prange
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from engine import ALGORITHM_NAMES, Dataset
from engine.agreement import true_responsibilities
from engine.projection import default_projection
from engine.run import FAILED
from engine.scenario import Scenario

from . import overlay_raster
from .palette import (
    UNASSIGNED_HEX,
    cluster_rgb,
    colour_source_colours,
    colouring_applies,
    hex_to_rgb,
    pack_argb,
    point_colours,
)
from .render import LINES_MAX_POINTS
from .splat import PointImage

STEP_SLICE_S = 0.1  # stepping time per request before the frame reached so far is shown
# The responsibility field is computed on a grid of one sample per FIELD_PIXELS x FIELD_PIXELS
# device pixels and drawn smoothly upscaled (1280x800 at K=10: see tests/test_canvas_plot.py)
FIELD_PIXELS = 3
# Points that changed cluster in an assignment step are ringed up to this many points
CHANGED_MAX_POINTS = 20_000


@dataclass(frozen=True)
class Viewport:
    """The data rectangle shown and the pixel size to draw it at."""

    x0: float
    x1: float
    y0: float
    y1: float
    width: int
    height: int
    radius: float = 3.0
    field: bool = False
    projection: object = None  # engine.projection.Projection of D > 2 columns; None: the 2-D points

    def transform(self):
        """2x3 affine from data to pixel coordinates (row 0 at the top, y1)."""
        sx = self.width / (self.x1 - self.x0)
        sy = self.height / (self.y1 - self.y0)
        return ((sx, 0.0, -self.x0 * sx), (0.0, -sy, self.y1 * sy))


@dataclass
class Frame:
    """What the canvas shows at one half-step, computed off the UI thread."""

    run_id: int
    index: int
    history: tuple
    finished: bool
    stop_reason: str  # why the run stopped (engine.run), None while it can go on
    labels: np.ndarray = None  # most responsible cluster per point (for lines), small N only
    viewport: Viewport = None
    image: np.ndarray = None  # (H, W) uint32 premultiplied ARGB of the points
    field_image: np.ndarray = None  # (h, w) uint32 ARGB background, data rect = viewport
    regions: np.ndarray = None  # (K, 2) centres whose exact Voronoi cells are the background (hard)
    changed: np.ndarray = None  # indices of the points whose cluster this assignment step changed
    seconds: dict = field(default_factory=dict)
    generation: int = 0  # of the request it answers (EngineClient.request_frame's return)
    error: str = None  # why stepping on to it failed (numbers the engine refuses), else None


@dataclass
class _Request:
    generation: int
    kind: str  # "reset", "frame", "call"
    payload: object


class _Worker(QObject):
    sigFrame = Signal(object)
    sigReset = Signal(int, object)  # run id, error message or None
    sigCalled = Signal(int, object, object)  # generation, result, error
    sigDone = Signal()  # after each request, behind its result: "idle" never outruns a frame

    def __init__(self, client):
        super().__init__()
        self._client = client
        self._run = None
        self._run_id = 0
        self._cloud = None  # (points array, PointImage or None (D > 2), Dataset or None): kept while the points are
        self._shown = None  # (points, projection, PointImage of the projected points), D > 2
        # ((run id, source index, ...), colour arguments of PointImage.render, colouring, from the readout)
        self._colour_cache = None
        self._labels_cache = None  # ((run id, source index), labels) for lines, small N only
        self._image_cache = None  # ((colour key, viewport), image): a refit shows the same points
        self._field_cache = None  # ((run id, source index, viewport), field image)
        self._changed_cache = None  # ((run id, index), changed indices)

    @Slot(object)
    def handle(self, req):
        try:
            if req.kind == "reset":
                self._reset(*req.payload)
            elif req.kind == "frame":
                if req.generation < self._client.latest_frame_generation:
                    return  # superseded before we got to it
                frame = self._frame(req.generation, *req.payload)
                if frame is not None:
                    self.sigFrame.emit(frame)
            elif req.kind == "call":
                fn, args = req.payload
                try:
                    self.sigCalled.emit(req.generation, fn(*args), None)
                except Exception as exc:  # reported to the caller, never lost
                    self.sigCalled.emit(req.generation, None, exc)
        finally:
            self.sigDone.emit()

    def _reset(self, run_id, scenario):
        self._run_id = run_id
        self._run = None
        try:
            if scenario is None:
                self._cloud = None  # no points: nothing of the old ones stays drawn
            else:
                if self._cloud is None or self._cloud[0] is not scenario.points:
                    points = scenario.points  # more than 2 columns are drawn projected: _shown_cloud
                    self._cloud = (points, PointImage(points) if points.shape[1] == 2 else None, None)
                if scenario.centres is not None and len(scenario.centres):
                    # one Dataset while the points stay: a restart (a centre dragged)
                    # neither re-validates the points nor sorts them into blocks again
                    points, cloud, data = self._cloud
                    if data is None:
                        data = Dataset(points)
                        self._cloud = (points, cloud, data)
                    self._run = dataclasses.replace(scenario, points=data).start()
                    # the pass that computes r for a step also blends the colours shown
                    self._run.keep_readout(cluster_rgb(self._run.current.n_clusters).astype(np.float64))
            self.sigReset.emit(run_id, None)
        except ValueError as exc:
            self.sigReset.emit(run_id, str(exc))

    def _frame(self, generation, run_id, index, viewport, want_labels, colouring=None):
        if run_id != self._run_id:
            return None
        timings = {}
        t0 = time.perf_counter()
        run = self._run
        cloud = self._shown_cloud(viewport)
        n = len(cloud)
        labels = error = None
        if run is None:
            history, finished, stop_reason, index = (), True, None, 0
            source = None
        else:
            # a long way to go (End on a slow run) is walked in slices: the frame
            # reached so far goes back, and any newer request (Home, Escape, an edit)
            # takes over at once; the session asks again for what it still wants
            try:
                while (len(run) <= index and not run.finished and time.perf_counter() - t0 < STEP_SLICE_S
                       and generation >= self._client.latest_frame_generation):
                    run.step()
            except ValueError as exc:  # numbers the engine refuses (overflow): said, never a crash
                run.stop_reason = FAILED
                error = str(exc)  # said with this frame: one made ahead says it when it is shown
            index = max(0, min(index, len(run) - 1))
            history, finished, stop_reason = tuple(run.history), run.finished, run.stop_reason
            source = run.responsibility_source(index)
            if want_labels and n <= LINES_MAX_POINTS and source is not None:
                labels = self._labels(run_id, run, source)
        timings["step"] = time.perf_counter() - t0
        image = field_image = regions = changed = None
        if viewport is not None and viewport.width > 0 and viewport.height > 0:
            t1 = time.perf_counter()
            colour_by = colouring[0] if colouring is not None else "fit"
            if colour_by != "fit" and not colouring_applies(colour_by, n, colouring[1], colouring[2]):
                colour_by, colouring = "fit", None  # z unknown, say: the fit's colours, keyed as such
            # colourings that are not the fit depend on z and the true mixture, not on the step;
            # compared by identity (the session replaces, never edits, those objects), and the
            # caches below keep them alive, so an id is never reused while it is a key
            colour_key = (run_id, source) if colour_by == "fit" else (
                run_id, colour_by, id(colouring[1]), id(colouring[2]), colouring[3])
            image_key = (colour_key, viewport)
            if self._image_cache is not None and self._image_cache[0] == image_key:
                image = self._image_cache[1]  # a refit / M-step shows the step before's colours
            else:
                colours = self._colours(colour_key, run, index, source, n, colouring)
                timings["colours"] = time.perf_counter() - t1
                t1 = time.perf_counter()
                image = cloud.render(viewport.transform(), viewport.width, viewport.height,
                                     viewport.radius, **colours)
                self._image_cache = (image_key, image, colouring)
            timings["splat"] = time.perf_counter() - t1
            if viewport.field and source is not None:
                t1 = time.perf_counter()
                if run.algorithm.hard:
                    # exact Voronoi cells, drawn as polygons by the canvas (gui/regions.py)
                    regions = np.asarray(run.history[source].centres)[:, :2]
                else:
                    field_image = self._field(run_id, run, source, viewport)
                timings["field"] = time.perf_counter() - t1
        if run is not None and n <= CHANGED_MAX_POINTS:
            changed = self._changed(run_id, run, index)
        return Frame(run_id=run_id, index=index, history=history, finished=finished, stop_reason=stop_reason,
                     labels=labels, viewport=viewport, image=image,
                     field_image=field_image, regions=regions, changed=changed, seconds=timings,
                     generation=generation, error=error)

    def _shown_cloud(self, viewport):
        """The PointImage drawn: the 2-D points' own, or the points through the viewport's
        projection, kept while the points and the projection stay."""
        if not self._cloud:
            return PointImage(np.zeros((0, 2)))
        points, cloud = self._cloud[:2]
        projection = getattr(viewport, "projection", None)
        if cloud is not None and (projection is None or projection.identity):
            return cloud
        if projection is None or projection.dim != points.shape[1]:
            projection = default_projection(points.shape[1])
        if self._shown is None or self._shown[0] is not points or self._shown[1] != projection:
            self._shown = (points, projection, PointImage(projection.shown(points)))
        return self._shown[2]

    def _colours(self, key, run, index, source, n, colouring=None):
        """How each point is coloured at ``index``: keyword arguments of ``PointImage.render``.

        A played soft step comes with its readout (sum_k r_k colour_k, blended and packed by
        the pass that computed r); k-means colours by label through the palette; a step scrubbed
        back to recomputes its responsibilities once.  ``colouring`` (View → Colour by):
        (colour_by, truth z, true mixture, number of true components), see
        ``palette.colour_source_colours``; z unknown falls back to the fit.
        """
        if self._colour_cache is not None and self._colour_cache[0] == key:
            colours = self._colour_cache[1]
            # a readout is the run's to reuse once two newer steps were played
            if not self._colour_cache[3] or run.readout(index) is colours["argb"]:
                return colours
        if colouring is not None and colouring[0] != "fit":
            colour_by, truth, mixture, n_true = colouring
            resp = None
            if colour_by == "true_responsibilities" and n and mixture is not None:
                points, _, data = self._cloud
                resp = true_responsibilities(mixture, data if data is not None else points)
            argb = colour_source_colours(colour_by, n, truth, resp, n_true)
            if argb is not None:
                self._colour_cache = (key, {"argb": argb}, colouring, False)
                return self._colour_cache[1]
        readout = None
        if source is None:
            colours = {"argb": point_colours(0, n_points=n)}
        elif run.algorithm.hard:
            colours = {"labels": run.labels(source),
                       "palette": pack_argb(cluster_rgb(run.current.n_clusters)).astype(np.uint32)}
        else:
            readout = run.readout(index)
            if readout is not None:
                colours = {"argb": readout}
            else:
                colours = {"argb": point_colours(run.current.n_clusters,
                                                 responsibilities=run.responsibilities(source, dtype=np.float32))}
        self._colour_cache = (key, colours, colouring, readout is not None)
        return colours

    def _labels(self, run_id, run, source):
        """Most responsible cluster per point at ``source`` (small N: the lines to the centres)."""
        key = (run_id, source)
        if self._labels_cache is None or self._labels_cache[0] != key:
            self._labels_cache = (key, run.labels(source))
        return self._labels_cache[1]

    def _changed(self, run_id, run, index):
        """Indices of the points whose most responsible cluster the responsibility half-step ``index``
        changed (None at any other half-step, or at the first one: nothing was assigned before)."""
        snap = run.history[index]
        if snap.phase != run.description.responsibility_phase:
            return None
        before = index - 2  # the previous responsibility half-step
        if before < 0 or run.history[before].phase != snap.phase:
            return None
        key = (run_id, index)
        if self._changed_cache is not None and self._changed_cache[0] == key:
            return self._changed_cache[1]
        changed = np.flatnonzero(run.labels(index) != run.labels(before))
        self._changed_cache = (key, changed)
        return changed

    def _field(self, run_id, run, source, vp):
        """Responsibilities over the viewport, one sample per FIELD_PIXELS² device pixels: a light
        background map, recomputed only when the half-step shown or the view changes."""
        key = (run_id, source, vp.x0, vp.x1, vp.y0, vp.y1, vp.width, vp.height)
        if self._field_cache is not None and self._field_cache[0] == key:
            return self._field_cache[1]
        image = field_image(run.algorithm, run.history[source], vp)
        self._field_cache = (key, image)
        return image


def field_image(algorithm, snapshot, vp, pixels=FIELD_PIXELS):
    """(h, w) uint32 ARGB: r_k(x) blended and washed light, sampled at the centres of blocks of
    ``pixels`` x ``pixels`` device pixels of viewport ``vp`` (row 0 at the top)."""
    w = max(2, -(-vp.width // pixels))
    h = max(2, -(-vp.height // pixels))
    # sample centres: the image's w columns span exactly x0..x1 when drawn over the viewport
    xs = vp.x0 + (np.arange(w) + 0.5) * ((vp.x1 - vp.x0) / w)
    ys = vp.y1 - (np.arange(h) + 0.5) * ((vp.y1 - vp.y0) / h)
    grid = Dataset(np.c_[np.tile(xs, h), np.repeat(ys, w)])
    K = snapshot.n_clusters
    if algorithm.hard:
        colours = point_colours(K, labels=algorithm.labels(grid, snapshot))
    else:
        colours = point_colours(K, responsibilities=algorithm.responsibilities(grid, snapshot, np.float32))
    # wash towards white so points stay readable on top
    return wash(colours).reshape(h, w)


@njit(parallel=True, cache=True, nogil=True)
def _wash(colours, keep, out):
    for i in prange(colours.shape[0]):
        c = colours[i]
        r = 255.0 - (255.0 - ((c >> 16) & 255)) * keep
        g = 255.0 - (255.0 - ((c >> 8) & 255)) * keep
        b = 255.0 - (255.0 - (c & 255)) * keep
        out[i] = (np.uint32(255) << 24) | (np.uint32(r + 0.5) << 16) | (np.uint32(g + 0.5) << 8) | np.uint32(b + 0.5)


def wash(colours, keep=0.28):
    out = np.empty_like(colours)
    _wash(colours, np.float64(keep), out)
    return out


class EngineClient(QObject):
    """The UI side: send requests, receive frames.  One instance per window."""

    sigFrame = Signal(object)
    sigReset = Signal(int, object)
    sigCalled = Signal(int, object, object)
    sigIdle = Signal()  # every request answered, every result delivered
    _sigRequest = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._generation = itertools.count(1)
        self.latest_frame_generation = 0
        self._pending = 0
        self._lock = threading.Lock()
        self._thread = QThread()
        self._thread.setObjectName("clusterlab-engine")
        self._worker = _Worker(self)
        self._worker.moveToThread(self._thread)
        self._sigRequest.connect(self._worker.handle)
        self._worker.sigFrame.connect(self.sigFrame)
        self._worker.sigReset.connect(self.sigReset)
        self._worker.sigCalled.connect(self.sigCalled)
        # queued to this (UI) thread after the request's own result signal, so a
        # caller that sees "idle" has already received every frame
        self._worker.sigDone.connect(self._on_worker_done)
        # run by the new thread itself, before any request (and so before its first kernel)
        self._thread.started.connect(yield_to_the_ui, Qt.ConnectionType.DirectConnection)
        self._thread.start()

    def _send(self, kind, payload, supersede=True):
        gen = next(self._generation)
        with self._lock:
            self._pending += 1
        if kind == "frame" and supersede:
            self.latest_frame_generation = gen
        self._sigRequest.emit(_Request(gen, kind, payload))
        return gen

    def _on_worker_done(self):
        with self._lock:
            self._pending -= 1
            idle = self._pending == 0
        if idle:
            self.sigIdle.emit()

    @property
    def idle(self):
        with self._lock:
            return self._pending == 0

    def reset(self, run_id, scenario):
        return self._send("reset", (run_id, scenario))

    def request_frame(self, run_id, index, viewport, want_labels, colouring=None, supersede=True):
        """Ask for a frame.  A request that supersedes drops every frame request before it
        that the worker has not begun, and cuts short a long walk it is on; one made ahead
        (``supersede=False``) drops none, and is dropped by the next that does."""
        return self._send("frame", (run_id, index, viewport, want_labels, colouring), supersede)

    def call(self, fn, *args):
        """Run ``fn(*args)`` on the worker thread; the answer comes with sigCalled."""
        return self._send("call", (fn, args))

    def shutdown(self):
        self._thread.quit()
        self._thread.wait(5000)


WORKER_NICE = 5  # niceness added: CPU share 3:1 in the UI thread's favour where both want a core (Linux weights)


def yield_to_the_ui():
    """Lower the calling (worker) thread's priority, and so that of the kernel threads it
    starts (they inherit it).  With two cores, the UI thread and two kernel threads shared
    them alike: a paint took 1.5 times as long as alone, and a frame waited for it.  With
    the work handed out task by task (``engine.task_queue``) the kernels lose little:
    they take the core back whenever the UI thread is idle."""
    if sys.platform.startswith("linux"):
        # per thread on Linux (a thread id); elsewhere setpriority would lower the whole process.
        # Never the main thread (its id is the process's): that one is the UI thread.
        thread = threading.get_native_id()
        if thread != os.getpid():
            with contextlib.suppress(OSError):  # lowering needs no privilege; nothing to do if refused
                os.setpriority(os.PRIO_PROCESS, thread,
                               min(os.getpriority(os.PRIO_PROCESS, thread) + WORKER_NICE, 19))
    else:
        QThread.currentThread().setPriority(QThread.Priority.LowPriority)


def warm_up():
    """Compile (or load from cache) every kernel the window uses, on tiny data, and import what
    an export loads lazily: a first export then never stalls the window with imports."""
    import concurrent.futures  # noqa: F401  (the export's painting threads)

    from PIL import GifImagePlugin, Image, PngImagePlugin  # noqa: F401
    Image.init()
    # 64 points: enough that k-means sorts them into blocks (fewer skip that kernel)
    X = np.c_[np.repeat(np.arange(8.0), 8), np.tile(np.arange(8.0), 8)]
    # and two clusters far apart with both centres in one: a refit that jumps far takes the
    # exact paths (k-means' block cost, EM's extra pass), which compile on first use
    far = np.r_[X, X + 1e6]
    for algorithm in ALGORITHM_NAMES:
        for points in (X, far):
            run = Scenario(points=points, algorithm=algorithm, centres=points[:2]).start()
            run.keep_readout(cluster_rgb(2).astype(np.float64))
            run.run(4)
        if run.algorithm.hard:
            point_colours(2, labels=run.labels())
        else:
            point_colours(2, responsibilities=run.responsibilities(dtype=np.float32))
    # restarts run whole k-means runs in one kernel, k-means++ included
    from engine.restarts import restart_batch
    restart_batch(Scenario(points=X, algorithm="kmeans", n_clusters=2, init="kmeans++"), Dataset(X), 0, [0, 1])
    # the point image in each of its colour modes
    image = PointImage(X)
    unit = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    image.render(unit, 4, 4, 1.0, argb=point_colours(2, n_points=len(X)))
    image.render(unit, 4, 4, 1.0, labels=np.zeros(len(X), np.int32), palette=pack_argb(cluster_rgb(2)))
    wash(point_colours(2, n_points=4))
    overlay_raster.warm_up()  # the overlay's strokes, drawn on the UI thread: never compiled there
    pack_argb(hex_to_rgb(UNASSIGNED_HEX))
    cluster_rgb(3)
    return True


def warm_up_then_freeze(client):
    """``warm_up`` on ``client``'s worker; once it is done, what exists then (modules, compiled
    kernels, the window) is frozen out of the garbage collector, on the UI thread.  It lives as
    long as the app, and a full collection scanned it all again every so often while playing:
    the window stuck for ~140 ms."""
    generation = client.call(warm_up)

    def on_called(answered, result, error):
        if answered == generation:
            client.sigCalled.disconnect(on_called)
            gc.collect()
            gc.freeze()
    client.sigCalled.connect(on_called)


def configure_threads():
    """Hand the GIL over quickly between the UI thread and the engine worker.

    The worker's kernels release the GIL, but the Python between them needs it
    back; with CPython's default 5 ms switch interval a busy UI thread made
    each frame wait tens of milliseconds for it.  The same holds for any other
    thread: one C call that holds the GIL (json.dumps of a large list, say)
    stalls the window for its whole length (``session_file.session_pieces``).
    """
    sys.setswitchinterval(0.0005)
