"""The session file: a lecturer's prepared scenario, versioned JSON.

Holds the points, the initial centres, the mixture used for sampling, the
algorithm and its settings, the seed, the view and the display options, so that
reopening and re-running reproduces the same frames exactly.  Reading is strict:
a bad file raises one ValueError naming the problem and changes nothing.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .formats import atomic_write_text
from .sampling import Mixture
from .scenario import ALGORITHM_NAMES, Scenario, make_algorithm
from .validation import check_centres, check_choice, check_data

import base64

SESSION_FORMAT = "clusterlab-session"
# Up to this many numbers an array is written as JSON lists (readable, diffable);
# above, as base64 of little-endian float64: 1e6 points encode in ~30 ms instead of
# ~2 s, which matters for the autosave on the UI thread.
INLINE_NUMBERS_MAX = 200_000
SESSION_VERSION = 1
SETTING_KEYS = ("beta", "covariance_type", "reg_covar", "learn_weights", "max_iter", "tol")


def max_file_bytes():
    """The largest file we try to read: a quarter of physical memory, at most 2 GiB."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        physical = 8 << 30
    return int(min(physical // 4, 2 << 30))


def check_file_size(path):
    size = Path(path).stat().st_size
    limit = max_file_bytes()
    if size > limit:
        raise ValueError(f"{path}: too large to open ({size / 2**20:.0f} MB; the limit here is "
                         f"{limit / 2**20:.0f} MB)")
    return size


@dataclass
class SessionData:
    """Everything a session file holds (points (N, 2), centres (K, 2), ...)."""

    points: np.ndarray
    centres: np.ndarray
    algorithm: str = "kmeans"
    settings: dict = field(default_factory=dict)
    seed: int = 0
    init_method: str = "kmeans++"
    n_clusters: int = 3
    mixture: Mixture = None
    sample_n: int = 300
    view: tuple = None  # (x0, x1, y0, y1)
    display: dict = field(default_factory=dict)

    def scenario(self):
        return Scenario(points=self.points, algorithm=self.algorithm, settings=dict(self.settings),
                        centres=self.centres if len(self.centres) else None,
                        n_clusters=max(len(self.centres), 1), init=self.init_method, seed=self.seed)

    def to_dict(self):
        return {
            "format": SESSION_FORMAT,
            "version": SESSION_VERSION,
            "points": encode_array(self.points),
            "centres": self.centres.tolist(),
            "algorithm": self.algorithm,
            "settings": {k: self.settings[k] for k in SETTING_KEYS if k in self.settings},
            "seed": int(self.seed),
            "init_method": self.init_method,
            "n_clusters": int(self.n_clusters),
            "mixture": None if self.mixture is None else self.mixture.to_dict(),
            "sample_n": int(self.sample_n),
            "view": None if self.view is None else [float(v) for v in self.view],
            "display": dict(self.display),
        }


def encode_array(arr):
    arr = np.ascontiguousarray(arr, dtype="<f8")
    if arr.size <= INLINE_NUMBERS_MAX:
        return arr.tolist()
    return {"shape": list(arr.shape), "dtype": "<f8",
            "base64": base64.b64encode(arr.tobytes()).decode("ascii")}


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
    atomic_write_text(path, json.dumps(data.to_dict(), allow_nan=False) + "\n")


def _require(obj, key, kind, path):
    if key not in obj:
        raise ValueError(f"{path}: missing field '{key}'")
    value = obj[key]
    if kind is not None and not isinstance(value, kind):
        raise ValueError(f"{path}: field '{key}' has the wrong type ({type(value).__name__})")
    return value


def session_from_dict(obj, path="session"):
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: not a ClusterLab session (top level is not an object)")
    if obj.get("format") != SESSION_FORMAT:
        raise ValueError(f"{path}: not a ClusterLab session (format is {obj.get('format')!r})")
    version = obj.get("version")
    if version != SESSION_VERSION:
        raise ValueError(f"{path}: session version {version!r} is not supported (this ClusterLab "
                         f"reads version {SESSION_VERSION})")
    raw_points = _require(obj, "points", None, path)
    try:
        raw_points = decode_array(raw_points, "points")
        points = check_data(raw_points) if len(raw_points) else np.zeros((0, 2))
        if points.shape[1] != 2:
            raise ValueError(f"points must have 2 columns, got {points.shape[1]}")
        raw_centres = _require(obj, "centres", list, path)
        centres = check_centres(raw_centres, 2) if raw_centres else np.zeros((0, 2))
        algorithm = check_choice(_require(obj, "algorithm", str, path), ALGORITHM_NAMES, "algorithm")
        settings = _require(obj, "settings", dict, path)
        unknown = set(settings) - set(SETTING_KEYS)
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}")
        for name in ALGORITHM_NAMES:  # validates every value, also those of the other algorithms
            make_algorithm(name, **settings)
        seed = _require(obj, "seed", int, path)
        mixture = obj.get("mixture")
        mixture = None if mixture is None else Mixture.from_dict(mixture)
        view = obj.get("view")
        if view is not None:
            view = tuple(float(v) for v in view)
            if len(view) != 4 or not np.all(np.isfinite(view)) or view[0] >= view[1] or view[2] >= view[3]:
                raise ValueError("view must be four finite numbers x0 < x1, y0 < y1")
        display = obj.get("display") or {}
        if not isinstance(display, dict):
            raise ValueError("display must be an object")
        n_clusters = int(obj.get("n_clusters", max(len(centres), 3)))
        sample_n = int(obj.get("sample_n", 300))
        init_method = str(obj.get("init_method", "kmeans++"))
    except (TypeError, ValueError) as exc:
        message = str(exc)
        raise ValueError(message if message.startswith(str(path)) else f"{path}: {message}") from None
    return SessionData(points=points, centres=centres, algorithm=algorithm, settings=dict(settings),
                       seed=seed, init_method=init_method, n_clusters=n_clusters, mixture=mixture,
                       sample_n=sample_n, view=view, display=dict(display))


def load_session(path):
    """Read a session file; ValueError with the reason for any bad file."""
    from .formats import check_readable_file
    path = check_readable_file(path)
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: file is empty")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON, perhaps truncated ({exc.msg} at line "
                         f"{exc.lineno})") from None
    except RecursionError:
        raise ValueError(f"{path}: not a ClusterLab session (nested too deeply)") from None
    return session_from_dict(obj, path)
