"""The run trace: a run as JSON, one entry per half-step (schema in the README)."""

from .agreement import adjusted_rand_index, check_truth

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


def trace(run, extra_settings=None, truth=None):
    """The run as a JSON-ready dict; ``final.labels`` are those under the final parameters.

    ``truth``: the true component z of each point (sampled data), written as ``truth``
    with ``final.adjusted_rand_index`` of z against ``final.labels``.
    """
    description = run.description
    final = trace_step(run.current, description)
    labels = run.final_labels()
    final["labels"] = labels.tolist()
    if truth is not None:
        truth = check_truth(truth, run.data.n_samples)
        final["adjusted_rand_index"] = adjusted_rand_index(truth, labels)
    result = {
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
    if truth is not None:
        result["truth"] = truth.tolist()
    return result

