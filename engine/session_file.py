"""The session file: a lecturer's prepared scenario, versioned JSON.

Holds the points (N, D) with their column names, the true component z of each
sampled point (when known), the initial centres (K, D), the mixture used for
sampling, the algorithm and its settings, the seed, the view, the projection
that shows D > 2 columns in the plane and the display options, so that
reopening and re-running reproduces the same frames exactly.  Reading is strict:
a bad file raises one ValueError naming the problem and changes nothing.
"""

import base64
import json
import os
from dataclasses import dataclass, field

import numpy as np

from .agreement import check_truth
from .files import atomic_write_pieces, read_json
from .projection import Projection, default_projection
from .registry import DEFAULT_ALGORITHM, check_algorithm
from .sampling import Mixture
from .scenario import Scenario
from .settings import (DEFAULT_INIT, DEFAULT_N_CLUSTERS, DEFAULT_SAMPLE_N, DEFAULT_SEED, INIT,
                       N_CLUSTERS, SAMPLE_N, SEED, AlgorithmSettings, DisplayOptions)
from .validation import check_centres, check_data

SESSION_FORMAT = "clusterlab-session"
# Up to this many numbers an array is written as JSON lists (readable, diffable);
# above, as base64 of little-endian float64.  json.dumps holds the GIL, so the
# autosave thread stalls the window while it writes lists: 20,000 numbers
# (10,000 points) take ~20 ms; 200,000 took 270 ms, a visible hitch while playing.
INLINE_NUMBERS_MAX = 20_000
SESSION_VERSION = 1
SESSION_DIM = 2  # an empty session's columns, and the sampling mixture's (it is drawn in the plane)


@dataclass
class SessionData:
    """Everything a session file holds (points (N, D), centres (K, D), ...)."""

    points: np.ndarray
    centres: np.ndarray
    algorithm: str = DEFAULT_ALGORITHM
    settings: AlgorithmSettings = field(default_factory=AlgorithmSettings)
    seed: int = DEFAULT_SEED
    init_method: str = DEFAULT_INIT
    n_clusters: int = DEFAULT_N_CLUSTERS
    mixture: Mixture = None
    sample_n: int = DEFAULT_SAMPLE_N
    view: tuple = None  # (x0, x1, y0, y1)
    display: DisplayOptions = field(default_factory=DisplayOptions)
    truth: np.ndarray = None  # (N,) true component z of each point, None when unknown
    names: tuple = None  # the D columns' names (a CSV header's), None when unknown
    projection: Projection = None  # what the plane shows; None: the first two columns

    def scenario(self):
        return Scenario.of_session(self.points, self.centres, self.algorithm, self.settings,
                                   self.init_method, self.seed)

    def to_dict(self, pack=None):
        """The session as JSON values; ``pack(raw bytes) -> str`` may stand in for the base64
        text of large arrays (``session_pieces``)."""
        return {
            "format": SESSION_FORMAT,
            "version": SESSION_VERSION,
            "points": encode_array(self.points, pack),
            "centres": self.centres.tolist(),
            "algorithm": self.algorithm,
            "settings": self.settings.to_dict(),
            "seed": int(self.seed),
            "init_method": self.init_method,
            "n_clusters": int(self.n_clusters),
            "mixture": None if self.mixture is None else self.mixture.to_dict(),
            "sample_n": int(self.sample_n),
            "view": None if self.view is None else [float(v) for v in self.view],
            "display": self.display.to_dict(),
            "truth": None if self.truth is None else encode_truth(self.truth, pack),
            "names": None if self.names is None else [str(n) for n in self.names],
            "projection": None if self.projection is None else self.projection.to_dict(),
        }


def _base64(raw):
    return base64.b64encode(raw).decode("ascii")


def encode_array(arr, pack=None):
    """A list of lists, or, above ``INLINE_NUMBERS_MAX`` numbers, {shape, dtype, base64} of the
    little-endian float64 bytes (``pack``, when given, makes the base64 text)."""
    arr = np.ascontiguousarray(arr, dtype="<f8")
    if arr.size <= INLINE_NUMBERS_MAX:
        return arr.tolist()  # json.dumps(allow_nan=False) refuses NaN and inf here ...
    if not np.isfinite(arr).all():  # ... and this, packed, as the reader would
        raise ValueError("cannot save NaN or infinite values")
    return {"shape": list(arr.shape), "dtype": "<f8", "base64": (pack or _base64)(arr.reshape(-1).view(np.uint8))}


