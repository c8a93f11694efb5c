"""Pixels as data: an image file as points x^(n) in colour space, and the picture k-means makes of them.

The lecture's own application: "construct a dataset of pixels represented by
their RGB intensities, run k-means, replace each pixel by its cluster centre"
(vector quantisation); with the pixel's position added to its colour, the
clusters become segments (superpixels).

Loading (``load_image``): PNG, JPEG, WebP and TIFF through Pillow, from a
regular file only (``files.read_regular_bytes``).  The size is read from the
header and checked against ``max_pixels`` *before* anything is decoded, so a
decompression bomb (a 30000 x 30000 PNG is a few hundred kB) costs nothing.
An empty, truncated or damaged file, or one that is not an image, is one
``ValueError``.  A transparent image is composited on white; the EXIF
orientation is applied; only the first frame of an animation or a multi-page
TIFF is read; colour profiles are ignored (the values are taken as sRGB).

Features (``PixelSpace``): RGB in [0, 1] (the lecture's choice), or CIELAB
(D65, the sRGB transfer curve; ``colour_space``).  For segmentation each pixel
also gets lambda * s * (x, y): its column and row divided by the image's longer
side (so x, y are in [0, 1]), times the colour space's scale s (1 for RGB, 100
for CIELAB's L*), times the spatial weight lambda.  With lambda = 1, crossing
the whole image costs as much as going from black to white.
"""

import io
import math
import warnings
import zlib
from dataclasses import dataclass

import numpy as np

from .colour_space import lab_to_srgb, srgb_to_lab
from .data import Dataset
from .files import check_memory, read_regular_bytes
from .png import write_png
from .registry import DEFAULT_ALGORITHM
from .scenario import Scenario
from .settings import DEFAULT_INIT, Limit

FORMATS = ("PNG", "JPEG", "WEBP", "TIFF")
SPACES = ("rgb", "lab")
SPACE_NAMES = {"rgb": "RGB", "lab": "CIELAB"}
CHANNELS = {"rgb": ("R", "G", "B"), "lab": ("L*", "a*", "b*")}
# What one unit of colour distance means: the position scale s (see the module docstring)
SPACE_SCALE = {"rgb": 1.0, "lab": 100.0}

# Images above this many pixels are refused unless a larger limit is asked for (--max-pixels):
# a 12-megapixel photo (4000 x 3000) and a 24-megapixel camera's are in, a bomb is out.
DEFAULT_MAX_PIXELS = 25_000_000
MAX_PIXELS = Limit(int, 1, 100_000_000)
SPATIAL_WEIGHT = Limit(float, 0.0, 1000.0)
DEFAULT_SPATIAL_WEIGHT = 2.0
# Memory one pixel may cost on its way to a run: the float image, the features, the Dataset's two
# copies and k-means' sorted copy (8 bytes x 3 channels each), labels and the decoded image.
BYTES_PER_PIXEL = 160


def _check_pixels(path, width, height, max_pixels):
    pixels = width * height
    if pixels > max_pixels:
        raise ValueError(f"{path}: {width} x {height} = {pixels:,} pixels, more than the limit of "
                         f"{max_pixels:,} (a decompression bomb? a larger limit: --max-pixels)")
    if width < 1 or height < 1:
        raise ValueError(f"{path}: the image has no pixels ({width} x {height})")
    check_memory(path, pixels * BYTES_PER_PIXEL, f"{pixels:,} pixels")


def _to_rgb(image):
    """(H, W, 3) float64 in [0, 1] from a decoded Pillow image of any mode."""
    mode = image.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        grey = np.asarray(image, dtype=np.float64)
        scale = 1.0 if mode == "F" else 65535.0 if mode.startswith("I;16") or grey.max() > 255 else 255.0
        grey = np.clip(grey / scale, 0.0, 1.0)
        return np.repeat(grey[:, :, None], 3, axis=2)
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float64) / 255.0
        alpha = rgba[:, :, 3:]
        return rgba[:, :, :3] * alpha + (1.0 - alpha)  # composited on white
    return np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0


