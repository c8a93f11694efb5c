"""Moving through a run's half-steps: the one cursor of every model that steps a run (the
window's session, image mode).

A model that mixes it in has ``history``, ``index``, ``finished`` and ``request_frame(index)``;
the cursor only says where to go, the model's worker gets there.
"""

from engine.settings import AlgorithmSettings

# Past the end of any run: "run to the end" asks for it and gets the last half-step
LAST_HALF_STEP = 2 * AlgorithmSettings.limit("max_iter").high + 1


class HalfStepCursor:
    def _clear_run(self):
        """No run yet: what a model holds of its run before the worker's first frame."""
        self.run_id = 0
        self.history = ()
        self.finished = False
        self.stop_reason = None
        self.index = 0
        self.frame = None
        self.error = None

    @property
    def at_end(self):
        return self.finished and self.index >= len(self.history) - 1

    @property
    def current(self):
        """The snapshot of the half-step on screen, or None before the run's first frame."""
        return self.history[self.index] if self.index < len(self.history) else None

    def goto(self, index):
        if self.finished:
            index = min(index, len(self.history) - 1)
        self.request_frame(max(0, index))

    def prefetch(self, *indices):
        """Have half-steps ``indices`` made ahead of being asked for (a model whose worker can,
        overrides this and ``made_ahead``); the player calls it for the next ones while playing."""

    def made_ahead(self, index):
        return False

    def step(self, delta=1):
        self.goto(self.index + delta)

    def step_iteration(self, direction=1):
        """To the next (previous) refit / M-step: the end of an iteration."""
        i = self.index
        if direction > 0:
            self.goto(i + (2 if i % 2 == 0 else 1))
        else:
            self.goto(max(0, i - (2 if i % 2 == 0 else 1)))

    def reset(self):
        self.goto(0)

    def run_to_end(self):
        self.goto(LAST_HALF_STEP)

    def stop(self):
        """Stay at the half-step on screen (Escape interrupts a run to the end)."""
        self.request_frame(self.index)
