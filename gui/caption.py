"""The caption over a canvas: the half-step and its objective, in one line of large bold text."""

from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import QSizePolicy, QWidget
from superqt import QElidingLabel

SMALLEST = 0.6  # of the full size: below it, the text is elided instead (the tooltip has it all)
HEADLINE_END = " · "  # what follows is a remark (``captions.state_caption``)
REGROW_SPARE = 0.15  # the room a larger size must leave before the font grows back


class CaptionLabel(QElidingLabel):
    """A one-line caption that shrinks its font, down to ``SMALLEST`` of ``point_size``, until the
    whole text fits, and only then elides: its end is the objective's value, the number the room
    must read (at 1024x768 in presentation mode, "log p(D) = -..." lost it).  A long caption
    never widens the window."""

    def __init__(self, point_size, padding=(6, 14)):
        super().__init__()
        self.setObjectName("caption")
        self.bar = CaptionBar(self)  # what a layout holds
        self._padding = padding
        self.setEllipsesWidth(2 * padding[1] + 4)
        self.setStyleSheet(f"QLabel#caption {{ background: white; color: #1a1a1a;"
                           f" padding: {padding[0]}px {padding[1]}px; font-weight: 600; }}")
        self.set_point_size(point_size)

    def set_point_size(self, point_size):
        """The full size (presentation mode changes it); the text is fitted again."""
        self.point_size = float(point_size)
        self.ensurePolished()  # the style sheet's weight is in the fonts measured
        self._hold_height()
        self._fit(settled=False)

    def _hold_height(self):
        """As tall as the full size needs, whatever size the text is drawn at: a caption that
        shrinks must not move the canvas (a new viewport, a new frame) as the text changes."""
        font = QFont(self.font())
        font.setPointSizeF(self.point_size)
        self.bar.setFixedHeight(int(QFontMetricsF(font).height()) + 2 * self._padding[0] + 2)

    def setText(self, text):  # noqa: N802 - Qt's name
        self.setToolTip(text)
        super().setText(text)
        self._fit()

    def resizeEvent(self, event):  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit(settled=False)

    def _fit(self, settled=True):
        """``settled``: only the text changed (a new half-step): a larger size must leave room."""
        room = self.width() - 2 * self._padding[1] - 4
        # only the headline ("M-step 3 — J = 12.3") is fitted; what follows " · " (the components
        # that collapsed, said at M-steps only) may be elided: fitting it too made the text
        # jump between two sizes at every half-step while playing
        headline = self.text().split(HEADLINE_END)[0]
        font = QFont(self.font())
        size = self.point_size
        font.setPointSizeF(size)
        smallest = SMALLEST * self.point_size
        while size > smallest and QFontMetricsF(font).horizontalAdvance(headline) > room:
            size = max(size - 1.0, smallest)
            font.setPointSizeF(size)
        if settled and size > self.font().pointSizeF() and \
                QFontMetricsF(font).horizontalAdvance(headline) > (1.0 - REGROW_SPARE) * room:
            return  # a size up only with room to spare: no flicker between two lengths of number
        if font.pointSizeF() != self.font().pointSizeF():
            self.setFont(font)
            super().setText(self.text())  # elided again in the new font


class CaptionBar(QWidget):
    """The caption's room in a layout; the label in it is fixed at exactly the bar's size. A widget
    whose size is not fixed tells its parent's layout at every new text (QLabel.setText calls
    updateGeometry), and the whole window was laid out again at every half-step while playing."""

    def __init__(self, label):
        super().__init__()
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        label.setParent(self)
        self._label = label

    def resizeEvent(self, event):  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._label.setFixedSize(self.size())
