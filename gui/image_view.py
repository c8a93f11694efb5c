"""Image mode's pictures: the original and the quantised image side by side, and the palette.

Both views only show arrays the worker made (``image_work.ImageFrame``); an
image is scaled to the widget once per change of image or size, never in
``paintEvent``.
"""

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from .image_export import rgb_qimage

TITLE_PX = 22
PLACEHOLDER_RGB = (235, 235, 235)


class ImagePanel(QWidget):
    """One picture, scaled to fit with its aspect kept, under a one-line title."""

    def __init__(self, title="", parent=None):
        super().__init__(parent)
        self.title = title
        self.placeholder = ""
        self._pixels = None  # (h, w, 3) uint8 shown
        self._image = None  # its QImage
        self._scaled = None  # (size, QImage) for the current widget size
        self.setMinimumSize(120, 90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self):
        return QSize(400, 300)

    @property
    def pixels(self):
        return self._pixels

    def set_image(self, pixels, title=None, placeholder=""):
        """Show (h, w, 3) uint8 ``pixels`` (None: an empty frame with ``placeholder`` text)."""
        if title is not None:
            self.title = title
        self.placeholder = placeholder
        if pixels is not self._pixels:
            self._pixels = pixels
            self._image = None if pixels is None else rgb_qimage(pixels)
            self._scaled = None
        self.update()

    def image_rect(self):
        """Where the picture is drawn, in widget coordinates (aspect kept, centred under the title)."""
        room = QRectF(0, TITLE_PX, self.width(), max(self.height() - TITLE_PX, 1))
        if self._pixels is None:
            return room
        h, w = self._pixels.shape[:2]
        scale = min(room.width() / w, room.height() / h)
        dw, dh = w * scale, h * scale
        return QRectF(room.x() + (room.width() - dw) / 2, room.y() + (room.height() - dh) / 2, dw, dh)

    def _scaled_image(self, rect):
        ratio = self.devicePixelRatioF()
        size = QSize(max(1, round(rect.width() * ratio)), max(1, round(rect.height() * ratio)))
        if self._scaled is None or self._scaled[0] != size:
            scaled = self._image.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                        Qt.TransformationMode.SmoothTransformation)
            scaled.setDevicePixelRatio(ratio)
            self._scaled = (size, scaled)
        return self._scaled[1]

    def paintEvent(self, ev):
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("white"))
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        p.setPen(QColor(30, 30, 30))
        p.drawText(QRectF(0, 0, self.width(), TITLE_PX), Qt.AlignmentFlag.AlignCenter, self.title)
        rect = self.image_rect()
        if self._image is None:
            p.fillRect(rect, QColor(*PLACEHOLDER_RGB))
            p.setPen(QColor(90, 90, 90))
            p.setFont(self.font())
            p.drawText(rect.adjusted(8, 8, -8, -8), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       self.placeholder)
        else:
            p.drawImage(rect.topLeft(), self._scaled_image(rect))
        p.end()


def compact_count(n):
    """A pixel count in at most five characters: 9,999 · 123k · 12.3M."""
    n = float(n)
    if n < 10_000:
        return f"{n:,.0f}"
    if n < 999_500:
        return f"{n / 1e3:.0f}k"
    return f"{n / 1e6:.3g}M"


class PaletteView(QWidget):
    """The centres as colour swatches, each with its pixel count N_k, in rows as wide as the widget."""

    SWATCH = 30  # px, the swatch's side
    CELL_W = 92  # px, a swatch and its count

    def __init__(self, parent=None):
        super().__init__(parent)
        self.colours = np.zeros((0, 3), dtype=np.uint8)
        self.counts = None
        self.total = 0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setToolTip("The centres as colours, with the pixels of each cluster (N_k) behind this half-step")

    def set_palette(self, colours, counts, total):
        self.colours = np.asarray(colours, dtype=np.uint8).reshape(-1, 3)
        self.counts = None if counts is None else np.asarray(counts, dtype=np.float64)
        self.total = total
        self.updateGeometry()
        self.update()

    def _columns(self):
        return max(1, self.width() // self.CELL_W)

    def hasHeightForWidth(self):
        return True

    def heightForWidth(self, width):
        cols = max(1, width // self.CELL_W)
        rows = max(1, -(-len(self.colours) // cols))
        return rows * (self.SWATCH + 8) + 4

    def sizeHint(self):
        return QSize(self.CELL_W * 6, self.heightForWidth(self.CELL_W * 6))

    def minimumSizeHint(self):
        return QSize(self.CELL_W, self.SWATCH + 12)

    def paintEvent(self, ev):
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("white"))
        cols = self._columns()
        for k, rgb in enumerate(self.colours):
            r, c = divmod(k, cols)
            x, y = c * self.CELL_W + 4, r * (self.SWATCH + 8) + 4
            p.setPen(QPen(QColor(60, 60, 60), 1))
            p.setBrush(QColor(*(int(v) for v in rgb)))
            p.drawRect(x, y, self.SWATCH, self.SWATCH)
            if self.counts is None:
                text = "–"
            else:
                n = self.counts[k]
                share = 100.0 * n / self.total if self.total else 0.0
                text = f"{compact_count(n)}\n{share:.1f}%"
            p.setPen(QColor(30, 30, 30))
            p.drawText(QRectF(x + self.SWATCH + 4, y - 2, self.CELL_W - self.SWATCH - 6, self.SWATCH + 4),
                       Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        p.end()
