"""The run trace: a run as JSON, one entry per half-step (schema in the README)."""

TRACE_VERSION = 1
_PARAMETERS = ("centres", "weights", "covariances", "counts", "empty", "collapsed", "converged")


def trace_step(snapshot, description):
    """One half-step: index, phase, iteration, the algorithm's objectives, parameters."""
    full = snapshot.to_dict()
    entry = {key: full[key] for key in ("index", "phase", "iteration")}
    for objective in description.objectives:
        entry[objective.field] = full[objective.field]
    for key in _PARAMETERS:
        entry[key] = full[key]
    if snapshot.changed is not None:
        entry["changed"] = snapshot.changed
    return entry


def trace(run, extra_settings=None):
    """The run as a JSON-ready dict; ``final.labels`` are those under the final parameters."""
    description = run.description
    final = trace_step(run.current, description)
    final["labels"] = run.final_labels().tolist()
    return {
        "format": "clusterlab-trace",
        "version": TRACE_VERSION,
        "algorithm": description.name,
        "settings": {**run.algorithm.settings(), **(extra_settings or {})},
        "n": run.data.n_samples,
        "dim": run.data.n_features,
        "k": run.current.n_clusters,
        "converged": run.converged,
        "stopped": run.stop_reason,
        "iterations": run.n_iter,
        "steps": [trace_step(s, description) for s in run.history],
        "final": final,
    }

