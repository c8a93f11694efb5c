"""Image mode's work, done on the engine worker (``EngineClient.call``), never on the UI thread.

``PixelWork`` holds the image, its pixels as the engine's points (every pixel:
the run sees all of them), a preview grid and a random subsample for the
cloud, and the run.  Each call returns plain arrays for the views: the
quantised preview at one half-step, the palette, the cloud drawn for the
canvas' rectangle.  Only the worker thread touches a PixelWork, one call after
another, so numba's kernels never run from two threads at once.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data import Dataset
from engine.image import (
    PixelSpace,
    boundary_mask,
    load_image,
    preview_grid,
    quantise,
    quantised_image,
    save_png,
    to_uint8,
)
from engine.initialisation import initial_centres
from engine.run import FAILED
from engine.scenario import Scenario

from .palette import pack_argb
from .splat import render_points

PREVIEW_LONGEST = 960  # px: the images on screen show real pixels of a grid at most this long
CLOUD_POINTS = 200_000  # pixels drawn in the cloud (a fixed random subsample); the run uses every pixel
STEP_SLICE_S = 0.1  # stepping time per call before the half-step reached so far is shown
BOUNDARY_RGB = (255, 230, 0)  # segment boundaries over the image (as scikit-image's mark_boundaries)


@dataclass(frozen=True)
class ImageInfo:
    """An opened image: its name and size, and the preview the window shows (real pixels)."""

    path: str
    height: int
    width: int
    preview: np.ndarray  # (h, w, 3) uint8

    @property
    def name(self):
        return Path(self.path).name

    @property
    def n_pixels(self):
        return self.height * self.width


@dataclass(frozen=True)
class FeatureInfo:
    """The pixels as points in one feature space: the cloud's subsample and its extent."""

    space: PixelSpace
    sample: np.ndarray  # (M, D) features of the cloud's pixels
    low: np.ndarray  # (D,) bounds of every pixel's features
    high: np.ndarray
    n_pixels: int

    @property
    def names(self):
        return self.space.feature_names()


@dataclass(frozen=True)
class CloudRequest:
    """The cloud as the canvas shows it: two feature columns over a rectangle, at a pixel size."""

    axes: tuple  # (i, j) feature columns on x and y
    x0: float
    x1: float
    y0: float
    y1: float
    width: int
    height: int
    colour_by: str = "own"  # "own": each pixel's colour; "centre": its cluster centre's colour
    invert_y: bool = False  # y grows downwards (image rows)
    radius: float = 1.0

    def transform(self):
        """2x3 affine from the two features to pixel coordinates."""
        sx = self.width / (self.x1 - self.x0)
        sy = self.height / (self.y1 - self.y0)
        if self.invert_y:
            return ((sx, 0.0, -self.x0 * sx), (0.0, sy, -self.y0 * sy))
        return ((sx, 0.0, -self.x0 * sx), (0.0, -sy, self.y1 * sy))


@dataclass
class ImageFrame:
    """What the views show at one half-step (everything at preview or cloud size)."""

    run_id: int
    index: int
    history: tuple
    finished: bool
    stop_reason: str
    original: np.ndarray  # (h, w, 3) uint8: the preview, with segment boundaries when segmenting
    quantised: np.ndarray  # (h, w, 3) uint8, or None before the first assignment
    palette: np.ndarray  # (K, 3) uint8: the centres' colours at this half-step
    counts: np.ndarray  # (K,) pixels per cluster behind this half-step, or None
    cloud: np.ndarray = None  # (H, W) uint32 premultiplied ARGB
    cloud_request: CloudRequest = None
    error: str = None  # the engine refused a step (said, never raised)


