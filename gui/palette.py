"""Cluster colours (colour-blind safe) and per-point colours from responsibilities.

Colours are computed in numba, one uint32 (0xAARRGGBB) per point, never as a
brush per point (that costs 73 ms a frame at 1,000 points).
"""

import numpy as np
from numba import njit, prange

# Okabe & Ito's colour-blind-safe set (black dropped: it reads as "no cluster"),
# then Tol's muted wine, green and indigo: distinct for the first 10 clusters.
CLUSTER_HEX = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00",
               "#56B4E9", "#882255", "#117733", "#332288", "#B8A200")
UNASSIGNED_HEX = "#8C8C8C"
# The objective plot, as in the lecture's figure: a dot after each responsibility
# half-step (assignment / E-step) and after each refit (M-step), joined by a grey path.
# Neither is a cluster colour (a dot must never read as "cluster 1"): a pure royal blue and
# a crimson, told apart by colour-blind viewers too (blue against dark red-brown).
RESPONSIBILITY_STEP_HEX = "#1F3FFF"
REFIT_STEP_HEX = "#E0002A"
PATH_HEX = "#888888"


def hex_to_rgb(h):
    h = h.lstrip("#")
    return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))


def cluster_rgb(n_clusters):
    """ndarray of shape (n_clusters, 3), uint8; colours repeat after 10."""
    base = np.array([hex_to_rgb(h) for h in CLUSTER_HEX], dtype=np.uint8)
    return base[np.arange(n_clusters) % len(base)]


def pack_argb(rgb, alpha=255):
    rgb = np.asarray(rgb, dtype=np.uint32)
    return (np.uint32(alpha) << 24) | (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]


@njit(parallel=True, cache=True, nogil=True)
def blend_responsibilities(resp, rgb, out):
    """out[n] = 0xFFRRGGBB with RGB = sum_k r_k^(n) colour_k (Bishop's responsibility colouring)."""
    N, K = resp.shape
    for n in prange(N):
        r = 0.0
        g = 0.0
        b = 0.0
        for k in range(K):
            w = resp[n, k]
            r += w * rgb[k, 0]
            g += w * rgb[k, 1]
            b += w * rgb[k, 2]
        out[n] = (np.uint32(255) << 24) | (np.uint32(min(r + 0.5, 255.0)) << 16) | \
            (np.uint32(min(g + 0.5, 255.0)) << 8) | np.uint32(min(b + 0.5, 255.0))


@njit(parallel=True, cache=True, nogil=True)
def label_colours(labels, argb, out):
    """out[n] = argb[labels[n]]: hard assignments in their cluster's colour."""
    for n in prange(labels.shape[0]):
        out[n] = argb[labels[n]]


def point_colours(n_clusters, responsibilities=None, labels=None, n_points=0):
    """uint32 ARGB per point from responsibilities (soft), labels (hard), or grey (none yet)."""
    rgb = cluster_rgb(max(n_clusters, 1))
    if responsibilities is not None:
        out = np.empty(responsibilities.shape[0], dtype=np.uint32)
        blend_responsibilities(np.ascontiguousarray(responsibilities, dtype=np.float32),
                               rgb.astype(np.float32), out)
        return out
    if labels is not None:
        out = np.empty(labels.shape[0], dtype=np.uint32)
        label_colours(labels.astype(np.int32), pack_argb(rgb).astype(np.uint32), out)
        return out
    return np.full(n_points, pack_argb(hex_to_rgb(UNASSIGNED_HEX)), dtype=np.uint32)


def run_colours(run, source, with_labels=False):
    """Colours of every point from the responsibilities at half-step ``source`` of ``run``.

    Returns (colours, labels): labels (most responsible cluster, int32) only when
    asked for and cheap to have; grey points and no labels while ``source`` is None
    (the initialisation has no responsibilities yet).
    """
    K = run.current.n_clusters
    if source is None:
        return point_colours(K, n_points=run.data.n_samples), None
    if run.algorithm.hard:
        labels = run.labels(source)
        return point_colours(K, labels=labels), labels
    resp = run.responsibilities(source, dtype=np.float32)
    labels = np.argmax(resp, axis=1).astype(np.int32) if with_labels else None
    return point_colours(K, responsibilities=resp), labels


# "Colour by: nothing": every point one neutral grey, darker than the grey of points not yet
# assigned (the initialisation), so the lecture's p(x) panel never reads as "waiting for a step"
MARGINAL_HEX = "#4D4D4D"


def colouring_applies(colour_by, n_points, truth=None, mixture=None):
    """Whether ``colour_by`` can colour n points: z must be known for "truth", the true
    mixture for "true_responsibilities"; otherwise the fit colours them."""
    if colour_by == "marginal":
        return True
    if colour_by == "truth":
        return truth is not None and len(truth) == n_points
    if colour_by == "true_responsibilities":
        return mixture is not None
    return False


def colour_source_colours(colour_by, n_points, truth=None, true_responsibilities=None, n_true=0):
    """uint32 ARGB per point for the colourings that do not come from the fit, or None.

    colour_by : a ``DisplayOptions.colour_by`` choice.  ``"truth"``: the cluster colour of
    each point's true component z (``truth``, shape (N,)); ``"marginal"``: one neutral grey
    (samples from p(x)); ``"true_responsibilities"``: p(z | x) under the true mixture, shape
    (N, K_true), blended as the fit's responsibilities are.  None for ``"fit"``, or when
    what the colouring needs is unknown (no z): the caller colours by the fit then.
    """
    if colour_by == "marginal":
        return np.full(n_points, pack_argb(hex_to_rgb(MARGINAL_HEX)), dtype=np.uint32)
    if colour_by == "truth" and truth is not None and len(truth) == n_points:
        return point_colours(max(n_true, int(truth.max()) + 1 if n_points else 1), labels=truth)
    resp = true_responsibilities
    if colour_by == "true_responsibilities" and resp is not None and len(resp) == n_points:
        return point_colours(resp.shape[1], responsibilities=resp)
    return None
