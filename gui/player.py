"""Time: a QTimer that advances the session one half-step per tick."""

from PySide6.QtCore import QObject, Qt, QTimer, Signal

MIN_SPEED, MAX_SPEED = 0.5, 60.0


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
        s = self.session
        if s.busy and not s.made_ahead(s.index + 1):
            self._owed = True
            return
        self._advance()

    def _on_client_idle(self):
        s = self.session
        if self._owed and self.playing and (not s.busy or s.made_ahead(s.index + 1)):
            self._advance()

    def _on_frame_shown(self):
        # the next half-step is made while this one is painted: the worker and the UI thread side by side
        s = self.session
        if self.playing and not s.at_end and not s.error and s.history and s.frame.index == s.index:
            s.prefetch(s.index + 1, s.index + 2)

    def _advance(self):
        self._owed = False
        s = self.session
        if s.at_end or s.error or not s.history:
            self.pause()
            return
        s.step(1)
