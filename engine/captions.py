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


def in_sentence(title):
    """A phase title inside a sentence: "Assignment step" -> "assignment step"; "E-step" stays."""
    return title[0].lower() + title[1:] if title[1:2].islower() else title


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


def responsibility_snapshot(description, history, index):
    """The snapshot whose parameters give the responsibilities shown at half-step ``index``: the
    step itself after a responsibility half-step, the one before it after a refit, None at the
    initialisation (as ``Run.responsibility_source``)."""
    if not history:
        return None
    snap = history[index]
    if snap.phase == INIT_PHASE:
        return None
    return history[index - 1] if snap.phase == description.refit_phase and index > 0 else snap


def point_responsibilities(description, snapshot, x, beta=None):
    """(r, d2, joint) for one point ``x`` under ``snapshot``'s parameters, in plain numpy:
    r_k (K,), ||x − m_k||² (K,), and π_k N(x | μ_k, Σ_k) (K,) for a mixture (else None).

    k-means: r one-hot at the nearest centre (lowest index on a tie); soft k-means:
    softmax(−β ||m_k − x||²); EM: π_k N(x | μ_k, Σ_k) normalised.
    """
    import numpy as np
    x = np.asarray(x, dtype=np.float64).ravel()
    m = np.asarray(snapshot.centres, dtype=np.float64)
    D = m.shape[1]
    x = x[:D]
    d2 = ((m - x) ** 2).sum(axis=1)
    joint = None
    if snapshot.covariances is not None:
        K = len(m)
        weights = snapshot.weights if snapshot.weights is not None else np.full(K, 1.0 / K)
        log_joint = np.empty(K)
        for k in range(K):
            cov = np.asarray(snapshot.covariances[k], dtype=np.float64)
            sign, logdet = np.linalg.slogdet(cov)
            diff = x - m[k]
            maha = float(diff @ np.linalg.solve(cov, diff))
            with np.errstate(divide="ignore"):
                log_joint[k] = np.log(weights[k]) - 0.5 * (D * math.log(2 * math.pi) + logdet + maha)
        top = np.max(log_joint)
        joint = np.exp(log_joint)
        r = np.exp(log_joint - top)
        r /= r.sum()
    elif beta is not None and description.primary.field != "cost":
        logits = -float(beta) * d2
        r = np.exp(logits - logits.max())
        r /= r.sum()
    else:
        r = np.zeros(len(m))
        r[int(np.argmin(d2))] = 1.0
    return r, d2, joint


def point_reading(description, snapshot, x, beta=None):
    """One point read out in the lecture's notation, one line per cluster:

    "x = (1.2, −0.4)"
    "r_k^(n) = softmax_k(−β ‖x − m_k‖²), β = 2"
    "k=1: r = 0.931   ‖x − m_k‖² = 0.52"
    EM adds π_k N(x | μ_k, Σ_k) per component.  ``snapshot`` gives the parameters that set the
    responsibilities shown (``responsibility_snapshot``); at the initialisation pass the
    initial one: r is then what the next responsibility half-step will give.
    """
    r, d2, joint = point_responsibilities(description, snapshot, x, beta)
    xs = ", ".join(format_value(float(v), 3) for v in list(x)[:2])
    mixture = joint is not None
    hard = not mixture and (beta is None or description.primary.field == "cost")
    centre = "μ_k" if mixture else "m_k"
    if mixture:
        rule = "r_k^(n) = π_k N(x | μ_k, Σ_k) / Σ_j π_j N(x | μ_j, Σ_j)"
    elif hard:
        rule = "r_k^(n) = 1 if k = argmin_j ‖x − m_j‖², else 0"
    else:
        rule = f"r_k^(n) = exp(−β ‖m_k − x‖²) / Σ_j exp(−β ‖m_j − x‖²), β = {format_value(float(beta))}"
    lines = [f"x^(n) = ({xs})", rule]
    for k in range(len(r)):
        parts = [f"k={k + 1}:", f"r = {format_value(float(r[k]), 3) if r[k] >= 1e-4 or r[k] == 0 else '<0.0001'}",
                 f"‖x − {centre}‖² = {format_value(float(d2[k]), 3)}"]
        if mixture:
            parts.append(f"π_k N(x | μ_k, Σ_k) = {format_value(float(joint[k]), 3)}")
        lines.append("   ".join(parts))
    return "\n".join(lines)


def format_tick(value, spacing):
    """An axis tick: as many decimals as the tick spacing needs, thousands grouped, a real minus,
    never an exponent where the number fits ("−15,420", "0.25", "−3,700.45")."""
    if not math.isfinite(value) or abs(value) >= 1e12 or (value != 0 and abs(value) < 1e-6 and spacing < 1e-6):
        return format_value(value)
    decimals = 0 if spacing <= 0 or spacing >= 1 else min(9, math.ceil(-math.log10(spacing) - 1e-9))
    text = f"{value:,.{decimals}f}"
    if text.lstrip("-").strip("0.,") == "":
        text = "0"
    return text.replace("-", MINUS)
