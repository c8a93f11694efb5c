"""Run → How many clusters?…: the best of R restarts for each K, as the lecture's "How to choose K?".

For each K in a range, one call on the engine worker (``engine.restarts.best_of_k``), the
next sent when the answer comes: the curve grows K by K and Cancel (or Escape, closing the
dialog, an edit of the points) stops it, mid-K too.  The plot shows the algorithm's primary
objective against K (k-means' J: the elbow; soft k-means' F; EM's log p(D), with the
held-out log-likelihood when asked for) and, for a likelihood model, BIC and AIC with the
best K by BIC marked.  Clicking a K (on the plot or in the table) makes that K and the
start of its best restart the main run.
"""

import dataclasses
import threading

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.captions import format_value
from engine.initialisation import INIT_METHODS
from engine.registry import describe
from engine.restarts import (
    DEFAULT_HELD_OUT,
    DEFAULT_K_RANGE,
    DEFAULT_N_RESTARTS,
    HELD_OUT,
    N_RESTARTS,
    best_of_k,
    choose_k_data,
    has_likelihood,
)
from engine.settings import N_CLUSTERS, SEED

from .restarts_view import (
    START_TEXT,
    StopsOnClose,
    adopt_start,
    fit_dialog,
    labelled_row,
    results_axes,
    style_results_plot,
    worker_dataset,
)
from .view_export import save_png_button

CURVE_HEX = "#333333"  # the objective: neutral, never a cluster's colour
HELD_OUT_HEX = "#1F3FFF"
BIC_HEX, AIC_HEX = "#E0002A", "#7A7A7A"


def choose_k_job(cache, points, scenario, k, n_restarts, seed, held_out, cancel):
    """On the worker: ``best_of_k`` for one K (None when ``cancel`` was set meanwhile).  The
    points' Dataset and their held-out split are kept in ``cache`` while they stay."""
    data = worker_dataset(cache, points)
    if cache.get("split_key") != (held_out, seed):
        cache["split"] = choose_k_data(dataclasses.replace(scenario, points=data), held_out, seed)
        cache["split_key"] = (held_out, seed)
    fit, test = cache["split"]
    return best_of_k(dataclasses.replace(scenario, points=fit), fit, k, n_restarts, seed, test, cancel)


def _plot(left_label):
    plot = pg.PlotWidget(axisItems=results_axes())
    style_results_plot(plot)
    plot.setLabel("bottom", "K")
    plot.setLabel("left", left_label)
    plot.addLegend(offset=(-10, 10), labelTextColor="#222222", brush=pg.mkBrush(255, 255, 255, 220),
                   pen=pg.mkPen("#BBBBBB"))
    return plot


def _series(plot, colour, name, symbol="o"):
    return plot.plot([], [], pen=pg.mkPen(colour, width=2), symbol=symbol, symbolSize=9,
                     symbolBrush=pg.mkBrush(colour), symbolPen=pg.mkPen("w"), name=name)


