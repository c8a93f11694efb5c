"""The objective per half-step, linked to the timeline.

Drawn from the algorithm's description: one series per objective and phase,
coloured by phase (after the assignment / E-step, after the refit / M-step, as
in the lecture) and shaped by objective (the primary one round).  A line marks
the current half-step; clicking the plot jumps there.
"""

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from engine.description import INIT_PHASE

from .palette import PATH_HEX, REFIT_STEP_HEX, RESPONSIBILITY_STEP_HEX

SYMBOLS = ("o", "t", "s", "d")  # by objective: the primary one round


def _in_sentence(title):
    """"Assignment step" -> "assignment step"; "E-step" stays."""
    return title[0].lower() + title[1:] if title[1:2].islower() else title


class HalfStepAxis(pg.AxisItem):
    """Ticks on whole half-steps only."""

    def tickSpacing(self, minVal, maxVal, size):
        return [(max(spacing, 1.0), offset) for spacing, offset in super().tickSpacing(minVal, maxVal, size)]


class CostPlot(pg.PlotWidget):
    def __init__(self, session, parent=None):
        super().__init__(parent=parent, background="w",
                         axisItems={"bottom": HalfStepAxis(orientation="bottom")})
        self.session = session
        p = self.plotItem
        # no grid: pyqtgraph draws it with the axes, which would then repaint
        # whenever the marker moves
        p.setLabel("bottom", "half-step")
        p.hideButtons()
        p.setMenuEnabled(False)
        self.legend = p.addLegend(offset=(-10, 10), labelTextColor="#222", brush=(255, 255, 255, 210))
        self.paths = []  # one line per objective
        self.series = {}  # (objective field, phase) -> dots
        self._description = None
        self.marker = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#222", width=2))
        p.addItem(self.marker)
        self.scene().sigMouseClicked.connect(self._on_scene_clicked)
        session.sigHistoryChanged.connect(self._on_session_history)
        session.sigStepChanged.connect(self._on_session_step)
        session.sigSettingsChanged.connect(self._on_session_history)

    def points(self):
        """{(objective field, phase): (x, y)} of every plotted dot (for tests)."""
        empty = np.zeros(0)
        return {key: tuple(empty if a is None else a for a in item.getData())
                for key, item in self.series.items()}

    def _build(self, description):
        """Items for ``description``'s objectives; rebuilt only when the algorithm changes
        (rebuilding the legend every frame costs the UI thread)."""
        p = self.plotItem
        for item in self.paths + list(self.series.values()):
            p.removeItem(item)
        self.legend.clear()
        self.paths, self.series = [], {}
        # EM has log p(D) at the initialisation already: a grey dot, left out of the legend
        phases = ((INIT_PHASE, None, PATH_HEX),
                  (description.responsibility_phase, description.responsibility_title, RESPONSIBILITY_STEP_HEX),
                  (description.refit_phase, description.refit_title, REFIT_STEP_HEX))
        for i, objective in enumerate(description.objectives):
            style = Qt.PenStyle.SolidLine if i == 0 else Qt.PenStyle.DashLine
            self.paths.append(p.plot([], [], pen=pg.mkPen(PATH_HEX, width=1.5, style=style)))
            for phase, title, colour in phases:
                item = pg.PlotDataItem([], [], pen=None, symbol=SYMBOLS[i % len(SYMBOLS)], symbolSize=8,
                                       symbolBrush=pg.mkBrush(colour), symbolPen=pg.mkPen("w", width=0.8))
                p.addItem(item)
                if title is not None:
                    self.legend.addItem(item, f"{objective.symbol} after {_in_sentence(title)}")
                self.series[(objective.field, phase)] = item
        # the legend sits in the corner the curve leaves empty: a falling objective leaves the
        # top right, a rising one the bottom right
        rising = description.primary.direction > 0
        corner = (1, 1) if rising else (1, 0)
        self.legend.anchor(corner, corner, offset=(-10, -10 if rising else 10))
        p.setLabel("left", description.primary.name)
        self.setToolTip(f"{description.primary.formula} after every half-step; click a dot to jump there")
        self._description = description

    def _on_session_history(self, *_):
        description = self.session.description
        if description is not self._description:
            self._build(description)
        hist = self.session.history
        for objective, path in zip(description.objectives, self.paths, strict=True):
            path.setData(*description.objective_points(hist, objective))
            for phase in description.phases:
                self.series[(objective.field, phase)].setData(
                    *description.objective_points(hist, objective, phase))
        self._on_session_step(self.session.index)
        if len(hist):
            self.plotItem.setXRange(-0.5, max(len(hist) - 0.5, 4), padding=0.02)

    def _on_session_step(self, index):
        self.marker.setValue(index)

    def _on_scene_clicked(self, ev):
        if ev.button() != Qt.MouseButton.LeftButton or not self.session.history:
            return
        vb = self.plotItem.vb
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        x = vb.mapSceneToView(ev.scenePos()).x()
        index = int(np.clip(round(x), 0, len(self.session.history) - 1))
        self.session.goto(index)
        ev.accept()
