"""Restarts and the choice of K: many runs of one scenario from new initial centres.

Plain functions, usable without the command line or the window:

- ``iter_restarts`` / ``run_restarts``: R runs from seeds S, S+1, ..., one ``Restart`` each;
- ``distinct_optima``: which restarts ended in the same local optimum;
- ``choose_k``: the best of R restarts for each K, with BIC and AIC for EM;
- ``n_parameters``, ``bic``, ``aic``: the standard counts and criteria (as scikit-learn's
  ``GaussianMixture.bic`` / ``aic``).

Every restart reuses one ``Dataset`` (its checks and k-means' point blocks are done once).
k-means restarts run several at once, whole, in one compiled call (``_blocks.lloyd_runs``:
a ``Run``'s labels and refits without its history, ending where it ends), and k-means++
draws their starts several at once too.  Results come in small batches (``restart_batch``;
a generator, or ``callback`` per restart) and stop early when ``cancel`` (a
``threading.Event``) is set: no restart is reported after it.
"""

import dataclasses
import hashlib
import math
from dataclasses import dataclass, field

import numba
import numpy as np
from numba import njit

from . import _blocks, _kernels
from .algorithm import PassStatistics
from .data import Dataset
from .description import INIT_PHASE
from .initialisation import kmeans_plus_plus_many
from .registry import describe
from .run import CONVERGED, MAX_ITER, NON_FINITE
from .settings import N_CLUSTERS, SEED, Limit
from .snapshot import Snapshot
from .validation import check_centres, check_magnitude, check_n_clusters

N_RESTARTS = Limit(int, 1, 10_000)
DEFAULT_N_RESTARTS = 20
HELD_OUT = Limit(float, 0.0, 0.5, low_open=True)
DEFAULT_HELD_OUT = 0.2  # the window's suggestion when a held-out log-likelihood is asked for
DEFAULT_K_RANGE = (1, 10)
# --centres: each restart moves the given centres by N(0, (JITTER * spread_d)^2) per feature d
JITTER = 0.1
MEAN_TOL = 1e-3  # soft k-means / EM: same optimum when matched means differ by <= this x data scale
OBJECTIVE_RTOL = 1e-6  # ... and the objectives by <= this, relative
BATCH = 64  # restarts per batch: runs of unequal length keep both cores busy; progress still shows
_BATCH_LABELS = 1 << 24  # ... and at most this many labels (R x N int32) held at once


@dataclass
class Restart:
    """One run from one start.

    index : position in the series (0..R-1); seed : S + index
    initial_centres, final_centres : ndarray of shape (K, D)
    objective : the primary objective (J, F or log p(D)) of the final state, None if not finite
    iterations : completed iterations; converged : bool; stopped : ``Run.stop_reason``
    final : the final ``Snapshot`` (weights and covariances for EM)
    key : k-means only, a digest of the final labels after relabelling clusters by first
        occurrence (equal keys: the same partition up to a permutation)
    """

    index: int
    seed: int
    initial_centres: np.ndarray
    final_centres: np.ndarray
    objective: float
    iterations: int
    converged: bool
    stopped: str
    final: object = None
    key: bytes = None


@dataclass
class Optimum:
    """Restarts that ended in the same local optimum: its best objective and their indices."""

    objective: float
    restarts: list = field(default_factory=list)

    @property
    def count(self):
        return len(self.restarts)


@dataclass
class RestartsResult:
    """A series of restarts of one scenario.

    restarts : list of ``Restart``, in seed order (fewer than asked when cancelled)
    optima : list of ``Optimum``, best first; failed : restarts whose objective was not finite
    best : index of the best restart (None if none finished with a finite objective)
    """

    algorithm: str
    settings: dict
    n: int
    dim: int
    k: int
    restarts: list
    optima: list
    failed: list
    best: int
    cancelled: bool = False

    @property
    def objective_field(self):
        return describe(self.algorithm).primary.field

    def to_dict(self):
        """The restarts file (``"format": "clusterlab-restarts"``, schema in the README)."""
        name = self.objective_field
        return {
            "format": "clusterlab-restarts", "version": 1,
            "algorithm": self.algorithm, "settings": self.settings,
            "n": self.n, "dim": self.dim, "k": self.k,
            "restarts": [{"seed": r.seed, "initial_centres": r.initial_centres.tolist(),
                          "final_centres": r.final_centres.tolist(), name: r.objective,
                          "iterations": r.iterations, "converged": r.converged,
                          "stopped": r.stopped} for r in self.restarts],
            "optima": [{name: o.objective, "count": o.count, "restarts": list(o.restarts)}
                       for o in self.optima],
            "failed": list(self.failed),
            "best": self.best,
            "cancelled": self.cancelled,
        }


