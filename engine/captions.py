"""A half-step in words: "Refitting step 3 — J = 560.8", as the window and the slides show it.

Text, not painting: the session model and the exporters both call these, and
neither needs painter code for it.
"""

import math

from .description import INIT_PHASE

MINUS = "\u2212"  # a typographic minus reads better on a slide than a hyphen


def format_value(value, digits=4):
    """``digits`` significant digits, thousands grouped, no exponent where the number fits."""
    if value is None:
        return ""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if -4 <= magnitude < 9:
        text = f"{value:,.{max(0, digits - 1 - magnitude)}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    else:
        text = f"{value:.{digits - 1}e}"
    return text.replace("-", MINUS)


def step_title(description, snapshot):
    """"Initialisation", "Refitting step 3", "E-step 5"."""
    title = description.phase_title(snapshot.phase)
    return title if snapshot.phase == INIT_PHASE else f"{title} {snapshot.iteration}"


def objective_text(description, snapshot):
    """"F = 12.3 (J = 10.1)": the primary objective first, the others in brackets."""
    parts = [f"{o.symbol} = {format_value(getattr(snapshot, o.field))}"
             for o in description.objectives if getattr(snapshot, o.field) is not None]
    if not parts:
        return ""
    return parts[0] + (f" ({', '.join(parts[1:])})" if len(parts) > 1 else "")


def completed_iterations(description, snapshot):
    """Iterations done at ``snapshot``: a k-means run stops on an assignment step that changed
    nothing, and that step is not an iteration."""
    return snapshot.iteration - (1 if snapshot.phase == description.responsibility_phase else 0)


def trouble_text(description, snapshot):
    """"cluster 2 empty", "components 1, 3 collapsed": what the lecturer should point out."""
    parts = []
    for which, state in ((snapshot.empty, "empty"), (snapshot.collapsed, "collapsed")):
        if which:
            word = description.cluster_word + ("s" if len(which) > 1 else "")
            parts.append(f"{word} {', '.join(str(k + 1) for k in which)} {state}")
    return "; ".join(parts)


def state_caption(description, snapshot):
    """"Refitting step 3 — J = 12.3", "Converged after 7 iterations — ...", with any empty
    cluster or collapsed component named at the end."""
    if snapshot.converged:
        title = f"Converged after {completed_iterations(description, snapshot)} iterations"
    else:
        title = step_title(description, snapshot)
    text = " · ".join(t for t in (objective_text(description, snapshot), trouble_text(description, snapshot)) if t)
    return f"{title} — {text}" if text else title


def short_caption(description, snapshot):
    """A strip panel's title: "Converged · Assignment step 8"."""
    title = step_title(description, snapshot)
    return ("Converged · " if snapshot.converged else "") + title


STOP_TEXT = {
    "max_iter": "stopped at the iteration limit, not converged",
    "non_finite": "stopped: the objective is no longer a finite number",
}


def stop_text(stop_reason):
    """Why a run that did not converge stopped, in words ("" when there is nothing to say)."""
    return STOP_TEXT.get(stop_reason, "")
