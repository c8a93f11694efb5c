"""Exact Voronoi regions of the k-means centres, for the window and the exporter.

Each cell is the rectangle clipped by the half-planes "closer to m_k than to m_j"
(Sutherland–Hodgman against each perpendicular bisector), so the borders are
straight lines at any zoom, unlike a field sampled on a grid.
"""

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPolygonF

from .render import cluster_qcolor


def _clip(poly, normal, offset, keep_boundary):
    """Sutherland–Hodgman: keep the part of ``poly`` where normal·x <= offset (< when not keep_boundary)."""
    if not len(poly):
        return poly
    d = poly @ normal - offset
    inside = d <= 0.0 if keep_boundary else d < 0.0
    out = []
    n = len(poly)
    for i in range(n):
        j = (i + 1) % n
        p, q, dp, dq = poly[i], poly[j], d[i], d[j]
        if inside[i]:
            out.append(p)
        if inside[i] != inside[j] and dp != dq:
            t = dp / (dp - dq)
            out.append(p + t * (q - p))
    return np.array(out, dtype=float).reshape(-1, 2)


def _area(poly):
    if len(poly) < 3:
        return 0.0
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def voronoi_cells(centres, rect):
    """The Voronoi cell of each centre clipped to rect=(x0, x1, y0, y1): a list of K arrays (M_k, 2).

    A cell with no area (a duplicate centre: the lowest index wins, as k-means
    breaks ties) is an empty (0, 2) array.
    """
    x0, x1, y0, y1 = map(float, rect)
    box = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)
    c = np.asarray(centres, dtype=float)[:, :2]
    span = max(x1 - x0, y1 - y0, 1e-300)
    cells = []
    for k in range(len(c)):
        poly = box
        for j in range(len(c)):
            if j == k:
                continue
            diff = c[j] - c[k]
            if not np.any(diff):
                if j < k:  # a duplicate of an earlier centre: that one owns the cell
                    poly = np.empty((0, 2))
                    break
                continue
            # |x - m_k|^2 <= |x - m_j|^2  <=>  2 (m_j - m_k)·x <= |m_j|^2 - |m_k|^2
            poly = _clip(poly, 2.0 * diff, float(c[j] @ c[j] - c[k] @ c[k]), True)
            if len(poly) < 3:
                break
        if len(poly) < 3 or _area(poly) <= 1e-12 * span * span:
            poly = np.empty((0, 2))
        cells.append(poly)
    return cells


def region_polygons(centres, rect, alpha=60):
    """[(QPolygonF in data coordinates, QColor)] of the non-empty cells: prepared once, painted often."""
    return [(QPolygonF([QPointF(float(x), float(y)) for x, y in cell]), cluster_qcolor(k, alpha))
            for k, cell in enumerate(voronoi_cells(centres, rect)) if len(cell)]


def paint_polygons(painter, to_device, polygons):
    """Fill ``region_polygons``' output, ``painter`` in device coordinates."""
    painter.save()
    painter.setRenderHint(painter.RenderHint.Antialiasing, False)
    painter.setPen(Qt.PenStyle.NoPen)
    for polygon, colour in polygons:
        painter.setBrush(colour)
        painter.drawPolygon(to_device.map(polygon))
    painter.restore()


def paint_regions(painter, to_device, centres, rect, alpha=60):
    """Fill each Voronoi cell of ``centres`` within ``rect`` with its cluster colour, washed light.

    ``painter`` is already in device coordinates; ``to_device`` maps data to device
    (as for render.paint_overlay).
    """
    paint_polygons(painter, to_device, region_polygons(centres, rect, alpha))