def _dataset(points):
    return points if isinstance(points, Dataset) else Dataset(points)


@njit(cache=True, nogil=True)
def _renumbered(labels, n_clusters, out):
    """out[n] = labels[n] with the clusters numbered by first occurrence."""
    mapping = np.full(n_clusters, -1, dtype=np.int32)
    seen = 0
    for n in range(labels.shape[0]):
        k = labels[n]
        if mapping[k] < 0:
            mapping[k] = seen
            seen += 1
        out[n] = mapping[k]


def _canonical_key(labels, n_clusters):
    """Digest of ``labels`` (N,) with clusters renumbered by first occurrence (equal digests:
    the same partition up to renumbering, for labels of the same points in the same order)."""
    labels = np.ascontiguousarray(labels, dtype=np.int32)
    out = np.empty(len(labels), dtype=np.uint8 if n_clusters <= 256 else np.int32)
    _renumbered(labels, n_clusters, out)
    return hashlib.blake2b(out.tobytes(), digest_size=16).digest()


def restart_scenario(scenario, dataset, seed):
    """The scenario of one restart: ``scenario`` on ``dataset`` with new initial centres.

    Centres drawn with ``scenario.init`` and ``seed``, or, when ``scenario.centres`` is given
    (K, D), those centres plus Gaussian noise of ``JITTER`` x each feature's standard deviation.
    """
    SEED.check(seed, "seed")
    if scenario.centres is None:
        return dataclasses.replace(scenario, points=dataset, seed=seed)
    centres = np.asarray(scenario.centres, dtype=np.float64)
    spread = dataset.X.std(axis=0)
    rng = np.random.default_rng(seed)
    jittered = centres + rng.normal(size=centres.shape) * (JITTER * spread)
    return dataclasses.replace(scenario, points=dataset, centres=jittered, seed=seed)