def encode_truth(truth, pack=None):
    """z as a JSON list of ints, or packed like ``encode_array`` (little-endian int32) when long."""
    truth = np.ascontiguousarray(truth, dtype="<i4")
    if truth.size <= INLINE_NUMBERS_MAX:
        return truth.tolist()
    return {"shape": [len(truth)], "dtype": "<i4", "base64": (pack or _base64)(truth.view(np.uint8))}


# Bytes per base64 call (a multiple of 3, so the pieces join into one base64 text): ~1 ms each
_BASE64_CHUNK = 3 * 2**18


def session_pieces(data, extra=None):
    """The session file's bytes, in pieces (``to_dict`` and ``extra`` fields, as JSON).

    Every numpy, json and base64 call holds the GIL, and the autosave thread writes beside a
    playing window: at 1e6 points, json.dumps of the base64 text alone held it for 80 ms,
    encoding it for 56 ms.  Here json.dumps sees placeholders, and the large arrays' base64 is
    made ~1 ms at a time as the pieces are written.
    """
    packed, token = [], os.urandom(8).hex()  # no text of the session can hold the placeholders

    def placeholder(i):
        return f"packed-{token}-{i}"

    def pack(raw):
        packed.append(raw)
        return placeholder(len(packed) - 1)

    obj = data.to_dict(pack)
    obj.update(extra or {})
    text = json.dumps(obj, allow_nan=False) + "\n"
    for i, raw in enumerate(packed):
        head, text = text.split(f'"{placeholder(i)}"', 1)  # quoted: packed-..-1 is no prefix of ..-10
        yield (head + '"').encode("utf-8")
        for start in range(0, len(raw), _BASE64_CHUNK):
            yield base64.b64encode(raw[start:start + _BASE64_CHUNK])
        text = '"' + text
    yield text.encode("utf-8")


def decode_truth(value, n_points):
    """z from a session file (a list of ints or its packed form), checked against the points."""
    if isinstance(value, dict):
        try:
            shape = tuple(int(v) for v in value["shape"])
            if value.get("dtype") != "<i4" or len(shape) != 1:
                raise ValueError
            raw = base64.b64decode(value["base64"], validate=True)
            value = np.frombuffer(raw, dtype="<i4").reshape(shape)
        except (KeyError, TypeError, ValueError, base64.binascii.Error):
            raise ValueError("truth: a malformed packed array") from None
    return check_truth(value, n_points)


def decode_array(value, what):
    """A list of lists, or the base64 form of ``encode_array``: ndarray, or ValueError."""
    if isinstance(value, dict):
        try:
            shape = tuple(int(v) for v in value["shape"])
            if value.get("dtype") != "<f8" or len(shape) != 2:
                raise ValueError
            raw = base64.b64decode(value["base64"], validate=True)
            return np.frombuffer(raw, dtype="<f8").reshape(shape).astype(np.float64)
        except (KeyError, TypeError, ValueError, base64.binascii.Error):
            raise ValueError(f"{what}: a malformed packed array") from None
    if not isinstance(value, list):
        raise ValueError(f"field '{what}' has the wrong type ({type(value).__name__})")
    return value


def save_session(path, data):
    """Write atomically (temporary file, then rename): a crash never leaves half a session."""
    atomic_write_pieces(path, session_pieces(data))


def _require(obj, key, kind, path):
    if key not in obj:
        raise ValueError(f"{path}: missing field '{key}'")
    value = obj[key]
    if kind is not None and not isinstance(value, kind):
        raise ValueError(f"{path}: field '{key}' has the wrong type ({type(value).__name__})")
    return value


