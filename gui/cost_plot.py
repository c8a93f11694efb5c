"""The objective per half-step, linked to the timeline.

k-means: J after each assignment step (blue) and refitting step (red), as in
the lecture.  Soft k-means: free energy F (and the weighted J).  EM: the
log-likelihood and the lower bound.  A line marks the current half-step;
clicking the plot jumps there.
"""

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

BLUE, RED, PURPLE, GREY = "#0072B2", "#D55E00", "#7B3294", "#888888"


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
        self.path = p.plot([], [], pen=pg.mkPen(GREY, width=1.5))
        self.series = {}
        self._shown = None
        for key, colour, symbol, name in (
                ("assign", BLUE, "o", "J after assignment"),
                ("refit", RED, "o", "J after refit"),
                ("free_energy", PURPLE, "o", "free energy F"),
                ("weighted_j", GREY, "t", "weighted J"),
                ("log_likelihood", BLUE, "o", "log-likelihood"),
                ("lower_bound", RED, "t", "lower bound")):
            item = pg.PlotDataItem([], [], pen=None, symbol=symbol, symbolSize=8,
                                   symbolBrush=pg.mkBrush(colour), symbolPen=pg.mkPen("w", width=0.8),
                                   name=name)
            self.series[key] = item
            p.addItem(item)
        self.bound_path = p.plot([], [], pen=pg.mkPen(RED, width=1.2, style=Qt.PenStyle.DashLine))
        self.marker = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#222", width=2))
        p.addItem(self.marker)
        self.scene().sigMouseClicked.connect(self._on_scene_clicked)
        session.sigHistoryChanged.connect(self._on_session_history)
        session.sigStepChanged.connect(self._on_session_step)
        session.sigSettingsChanged.connect(self._on_session_history)

    def points(self):
        """(x, y) of every plotted objective point, per visible series (for tests)."""
        return {k: item.getData() for k, item in self.series.items() if item.isVisible()}

    def _on_session_history(self, *_):
        hist = self.session.history
        x = np.arange(len(hist))
        alg = self.session.algorithm

        def values(attr):
            return np.array([np.nan if getattr(s, attr) is None else getattr(s, attr) for s in hist])

        show = {"kmeans": ("assign", "refit"), "soft-kmeans": ("free_energy", "weighted_j"),
                "em": ("log_likelihood", "lower_bound")}[alg]
        if show != self._shown:  # rebuilding the legend every frame costs the UI thread
            self._shown = show
            for key, item in self.series.items():
                item.setVisible(key in show)
            self.legend.clear()
            for key in show:
                self.legend.addItem(self.series[key], self.series[key].name())
            # the legend sits in the corner the curve leaves empty: J and F fall, log p(D) rises
            corner = (1, 1) if alg == "em" else (1, 0)
            self.legend.anchor(corner, corner, offset=(-10, -10 if alg == "em" else 10))
        self.bound_path.setData([], [])
        if alg == "kmeans":
            j = values("cost")
            phases = np.array([s.phase for s in hist])
            for key in ("assign", "refit"):
                mask = (phases == key) & ~np.isnan(j)
                self.series[key].setData(x[mask], j[mask])
            self.path.setData(x[~np.isnan(j)], j[~np.isnan(j)])
            self.plotItem.setLabel("left", "J")
        elif alg == "soft-kmeans":
            f, j = values("free_energy"), values("cost")
            ok = ~np.isnan(f)
            self.series["free_energy"].setData(x[ok], f[ok])
            self.series["weighted_j"].setData(x[ok], j[ok])
            self.path.setData(x[ok], f[ok])
            self.plotItem.setLabel("left", "F = J + (1/β) Σ r log r")
        else:
            ll, lb = values("log_likelihood"), values("lower_bound")
            self.series["log_likelihood"].setData(x[~np.isnan(ll)], ll[~np.isnan(ll)])
            self.series["lower_bound"].setData(x[~np.isnan(lb)], lb[~np.isnan(lb)])
            self.path.setData(x[~np.isnan(ll)], ll[~np.isnan(ll)])
            self.bound_path.setData(x[~np.isnan(lb)], lb[~np.isnan(lb)])
            self.plotItem.setLabel("left", "log p(D)")
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
