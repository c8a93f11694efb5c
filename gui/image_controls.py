"""Image mode's control panel: the image, the algorithm and K, the feature space and the spatial
weight lambda, the cloud's axes and colouring, and the exports.  Every control writes through the
session's checked setters and follows its signals."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.image import SPATIAL_WEIGHT
from engine.initialisation import INIT_METHODS
from engine.registry import ALGORITHM_NAMES, ALGORITHMS, describe
from engine.settings import COVARIANCE_TYPES, N_CLUSTERS, SEED, AlgorithmSettings

from .image_cloud import COLOUR_BY, axis_choices

LAMBDA_STEPS_PER_UNIT = 10  # the slider moves lambda in steps of 0.1
LAMBDA_SLIDER_MAX = 10.0  # the slider's range; larger values through the command line
SPACE_LABELS = (("rgb", "RGB, values in [0, 1]"), ("lab", "CIELAB (D65): perceptual"))


def _combo(items, tip):
    box = QComboBox()
    for data, text in items:
        box.addItem(text, data)
    box.setToolTip(tip)
    return box


def _select(box, data):
    box.blockSignals(True)
    box.setCurrentIndex(max(box.findData(data), 0))
    box.blockSignals(False)


class ImageControls(QScrollArea):
    def __init__(self, session, window, parent=None):
        super().__init__(parent)
        self.session, self.window = session, window
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        col = QVBoxLayout(body)
        col.setContentsMargins(4, 4, 4, 4)

        image = QGroupBox("Image")
        box = QVBoxLayout(image)
        row = QHBoxLayout()
        self.open_button = QPushButton("Open image…")
        self.open_button.clicked.connect(lambda: window.open_image_dialog())
        self.sample_button = QPushButton("Sample image")
        self.sample_button.setToolTip("The shipped photo (CC0): resources/coffee.png")
        self.sample_button.clicked.connect(lambda: window.open_image(None))
        row.addWidget(self.open_button)
        row.addWidget(self.sample_button)
        box.addLayout(row)
        self.image_label = QLabel("No image yet")
        self.image_label.setWordWrap(True)
        box.addWidget(self.image_label)
        col.addWidget(image)

        cluster = QGroupBox("Clustering")
        form = QFormLayout(cluster)
        self.algorithm = _combo([(n, describe(n).display_name) for n in ALGORITHM_NAMES], "The algorithm")
        self.algorithm.currentIndexChanged.connect(lambda _: session.set_algorithm(self.algorithm.currentData()))
        form.addRow("Algorithm", self.algorithm)
        self.k = QSpinBox()
        self.k.setRange(int(N_CLUSTERS.low), int(N_CLUSTERS.high))
        self.k.setToolTip("K, the number of colours (clusters); new centres are drawn")
        self.k.setKeyboardTracking(False)
        self.k.valueChanged.connect(session.set_n_clusters)
        form.addRow("K", self.k)
        self.init = _combo([(m, m) for m in INIT_METHODS], "How the initial centres are drawn from the pixels")
        self.init.currentIndexChanged.connect(lambda _: session.set_init_method(self.init.currentData()))
        form.addRow("Initialisation", self.init)
        self.seed = QSpinBox()
        self.seed.setRange(int(SEED.low), int(SEED.high))
        self.seed.setKeyboardTracking(False)
        self.seed.valueChanged.connect(session.set_seed)
        form.addRow("Seed", self.seed)
        self.redraw = QPushButton("Draw new centres")
        self.redraw.setToolTip("Initial centres again, by the initialisation and seed shown")
        self.redraw.clicked.connect(session.initialise)
        form.addRow(self.redraw)
        beta = AlgorithmSettings.limit("beta")
        self.beta = QDoubleSpinBox()
        self.beta.setRange(beta.low, min(beta.high, 1e6))
        self.beta.setDecimals(1)
        self.beta.setKeyboardTracking(False)
        self.beta.setToolTip("Soft k-means stiffness β (1 / squared colour units: RGB distances are at most "
                             "3, so β of 100 or more is fairly hard)")
        self.beta.valueChanged.connect(lambda v: session.set_setting("beta", v))
        form.addRow("β", self.beta)
        self.covariance = _combo([(c, c) for c in COVARIANCE_TYPES], "EM's covariance type")
        self.covariance.currentIndexChanged.connect(
            lambda _: session.set_setting("covariance_type", self.covariance.currentData()))
        form.addRow("Covariance", self.covariance)
        col.addWidget(cluster)

        features = QGroupBox("Pixels as points")
        form = QFormLayout(features)
        self.space = _combo(SPACE_LABELS, "The colour space the distances are taken in")
        self.space.currentIndexChanged.connect(lambda _: session.set_space(name=self.space.currentData()))
        form.addRow("Colours", self.space)
        self.segment = QCheckBox("Segment: colour + λ·position")
        self.segment.setToolTip("Add λ·(x, y) to each pixel's colour, x and y its column and row over the "
                                "image's longer side (× 100 in CIELAB): clusters become segments")
        self.segment.toggled.connect(lambda on: session.set_space(segmenting=on))
        form.addRow(self.segment)
        self.weight = QSlider(Qt.Orientation.Horizontal)
        self.weight.setRange(0, int(LAMBDA_SLIDER_MAX * LAMBDA_STEPS_PER_UNIT))
        self.weight.setToolTip("The spatial weight λ: 0 is colour only, larger makes compact segments")
        self.weight_label = QLabel()
        self.weight_label.setMinimumWidth(self.weight_label.fontMetrics().horizontalAdvance("λ = 10.0") + 4)
        self.weight.valueChanged.connect(self._on_weight_value)
        self.weight.sliderReleased.connect(self._apply_weight)
        row = QHBoxLayout()
        row.addWidget(self.weight, 1)
        row.addWidget(self.weight_label)
        form.addRow(row)
        col.addWidget(features)

        cloud = QGroupBox("Pixel cloud")
        form = QFormLayout(cloud)
        self.axes = QComboBox()
        self._axis_pairs = []  # the feature columns of each entry
        self.axes.setToolTip("The two features the cloud shows")
        self.axes.currentIndexChanged.connect(self._on_axes)
        form.addRow("Axes", self.axes)
        self.colour_by = _combo(COLOUR_BY, "Each pixel in its own colour, or in its cluster centre's colour")
        self.colour_by.currentIndexChanged.connect(
            lambda _: window.cloud.set_colour_by(self.colour_by.currentData()))
        form.addRow("Colour", self.colour_by)
        col.addWidget(cloud)

        export = QGroupBox("Export")
        box = QVBoxLayout(export)
        self.export_image = QPushButton("Quantised image (PNG)…")
        self.export_image.setToolTip("The quantised image of the half-step on screen, full size")
        self.export_image.clicked.connect(lambda: window.export_quantised_dialog())
        self.export_strip = QPushButton("Strip K = 2, 3, 10…")
        self.export_strip.setToolTip("The lecture's figure: one quantised image per K, then the original")
        self.export_strip.clicked.connect(lambda: window.export_strip_dialog())
        box.addWidget(self.export_image)
        box.addWidget(self.export_strip)
        col.addWidget(export)
        col.addStretch(1)
        self.setWidget(body)
        self.setMinimumWidth(body.sizeHint().width() + 16)
        for widget in (self.k, self.seed, self.beta, self.weight, self.algorithm, self.init, self.covariance,
                       self.space, self.axes, self.colour_by):
            widget.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # arrows and Space belong to the transport
        session.sigSettingsChanged.connect(self._sync)
        session.sigImageChanged.connect(self._on_session_image)
        self._sync()

    def _on_weight_value(self, value):
        self.weight_label.setText(f"λ = {value / LAMBDA_STEPS_PER_UNIT:.1f}")
        if not self.weight.isSliderDown():  # keyboard or a click on the groove: apply now
            self._apply_weight()

    def _apply_weight(self):
        weight = SPATIAL_WEIGHT.check(self.weight.value() / LAMBDA_STEPS_PER_UNIT, "λ")
        self.session.set_space(spatial_weight=weight)

    def _on_axes(self, index):
        if 0 <= index < len(self._axis_pairs):
            self.window.cloud.set_axes(self._axis_pairs[index])

    def select_axes(self, pair):
        """Show the feature columns ``pair`` in the cloud, as if chosen in the box."""
        self.axes.setCurrentIndex(self._axis_pairs.index(tuple(pair)))

    def _on_session_image(self):
        s = self.session
        info, features = s.info, s.features
        if info is not None:
            self.image_label.setText(f"{info.name}: {info.width:,} × {info.height:,} = {info.n_pixels:,} pixels, "
                                     f"as points in {features.space.describe()}")
        choices = axis_choices(features.space)
        self._axis_pairs = [pair for _, pair in choices]
        self.axes.blockSignals(True)
        self.axes.clear()
        self.axes.addItems([label for label, _ in choices])
        shown = self.window.cloud.axes
        self.axes.setCurrentIndex(self._axis_pairs.index(shown) if shown in self._axis_pairs else 0)
        self.axes.blockSignals(False)
        self._sync()

    def _sync(self):
        """Show the session's values (without writing them back)."""
        s = self.session
        _select(self.algorithm, s.algorithm)
        _select(self.init, s.init_method)
        _select(self.space, s.space_name)
        _select(self.covariance, s.settings.covariance_type)
        for widget, value in ((self.k, s.n_clusters), (self.seed, s.seed), (self.beta, s.settings.beta)):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)
        self.segment.blockSignals(True)
        self.segment.setChecked(s.segmenting)
        self.segment.blockSignals(False)
        self.weight.blockSignals(True)
        self.weight.setValue(round(min(s.spatial_weight, LAMBDA_SLIDER_MAX) * LAMBDA_STEPS_PER_UNIT))
        self.weight.blockSignals(False)
        self.weight_label.setText(f"λ = {s.spatial_weight:.1f}")
        self.weight.setEnabled(s.segmenting)
        for button in (self.export_image, self.export_strip):  # nothing to export before an image
            button.setEnabled(s.info is not None)
        takes = ALGORITHMS[s.algorithm].setting_names  # each row for the algorithms that take it
        self.beta.setEnabled("beta" in takes)
        self.covariance.setEnabled("covariance_type" in takes)
