"""``python main.py bench``: time an iteration of each algorithm at scale.

Ratios are taken within the same run, against scikit-learn (when installed)
and against one plain numpy pass over the data.
"""

import time

import numpy as np

from .sampling import Mixture
from .scenario import Scenario
from .settings import AlgorithmSettings


def _median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def benchmark_data(n, k, seed=0):
    """n points from k round Gaussians on a circle, plus k initial centres."""
    angles = np.linspace(0.0, 2.0 * np.pi, k, endpoint=False)
    means = np.c_[np.cos(angles), np.sin(angles)] * 6.0
    mixture = Mixture(np.full(k, 1.0 / k), means, np.broadcast_to(np.eye(2), (k, 2, 2)))
    X, _ = mixture.sample(n, seed=seed)
    rng = np.random.default_rng(seed + 1)
    centres = X[rng.choice(n, size=k, replace=False)]
    return X, centres


def time_engine_iteration(X, centres, algorithm, settings, repeats):
    """Median seconds for one full iteration (both half-steps) after warm-up."""
    scenario = Scenario(points=X, algorithm=algorithm, centres=centres,
                        settings=AlgorithmSettings(**settings, max_iter=10_000, tol=0.0))
    run = scenario.start()
    run.run(2)  # compiled and warm

    times = []
    for _ in range(repeats):
        if run.finished:  # converged: start again, untimed, so every timing is real work
            run = scenario.start()
            run.run(2)
        t0 = time.perf_counter()
        run.run(2)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def time_kmeans_run(X, centres, repeats):
    """k-means from ``centres`` to convergence: median set-up seconds (``Scenario.start``),
    median seconds per iteration after it, and the number of iterations."""
    scenario = Scenario(points=X, algorithm="kmeans", centres=centres)
    scenario.start().run()  # compiled and warm
    setups, per_iteration = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run = scenario.start()
        t1 = time.perf_counter()
        run.run()
        setups.append(t1 - t0)
        per_iteration.append((time.perf_counter() - t1) / run.n_iter)
    return float(np.median(setups)), float(np.median(per_iteration)), run.n_iter


def time_sklearn_iteration(make, X, repeats, m=4):
    """Per-iteration seconds of a scikit-learn estimator, set-up cancelled out:
    (t(1 + m iterations) - t(1 iteration)) / (iterations done in between)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "did not converge": intended here
        short, long = make(1), make(1 + m)
        t_short = _median_time(lambda: short.fit(X), repeats)
        t_long = _median_time(lambda: long.fit(X), repeats)
    extra = max(long.n_iter_ - short.n_iter_, 1)
    return max(t_long - t_short, 1e-9) / extra


def run_benchmark(n=1_000_000, k=10, repeats=5, sklearn=True, out=print):
    import numba
    X, centres = benchmark_data(n, k)
    out(f"engine benchmark: N={n:,}, K={k}, D=2, numba threads={numba.get_num_threads()}")
    c = centres[0]
    t_pass = _median_time(lambda: np.square(X - c).sum(axis=1), repeats)
    out(f"  one numpy pass: ||x - c||^2 to one centre: {t_pass * 1e3:8.2f} ms")
    rows = [
        ("k-means", "kmeans", {}),
        ("soft k-means", "soft-kmeans", {"beta": 1.0}),
        ("EM full", "em", {"covariance_type": "full"}),
    ]
    for extra in ("diag", "spherical", "tied"):
        rows.append((f"EM {extra}", "em", {"covariance_type": extra}))
    ours = {}
    for label, name, settings in rows:
        t0 = time.perf_counter()
        t = time_engine_iteration(X, centres, name, settings, repeats)
        ours[label] = t
        out(f"  {label:<14} iteration: {t * 1e3:8.2f} ms  ({t / t_pass:5.1f} numpy passes;"
            f" set-up incl. compile {time.perf_counter() - t0 - t * repeats:5.2f} s)")
    out(f"  soft k-means / EM full: {ours['soft k-means'] / ours['EM full']:.2f}x")
    if not sklearn:
        return ours
    try:
        from sklearn.cluster import KMeans as SKKMeans
        from sklearn.mixture import GaussianMixture
    except ImportError:
        out("  scikit-learn not installed: no comparison")
        return ours
    sk_km = time_sklearn_iteration(
        lambda it: SKKMeans(n_clusters=k, init=centres, n_init=1, max_iter=it, tol=0.0,
                            algorithm="lloyd"), X, repeats)
    out(f"  scikit-learn KMeans(lloyd) iteration:       {sk_km * 1e3:8.2f} ms"
        f"  -> ours {sk_km / ours['k-means']:5.1f}x faster (iterations 2-{repeats + 1})")
    # Whole runs to convergence from the same centres.  Lloyd's cost per
    # iteration is fixed; ours falls as fewer blocks straddle a boundary.
    setup, iterations, n_iter = time_kmeans_run(X, centres, max(7, repeats))  # cheap: ~0.1 s a run
    t0 = time.perf_counter()
    sk_run = SKKMeans(n_clusters=k, init=centres, n_init=1, max_iter=300, tol=0.0,
                      algorithm="lloyd").fit(X)
    sk_whole = time.perf_counter() - t0
    ours_whole = setup + iterations * n_iter
    sk_full = time_sklearn_iteration(
        lambda it: SKKMeans(n_clusters=k, init=centres, n_init=1, max_iter=300 if it > 1 else 1,
                            tol=0.0, algorithm="lloyd"), X, max(1, repeats // 2))
    out(f"  k-means to convergence ({n_iter} iterations; scikit-learn {sk_run.n_iter_}):")
    out(f"    per iteration:            ours {iterations * 1e3:6.2f} ms, scikit-learn {sk_full * 1e3:6.2f} ms"
        f" -> ours {sk_full / iterations:5.1f}x faster")
    out(f"    whole run incl. set-up:   ours {ours_whole * 1e3:6.1f} ms"
        f" (set-up {setup * 1e3:.1f} ms: copy, checks, points into blocks),"
        f" scikit-learn {sk_whole * 1e3:6.1f} ms -> ours {sk_whole / ours_whole:5.1f}x faster")
    for cov in ("full", "diag", "spherical", "tied"):
        sk_gm = time_sklearn_iteration(
            lambda it, cov=cov: GaussianMixture(n_components=k, covariance_type=cov, max_iter=it, tol=0.0,
                                       means_init=centres, init_params="random_from_data",
                                       random_state=0), X, max(2, repeats // 2), m=2)
        label = f"EM {cov}"
        out(f"  scikit-learn GaussianMixture({cov:<9}) it.: {sk_gm * 1e3:8.2f} ms"
            f"  -> ours {sk_gm / ours[label]:5.1f}x faster")
    return ours
