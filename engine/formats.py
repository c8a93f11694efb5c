"""On-disk formats: point files (.csv / .npy), parameter files, and the run trace (JSON).

Every reader raises ValueError with the file name and what is wrong; never a
numpy traceback.
"""

import json
import warnings

import numpy as np

from .files import atomic_write_text, check_readable_file
from .validation import check_finite

def _is_number(text):
    try:
        float(text)
        return True
    except ValueError:
        return False


def _read_csv(path, min_columns):
    try:
        with open(path, encoding="utf-8-sig") as fh:
            first = ""
            skip = 0
            for line in fh:
                skip += 1
                if line.strip():
                    first = line
                    break
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text CSV file") from None
    if not first:
        raise ValueError(f"{path}: file is empty")
    fields = [f.strip() for f in first.split(",")]
    header = not all(_is_number(f) for f in fields)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": reported below
            arr = np.loadtxt(path, delimiter=",", skiprows=skip if header else skip - 1, ndmin=2,
                             dtype=np.float64, encoding="utf-8-sig")
    except ValueError as exc:
        raise ValueError(f"{path}: not a numeric CSV ({exc})") from None
    if arr.size == 0:
        raise ValueError(f"{path}: no data rows")
    if arr.shape[1] < min_columns:
        raise ValueError(f"{path}: needs at least {min_columns} numeric columns, found {arr.shape[1]}")
    return arr


def _read_npy(path):
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable .npy file ({exc})") from None
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{path}: holds {arr.dtype} values, not numbers")
    return arr.astype(np.float64)


def load_points(path):
    """Points from .csv (two or more numeric columns, optional header row) or .npy.

    Returns ndarray of shape (n_samples, n_features), float64, finite.
    """
    path = check_readable_file(path)
    if path.suffix.lower() == ".npy":
        X = _read_npy(path)
        if X.ndim != 2 or X.shape[1] < 2:
            raise ValueError(f"{path}: needs a 2-D array with two or more columns, got shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError(f"{path}: no points")
    else:
        X = _read_csv(path, min_columns=2)
    try:
        check_finite(X, "points")
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return X


def load_matrix(path, what):
    """Centres or weights from .csv (rows of numbers) or any array from .npy."""
    path = check_readable_file(path)
    arr = _read_npy(path) if path.suffix.lower() == ".npy" else _read_csv(path, min_columns=1)
    try:
        check_finite(arr, what)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return arr


def save_points_csv(path, X, header=("x", "y")):
    header = list(header) + [f"x{i}" for i in range(len(header), X.shape[1])]
    lines = [",".join(header[:X.shape[1]])]
    lines += [",".join(repr(float(v)) for v in row) for row in X]
    atomic_write_text(path, "\n".join(lines) + "\n")


def write_json(path, obj):
    atomic_write_text(path, json.dumps(obj, allow_nan=False, indent=1) + "\n")
