"""The control panel: data, centres, algorithm and display settings, bound to the session."""

import math

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout,
                               QFrame, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QRadioButton, QScrollArea, QSizePolicy, QSlider, QSpinBox,
                               QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)
from superqt import QCollapsible

from engine.projection import column_names
from engine.registry import ALGORITHMS
from engine.presets import PRESETS
from engine.sampling import Mixture
from engine.settings import COVARIANCE_TYPES, N_CLUSTERS, SAMPLE_N, SEED, AlgorithmSettings

from .actions import COLOUR_BY_ACTIONS
from .palette import CLUSTER_HEX

PRESET_LABELS = {"blobs": "Well-separated blobs", "unequal": "Unequal sizes and widths",
                 "anisotropic": "Anisotropic (stretched)", "local-optimum": "k-means local optimum",
                 "old-faithful": "Old Faithful (standardised)"}
BETA_MIN_LOG, BETA_MAX_LOG, BETA_STEPS = -3.0, 3.0, 600
PANEL_WIDTH = 300  # the panel's preferred width
PANEL_MIN_WIDTH = 200  # on a tiny screen it can be narrower, and scrolls sideways
TOL_EXPONENTS = range(2, 13)  # the tolerance box offers 1e-2 .. 1e-12
QWIDGETSIZE_MAX = (1 << 24) - 1


class Section(QCollapsible):
    """A collapsible section of the panel (click its title to fold it away).

    superqt caps an expanded section at the height its content had when it was
    expanded; rows that appear later (EM's settings) would be cut off, so an
    expanded section here has no cap.
    """

    def __init__(self, title, expanded=True):
        super().__init__(title)
        self.setObjectName(f"section_{title.split()[0].lower()}")
        self.setDuration(120)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.layout().setContentsMargins(2, 2, 2, 2)
        self.layout().setSpacing(0)
        self.content().layout().setContentsMargins(8, 0, 0, 0)
        bold = self.toggleButton().font()
        bold.setBold(True)
        self.toggleButton().setFont(bold)
        self.toggleButton().setToolTip(f"Show or hide the {title.lower()} settings")
        if expanded:
            self.expand(animate=False)

    def _expand_collapse(self, direction, animate=True, emit=True):
        super()._expand_collapse(direction, animate, emit)
        if self.isExpanded() and not self._is_animating:
            self.content().setMaximumHeight(QWIDGETSIZE_MAX)

    def _on_animation_done(self):
        super()._on_animation_done()
        if self.isExpanded():
            self.content().setMaximumHeight(QWIDGETSIZE_MAX)


def _section(title, layout_class, expanded=True):
    """(section, its content's layout)."""
    section = Section(title, expanded)
    body = QWidget()
    layout = layout_class(body)
    layout.setContentsMargins(0, 0, 0, 4)
    if isinstance(layout, QFormLayout):
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    section.addWidget(body)
    return section, layout


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

    COLUMNS = ("π", "μx", "μy", "σ₁", "σ₂", "θ°")
    COLUMN_TIPS = ("mixing weight π_k", "mean, x", "mean, y", "standard deviation along the major axis",
                   "standard deviation along the minor axis", "angle of the major axis, in degrees")
    MAX_VISIBLE_ROWS = 6

    def __init__(self, session):
        super().__init__(0, len(self.COLUMNS))
        self.session = session
        self.setHorizontalHeaderLabels(self.COLUMNS)
        for c, tip in enumerate(self.COLUMN_TIPS):
            self.horizontalHeaderItem(c).setToolTip(tip)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(20)
        header.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.verticalHeader().setDefaultSectionSize(22)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(0)
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
        self._fit_height()

    def _fit_height(self):
        """As tall as its rows (up to MAX_VISIBLE_ROWS, then it scrolls): no empty space."""
        rows = min(max(self.rowCount(), 1), self.MAX_VISIBLE_ROWS)
        height = (self.horizontalHeader().sizeHint().height() + rows * self.verticalHeader().defaultSectionSize()
                  + 2 * self.frameWidth() + 2)
        self.setFixedHeight(height)

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


