"""The control panel: data, centres, algorithm and display settings, bound to the session."""

import math

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout,
                               QGroupBox, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QRadioButton, QScrollArea, QSlider, QSpinBox, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from engine.registry import ALGORITHMS
from engine.presets import PRESETS
from engine.sampling import Mixture
from engine.settings import COVARIANCE_TYPES, N_CLUSTERS, SAMPLE_N, SEED, AlgorithmSettings

PRESET_LABELS = {"blobs": "Well-separated blobs", "unequal": "Unequal sizes and widths",
                 "anisotropic": "Anisotropic (stretched)", "local-optimum": "k-means local optimum",
                 "old-faithful": "Old Faithful (standardised)"}
BETA_MIN_LOG, BETA_MAX_LOG, BETA_STEPS = -3.0, 3.0, 600
TOL_EXPONENTS = range(2, 13)  # the tolerance box offers 1e-2 .. 1e-12


def beta_from_slider(value):
    return 10 ** (BETA_MIN_LOG + (BETA_MAX_LOG - BETA_MIN_LOG) * value / BETA_STEPS)


def slider_from_beta(beta):
    return int(round((math.log10(beta) - BETA_MIN_LOG) / (BETA_MAX_LOG - BETA_MIN_LOG) * BETA_STEPS))


def _combo(items, tip):
    """A combo box of (data -> label) items."""
    box = QComboBox()
    for data, label in items.items():
        box.addItem(label, data)
    box.setToolTip(tip)
    return box


def _button(text, tip, slot):
    b = QPushButton(text)
    b.setToolTip(tip)
    b.clicked.connect(slot)
    return b


class MixtureTable(QTableWidget):
    """The sampling mixture by numbers: weight, mean, the two standard deviations and the angle."""

    COLUMNS = ("π", "μx", "μy", "σ major", "σ minor", "angle°")

    def __init__(self, session):
        super().__init__(0, len(self.COLUMNS))
        self.session = session
        self.setHorizontalHeaderLabels(self.COLUMNS)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setDefaultSectionSize(22)
        self.setMinimumHeight(120)
        self.setToolTip("The true components to sample from. Edit numbers here, or show the "
                        "true mixture and drag its mean (square) and axis (circle) handles.")
        self.cellChanged.connect(self._on_cell_changed)
        session.sigMixtureChanged.connect(self.refresh)
        self.refresh()

    @staticmethod
    def rows_from(mixture):
        rows = []
        for k in range(mixture.n_components):
            vals, vecs = np.linalg.eigh(mixture.covariances[k])
            angle = math.degrees(math.atan2(vecs[1, 1], vecs[0, 1])) % 180.0
            rows.append([mixture.weights[k], *mixture.means[k], math.sqrt(vals[1]),
                         math.sqrt(vals[0]), angle])
        return rows

    @staticmethod
    def mixture_from(rows):
        rows = np.asarray(rows, dtype=float)
        w = np.abs(rows[:, 0])
        covs = []
        for _, _, _, s1, s2, angle in rows:
            t = math.radians(angle)
            R = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
            covs.append(R @ np.diag([s1 * s1, s2 * s2]) @ R.T)
        return Mixture(w / w.sum(), rows[:, 1:3], np.array(covs))

    def refresh(self):
        self.blockSignals(True)
        rows = self.rows_from(self.session.mixture)
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.setItem(r, c, QTableWidgetItem(f"{value:.3g}"))
        self.blockSignals(False)

    def current_rows(self):
        return [[float(self.item(r, c).text()) for c in range(self.columnCount())]
                for r in range(self.rowCount())]

    def _on_cell_changed(self, *_):
        try:
            self.session.set_mixture(self.mixture_from(self.current_rows()))
        except (ValueError, AttributeError) as exc:
            self.session.sigMessage.emit(f"Mixture not changed: {exc}")
            self.refresh()

    def add_component(self):
        rows = self.rows_from(self.session.mixture) + [[0.2, 0.0, 0.0, 1.0, 1.0, 0.0]]
        self.session.set_mixture(self.mixture_from(rows))

    def remove_component(self):
        rows = self.rows_from(self.session.mixture)
        if len(rows) > 1:
            self.session.set_mixture(self.mixture_from(rows[:-1]))


