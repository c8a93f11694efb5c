"""What an algorithm is, in the lecture's words: its name, its two half-steps and its objectives.

Each algorithm class carries one ``AlgorithmDescription``.  The captions, the
trace, the cost plot, the controls and the exports read it, so adding an
algorithm means one engine module and one line in ``registry.py``; no view
needs to know the new algorithm's name.
"""

from dataclasses import dataclass

import numpy as np

INIT_PHASE = "init"
INIT_TITLE = "Initialisation"


@dataclass(frozen=True)
class Objective:
    """One quantity reported after every half-step.

    field : the ``Snapshot`` attribute and the trace key ("cost", "log_likelihood", ...)
    symbol : the lecture's symbol, as captions show it ("J", "F", "log p(D)")
    name : words for a legend ("free energy F")
    formula : the axis label ("F = J + (1/β) Σ r log r")
    direction : -1 never increases over half-steps, +1 never decreases, 0 no promise
    """

    field: str
    symbol: str
    name: str
    formula: str
    direction: int = 0


@dataclass(frozen=True)
class AlgorithmDescription:
    """An algorithm's identity and vocabulary.

    The first objective is the primary one: the caption leads with it, the
    convergence test watches it, and it is the one that must be monotone.
    """

    name: str  # the command line's and the files' name: "soft-kmeans"
    display_name: str  # "soft k-means"
    responsibility_phase: str  # the first half-step of an iteration: "assign", "e"
    responsibility_title: str  # "Assignment step", "E-step"
    refit_phase: str  # the second: "refit", "m"
    refit_title: str
    objectives: tuple  # of Objective, the primary first
    cluster_word: str = "cluster"  # what one of the K is called: "component" for a mixture

    def __post_init__(self):
        if not self.objectives or self.objectives[0].direction == 0:
            raise ValueError(f"{self.name}: the primary objective must be monotone")

    @property
    def primary(self):
        return self.objectives[0]

    @property
    def phases(self):
        return (INIT_PHASE, self.responsibility_phase, self.refit_phase)

    def phase_title(self, phase):
        """"Assignment step" for "assign"; ValueError for a phase this algorithm does not have."""
        titles = dict(zip(self.phases, (INIT_TITLE, self.responsibility_title, self.refit_title),
                          strict=True))
        try:
            return titles[phase]
        except KeyError:
            raise ValueError(f"{self.name} has no phase {phase!r}") from None

    def objective(self, snapshot):
        """The primary objective's value at ``snapshot`` (None where not defined yet)."""
        return getattr(snapshot, self.primary.field)

    def objective_points(self, history, objective, phase=None):
        """(half-step indices, values) of ``objective`` in ``history``, after ``phase`` half-steps only
        if given; half-steps where it is not defined (J at the initialisation) are left out."""
        index = [i for i, s in enumerate(history) if (phase is None or s.phase == phase)
                 and getattr(s, objective.field) is not None]
        return np.array(index, dtype=np.int64), np.array([getattr(history[i], objective.field)
                                                          for i in index], dtype=np.float64)