def batch_size(algorithm, n_samples):
    """Restarts per batch of the algorithm named ``algorithm`` on N points: k-means runs
    several at once, ``BATCH`` (fewer where their labels would take room); the others one by one."""
    if describe(algorithm).name != "kmeans":
        return 1
    return max(1, min(BATCH, _BATCH_LABELS // max(int(n_samples), 1)))


def restart_starts(scenario, dataset, seeds):
    """The initial centres of the restarts with ``seeds``: ndarray (R, K, D), as
    ``restart_scenario(...).initial_centres()`` gives each (k-means++ several at once)."""
    if scenario.centres is None and scenario.init == "kmeans++" and len(seeds) > 1:
        for seed in seeds:
            SEED.check(seed, "seed")
        return kmeans_plus_plus_many(dataset, scenario.n_clusters, seeds)
    return np.array([restart_scenario(scenario, dataset, s).initial_centres() for s in seeds],
                    dtype=np.float64)


def restart_batch(scenario, dataset, first_index, seeds):
    """The restarts ``first_index``, ``first_index`` + 1, ... with ``seeds``: a list of
    ``Restart``.  ``dataset`` is the scenario's points as one ``Dataset`` (kept by the caller
    across batches).  The window calls this on its engine worker, one batch per call."""
    seeds = [int(s) for s in seeds]
    if not seeds:
        return []
    starts = restart_starts(scenario, dataset, seeds)
    indices = range(first_index, first_index + len(seeds))
    algorithm = scenario.make_algorithm()
    if algorithm.description.name == "kmeans" and scenario.weights is None and scenario.covariances is None:
        return _kmeans_restarts(algorithm, dataset, indices, seeds, starts)
    return [_one_restart(scenario, dataset, i, s, c) for i, s, c in zip(indices, seeds, starts)]


def _one_restart(scenario, dataset, index, seed, initial):
    sc = dataclasses.replace(restart_scenario(scenario, dataset, seed), centres=initial)
    run = sc.start().run()
    objective = run.description.objective(run.current)
    if objective is not None and not math.isfinite(objective):
        objective = None
    return Restart(index=index, seed=seed, initial_centres=np.array(initial),
                   final_centres=np.array(run.current.centres), objective=objective,
                   iterations=run.n_iter, converged=run.converged, stopped=run.stop_reason,
                   final=run.current)


def _kmeans_restarts(algorithm, dataset, indices, seeds, starts):
    """k-means from each start to its end, several at once (``_blocks.lloyd_runs``), each
    ending as ``Run(algorithm, dataset, start).run()`` would: the same labels, iterations and
    stop reason, the final snapshot made by the algorithm's own ``responsibility_step`` /
    ``refit_step`` (its numbers equal to rounding); its key from the labels under the final
    centres, in block order."""
    N = dataset.n_samples
    for start in starts:
        check_centres(start, dataset.n_features)
        check_n_clusters(start.shape[0], N)
    b = dataset.blocks
    centres = np.array(starts, dtype=np.float64)
    R, K, D = centres.shape
    low, high = b.box_min.min(axis=0), b.box_max.max(axis=0)
    if not (np.all(centres >= low) and np.all(centres <= high)):
        # as the pass itself: outside the data's box, squared distances may overflow (refits
        # stay inside the box of the data and these centres)
        check_magnitude(np.minimum(low, centres.min(axis=(0, 1))), np.maximum(high, centres.max(axis=(0, 1))),
                        N, what="the data and centres")
    block_label = np.full((R, b.n_blocks), _blocks.NOT_ASSIGNED, dtype=np.int32)
    labels = np.full((R, N), -1, dtype=np.int32)
    stats = np.empty((R, K, D + 2))
    passes = np.empty(R, dtype=np.int64)
    last_changed = np.empty(R, dtype=np.int64)
    with numba.parallel_chunksize(1):  # runs of different lengths: hand them out one at a time
        _blocks.lloyd_runs(b.XS, b.box_min, b.box_max, b.block_sums, centres, algorithm.max_iter,
                           block_label, labels, stats, passes, last_changed)
    phases = algorithm.description
    out = []
    for r, (index, seed) in enumerate(zip(indices, seeds)):
        t, c, s = int(passes[r]), centres[r], stats[r]

        def exact_sq_about(at, which, r=r):
            sq = np.empty(K)
            _blocks._cost_about(b.XS, b.block_sums, block_label[r], labels[r],
                                np.ascontiguousarray(at, dtype=np.float64),
                                np.ascontiguousarray(which, dtype=np.bool_), sq)
            return sq

        pass_stats = PassStatistics(counts=s[:, 0].copy(), sums=s[:, 1:D + 1].copy(),
                                    sq=np.maximum(s[:, D + 1], 0.0), ref=c.copy(),
                                    changed=int(last_changed[r]), exact_sq_about=exact_sq_about)
        before = Snapshot(index=2 * t - 2, phase=INIT_PHASE if t == 1 else phases.refit_phase,
                          iteration=t - 1, centres=c)
        final = algorithm.responsibility_step(pass_stats, before, t)
        if algorithm.converged_after_responsibility(pass_stats, t):
            final = dataclasses.replace(final, converged=True)
            n_iter, stopped, final_labels = t - 1, CONVERGED, labels[r]
            _blocks.materialise_labels(block_label[r], final_labels)
        else:  # max_iter assignment steps: the run ends with their refit
            final = algorithm.refit_step(pass_stats, final)
            n_iter, stopped = t, MAX_ITER
            final_labels = np.empty(N, dtype=np.int32)
            _kernels.nearest_centre(b.XS, np.ascontiguousarray(final.centres), final_labels, np.empty(N))
        objective = algorithm.objective(final)
        key = None
        if objective is None or not math.isfinite(objective):
            objective, stopped = None, NON_FINITE
        else:
            key = _canonical_key(final_labels, K)
        out.append(Restart(index=index, seed=seed, initial_centres=np.array(starts[r]),
                           final_centres=np.array(final.centres), objective=objective,
                           iterations=n_iter, converged=final.converged, stopped=stopped,
                           final=final, key=key))
    return out


def iter_restarts(scenario, n_restarts, seed=None, cancel=None):
    """Yield one ``Restart`` per seed ``seed``, ``seed`` + 1, ... (default ``scenario.seed``).

    scenario : a ``Scenario``; its points (N, D) become one ``Dataset`` shared by every restart.
    Restarts are done in batches (``batch_size``); once ``cancel`` (a ``threading.Event``)
    is set, no further restart is yielded (nor batch started).  ValueError for a bad count,
    seed or scenario.
    """
    n_restarts = N_RESTARTS.check(n_restarts, "restarts")
    seed = scenario.seed if seed is None else seed
    SEED.check(seed, "seed")
    SEED.check(seed + n_restarts - 1, "seed + restarts - 1")
    dataset = _dataset(scenario.points)
    step = batch_size(scenario.algorithm, dataset.n_samples)
    for i in range(0, n_restarts, step):
        if cancel is not None and cancel.is_set():
            return
        for restart in restart_batch(scenario, dataset, i, range(seed + i, seed + min(n_restarts, i + step))):
            if cancel is not None and cancel.is_set():
                return
            yield restart


def _same_parameters(a, b, direction_scale, mean_tol, objective_rtol):
    """Soft k-means / EM: objectives within ``objective_rtol`` and means, matched greedily
    (closest pair first), within ``mean_tol`` (absolute)."""
    if abs(a.objective - b.objective) > objective_rtol * max(abs(a.objective), abs(b.objective)) + 1e-300:
        return False
    ca, cb = a.final_centres, b.final_centres
    if ca.shape != cb.shape:
        return False
    d = np.sqrt(((ca[:, None, :] - cb[None, :, :]) ** 2).sum(axis=2))
    for _ in range(len(ca)):
        i, j = np.unravel_index(np.argmin(d), d.shape)
        if d[i, j] > mean_tol:
            return False
        d[i, :] = np.inf
        d[:, j] = np.inf
    return True


def distinct_optima(restarts, direction, data_scale=1.0, mean_tol=MEAN_TOL, objective_rtol=OBJECTIVE_RTOL):
    """Group restarts that reached the same local optimum.

    restarts : list of ``Restart``; direction : -1 (minimise J / F) or +1 (maximise log p(D)).
    k-means (restarts with a ``key``): the same partition up to renumbering the clusters.
    Otherwise: objectives within ``objective_rtol`` (relative) and means within
    ``mean_tol`` x ``data_scale`` after matching components.
    Returns (optima: list of ``Optimum`` best first, failed: indices with no finite objective).
    """
    failed = [r.index for r in restarts if r.objective is None]
    ok = sorted((r for r in restarts if r.objective is not None),
                key=lambda r: (-direction * r.objective, r.index))  # best first
    groups = []  # (representative Restart, Optimum)
    by_key = {}
    for r in ok:
        if r.key is not None:
            if r.key not in by_key:
                by_key[r.key] = Optimum(r.objective)
                groups.append((r, by_key[r.key]))
            by_key[r.key].restarts.append(r.index)
            continue
        for rep, optimum in groups:
            if _same_parameters(rep, r, direction, mean_tol * data_scale, objective_rtol):
                optimum.restarts.append(r.index)
                break
        else:
            groups.append((r, Optimum(r.objective, [r.index])))
    optima = [o for _, o in groups]
    for o in optima:
        o.restarts.sort()
    return optima, failed


def data_scale(dataset):
    """The largest per-feature standard deviation (1 where all are 0): distinct optima's unit."""
    s = float(_dataset(dataset).X.std(axis=0).max())
    return s if s > 0 else 1.0


def summarise(scenario, restarts, dataset=None, cancelled=False):
    """``RestartsResult`` of finished ``restarts`` of ``scenario``."""
    dataset = _dataset(scenario.points if dataset is None else dataset)
    description = describe(scenario.algorithm)
    direction = description.primary.direction
    optima, failed = distinct_optima(restarts, direction, data_scale(dataset))
    best = optima[0].restarts[0] if optima else None
    if optima:  # the best restart of the best optimum
        best = min(optima[0].restarts, key=lambda i: -direction * restarts[i].objective)
    algorithm = scenario.make_algorithm()
    settings = {**algorithm.settings(),
                "init": "jitter" if scenario.centres is not None else scenario.init,
                "seed": restarts[0].seed if restarts else scenario.seed}
    k = restarts[0].final_centres.shape[0] if restarts else scenario.n_clusters
    return RestartsResult(algorithm=description.name, settings=settings, n=dataset.n_samples,
                          dim=dataset.n_features, k=k, restarts=list(restarts), optima=optima,
                          failed=failed, best=best, cancelled=cancelled)


def run_restarts(scenario, n_restarts=DEFAULT_N_RESTARTS, seed=None, callback=None, cancel=None):
    """Run ``scenario`` from ``n_restarts`` starts (seeds ``seed`` .. ``seed`` + R - 1).

    callback(restart) is called after each; ``cancel`` (threading.Event) stops between restarts
    (the result then holds those done and ``cancelled=True``).  Returns a ``RestartsResult``.
    """
    dataset = _dataset(scenario.points)
    scenario = dataclasses.replace(scenario, points=dataset)
    done = []
    for r in iter_restarts(scenario, n_restarts, seed, cancel):
        done.append(r)
        if callback is not None:
            callback(r)
    return summarise(scenario, done, dataset, cancelled=len(done) < n_restarts)


# -- information criteria ---------------------------------------------------------------

def n_parameters(covariance_type, n_clusters, n_features, learn_weights=True):
    """Free parameters of a K-component, D-dimensional Gaussian mixture.

    means K·D; weights K−1 (0 when fixed); covariances: full K·D(D+1)/2, diag K·D,
    spherical K, tied D(D+1)/2, identity 0.  As scikit-learn's ``GaussianMixture._n_parameters``.
    """
    K, D = int(n_clusters), int(n_features)
    cov = {"full": K * D * (D + 1) // 2, "diag": K * D, "spherical": K,
           "tied": D * (D + 1) // 2, "identity": 0}
    if covariance_type not in cov:
        raise ValueError(f"covariance type must be one of {', '.join(cov)}; got {covariance_type!r}")
    return K * D + (K - 1 if learn_weights else 0) + cov[covariance_type]


def bic(log_likelihood, n_params, n_samples):
    """Bayesian information criterion −2 log p(D) + p log N (lower is better)."""
    return -2.0 * float(log_likelihood) + n_params * math.log(n_samples)


def aic(log_likelihood, n_params):
    """Akaike information criterion −2 log p(D) + 2p (lower is better)."""
    return -2.0 * float(log_likelihood) + 2.0 * n_params


# -- choosing K ---------------------------------------------------------------------------

@dataclass
class KResult:
    """The best of R restarts for one K: ``restarts`` (a ``RestartsResult``), its best
    ``Restart``, and for EM ``bic`` / ``aic`` (on the fitted points) and the held-out
    log-likelihood (when some points were held out)."""

    k: int
    restarts: RestartsResult
    best: Restart
    bic: float = None
    aic: float = None
    held_out_log_likelihood: float = None

    def to_dict(self):
        out = {"k": self.k, self.restarts.objective_field: None if self.best is None else self.best.objective,
               "optima": len(self.restarts.optima)}
        if self.restarts.algorithm == "em":
            out["bic"], out["aic"] = self.bic, self.aic
            if self.held_out_log_likelihood is not None:
                out["held_out_log_likelihood"] = self.held_out_log_likelihood
        return out


def check_k_range(low, high, n_samples):
    """(low, high) if 1 <= low <= high <= min(100, N); ValueError otherwise."""
    N_CLUSTERS.check(low, "k range start")
    N_CLUSTERS.check(high, "k range end")
    if low > high:
        raise ValueError(f"k range {low}:{high} is empty (the start is above the end)")
    if high > n_samples:
        raise ValueError(f"k range {low}:{high} asks for more clusters than the {n_samples} points")
    return low, high


def held_out_split(n_samples, fraction, seed):
    """(fit indices, held-out indices): a seeded permutation, round(fraction·N) held out (>= 1)."""
    HELD_OUT.check(fraction, "held-out fraction")
    n_test = max(1, round(fraction * n_samples))
    if n_test >= n_samples:
        raise ValueError(f"holding out {fraction:g} of {n_samples} points leaves none to fit")
    order = np.random.default_rng(seed).permutation(n_samples)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def log_likelihood(algorithm, data, snapshot):
    """EM: log p(data) under ``snapshot``'s parameters (data (M, D) or a Dataset)."""
    data = _dataset(data)
    return float(algorithm.responsibility_pass(data, snapshot, algorithm.new_workspace(data)).log_likelihood)


def has_likelihood(algorithm):
    """Whether the algorithm named ``algorithm`` is a likelihood model (EM): BIC, AIC and a
    held-out log-likelihood apply to it."""
    return describe(algorithm).name == "em"


def choose_k_data(scenario, held_out=None, seed=None):
    """(points to fit as a ``Dataset``, held-out points as a ``Dataset`` or None) for choosing K.

    held_out : fraction in (0, 0.5], EM only: a split seeded by ``seed`` (default the
    scenario's).  ValueError when the scenario places its own initial parameters.
    """
    if scenario.centres is not None or scenario.weights is not None or scenario.covariances is not None:
        raise ValueError("choosing K draws the initial parameters: leave out centres, weights and covariances")
    seed = scenario.seed if seed is None else seed
    dataset = _dataset(scenario.points)
    if held_out is None:
        return dataset, None
    if not has_likelihood(scenario.algorithm):
        raise ValueError("a held-out log-likelihood needs --algorithm em")
    fit_idx, test_idx = held_out_split(dataset.n_samples, held_out, seed)
    return Dataset(dataset.X[fit_idx]), Dataset(dataset.X[test_idx])


def best_of_k(scenario, dataset, k, n_restarts=DEFAULT_N_RESTARTS, seed=None, test=None, cancel=None):
    """The best of ``n_restarts`` restarts of ``scenario`` with K = ``k`` on ``dataset`` (from
    ``choose_k_data``; ``test`` its held-out points): a ``KResult``, or None when cancelled.
    The window calls this on its engine worker, one K per call."""
    seed = scenario.seed if seed is None else seed
    sc = dataclasses.replace(scenario, points=dataset, n_clusters=k)
    series = run_restarts(sc, n_restarts, seed, cancel=cancel)
    if series.cancelled:
        return None
    best = None if series.best is None else series.restarts[series.best]
    result = KResult(k=k, restarts=series, best=best)
    if has_likelihood(scenario.algorithm) and best is not None:
        algorithm = scenario.make_algorithm()
        p = n_parameters(algorithm.covariance_type, k, dataset.n_features, algorithm.learn_weights)
        result.bic = bic(best.objective, p, dataset.n_samples)
        result.aic = aic(best.objective, p)
        if test is not None:
            result.held_out_log_likelihood = log_likelihood(algorithm, test, best.final)
    return result


def choose_k(scenario, k_range=DEFAULT_K_RANGE, n_restarts=DEFAULT_N_RESTARTS, seed=None,
             held_out=None, callback=None, cancel=None):
    """The best of ``n_restarts`` restarts for each K in ``k_range`` (inclusive pair).

    Centres are drawn with ``scenario.init`` (given centres fix K and are refused).
    held_out : fraction in (0, 0.5], EM only: a split seeded by ``seed``; fit on the rest and
    report the held-out log-likelihood.  callback(KResult) after each K; ``cancel`` is checked
    between restarts.  Returns a list of ``KResult`` (shorter when cancelled).
    """
    seed = scenario.seed if seed is None else seed
    dataset, test = choose_k_data(scenario, held_out, seed)
    low, high = check_k_range(*k_range, dataset.n_samples)
    N_RESTARTS.check(n_restarts, "restarts")
    results = []
    for k in range(low, high + 1):
        if cancel is not None and cancel.is_set():
            break
        result = best_of_k(scenario, dataset, k, n_restarts, seed, test, cancel)
        if result is None:
            break
        results.append(result)
        if callback is not None:
            callback(result)
    return results


def choose_k_document(scenario, results, n_restarts, seed, held_out=None):
    """The choose-k file (``"format": "clusterlab-choose-k"``) for ``results`` of ``choose_k``."""
    algorithm = scenario.make_algorithm()
    dataset = _dataset(scenario.points)
    return {"format": "clusterlab-choose-k", "version": 1,
            "algorithm": describe(scenario.algorithm).name,
            "settings": {**algorithm.settings(), "init": scenario.init, "seed": seed,
                         "restarts": n_restarts, "held_out": held_out},
            "n": dataset.n_samples, "dim": dataset.n_features,
            "results": [r.to_dict() for r in results]}