class PixelWork:
    """The worker's side of image mode (see the module docstring)."""

    def __init__(self):
        self.info = None
        self.rgb = None  # (H, W, 3) float64 in [0, 1]
        self.features = None  # FeatureInfo
        self.data = None  # Dataset of every pixel
        self.preview_data = None  # Dataset of the preview grid's pixels
        self.sample_data = None  # Dataset of the cloud's pixels
        self.sample_index = None  # (M,) pixel indices of the cloud, row-major
        self.sample_argb = None  # (M,) uint32: each cloud pixel's own colour
        self.run = None
        self.run_id = 0
        self._labels = {}  # (run id, source) -> (preview labels, sample labels): the last two

    # -- the image and its features -------------------------------------------------
    def load(self, path, max_pixels, space, n_clusters, init, seed):
        """Open ``path`` and make its points; returns (ImageInfo, FeatureInfo, initial centres)."""
        rgb = load_image(path, max_pixels)  # ValueError for a bad file: the old image stays
        self.run, self.data, self.preview_data = None, None, None  # free the old image's memory first
        self.rgb = rgb
        height, width = rgb.shape[:2]
        self._rows, self._cols = preview_grid(height, width, PREVIEW_LONGEST)
        preview = to_uint8(rgb[self._rows][:, self._cols])
        n = height * width
        rng = np.random.default_rng(0)
        self.sample_index = (np.arange(n) if n <= CLOUD_POINTS
                             else np.sort(rng.choice(n, size=CLOUD_POINTS, replace=False)))
        own = to_uint8(rgb.reshape(-1, 3)[self.sample_index])
        self.sample_argb = pack_argb(own).astype(np.uint32)
        self.info = ImageInfo(str(path), height, width, preview)
        features, centres = self.use_space(space, n_clusters, init, seed)
        return self.info, features, centres

    def use_space(self, space, n_clusters, init, seed):
        """Every pixel as a point in ``space``; returns (FeatureInfo, initial centres)."""
        if self.rgb is None:
            raise ValueError("no image open")
        self.run, self.data = None, None
        rgb = self.rgb
        self.data = Dataset(space.features(rgb))
        rr, cc = np.meshgrid(self._rows, self._cols, indexing="ij")
        self.preview_data = Dataset(space.sample_features(rgb, rr.ravel(), cc.ravel()))
        rows, cols = np.divmod(self.sample_index, rgb.shape[1])
        sample = space.sample_features(rgb, rows, cols)
        self.sample_data = Dataset(sample)
        low, high = self.data.XT.min(axis=1), self.data.XT.max(axis=1)
        self.features = FeatureInfo(space, sample, low, high, self.data.n_samples)
        self._labels = {}
        return self.features, self.draw_centres(n_clusters, init, seed)

    def draw_centres(self, n_clusters, init, seed):
        """Initial centres (K, D) drawn from the pixels by ``init`` with ``seed``."""
        if self.data is None:
            raise ValueError("no image open")
        return initial_centres(init, self.data, min(n_clusters, self.data.n_samples), seed)

    # -- the run ---------------------------------------------------------------------
    def start(self, run_id, algorithm, settings, centres, cloud):
        """A new run from ``centres``; returns its first frame."""
        self.run_id, self.run = run_id, None
        if self.data is None:
            raise ValueError("no image open")
        scenario = Scenario(points=self.data, algorithm=algorithm, settings=settings,
                            centres=np.asarray(centres, dtype=np.float64))
        self.run = scenario.start()
        return self.frame(run_id, 0, cloud)

    def frame(self, run_id, index, cloud):
        """The frame of half-step ``index``, stepping the run there for at most STEP_SLICE_S; None if
        ``run_id`` is no longer the run (a newer one replaced it)."""
        run = self.run
        if run_id != self.run_id or run is None:
            return None
        t0 = time.perf_counter()
        error = None
        try:
            while len(run) <= index and not run.finished and time.perf_counter() - t0 < STEP_SLICE_S:
                run.step()
        except ValueError as exc:  # numbers the engine refuses: said, never a crash
            run.stop_reason = FAILED
            error = str(exc)
        index = max(0, min(index, len(run) - 1))
        snap = run.history[index]
        space = self.features.space
        palette = to_uint8(space.colours(snap.centres))
        source = run.responsibility_source(index)
        preview_labels = sample_labels = quantised = None
        original = self.info.preview
        if source is not None:
            preview_labels, sample_labels = self._labels_at(run_id, run, source)
            h, w = original.shape[:2]
            quantised = palette[preview_labels].reshape(h, w, 3)
            if space.segmenting:
                original = original.copy()
                original[boundary_mask(preview_labels.reshape(h, w))] = BOUNDARY_RGB
        image = None
        if cloud is not None and cloud.width > 0 and cloud.height > 0:
            if cloud.colour_by == "centre" and sample_labels is not None:
                colours = pack_argb(palette).astype(np.uint32)[sample_labels]
            else:
                colours = self.sample_argb
            points = np.ascontiguousarray(self.features.sample[:, list(cloud.axes)])
            image = render_points(points, colours, cloud.transform(), cloud.width, cloud.height, cloud.radius)
        return ImageFrame(run_id=run_id, index=index, history=tuple(run.history), finished=run.finished,
                          stop_reason=run.stop_reason, original=original, quantised=quantised, palette=palette,
                          counts=None if snap.counts is None else np.asarray(snap.counts), cloud=image,
                          cloud_request=cloud, error=error)

    def _labels_at(self, run_id, run, source):
        """The most responsible cluster of the preview's and the cloud's pixels under the parameters
        of half-step ``source`` (hard labels for soft k-means and EM too: the picture shows each
        pixel as its most responsible centre)."""
        key = (run_id, source)
        if key not in self._labels:
            snap = run.history[source]
            preview = run.algorithm.labels(self.preview_data, snap)
            sample = run.algorithm.labels(self.sample_data, snap)
            self._labels = {k: v for k, v in self._labels.items() if k[0] == run_id and k[1] >= source - 2}
            self._labels[key] = (preview, sample)
        return self._labels[key]

    # -- exports -----------------------------------------------------------------------
    def save_quantised(self, run_id, index, path):
        """The quantised image of half-step ``index`` at full size, as PNG; returns the path."""
        run = self.run
        if run_id != self.run_id or run is None:
            raise ValueError("the run changed; export again")
        source = run.responsibility_source(index)
        if source is None:
            raise ValueError("no pixel is assigned yet at the initialisation: step once first")
        labels = run.labels(source)
        colours = self.features.space.colours(run.history[index].centres)
        save_png(path, quantised_image(labels, colours, self.rgb.shape))
        return path

    def save_strip(self, ks, algorithm, settings, init, seed, path):
        """The lecture's strip: a run to the end for each K in ``ks`` from ``init`` with ``seed``, one
        panel each, then the original; returns the path."""
        from .export import write_qimage_png
        from .image_export import strip_image
        space = self.features.space
        panels = []
        for k in ks:
            _, _, image = quantise(self.data, space, self.rgb.shape, k, algorithm, settings, init, seed)
            panels.append((f"K = {k}", image))
        write_qimage_png(strip_image(self.rgb, panels), path, photo=True)
        return path
