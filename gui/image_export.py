"""Image mode's pictures for slides, drawn with QPainter: the lecture's strip (Bishop's figure:
one quantised picture per K, labelled "K = 2", ..., then the original image)."""

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from engine.image import to_uint8

from .export import fit_text

PANEL_MAX_WIDTH = 800  # px: a strip of four panels stays within a 3400 px wide slide image
TEXT_RGB = (25, 25, 25)


def rgb_qimage(pixels):
    """A QImage (its own copy) of (H, W, 3) uint8 RGB pixels."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    h, w = pixels.shape[:2]
    return QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def strip_image(original, panels, panel_width=None):
    """The strip as a QImage: ``panels`` [(title, (H, W, 3) uint8)] side by side, then the original
    ((H, W, 3) RGB in [0, 1] or uint8) titled "Original image", each panel ``panel_width`` px wide
    (default: the image's width, at most PANEL_MAX_WIDTH)."""
    if original.dtype != np.uint8:
        original = to_uint8(original)
    height, width = original.shape[:2]
    pw = int(panel_width or min(width, PANEL_MAX_WIDTH))
    ph = max(1, round(pw * height / width))
    gap = max(8, int(pw * 0.04))
    title_h = max(24, int(pw * 0.09))
    entries = list(panels) + [("Original image", original)]
    W = len(entries) * pw + (len(entries) + 1) * gap
    H = title_h + ph + 2 * gap
    strip = QImage(W, H, QImage.Format.Format_RGB32)
    strip.fill(QColor("white"))
    painter = QPainter(strip)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        for i, (title, pixels) in enumerate(entries):
            x = gap + i * (pw + gap)
            fit_text(painter, QRectF(x, gap, pw, title_h), title, title_h * 0.6, bold=True,
                     colour=QColor(*TEXT_RGB), align=Qt.AlignmentFlag.AlignHCenter)
            painter.drawImage(QRectF(x, gap + title_h, pw, ph), rgb_qimage(pixels))
    finally:
        painter.end()
    return strip