def _check_view(view):
    if not isinstance(view, list) or len(view) != 4:
        raise ValueError("view must be four numbers x0, x1, y0, y1")
    view = tuple(_number(v, "view") for v in view)
    if not np.all(np.isfinite(view)) or view[0] >= view[1] or view[2] >= view[3]:
        raise ValueError("view must be four finite numbers x0 < x1, y0 < y1")
    return view


def _number(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} must hold numbers, got {value!r}")
    return float(value)


def _check_mixture(spec):
    mixture = Mixture.from_dict(spec)
    if mixture.means.shape[1] != SESSION_DIM:
        raise ValueError(f"the mixture must be {SESSION_DIM}-D, got {mixture.means.shape[1]}-D")
    return mixture


def _check_centre_columns(raw_centres, dim):
    """Centres of another D than the points': said in columns (any other flaw: check_centres)."""
    try:
        shape = np.shape(raw_centres)
    except ValueError:
        return  # ragged rows
    if len(shape) == 2 and shape[1] != dim:
        raise ValueError(f"centres must have the points' {dim} columns, got {shape[1]} columns")


def _check_names(names, dim):
    """The columns' names: None, or one string per column."""
    if names is None:
        return None
    if not isinstance(names, list) or len(names) != dim or not all(isinstance(n, str) for n in names):
        raise ValueError(f"names must be {dim} strings, one per column")
    return tuple(names)


def session_from_dict(obj, path="session"):
    """SessionData from a parsed session file; every field is checked for kind and range."""
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: not a ClusterLab session (top level is not an object)")
    if obj.get("format") != SESSION_FORMAT:
        raise ValueError(f"{path}: not a ClusterLab session (format is {obj.get('format')!r})")
    version = obj.get("version")
    if version != SESSION_VERSION or isinstance(version, bool):
        raise ValueError(f"{path}: session version {version!r} is not supported (this ClusterLab "
                         f"reads version {SESSION_VERSION})")
    try:
        raw_points = decode_array(_require(obj, "points", None, path), "points")
        points = check_data(raw_points) if len(raw_points) else np.zeros((0, SESSION_DIM))
        if points.shape[1] < 2:
            raise ValueError(f"points must have two or more columns, got {points.shape[1]}")
        dim = points.shape[1]
        raw_centres = _require(obj, "centres", list, path)
        _check_centre_columns(raw_centres, dim)
        centres = check_centres(raw_centres, dim) if raw_centres else np.zeros((0, dim))
        algorithm = check_algorithm(_require(obj, "algorithm", str, path))
        settings = AlgorithmSettings.from_dict(_require(obj, "settings", dict, path), "settings")
        seed = SEED.check(_require(obj, "seed", None, path), "seed")
        mixture = obj.get("mixture")
        mixture = None if mixture is None else _check_mixture(mixture)
        view = obj.get("view")
        view = None if view is None else _check_view(view)
        display = DisplayOptions.from_dict(obj.get("display") or {}, "display")
        n_clusters = N_CLUSTERS.check(obj.get("n_clusters", max(len(centres), DEFAULT_N_CLUSTERS)),
                                      "n_clusters")
        sample_n = SAMPLE_N.check(obj.get("sample_n", DEFAULT_SAMPLE_N), "sample_n")
        init_method = INIT.check(obj.get("init_method", DEFAULT_INIT), "init_method")
        truth = obj.get("truth")  # absent from files written before z was kept
        truth = None if truth is None else decode_truth(truth, len(points))
        names = _check_names(obj.get("names"), dim)  # absent from files written before D > 2
        projection = obj.get("projection")
        projection = (default_projection(dim, names) if projection is None
                      else Projection.from_dict(projection, dim, names))
    except (TypeError, ValueError) as exc:
        message = str(exc)
        raise ValueError(message if message.startswith(str(path)) else f"{path}: {message}") from None
    return SessionData(points=points, centres=centres, algorithm=algorithm, settings=settings,
                       seed=seed, init_method=init_method, n_clusters=n_clusters, mixture=mixture,
                       sample_n=sample_n, view=view, display=display,
                       truth=truth if truth is not None and len(truth) else None,
                       names=names, projection=projection)


def load_session(path):
    """Read a session file; ValueError with the reason for any bad file."""
    return session_from_dict(read_json(path, "ClusterLab session"), path)