def _swatch_item(text, k):
    """A header cell in cluster k's colour (white text; the palette's colours are all dark enough)."""
    item = QTableWidgetItem(text)
    item.setBackground(QColor(CLUSTER_HEX[k % len(CLUSTER_HEX)]))
    item.setForeground(QColor("white"))
    return item


class AgreementView(QWidget):
    """The true components z against the fit at the half-step on screen: the adjusted Rand index
    and the confusion table (rows: z, columns: the most responsible cluster).  Shows numbers the
    session hands it (``session.agreement``); hidden by its section while z is unknown."""

    MAX_VISIBLE_ROWS = 5
    ROW_HEIGHT = 20

    def __init__(self, session):
        super().__init__()
        self.session = session
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.ari = QLabel()
        self.ari.setToolTip("Adjusted Rand index of the true components z against the most responsible "
                            "cluster at this half-step: 1 = the same grouping (whatever the clusters' "
                            "numbers), about 0 = no better than chance")
        bold = QFont(self.ari.font())
        bold.setBold(True)
        self.ari.setFont(bold)
        form.addRow("ARI", self.ari)
        self.table = QTableWidget(0, 0)
        self.table.setToolTip("Points of each true component z (rows) by their most responsible "
                              "cluster (columns) at this half-step; the largest of each row in bold")
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setMinimumSectionSize(18)
        self.table.verticalHeader().setDefaultSectionSize(self.ROW_HEIGHT)
        self.table.horizontalHeader().setFixedHeight(self.ROW_HEIGHT)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.table.setMinimumWidth(0)
        form.addRow(self.table)
        session.sigAgreementChanged.connect(self.refresh)
        session.sigMixtureChanged.connect(self.refresh)
        session.sigCentresChanged.connect(self.refresh)
        # z comes back with the points (undo): rows again; while z is unknown the section is
        # hidden, and its table keeps its height (a resize would shift the window's layout)
        session.sigPointsChanged.connect(lambda: session.truth is not None and self.refresh())
        self.refresh()

    def refresh(self):
        s = self.session
        agreement = s.agreement
        if agreement is not None:
            counts = agreement.confusion
        else:
            # no assignment yet (the initialisation): the table's shape, no numbers
            k = s.current.n_clusters if s.current is not None else len(s.centres)
            counts = np.full((s.n_true, k), -1)
        self.ari.setText("—  (no assignment yet)" if agreement is None
                         else f"{agreement.adjusted_rand_index:.3f}")
        n_true, k = counts.shape
        self.table.setRowCount(n_true)
        self.table.setColumnCount(k)
        for c in range(k):
            self.table.setHorizontalHeaderItem(c, _swatch_item(str(c + 1), c))
        for r in range(n_true):
            self.table.setVerticalHeaderItem(r, _swatch_item(f"z={r + 1}", r))
            largest = counts[r].max() if k else -1
            for c in range(k):
                value = counts[r, c]
                item = QTableWidgetItem("" if value < 0 else f"{value:,}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if value > 0 and value == largest:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(r, c, item)
        rows = min(max(n_true, 1), self.MAX_VISIBLE_ROWS)
        self.table.setFixedHeight(self.ROW_HEIGHT * (rows + 1) + 2 * self.table.frameWidth() + 2)


class ControlPanel(QScrollArea):
    """The settings in collapsible sections, in a scroll area that never scrolls sideways."""

    sigNewData = Signal()  # Load or Sample replaced the data: the window fits its view

    def __init__(self, session, actions, parent=None):
        super().__init__(parent)
        self.session = session
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # narrower than its rows only on a tiny screen: then it scrolls sideways too
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        self.sections = {}
        for key, make in (("tool", lambda: self._tool_group(actions)),
                          ("data", lambda: self._data_group(actions)),
                          ("truth", self._truth_group),
                          ("centres", self._centres_group), ("algorithm", self._algorithm_group),
                          ("display", lambda: self._display_group(actions))):
            self.sections[key] = make()
            layout.addWidget(self.sections[key])
        layout.addStretch(1)
        self.setWidget(body)
        session.sigSettingsChanged.connect(self._on_session_settings)
        session.sigCentresChanged.connect(self._on_session_settings)
        session.sigPointsChanged.connect(self._on_session_settings)
        session.sigMixtureChanged.connect(self._on_session_mixture)
        self._on_session_settings()
        self._on_session_mixture()

    def minimumSizeHint(self):
        hint = super().minimumSizeHint()
        hint.setWidth(PANEL_MIN_WIDTH)
        return hint

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setWidth(max(self.widget().minimumSizeHint().width()
                          + self.verticalScrollBar().sizeHint().width(), PANEL_WIDTH))
        return hint

    # -- groups ---------------------------------------------------------------
    def _tool_group(self, actions):
        box, row = _section("Tool", QHBoxLayout)
        self.tool_buttons = QButtonGroup(box)
        for action in (actions["tool_points"], actions["tool_centres"]):
            b = QRadioButton(action.text().replace("&", ""))
            b.setToolTip(action.toolTip())
            b.setChecked(action.isChecked())
            b.toggled.connect(lambda on, a=action: on and a.trigger())
            action.toggled.connect(b.setChecked)
            self.tool_buttons.addButton(b)
            row.addWidget(b)
        row.addStretch(1)
        return box

    def _new_data(self, make):
        """Load or Sample: make the new data, then have the window show all of it."""
        make()
        self.sigNewData.emit()

    def _data_group(self, actions):
        s = self.session
        box, form = _section("Data", QFormLayout)
        self.preset = _combo(PRESET_LABELS, "Teaching scenarios: sample the points and place the "
                             "centres in one click")
        # a long preset name must not widen the panel: the box shrinks and elides
        self.preset.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset.setMinimumContentsLength(8)
        self.preset.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        load = _button("Load", "Load this preset: its points, K and initial centres",
                       lambda: self._new_data(lambda: s.load_preset(self.preset.currentData())))
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
                              "(seed below)", lambda: self._new_data(lambda: s.sample(append=False))))
        row.addWidget(_button("Append", "Add N more points drawn from the mixture",
                              lambda: s.sample(append=True)))
        row.addWidget(_button("Clear", "Remove every point (undoable)", s.clear_points))
        form.addRow(row)
        return box

    def _truth_group(self):
        box, col = _section("Truth z against the fit", QVBoxLayout)
        box.setToolTip("Sampled points remember the component z they came from")
        self.agreement = AgreementView(self.session)
        col.addWidget(self.agreement)
        return box

    def _centres_group(self):
        s = self.session
        box, form = _section("Initial centres", QFormLayout)
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
        self.centre_count.setWordWrap(True)  # "K = 5 asked, but ..." wraps, never widens
        row = QHBoxLayout()
        row.addWidget(self.centre_count, 1)
        row.addWidget(_button("Clear centres", "Remove every centre (undoable)", s.clear_centres))
        form.addRow(row)
        return box

    def _algorithm_group(self):
        s = self.session
        box, form = _section("Algorithm", QFormLayout)
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
        box, col = _section("Display", QVBoxLayout, expanded=False)
        for key in ("show_field", "show_lines", "show_trails", "show_ellipses", "show_true_mixture",
                    "presentation"):
            action = actions[key]
            b = QCheckBox(action.text().replace("&", ""))
            b.setToolTip(action.toolTip())
            b.setChecked(action.isChecked())
            b.toggled.connect(action.setChecked)
            action.toggled.connect(b.setChecked)
            col.addWidget(b)
            if key == "show_field":
                self._field_box = b
        self.colour_by = QComboBox()
        self.colour_by.setToolTip("What the points' colours show (View → Colour by)")
        # its longest entry must not widen the panel: the box shrinks and elides
        self.colour_by.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.colour_by.setMinimumContentsLength(8)
        self.colour_by.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        row = QHBoxLayout()
        row.addWidget(QLabel("Colour by"))
        row.addWidget(self.colour_by, 1)
        col.addLayout(row)
        for i, (key, text, tip, _) in enumerate(COLOUR_BY_ACTIONS):
            action = actions[key]
            self.colour_by.addItem(text.replace("&", ""), key)
            self.colour_by.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
            if action.isChecked():
                self.colour_by.setCurrentIndex(i)
            action.toggled.connect(lambda on, i=i: on and self.colour_by.setCurrentIndex(i))
            # an entry the menu cannot take (no z known) cannot be chosen here either
            action.changed.connect(lambda i=i, a=action: self.colour_by.model().item(i).setEnabled(a.isEnabled()))
            self.colour_by.model().item(i).setEnabled(action.isEnabled())
        self.colour_by.activated.connect(lambda i: actions[self.colour_by.itemData(i)].setChecked(True))
        self._shown_group(col, actions)
        return box

    def _shown_group(self, col, actions):
        """Which plane of data with more than two columns is drawn: two columns, or the PCA plane.
        Only there when D > 2; there the field is off (not a region of the plane)."""
        self.shown = QComboBox()
        self.shown.setObjectName("shown_projection")
        self.shown.setToolTip("The plane the points are drawn in: two of their columns, or the plane of "
                              "their two principal axes (PCA). Clustering always uses every column.")
        self.shown.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.shown.setMinimumContentsLength(8)
        self.shown.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.shown_row = QWidget()
        row = QHBoxLayout(self.shown_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Shown"))
        row.addWidget(self.shown, 1)
        col.insertWidget(0, self.shown_row)  # first: the plane shown matters more than any layer
        self.shown.activated.connect(self._on_shown_activated)
        self.shown_row.setVisible(False)
        self._field_action = actions["show_field"]
        self._field_tip = self._field_action.toolTip()
        self._flat = False  # D > 2 shown in a plane
        self.session.sigProjectionChanged.connect(self._on_session_projection)
        self.session.sigPointsChanged.connect(self._on_session_projection)
        self._on_session_projection()

    def _on_shown_activated(self, i):
        choice = self.shown.itemData(i)
        if choice == "pca":
            self.session.show_pca()
        else:
            self.session.show_columns(*(int(c) for c in choice.split(",")))

    def _on_session_projection(self):
        s = self.session
        flat = s.dim > 2
        if flat or self._flat:
            self.shown_row.setVisible(flat)
            tip = (self._field_tip if not flat else
                   f"Not for {s.dim} columns: k-means' cells and the responsibilities are regions of "
                   f"{s.dim}-D space, not of the plane shown")
            for widget in (self._field_action, self._field_box):
                widget.setEnabled(not flat)
                widget.setToolTip(tip)
        self._flat = flat
        if not flat:
            return
        names = column_names(s.names, s.dim)
        choices = [(f"{i},{j}", f"{names[i]} – {names[j]}") for i in range(s.dim) for j in range(i + 1, s.dim)]
        choices.append(("pca", "PCA (two principal axes)"))
        self.shown.blockSignals(True)
        try:
            self.shown.clear()
            for data, text in choices:
                self.shown.addItem(text, data)
            p = s.projection
            current = "pca" if p.kind == "pca" else f"{p.columns[0]},{p.columns[1]}"
            i = self.shown.findData(current)
            if i < 0:  # columns shown the other way round: offer them as they are
                self.shown.addItem(f"{p.axis_names[0]} – {p.axis_names[1]}", current)
                i = self.shown.count() - 1
            self.shown.setCurrentIndex(i)
        finally:
            self.shown.blockSignals(False)

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
        self.sections["truth"].setVisible(s.truth is not None)
        k = len(s.centres)
        text = f"{k} centre{'s' if k != 1 else ''} placed (K = {k})"
        if 0 < len(s.points) < s.n_clusters:
            text += f" — K = {s.n_clusters} asked, but there are only {len(s.points)} points"
        self.centre_count.setText(text)