def _open_image(path, max_pixels):
    """The Pillow image of ``path``, opened but not decoded, its size checked from the header."""
    from PIL import Image, UnidentifiedImageError

    max_pixels = MAX_PIXELS.check(max_pixels, "the pixel limit")
    data = read_regular_bytes(path)  # regular files only: a FIFO or a device is refused unopened
    if not data:
        raise ValueError(f"{path}: file is empty")
    try:
        with warnings.catch_warnings():
            # we check the size ourselves, against our own limit, before decoding
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        raise ValueError(f"{path}: not an image that can be read (PNG, JPEG, WebP, TIFF)") from None
    except Image.DecompressionBombError:  # Pillow's own limit, far above ours: refused from the header too
        raise ValueError(f"{path}: more than {2 * Image.MAX_IMAGE_PIXELS:,} pixels, more than the limit of "
                         f"{max_pixels:,} (a decompression bomb?)") from None
    except (OSError, SyntaxError, ValueError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: not a readable image ({exc})") from None
    _check_pixels(path, *image.size, max_pixels)  # from the header: nothing decoded yet
    return image


def image_size(path, max_pixels=DEFAULT_MAX_PIXELS):
    """(width, height) from the file's header, checked as ``load_image`` checks it, nothing decoded:
    a quick look before the pixels are read elsewhere (a truncated body is only found by decoding)."""
    return _open_image(path, max_pixels).size


def load_image(path, max_pixels=DEFAULT_MAX_PIXELS):
    """The pixels of an image file as ndarray of shape (height, width, 3), float64 RGB in [0, 1].

    ValueError (one line naming the file) for anything that is not a regular,
    complete PNG / JPEG / WebP / TIFF file of at most ``max_pixels`` pixels.
    """
    from PIL import ImageOps

    image = _open_image(path, max_pixels)
    width, height = image.size
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
        return _to_rgb(image)
    except MemoryError:
        raise ValueError(f"{path}: not enough memory to decode {width} x {height} pixels") from None
    except (OSError, SyntaxError, ValueError, EOFError, zlib.error, IndexError, TypeError) as exc:
        raise ValueError(f"{path}: truncated or damaged {image.format} image ({exc})") from None


@dataclass(frozen=True)
class PixelSpace:
    """How the pixels of an image become points: colour space, and position for segmentation.

    space : "rgb" or "lab"; spatial_weight : None for colour only (vector
    quantisation), or lambda >= 0 to append lambda * s * (x, y) (segmentation).
    """

    space: str = "rgb"
    spatial_weight: float = None

    def __post_init__(self):
        if self.space not in SPACES:
            raise ValueError(f"colour space must be one of {', '.join(SPACES)}; got {self.space!r}")
        if self.spatial_weight is not None:
            object.__setattr__(self, "spatial_weight", SPATIAL_WEIGHT.check(self.spatial_weight,
                                                                             "spatial weight"))

    @property
    def segmenting(self):
        return self.spatial_weight is not None

    @property
    def n_features(self):
        return 5 if self.segmenting else 3

    def feature_names(self):
        """("R", "G", "B") or ("L*", "a*", "b*"), then ("λx", "λy") when segmenting."""
        return CHANNELS[self.space] + (("λx", "λy") if self.segmenting else ())

    def describe(self):
        text = SPACE_NAMES[self.space]
        return f"{text} + λ·(x, y), λ = {self.spatial_weight:g}" if self.segmenting else text

    def colour_features(self, rgb):
        """(N, 3) colour features of (..., 3) RGB values in [0, 1]."""
        flat = np.asarray(rgb, dtype=np.float64).reshape(-1, 3)
        return srgb_to_lab(flat) if self.space == "lab" else np.ascontiguousarray(flat)

    def position_features(self, height, width, rows=None, cols=None):
        """(N, 2) lambda * s * (x, y) of the pixels at ``rows``, ``cols`` (default: all, row by row)."""
        if rows is None:
            rows, cols = np.divmod(np.arange(height * width), width)
        scale = self.spatial_weight * SPACE_SCALE[self.space] / max(height, width)
        return np.c_[np.asarray(cols, dtype=np.float64) * scale, np.asarray(rows, dtype=np.float64) * scale]

    def features(self, rgb):
        """The points: ndarray of shape (height * width, n_features), row by row, from (H, W, 3) RGB."""
        colour = self.colour_features(rgb)
        if not self.segmenting:
            return colour
        height, width = rgb.shape[:2]
        return np.hstack([colour, self.position_features(height, width)])

    def sample_features(self, rgb, rows, cols):
        """The points of the pixels at (rows, cols) only (previews, the cloud's subsample)."""
        colour = self.colour_features(rgb[rows, cols])
        if not self.segmenting:
            return colour
        return np.hstack([colour, self.position_features(rgb.shape[0], rgb.shape[1], rows, cols)])

    def colours(self, centres):
        """The RGB colour in [0, 1] of each centre: (K, 3), from the colour part of (K, D) centres."""
        colour = np.asarray(centres, dtype=np.float64)[:, :3]
        return lab_to_srgb(colour) if self.space == "lab" else np.clip(colour, 0.0, 1.0)


def to_uint8(rgb):
    """RGB in [0, 1] as 8-bit values, rounded."""
    return (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def quantised_image(labels, colours, shape):
    """Each pixel replaced by its cluster's colour: (height, width, 3) uint8 from labels (N,) and
    colours (K, 3) in [0, 1]; at most K distinct colours."""
    height, width = shape[:2]
    return to_uint8(colours)[np.asarray(labels).reshape(height, width)]


def boundary_mask(labels):
    """(H, W) bool: pixels whose right or lower neighbour is in another segment (a one-pixel line)."""
    labels = np.asarray(labels)
    edge = np.zeros(labels.shape, dtype=bool)
    edge[:, :-1] |= labels[:, 1:] != labels[:, :-1]
    edge[:-1, :] |= labels[1:, :] != labels[:-1, :]
    return edge


def save_png(path, pixels):
    """Write (H, W, 3) uint8 pixels as a PNG, atomically (``png.write_png``)."""
    write_png(path, np.asarray(pixels, dtype=np.uint8), photo=True)


def preview_grid(height, width, longest):
    """Rows and columns (1-D each) of an evenly strided preview at most ``longest`` pixels on its longer
    side: every pixel shown is a real pixel of the image, so a quantised preview keeps K colours."""
    step = max(1, math.ceil(max(height, width) / longest))
    return np.arange(0, height, step), np.arange(0, width, step)


def check_outputs(outputs, inputs):
    """ValueError before any work if an output (None: not asked for) is an input, is named twice, or
    lies in a folder that does not exist."""
    import os
    from pathlib import Path

    from .files import check_output_path
    seen = {}
    for out in outputs:
        if out is None:
            continue
        check_output_path(out, inputs)
        real = os.path.realpath(out)
        if real in seen:
            raise ValueError(f"{out}: named for two outputs ({seen[real]} and {out})")
        seen[real] = out
        if not Path(real).parent.is_dir():
            raise ValueError(f"{out}: cannot write (folder {Path(real).parent} does not exist)")


def write_trace(path, document):
    """A trace as compact JSON, atomically: a photo's labels are millions of numbers (indenting each
    on its own line would triple the file and take seconds more)."""
    import json

    from .files import atomic_write_text
    atomic_write_text(path, json.dumps(document, allow_nan=False) + "\n")


def output_paths(out, ks):
    """``out`` for one K; ``q-k2.png``, ``q-k3.png``... beside it for several."""
    if out is None:
        return [None] * len(ks)
    if len(ks) == 1:
        return [out]
    from pathlib import Path
    p = Path(out)
    return [str(p.with_name(f"{p.stem}-k{k}{p.suffix}")) for k in ks]


def parse_k_list(text, limit):
    """"2,3,10" -> (2, 3, 10), each checked against ``limit``; ValueError otherwise."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        ks = tuple(limit.parse(p) for p in parts)
    except ValueError as exc:
        raise ValueError(f"--k {text}: K {str(exc).replace('value must', 'must')}") from None
    if len(set(ks)) != len(ks):
        raise ValueError(f"--k: a K is repeated ({text})")
    return ks


def pixel_dataset(rgb, pixel_space):
    """The image's pixels as the engine's points: a ``Dataset`` of (height * width, D), row by row."""
    return Dataset(pixel_space.features(rgb))


def quantise(data, pixel_space, shape, n_clusters, algorithm=DEFAULT_ALGORITHM, settings=None,
             init=DEFAULT_INIT, seed=0):
    """Run ``algorithm`` on the pixels ``data`` (a Dataset from ``pixel_dataset``) to the end.

    Returns (run, labels, image): the finished ``Run``, the final labels (N,)
    (the most responsible cluster under the final parameters, also for soft
    k-means and EM), and the quantised (height, width, 3) uint8 image: each
    pixel replaced by its cluster centre's colour.
    """
    kwargs = {} if settings is None else {"settings": settings}
    run = Scenario(points=data, algorithm=algorithm, n_clusters=n_clusters, init=init, seed=seed,
                   **kwargs).start().run()
    labels = run.final_labels()
    return run, labels, quantised_image(labels, pixel_space.colours(run.current.centres), shape)


def image_settings(pixel_space, shape, source=None):
    """What a trace's ``settings`` add for an image: the space, lambda, the features and the size."""
    height, width = shape[:2]
    out = {"space": pixel_space.space, "spatial_weight": pixel_space.spatial_weight,
           "features": list(pixel_space.feature_names()), "width": width, "height": height,
           "pixel_order": "row by row from the top left"}
    if source is not None:
        out["image"] = str(source)
    return out
