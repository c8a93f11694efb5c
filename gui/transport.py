"""The transport bar: step buttons, play/pause, speed, and the timeline over half-steps."""

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolButton, QWidget

from .cursor import LAST_HALF_STEP
from .player import MAX_SPEED, MIN_SPEED

# the widest half-step number a run can reach (labels are sized for it, once)
WIDEST_HALF_STEP = "9" * len(str(LAST_HALF_STEP))

SPEED_STEPS = 100


def speed_from_slider(value):
    lo, hi = math.log10(MIN_SPEED), math.log10(MAX_SPEED)
    return 10 ** (lo + (hi - lo) * value / SPEED_STEPS)


def slider_from_speed(speed):
    lo, hi = math.log10(MIN_SPEED), math.log10(MAX_SPEED)
    return int(round((math.log10(speed) - lo) / (hi - lo) * SPEED_STEPS))


def _fixed_label(text, widest, alignment):
    """A label as wide as ``widest`` in its font, whatever text it shows later; fixed in both
    directions, so a new text (every half-step while playing) does not lay the window out again."""
    label = QLabel(text)
    label.setAlignment(alignment)
    label.setFixedSize(label.fontMetrics().horizontalAdvance(widest) + 8, label.sizeHint().height())
    return label


class TransportBar(QWidget):
    def __init__(self, session, player, actions, parent=None):
        super().__init__(parent)
        self.session, self.player = session, player
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 6, 2)
        row.setSpacing(4)
        for key in ("reset", "iteration_back", "step_back", "play", "step_forward",
                    "iteration_forward", "run_to_end"):
            b = QToolButton()
            b.setDefaultAction(actions[key])
            # icons only: "Play" / "Pause" would change the bar's width (tooltips name them)
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space and arrows belong to the shortcuts
            b.setAutoRaise(True)
            row.addWidget(b)
        self.timeline = QSlider(Qt.Orientation.Horizontal)
        self.timeline.setToolTip("Timeline: one tick per half-step computed so far; drag to scrub")
        self.timeline.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.timeline.setMinimumWidth(60)
        self.timeline.valueChanged.connect(self._on_timeline_value)
        row.addWidget(self.timeline, 1)
        # Labels get the width of their widest text, so a number that grows never
        # pushes into (or under) the sliders beside them
        self.position = _fixed_label("0 / 0", f"{WIDEST_HALF_STEP} / {WIDEST_HALF_STEP}+",
                                     Qt.AlignmentFlag.AlignCenter)
        self.position.setToolTip("Current half-step / half-steps computed")
        row.addWidget(self.position)
        row.addSpacing(6)
        speed_title = QLabel("speed")
        speed_title.setToolTip("Playback speed")
        speed_title.setMinimumWidth(speed_title.sizeHint().width())
        row.addWidget(speed_title)
        self.speed = QSlider(Qt.Orientation.Horizontal)
        self.speed.setRange(0, SPEED_STEPS)
        self.speed.setMinimumWidth(50)
        self.speed.setMaximumWidth(140)
        self.speed.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.speed.setToolTip("Playback speed, 0.5 to 60 half-steps per second")
        self.speed.setValue(slider_from_speed(player.speed))
        self.speed.valueChanged.connect(lambda v: player.set_speed(speed_from_slider(v)))
        row.addWidget(self.speed)
        self.speed_label = _fixed_label("", "0.555 /s", Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.speed_label)
        player.sigSpeedChanged.connect(self._on_player_speed)
        self._on_player_speed(player.speed)
        session.sigHistoryChanged.connect(self._on_session_step)
        session.sigStepChanged.connect(self._on_session_step)
        self._on_session_step()

    def _on_player_speed(self, speed):
        self.speed_label.setText(f"{speed:.3g} /s")

    def _on_timeline_value(self, value):
        if value != self.session.index:
            self.session.goto(value)

    def _on_session_step(self, *_):
        s = self.session
        n = len(s.history)
        self.timeline.blockSignals(True)
        self.timeline.setRange(0, max(n - 1, 0))
        self.timeline.setValue(s.index)
        self.timeline.blockSignals(False)
        self.position.setText(f"{s.index} / {max(n - 1, 0)}{'' if s.finished else '+'}")
