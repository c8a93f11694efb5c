"""The view projection: which plane of D-dimensional data the window and the exports show.

Clustering runs in all D dimensions; only the drawing is projected.  A
``Projection`` is a 2 x D matrix P with orthonormal rows and an offset c:
a point x is shown at ``(x - c) @ P.T``.  A click or a drag in the plane moves
only the in-plane part of a point (``lift``), and a Gaussian's covariance
Σ is drawn as its projection P Σ Pᵀ, which is exactly the covariance of the
projected Gaussian.  For two columns shown of 2-D data P is the identity and
every method returns its input unchanged, so 2-D data behave as if nothing
were projected.
"""

import numpy as np

COLUMNS, PCA = "columns", "pca"


def column_names(names, dim):
    """The D column names: the CSV header's, or x1, x2, ... when there is none."""
    if names is not None and len(names) == dim:
        return tuple(str(n) for n in names)
    return tuple(f"x{i + 1}" for i in range(dim))


class Projection:
    """shown = (X - offset) @ matrix.T, with ``matrix`` (2, D) of orthonormal rows.

    ``kind`` is "columns" (``columns`` holds the two indices shown) or "pca";
    ``axis_names`` are the two axes' labels.  Immutable, compared by value, hashable
    (a worker's caches and the canvas' viewport key on it).
    """

    def __init__(self, kind, matrix, offset, columns=None, axis_names=("x1", "x2")):
        matrix = np.array(matrix, dtype=np.float64)
        offset = np.array(offset, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[0] != 2 or matrix.shape[1] < 2:
            raise ValueError(f"a projection is a 2 x D matrix, got shape {matrix.shape}")
        if offset.shape != (matrix.shape[1],):
            raise ValueError(f"a projection's offset must have {matrix.shape[1]} numbers, got {offset.shape}")
        if not (np.all(np.isfinite(matrix)) and np.all(np.isfinite(offset))):
            raise ValueError("a projection must hold finite numbers")
        if not np.allclose(matrix @ matrix.T, np.eye(2), atol=1e-9):
            raise ValueError("a projection's two rows must be orthonormal")
        if kind not in (COLUMNS, PCA):
            raise ValueError(f"a projection is 'columns' or 'pca', got {kind!r}")
        matrix.flags.writeable = offset.flags.writeable = False
        self.kind, self.matrix, self.offset = kind, matrix, offset
        self.columns = None if columns is None else (int(columns[0]), int(columns[1]))
        self.axis_names = (str(axis_names[0]), str(axis_names[1]))
        # the plane of 2-D data, unmoved: every method hands its input back untouched
        self.identity = bool(matrix.shape[1] == 2 and np.array_equal(matrix, np.eye(2))
                             and not np.any(offset))

    @property
    def dim(self):
        return self.matrix.shape[1]

    # -- builders ---------------------------------------------------------------
    @classmethod
    def of_columns(cls, i, j, dim, names=None):
        """Columns i and j shown as x and y (0-based), named from ``names``."""
        i, j, dim = int(i), int(j), int(dim)
        if not (0 <= i < dim and 0 <= j < dim and i != j):
            raise ValueError(f"columns {i + 1} and {j + 1} are not two different columns of {dim}")
        P = np.zeros((2, dim))
        P[0, i] = P[1, j] = 1.0
        names = column_names(names, dim)
        return cls(COLUMNS, P, np.zeros(dim), (i, j), (names[i], names[j]))

    @classmethod
    def of_pca(cls, points):
        """The plane of the two principal axes of ``points`` (N, D), centred on their mean.

        Axes named "PC1 (x% of variance)": the share of the total variance each
        axis shows.  Signs follow numpy's SVD, made deterministic: each axis
        points the way its largest-magnitude entry is positive.
        """
        X = np.asarray(points, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] < 2 or len(X) < 1:
            raise ValueError("PCA needs points with two or more columns")
        mean = X.mean(axis=0)
        _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
        axes = vt[:2].copy()
        for row in axes:
            if row[np.argmax(np.abs(row))] < 0:
                row *= -1.0
        total = float(np.sum(s ** 2))
        shares = (s[:2] ** 2 / total) if total > 0 else np.zeros(2)
        names = tuple(f"PC{a + 1} ({100 * shares[a]:.0f}% of variance)" for a in range(2))
        return cls(PCA, axes, mean, None, names)

    # -- use ----------------------------------------------------------------------
    def shown(self, X):
        """(M, 2) from (M, D) points (or (2,) from one (D,) point): where they are drawn."""
        X = np.asarray(X, dtype=np.float64)
        if self.identity:
            return X
        return (X - self.offset) @ self.matrix.T

    def lift(self, p, reference):
        """The D-dimensional point drawn at ``p`` (2,) that differs from ``reference`` (D,) only
        in the plane: reference + Pᵀ (p - shown(reference))."""
        p = np.asarray(p, dtype=np.float64)
        if self.identity:
            return p.copy()
        reference = np.asarray(reference, dtype=np.float64)
        return reference + (p - self.shown(reference)) @ self.matrix

    def covariance(self, sigma):
        """P Σ Pᵀ: (2, 2) from (D, D), or (K, 2, 2) from (K, D, D)."""
        sigma = np.asarray(sigma, dtype=np.float64)
        if self.identity:
            return sigma
        return self.matrix @ sigma @ self.matrix.T

    # -- the session file ---------------------------------------------------------
    def to_dict(self):
        out = {"kind": self.kind, "axis_names": list(self.axis_names)}
        if self.kind == COLUMNS:
            out["columns"] = list(self.columns)
        else:
            out["matrix"] = self.matrix.tolist()
            out["offset"] = self.offset.tolist()
        return out

    @classmethod
    def from_dict(cls, obj, dim, names=None):
        """From ``to_dict``'s output for D = ``dim``; ValueError for anything else."""
        if not isinstance(obj, dict):
            raise TypeError("projection must be an object")
        kind = obj.get("kind")
        if kind == COLUMNS:
            cols = obj.get("columns")
            if (not isinstance(cols, list) or len(cols) != 2
                    or not all(isinstance(c, int) and not isinstance(c, bool) for c in cols)):
                raise ValueError("projection: 'columns' must be two column indices")
            return cls.of_columns(cols[0], cols[1], dim, names)
        if kind == PCA:
            names = obj.get("axis_names")
            if not (isinstance(names, list) and len(names) == 2 and all(isinstance(n, str) for n in names)):
                raise ValueError("projection: 'axis_names' must be two names")
            try:
                matrix = np.array(obj.get("matrix"), dtype=np.float64)
                offset = np.array(obj.get("offset"), dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError("projection: 'matrix' and 'offset' must hold numbers") from None
            if matrix.shape != (2, dim):
                raise ValueError(f"projection: the matrix must be 2 x {dim}, got {matrix.shape}")
            return cls(PCA, matrix, offset, None, names)
        raise ValueError(f"projection: kind must be 'columns' or 'pca', got {kind!r}")

    # -- value semantics ------------------------------------------------------------
    def _key(self):
        return (self.kind, self.columns, self.axis_names, self.matrix.tobytes(), self.offset.tobytes(),
                self.matrix.shape)

    def __eq__(self, other):
        return isinstance(other, Projection) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        if self.kind == COLUMNS:
            return f"Projection(columns {self.columns[0] + 1}–{self.columns[1] + 1} of {self.dim})"
        return f"Projection(pca of {self.dim})"

    def describe(self):
        """"sepal_length – sepal_width" or "PCA": what the control and the status line say."""
        return "PCA" if self.kind == PCA else f"{self.axis_names[0]} – {self.axis_names[1]}"


def default_projection(dim, names=None):
    """What new data are shown by: their first two columns."""
    return Projection.of_columns(0, 1, max(int(dim), 2), names)
