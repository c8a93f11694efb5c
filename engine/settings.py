"""Every setting's kind, default and limits, declared once.

The command line, the algorithms, the session model and the session file all
check values through these declarations, so "max_iter" means the same thing
(integer, 1 to 100,000, default 300) wherever it is typed, loaded or clicked.
"""

import dataclasses
import math
import numbers
from dataclasses import dataclass, field

from .initialisation import INIT_METHODS

COVARIANCE_TYPES = ("identity", "spherical", "diag", "full", "tied")
# What the points' colours show (the lecture's three panels, and the fit): the current fit's
# responsibilities, the true component z, nothing (samples from p(x)), p(z | x) under the true mixture
COLOUR_BY = ("fit", "truth", "marginal", "true_responsibilities")


@dataclass(frozen=True)
class Limit:
    """What one setting may hold: a kind (int, float, bool or str) and a range or choices."""

    kind: type
    low: float = None
    high: float = None
    low_open: bool = False  # low itself excluded (beta > 0)
    high_open: bool = False
    choices: tuple = None

    def check(self, value, what):
        """``value`` as ``kind``; ValueError naming ``what`` if it is the wrong kind or out of range."""
        if self.kind is bool:
            if not isinstance(value, bool):
                raise ValueError(f"{what} must be true or false, got {value!r}")
            return value
        if self.kind is str:
            if not isinstance(value, str) or (self.choices and value not in self.choices):
                raise ValueError(f"{what} must be one of {', '.join(self.choices)}; got {value!r}")
            return value
        integral = isinstance(value, numbers.Integral) or (
            isinstance(value, float) and value.is_integer() and self.kind is int)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or (
                self.kind is int and not integral):
            kind = "an integer" if self.kind is int else "a number"
            raise ValueError(f"{what} must be {kind}, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{what} must be finite, got {value}")
        value = self.kind(value)
        too_low = self.low is not None and (value <= self.low if self.low_open else value < self.low)
        too_high = self.high is not None and (value >= self.high if self.high_open else value > self.high)
        if too_low or too_high:
            raise ValueError(f"{what} must be {self.describe()}, got {value}")
        return value

    def describe(self):
        """"from 1 to 100,000", "at least 0 and less than 1"."""
        def text(v):
            return f"{v:,}" if self.kind is int else f"{v:g}"
        if self.low is not None and self.high is not None and not (self.low_open or self.high_open):
            return f"from {text(self.low)} to {text(self.high)}"
        parts = []
        if self.low is not None:
            parts.append(("greater than " if self.low_open else "at least ") + text(self.low))
        if self.high is not None:
            parts.append(("less than " if self.high_open else "at most ") + text(self.high))
        return " and ".join(parts) or "finite"

    def parse(self, text):
        """For argparse: the command line's text as a checked value (ValueError otherwise)."""
        if self.kind is str:
            return self.check(text, "value")
        try:
            number = float(text) if self.kind is float else int(text)
        except ValueError:
            kind = "an integer" if self.kind is int else "a number"
            raise ValueError(f"must be {kind}, got {text!r}") from None
        return self.check(number, "value")


def _setting(default, limit, help_text):
    return field(default=default, metadata={"limit": limit, "help": help_text})


class _Schema:
    """Frozen dataclass whose fields declare a ``Limit``: checked on construction and on reading."""

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = f.metadata["limit"].check(getattr(self, f.name), f.name)
            object.__setattr__(self, f.name, value)

    @classmethod
    def limit(cls, name):
        return next(f.metadata["limit"] for f in dataclasses.fields(cls) if f.name == name)

    @classmethod
    def names(cls):
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, values, what=None):
        """From a JSON object: unknown keys and wrong kinds are errors; missing keys take defaults."""
        what = what or cls.__name__
        if not isinstance(values, dict):
            raise ValueError(f"{what} must be an object, got {type(values).__name__}")
        unknown = sorted(set(values) - set(cls.names()))
        if unknown:
            raise ValueError(f"{what}: unknown {'keys' if len(unknown) > 1 else 'key'} "
                             f"{', '.join(map(repr, unknown))}")
        return cls(**values)

    def to_dict(self):
        return dataclasses.asdict(self)

    def replace(self, **changes):
        unknown = sorted(set(changes) - set(self.names()))
        if unknown:
            raise ValueError(f"unknown setting {', '.join(unknown)}")
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class AlgorithmSettings(_Schema):
    """Everything an algorithm is built from besides its name; each algorithm takes the ones it
    declares in ``setting_names``."""

    beta: float = _setting(1.0, Limit(float, 1e-9, 1e9),
                           "soft k-means stiffness β: large is hard k-means, small one blob")
    covariance_type: str = _setting("full", Limit(str, choices=COVARIANCE_TYPES), "EM covariance type")
    reg_covar: float = _setting(1e-6, Limit(float, 0.0), "EM: added to every covariance diagonal")
    learn_weights: bool = _setting(True, Limit(bool), "EM: learn the mixing weights π_k")
    max_iter: int = _setting(300, Limit(int, 1, 100_000), "iteration limit")
    tol: float = _setting(1e-6, Limit(float, 0.0, 1.0, high_open=True),
                          "relative change of the objective below which a run has converged (0: never)")

    def for_algorithm(self, algorithm_class):
        """The keyword arguments ``algorithm_class`` takes."""
        return {name: getattr(self, name) for name in algorithm_class.setting_names}


@dataclass(frozen=True)
class DisplayOptions(_Schema):
    """What the canvas and the exported frames draw besides the points."""

    field: bool = _setting(False, Limit(bool), "nearest-centre regions or the responsibility field")
    lines: bool = _setting(False, Limit(bool), "a line from each point to its centre")
    trails: bool = _setting(True, Limit(bool), "the path of each centre")
    ellipses: bool = _setting(True, Limit(bool), "EM's 1σ and 2σ ellipses")
    true_mixture: bool = _setting(False, Limit(bool), "the mixture the points were sampled from")
    marker_scale: float = _setting(1.0, Limit(float, 0.25, 4.0), "size of markers and labels")
    colour_by: str = _setting("fit", Limit(str, choices=COLOUR_BY), "what the points' colours show")


def check_setting(name, value):
    """One algorithm setting checked against its declaration (the algorithms' constructors use it)."""
    return AlgorithmSettings.limit(name).check(value, name)


# The rest of a scenario: how many centres, how they are drawn, and how many points to sample.
N_CLUSTERS = Limit(int, 1, 100)
SEED = Limit(int, 0, 2**31 - 1)  # what a spin box holds; numpy takes any of these
SAMPLE_N = Limit(int, 1, 10_000_000)
INIT = Limit(str, choices=INIT_METHODS)
DEFAULT_N_CLUSTERS = 3
DEFAULT_SEED = 0
DEFAULT_SAMPLE_N = 500
DEFAULT_INIT = "kmeans++"

# Exports: the command line and the export dialog offer the same ranges.
FPS = Limit(float, 0.1, 100.0)  # a GIF frame lasts 10 ms to 10 s
GIF_LOOP = Limit(int, 0, 65_535)  # repeats, 0 = forever (the GIF field is 16 bits)
STRIP_COLS = Limit(int, 1, 16)
PANELS = Limit(int, 1, 64)  # key half-steps in a strip or a deck
DEFAULT_FPS, DEFAULT_GIF_LOOP, DEFAULT_STRIP_COLS, DEFAULT_PANELS = 4.0, 0, 4, 8
