"""Time: a QTimer that advances the session one half-step per tick."""

import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

MIN_SPEED, MAX_SPEED = 0.5, 60.0
# A half-step shown is painted before the next is: a view that paints (``frame_painted``) holds
# the player back this long at most (a hidden window never paints, and must not stop the run)
PAINT_WAIT_S = 0.25


class Player(QObject):
    """Plays the run at ``speed`` half-steps per second; waits for the worker rather than queueing."""

    sigPlayingChanged = Signal(bool)
    sigSpeedChanged = Signal(float)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.speed = 4.0
        self._timer = QTimer(self)
        # precise: a coarse timer may fire up to 5% late, and 60 /s would play at 57
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._on_timer_tick)
        self._timer.setInterval(int(1000 / self.speed))
        # A tick that finds the worker busy is owed, and paid as soon as the
        # frame lands: playback then runs as fast as frames can be made, up to speed.
        self._owed = False
        session.client.sigIdle.connect(self._on_client_idle)
        session.sigFrameChanged.connect(self._on_frame_shown)
        # the next frame may land made ahead while the worker goes on to the one after: the
        # tick owed is paid then, not at the next tick (at 4 /s, 250 ms late)
        if hasattr(session, "sigFrameMadeAhead"):
            session.sigFrameMadeAhead.connect(self._on_client_idle)
        self._shown_at = None  # when the half-step not painted yet was asked for (see frame_painted)
        self._paint_gated = False  # set once a view reports its paints

    def follow_paints(self, signal):
        """Let ``signal`` (a view's "a new frame painted") pace the play."""
        self._paint_gated = True
        signal.connect(self.frame_painted, Qt.ConnectionType.QueuedConnection)

    @Slot()
    def frame_painted(self):
        """The view painted the half-step shown (connected queued: never inside a paint). Until
        then the next one waits: a frame replaced before it was painted was never seen, and at a
        million points an E-step and the refit made ahead after it landed within one paint, so
        the room saw only every other half-step."""
        self._shown_at = None
        self._on_client_idle()

    def _held_back(self):
        return self._shown_at is not None and time.monotonic() - self._shown_at < PAINT_WAIT_S

    def _ready(self):
        s = self.session
        return not self._held_back() and (not s.busy or s.made_ahead(s.index + 1))

    @property
    def playing(self):
        return self._timer.isActive()

    def set_speed(self, speed):
        self.speed = min(max(float(speed), MIN_SPEED), MAX_SPEED)
        self._timer.setInterval(max(1, int(1000 / self.speed)))  # 60 /s: every 16 ms
        self.sigSpeedChanged.emit(self.speed)

    def play(self):
        s = self.session
        if not len(s.points) or not len(s.centres):
            return
        if s.at_end:
            s.reset()  # playing a finished run plays it again
        if not self.playing:
            self._timer.start()
            self.sigPlayingChanged.emit(True)

    def pause(self):
        self._owed = False
        if self.playing:
            self._timer.stop()
            self.sigPlayingChanged.emit(False)

    def toggle(self):
        self.pause() if self.playing else self.play()

    def _on_timer_tick(self):
        if not self._ready():
            self._owed = True
            return
        self._advance()

    def _on_client_idle(self):
        if self._owed and self.playing and self._ready():
            self._advance()

    def _on_frame_shown(self):
        # the next half-step is made while this one is painted: the worker and the UI thread side by side
        s = self.session
        if self.playing and not s.at_end and not s.error and s.history:
            s.prefetch(s.index + 1, s.index + 2)

    def _advance(self):
        self._owed = False
        s = self.session
        if s.at_end or s.error or not s.history:
            self.pause()
            return
        if self._paint_gated:
            self._shown_at = time.monotonic()
        s.step(1)