class ChooseKDialog(StopsOnClose, QDialog):
    """Run → How many clusters?…: non-modal; it reads the session's points, algorithm and settings."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setModal(False)
        self._cache = {}  # the worker's Datasets (touched on the worker only)
        self._call = None  # generation of the K on the worker
        self._cancel = None  # its threading.Event
        self._job = None
        self.results = []  # KResult, K ascending
        self._build()
        session.client.sigCalled.connect(self._on_client_called)
        session.sigPointsChanged.connect(self._on_session_points)
        session.sigSettingsChanged.connect(self._on_session_settings)
        self._on_session_settings()

    # -- layout ----------------------------------------------------------------------
    def _spin(self, limit, value, tip):
        box = QSpinBox()
        box.setRange(limit.low, limit.high)
        box.setValue(value)
        box.setToolTip(tip)
        return box

    def _build(self):
        self.k_low = self._spin(N_CLUSTERS, DEFAULT_K_RANGE[0], "The smallest K tried")
        self.k_high = self._spin(N_CLUSTERS, DEFAULT_K_RANGE[1], "The largest K tried")
        self.count = self._spin(N_RESTARTS, DEFAULT_N_RESTARTS,
                                f"Restarts for each K, the best kept ({N_RESTARTS.describe()})")
        self.seed = self._spin(SEED, self.session.seed, "Restart i of every K uses seed S + i")
        self.starts = QComboBox()
        for key in INIT_METHODS:
            self.starts.addItem(START_TEXT[key], key)
        self.starts.setCurrentIndex(self.starts.findData(self.session.init_method))
        self.held_out = QCheckBox("Held-out log-likelihood on")
        self.held_out.setToolTip("Fit on the other points (a split seeded by S) and report log p of the held-out ones")
        self.held_fraction = QDoubleSpinBox()
        self.held_fraction.setDecimals(2)
        self.held_fraction.setSingleStep(0.05)
        self.held_fraction.setRange(0.05, HELD_OUT.high)
        self.held_fraction.setValue(DEFAULT_HELD_OUT)
        self.held_fraction.setSuffix(" of the points")
        self.run_button = QPushButton("Run")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        row = labelled_row((("K from", self.k_low), ("to", self.k_high), ("Restarts per K", self.count)),
                           (self.run_button, self.cancel_button))
        row2 = labelled_row((("Starts", self.starts), ("First seed", self.seed)))
        self.held_box = QWidget()
        held = QHBoxLayout(self.held_box)
        held.setContentsMargins(12, 0, 0, 0)
        held.addWidget(self.held_out)
        held.addWidget(self.held_fraction)
        row2.addWidget(self.held_box)
        row2.addStretch(1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        font = QFont(self.status.font())
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.status.setFont(font)

        self.objective_plot = _plot("")
        self.objective_curve = _series(self.objective_plot, CURVE_HEX, "best of R")
        self.held_view = pg.ViewBox()  # the held-out log-likelihood on its own right axis
        self.objective_plot.plotItem.showAxis("right")
        self.objective_plot.plotItem.scene().addItem(self.held_view)
        self.objective_plot.plotItem.getAxis("right").linkToView(self.held_view)
        self.held_view.setXLink(self.objective_plot.plotItem)
        self.objective_plot.plotItem.getAxis("right").setLabel("held-out log p", color=HELD_OUT_HEX)
        self.held_curve = pg.PlotDataItem([], [], pen=pg.mkPen(HELD_OUT_HEX, width=2, style=Qt.PenStyle.DashLine),
                                          symbol="s", symbolSize=8, symbolBrush=pg.mkBrush(HELD_OUT_HEX),
                                          symbolPen=pg.mkPen("w"))
        self.held_view.addItem(self.held_curve)
        self.objective_plot.plotItem.vb.sigResized.connect(self._sync_held_view)
        self.criteria_plot = _plot("criterion (lower is better)")
        self.bic_curve = _series(self.criteria_plot, BIC_HEX, "BIC")
        self.aic_curve = _series(self.criteria_plot, AIC_HEX, "AIC", symbol="t")
        self.best_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(BIC_HEX, width=1.5, style=Qt.PenStyle.DashLine),
                                         label="best K by BIC: {value:.0f}",
                                         labelOpts={"position": 0.9, "color": BIC_HEX, "fill": (255, 255, 255, 200)})
        self.best_line.hide()
        self.criteria_plot.addItem(self.best_line)
        self.choice_lines = []
        for plot in (self.objective_plot, self.criteria_plot):
            line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#222222", width=1))
            line.hide()
            plot.addItem(line)
            self.choice_lines.append(line)
            plot.scene().sigMouseClicked.connect(lambda ev, p=plot: self._on_plot_clicked(p, ev))

        self.table = QTableWidget(0, 1)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Click a K to make it, and the start of its best restart, the main run")
        self.table.cellClicked.connect(lambda row, _col: self.adopt_row(row))

        plots = QWidget()
        col = QVBoxLayout(plots)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.objective_plot, 1)
        col.addWidget(self.criteria_plot, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(plots)
        split.addWidget(self.table)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([360, 150])
        split.setChildrenCollapsible(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save_png = save_png_button(self, split, "how-many-clusters.png")
        buttons.addButton(self.save_png, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.clicked.connect(self.close)
        close.setAutoDefault(False)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(row2)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        layout.addWidget(buttons)
        fit_dialog(self, self.sizeHint())

    def sizeHint(self):
        return QSize(800, 640)

    def _sync_held_view(self):
        self.held_view.setGeometry(self.objective_plot.plotItem.vb.sceneBoundingRect())
        self.held_view.linkedViewChanged(self.objective_plot.plotItem.vb, self.held_view.XAxis)

    # -- the session ---------------------------------------------------------------------
    @property
    def likelihood(self):
        return has_likelihood(self.session.algorithm)

    def _on_session_settings(self):
        d = self.session.description
        self.setWindowTitle(f"How many clusters? — {d.display_name}")
        self.held_box.setVisible(self.likelihood)
        if self._job is None and not self.results:
            self._layout_for(d)
            what = (f"{d.primary.symbol}(K), BIC and AIC" if self.likelihood
                    else f"{d.primary.symbol}(K): look for the elbow")
            self._say(f"For each K, the best of R restarts of {d.display_name}: {what}.")

    def _layout_for(self, description):
        """Axes and rows for the algorithm the results are for."""
        primary = description.primary
        self.objective_plot.setLabel("left", primary.name)
        legend = self.objective_plot.plotItem.legend
        # out of the curve's way: it falls with K when minimised (top right is free), else rises
        corner = (1, 0) if primary.direction < 0 else (1, 1)
        legend.anchor(itemPos=corner, parentPos=corner, offset=(-10, 10 if primary.direction < 0 else -10))
        legend.removeItem(self.objective_curve)
        legend.addItem(self.objective_curve, f"{primary.symbol}, best of R restarts")
        if self._held_out_shown():
            legend.removeItem(self.held_curve)
            legend.addItem(self.held_curve, "held-out log p (right axis)")
        else:
            legend.removeItem(self.held_curve)
        self.criteria_plot.setVisible(self.likelihood)
        self.objective_plot.plotItem.getAxis("right").setVisible(self._held_out_shown())
        headers = ["K", f"{primary.symbol} (best of R)"]
        if self.likelihood:
            headers += ["BIC", "AIC"] + (["held-out log p"] if self._held_out_shown() else [])
        headers.append("distinct optima")
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)

    def _held_out_shown(self):
        if self._job is not None:
            return self._job["held_out"] is not None
        return any(r.held_out_log_likelihood is not None for r in self.results)

    def _on_session_points(self):
        if self._job is not None or self.results:
            self._stop("The points changed: these results were for the old points. Run again.")
            self._clear()

    def scenario(self):
        s = self.session
        return dataclasses.replace(s.scenario(), centres=None, init=self.starts.currentData())

    # -- running ---------------------------------------------------------------------------
    def start(self):
        s = self.session
        low, high = self.k_low.value(), self.k_high.value()
        n = len(s.points)
        held_out = self.held_fraction.value() if self.likelihood and self.held_out.isChecked() else None
        fit_n = n - max(1, round(held_out * n)) if held_out else n
        problem = None
        if not n:
            problem = "Add or sample some points first."
        elif low > high:
            problem = "The range of K is empty: the first K is above the last."
        elif high > fit_n:
            problem = f"K = {high} needs at least {high} points to fit; there are {fit_n}."
        elif self.seed.value() + self.count.value() - 1 > SEED.high:
            problem = f"The seeds S … S + R − 1 must stay {SEED.describe()}."
        if problem:
            self._say(problem)
            return
        self.cancel()
        self._clear()
        self._job = {"scenario": self.scenario(), "points": s.points, "ks": list(range(low, high + 1)),
                     "n": self.count.value(), "seed": self.seed.value(), "held_out": held_out,
                     "description": s.description}
        self._layout_for(s.description)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self._send()

    def _send(self):
        job = self._job
        k = job["ks"][len(self.results)]
        self._cancel = threading.Event()
        self._call = self.session.client.call(choose_k_job, self._cache, job["points"], job["scenario"], k,
                                              job["n"], job["seed"], job["held_out"], self._cancel)
        self._say(f"K = {k}: {job['n']} restarts… ({len(self.results)} of {len(job['ks'])} done)")

    def _on_client_called(self, generation, result, error):
        if self._call is None or generation != self._call:
            return
        self._call = self._cancel = None
        if error is not None:
            self._stop(f"Stopped: {error}")
            return
        if result is None:  # cancelled on the worker
            return
        self.results.append(result)
        self._show()
        if len(self.results) < len(self._job["ks"]):
            self._send()
        else:
            self._job = None
            self.run_button.setEnabled(True)
            self.cancel_button.setEnabled(False)
            self._say_summary()

    def cancel(self):
        """Stop: the K on the worker stops after its current restart, and no further K is sent."""
        if self._job is None:
            return
        self._stop(f"Cancelled after {len(self.results)} of {len(self._job['ks'])} values of K.")

    def _stop(self, text):
        if self._cancel is not None:
            self._cancel.set()
        self._call = self._cancel = None
        self._job = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self._say(text)

    def _clear(self):
        self.results = []
        self.table.setRowCount(0)
        for curve in (self.objective_curve, self.held_curve, self.bic_curve, self.aic_curve):
            curve.setData([], [])
        self.best_line.hide()
        for line in self.choice_lines:
            line.hide()

    @property
    def running(self):
        return self._job is not None

    # -- showing ---------------------------------------------------------------------------
    def _say(self, text):
        self.status.setText(text)

    def best_k_by_bic(self):
        scored = [r for r in self.results if r.bic is not None]
        return min(scored, key=lambda r: (r.bic, r.k)).k if scored else None

    def _show(self):
        results = [r for r in self.results if r.best is not None]
        ks = np.array([r.k for r in results], dtype=float)
        self.objective_curve.setData(ks, [r.best.objective for r in results])
        held = [r for r in results if r.held_out_log_likelihood is not None]
        self.held_curve.setData([r.k for r in held], [r.held_out_log_likelihood for r in held])
        if held:
            self.held_view.enableAutoRange()
        scored = [r for r in results if r.bic is not None]
        self.bic_curve.setData([r.k for r in scored], [r.bic for r in scored])
        self.aic_curve.setData([r.k for r in scored], [r.aic for r in scored])
        best = self.best_k_by_bic()
        if best is not None:
            self.best_line.setPos(best)
            self.best_line.show()
        self._fill_table()

    def _fill_table(self):
        likelihood = self.table.columnCount() > 3
        held = self._held_out_shown()
        best = self.best_k_by_bic()
        self.table.setRowCount(len(self.results))
        for row, r in enumerate(self.results):
            cells = [str(r.k), format_value(None if r.best is None else r.best.objective)]
            if likelihood:
                cells += [format_value(r.bic), format_value(r.aic)]
                if held:
                    cells.append(format_value(r.held_out_log_likelihood))
            cells.append(str(len(r.restarts.optima)))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if r.k == best:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, column, item)

    def _say_summary(self):
        if not self.results:
            return
        text = (f"Done: K = {self.results[0].k} … {self.results[-1].k}, the best of "
                f"{len(self.results[0].restarts.restarts)} restarts each.")
        best = self.best_k_by_bic()
        if best is not None:
            text += f" The lowest BIC is at K = {best}."
        else:
            text += " The best objective improves with K: look for the elbow, where more K stops paying much."
        self._say(text + " Click a K to make it the main run.")

    # -- choosing ----------------------------------------------------------------------------
    def _on_plot_clicked(self, plot, ev):
        if ev.button() != Qt.MouseButton.LeftButton or not self.results:
            return
        x = plot.plotItem.vb.mapSceneToView(ev.scenePos()).x()
        row = min(range(len(self.results)), key=lambda i: abs(self.results[i].k - x))
        self.adopt_row(row)

    def adopt_row(self, row):
        if not 0 <= row < len(self.results):
            return
        r = self.results[row]
        if r.best is None:
            self._say(f"No restart with K = {r.k} ended with a finite objective.")
            return
        s = self.session
        s.set_n_clusters(r.k)
        symbol = describe(r.restarts.algorithm).primary.symbol
        adopt_start(s, r.best.initial_centres, f"K = {r.k}: start of its best restart")
        for line in self.choice_lines:
            line.setPos(r.k)
            line.show()
        self.table.selectRow(row)
        where = "on the points it was fitted to" if r.held_out_log_likelihood is not None else "at its end"
        self._say(f"The main run now has K = {r.k} and starts where its best restart (seed {r.best.seed}) did, "
                  f"which reached {symbol} = {format_value(r.best.objective)} {where}.")