class ControlPanel(QScrollArea):
    def __init__(self, session, actions, parent=None):
        super().__init__(parent)
        self.session = session
        self.setWidgetResizable(True)
        self.setMinimumWidth(380)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self._tool_group(actions))
        layout.addWidget(self._data_group(actions))
        layout.addWidget(self._centres_group())
        layout.addWidget(self._algorithm_group())
        layout.addWidget(self._display_group(actions))
        layout.addStretch(1)
        self.setWidget(body)
        session.sigSettingsChanged.connect(self._on_session_settings)
        session.sigCentresChanged.connect(self._on_session_settings)
        session.sigPointsChanged.connect(self._on_session_settings)
        session.sigMixtureChanged.connect(self._on_session_mixture)
        self._on_session_settings()
        self._on_session_mixture()

    # -- groups ---------------------------------------------------------------
    def _tool_group(self, actions):
        box = QGroupBox("Tool")
        row = QHBoxLayout(box)
        self.tool_buttons = QButtonGroup(box)
        for action in (actions["tool_points"], actions["tool_centres"]):
            b = QRadioButton(action.text().replace("&", ""))
            b.setToolTip(action.toolTip())
            b.setChecked(action.isChecked())
            b.toggled.connect(lambda on, a=action: on and a.trigger())
            action.toggled.connect(b.setChecked)
            self.tool_buttons.addButton(b)
            row.addWidget(b)
        return box

    def _data_group(self, actions):
        s = self.session
        box = QGroupBox("Data")
        form = QFormLayout(box)
        self.preset = _combo(PRESET_LABELS, "Teaching scenarios: sample the points and place the "
                             "centres in one click")
        load = _button("Load", "Load this preset: its points, K and initial centres",
                       lambda: s.load_preset(self.preset.currentData()))
        row = QHBoxLayout()
        row.addWidget(self.preset, 1)
        row.addWidget(load)
        form.addRow("Preset", row)
        self.sample_n = QSpinBox()
        self.sample_n.setRange(SAMPLE_N.low, SAMPLE_N.high)
        self.sample_n.setSingleStep(100)
        self.sample_n.setValue(s.sample_n)
        self.sample_n.setToolTip("How many points to draw from the mixture")
        self.sample_n.valueChanged.connect(s.set_sample_n)
        form.addRow("N", self.sample_n)
        self.mixture_table = MixtureTable(s)
        form.addRow(self.mixture_table)
        row = QHBoxLayout()
        row.addWidget(_button("+ component", "Add a component to the sampling mixture",
                              self.mixture_table.add_component))
        row.addWidget(_button("− component", "Remove the last component",
                              self.mixture_table.remove_component))
        form.addRow(row)
        row = QHBoxLayout()
        row.addWidget(_button("Sample", "Replace the points by N points drawn from the mixture "
                              "(seed below)", lambda: s.sample(append=False)))
        row.addWidget(_button("Append", "Add N more points drawn from the mixture",
                              lambda: s.sample(append=True)))
        row.addWidget(_button("Clear", "Remove every point (undoable)", s.clear_points))
        form.addRow(row)
        return box

    def _centres_group(self):
        s = self.session
        box = QGroupBox("Initial centres")
        form = QFormLayout(box)
        self.k_spin = QSpinBox()
        self.k_spin.setRange(N_CLUSTERS.low, N_CLUSTERS.high)
        self.k_spin.setToolTip("K for the initialisation buttons (placing centres by hand sets K "
                               "to the number placed)")
        self.k_spin.valueChanged.connect(s.set_n_clusters)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(SEED.low, SEED.high)
        self.seed_spin.setToolTip("Seed for sampling and for the random initialisations: "
                                  "the same seed gives the same points and centres")
        self.seed_spin.valueChanged.connect(s.set_seed)
        row = QHBoxLayout()
        row.addWidget(self.k_spin)
        row.addWidget(QLabel("seed"))
        row.addWidget(self.seed_spin)
        form.addRow("K", row)
        row = QHBoxLayout()
        for method, label, tip in (("forgy", "Forgy", "K data points chosen at random"),
                                   ("random", "Random", "K points uniform in the data's bounding box"),
                                   ("kmeans++", "k-means++", "Spread-out centres: each next one drawn "
                                    "with probability ∝ squared distance")):
            row.addWidget(_button(label, tip, lambda _=False, m=method: s.initialise(m)))
        form.addRow(row)
        self.centre_count = QLabel()
        form.addRow(self.centre_count, _button("Clear centres", "Remove every centre (undoable)",
                                               s.clear_centres))
        return box

    def _algorithm_group(self):
        s = self.session
        box = QGroupBox("Algorithm")
        form = QFormLayout(box)
        self.algorithm = _combo({name: cls.description.display_name for name, cls in ALGORITHMS.items()},
                                "Changing a setting restarts the run from its "
                                "initial state")
        self.algorithm.currentIndexChanged.connect(
            lambda _: s.set_algorithm(self.algorithm.currentData()))
        form.addRow("Algorithm", self.algorithm)
        self.beta = QSlider(Qt.Orientation.Horizontal)
        self.beta.setRange(0, BETA_STEPS)
        self.beta.setToolTip("Stiffness β of soft k-means (log scale 0.001–1000): large β is "
                             "hard k-means, small β blurs everything into one blob")
        self.beta_label = QLabel()
        self.beta_label.setMinimumWidth(48)
        self.beta.valueChanged.connect(self._on_beta_slider)
        row = QHBoxLayout()
        row.addWidget(self.beta, 1)
        row.addWidget(self.beta_label)
        self.beta_row = QWidget()
        self.beta_row.setLayout(row)
        row.setContentsMargins(0, 0, 0, 0)
        form.addRow("β", self.beta_row)
        self.covariance = QComboBox()
        self.covariance.addItems(COVARIANCE_TYPES)
        self.covariance.setToolTip("identity: Σ_k = I as in the lecture; spherical σ_k² I; diag; "
                                   "full; tied: one Σ shared by all components")
        self.covariance.currentTextChanged.connect(lambda t: s.set_setting("covariance_type", t))
        form.addRow("Covariance", self.covariance)
        self.reg_covar = QDoubleSpinBox()
        self.reg_covar.setDecimals(8)
        self.reg_covar.setRange(0.0, 10.0)  # the file may hold more; the box offers a sensible range
        self.reg_covar.setSingleStep(1e-4)
        self.reg_covar.setToolTip("Added to every covariance diagonal: keeps a component from "
                                  "collapsing onto a single point")
        self.reg_covar.valueChanged.connect(lambda v: s.set_setting("reg_covar", v))
        form.addRow("reg_covar", self.reg_covar)
        self.learn_weights = QCheckBox("learn mixing weights π_k")
        self.learn_weights.setToolTip("Off: keep π_k = 1/K")
        self.learn_weights.toggled.connect(lambda on: s.set_setting("learn_weights", on))
        form.addRow(self.learn_weights)
        self.max_iter = QSpinBox()
        limit = AlgorithmSettings.limit("max_iter")
        self.max_iter.setRange(limit.low, limit.high)
        self.max_iter.setToolTip("Stop after this many iterations")
        self.max_iter.valueChanged.connect(lambda v: s.set_setting("max_iter", v))
        form.addRow("Max iterations", self.max_iter)
        self.tol = QComboBox()
        for exp in TOL_EXPONENTS:
            self.tol.addItem(f"1e-{exp}", 10.0 ** -exp)
        self.tol.setToolTip("Soft k-means and EM: converged when the objective changes by less "
                            "than this (relative) over an iteration. k-means: when no label changes.")
        self.tol.currentIndexChanged.connect(lambda _: s.set_setting("tol", self.tol.currentData()))
        form.addRow("Tolerance", self.tol)
        # the row of each setting: shown for the algorithms that take it
        self._setting_rows = {"beta": self.beta_row, "covariance_type": self.covariance,
                              "reg_covar": self.reg_covar, "learn_weights": self.learn_weights,
                              "max_iter": self.max_iter, "tol": self.tol}
        self._form = form
        return box

    def _display_group(self, actions):
        box = QGroupBox("Display")
        col = QVBoxLayout(box)
        for key in ("show_field", "show_lines", "show_trails", "show_ellipses", "show_true_mixture",
                    "presentation"):
            action = actions[key]
            b = QCheckBox(action.text().replace("&", ""))
            b.setToolTip(action.toolTip())
            b.setChecked(action.isChecked())
            b.toggled.connect(action.setChecked)
            action.toggled.connect(b.setChecked)
            col.addWidget(b)
        return box

    # -- session -> widgets ----------------------------------------------------
    def _on_session_mixture(self):
        current = self.session.mixture
        for name, (_, mixture, _, _) in PRESETS.items():
            if mixture == current:
                self.preset.setCurrentIndex(self.preset.findData(name))

    def _on_beta_slider(self, value):
        beta = beta_from_slider(value)
        self.beta_label.setText(f"{beta:.3g}")
        self.session.set_setting("beta", float(f"{beta:.3g}"))

    def _on_session_settings(self):
        s = self.session
        settings = s.settings
        widgets = (self.algorithm, self.beta, self.covariance, self.reg_covar, self.learn_weights,
                   self.max_iter, self.tol, self.k_spin, self.seed_spin, self.sample_n)
        for w in widgets:
            w.blockSignals(True)
        try:
            self.algorithm.setCurrentIndex(self.algorithm.findData(s.algorithm))
            self.beta.setValue(slider_from_beta(min(max(settings.beta, 10 ** BETA_MIN_LOG), 10 ** BETA_MAX_LOG)))
            self.beta_label.setText(f"{settings.beta:.3g}")
            self.covariance.setCurrentText(settings.covariance_type)
            self.reg_covar.setValue(settings.reg_covar)
            self.learn_weights.setChecked(settings.learn_weights)
            self.max_iter.setValue(settings.max_iter)
            i = self.tol.findData(settings.tol)
            if i < 0:  # a value from a file that the list lacks: offer it, never show another
                self.tol.addItem(f"{settings.tol:g}", settings.tol)
                i = self.tol.count() - 1
            self.tol.setCurrentIndex(i)
            self.k_spin.setValue(s.n_clusters)
            self.seed_spin.setValue(s.seed)
            self.sample_n.setValue(s.sample_n)
        finally:
            for w in widgets:
                w.blockSignals(False)
        takes = ALGORITHMS[s.algorithm].setting_names
        for name, row in self._setting_rows.items():
            self._form.setRowVisible(row, name in takes)
        k = len(s.centres)
        text = f"{k} centre{'s' if k != 1 else ''} placed (K = {k})"
        if 0 < len(s.points) < s.n_clusters:
            text += f" — K = {s.n_clusters} asked, but there are only {len(s.points)} points"
        self.centre_count.setText(text)
