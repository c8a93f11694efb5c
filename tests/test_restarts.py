"""Restarts, distinct optima, choosing K, BIC / AIC (engine/restarts.py) and their subcommands."""

import json
import math
import threading

import numpy as np
import pytest

import main
from engine.presets import PRESETS
from engine.restarts import (
    aic,
    bic,
    choose_k,
    distinct_optima,
    iter_restarts,
    n_parameters,
    run_restarts,
)
from engine.scenario import Scenario
from engine.settings import AlgorithmSettings


def local_optimum_points(n=300, seed=0):
    return PRESETS["local-optimum"][1].sample(n, seed=seed)[0]


def test_kmeans_best_is_the_minimum_and_counts_add_up():
    sc = Scenario(points=local_optimum_points(), algorithm="kmeans", n_clusters=4, init="forgy")
    result = run_restarts(sc, 20, seed=0)
    costs = [r.objective for r in result.restarts]
    assert result.restarts[result.best].objective == min(costs)
    assert sum(o.count for o in result.optima) + len(result.failed) == 20
    assert sorted(i for o in result.optima for i in o.restarts) == list(range(20))
    assert [o.objective for o in result.optima] == sorted(o.objective for o in result.optima)
    assert [r.seed for r in result.restarts] == list(range(20))


def test_local_optimum_preset_has_a_stuck_optimum():
    # the numbers are for 300 points (best 178.4, stuck 838.9)
    sc = Scenario(points=local_optimum_points(300), algorithm="kmeans", n_clusters=4, init="forgy")
    result = run_restarts(sc, 20, seed=0)
    assert len(result.optima) > 1
    assert result.optima[0].objective == pytest.approx(178.4, abs=0.05)
    assert any(o.objective == pytest.approx(838.9, abs=0.05) for o in result.optima)
    assert result.optima[-1].objective > 4 * result.optima[0].objective


def test_kmeans_same_partition_up_to_renumbering_is_one_optimum(three_blobs):
    sc = Scenario(points=three_blobs, algorithm="kmeans", n_clusters=3, init="kmeans++")
    result = run_restarts(sc, 10, seed=3)
    # well separated blobs: every start finds them, in whatever order
    assert len(result.optima) == 1 and result.optima[0].count == 10
    orders = {tuple(np.argsort(r.final_centres[:, 0])) for r in result.restarts}
    assert len(orders) > 1  # the clusters did come out numbered differently


def test_em_best_is_the_maximum(three_blobs):
    sc = Scenario(points=three_blobs, algorithm="em", n_clusters=3, init="random")
    result = run_restarts(sc, 8, seed=1)
    lls = [r.objective for r in result.restarts]
    assert result.restarts[result.best].objective == max(lls)
    assert sum(o.count for o in result.optima) + len(result.failed) == 8
    assert result.optima[0].objective == max(lls)


def test_distinct_optima_for_soft_models_matches_components():
    from engine.restarts import Restart
    c = np.array([[0.0, 0.0], [5.0, 1.0]])
    a = Restart(0, 0, c, c, -10.0, 5, True, "converged")
    b = Restart(1, 1, c, c[::-1] + 1e-5, -10.0 * (1 + 1e-8), 5, True, "converged")
    far = Restart(2, 2, c, c + [0.5, 0.0], -10.0, 5, True, "converged")
    optima, failed = distinct_optima([a, b, far], direction=+1, data_scale=1.0)
    assert failed == [] and sorted(o.count for o in optima) == [1, 2]


def test_centres_given_are_jittered_per_seed(three_blobs):
    centres = np.array([[-4.0, -2.0], [4.0, -2.0], [0.0, 4.0]])
    sc = Scenario(points=three_blobs, algorithm="kmeans", centres=centres, n_clusters=3)
    rs = list(iter_restarts(sc, 3, seed=5))
    starts = [r.initial_centres for r in rs]
    assert not np.allclose(starts[0], starts[1])
    spread = three_blobs.std(axis=0)
    assert np.all(np.abs(starts[0] - centres) < 0.6 * spread)  # 10% sd: 6 sd is never reached
    again = list(iter_restarts(sc, 1, seed=5))[0]
    np.testing.assert_array_equal(again.initial_centres, starts[0])


def test_cancel_stops_between_restarts(three_blobs):
    cancel = threading.Event()
    seen = []

    def callback(r):
        seen.append(r.index)
        if r.index == 2:
            cancel.set()
    sc = Scenario(points=three_blobs, algorithm="kmeans", n_clusters=3)
    result = run_restarts(sc, 50, seed=0, callback=callback, cancel=cancel)
    assert seen == [0, 1, 2] and result.cancelled and len(result.restarts) == 3


@pytest.mark.parametrize("kind,expected", [("full", 2 * 2 + 1 + 2 * 3), ("diag", 4 + 1 + 4),
                                           ("spherical", 4 + 1 + 2), ("tied", 4 + 1 + 3),
                                           ("identity", 4 + 1 + 0)])
def test_n_parameters(kind, expected):
    assert n_parameters(kind, 2, 2) == expected
    assert n_parameters(kind, 2, 2, learn_weights=False) == expected - 1


def _sklearn_mixture(kind, snapshot):
    from sklearn.mixture import GaussianMixture
    from sklearn.mixture._gaussian_mixture import _compute_precision_cholesky
    K, D = snapshot.centres.shape
    cov = np.array(snapshot.covariances)
    sk_cov = {"full": cov, "tied": cov[0], "diag": np.einsum("kii->ki", cov),
              "spherical": np.einsum("kii->k", cov) / D}[kind]
    gm = GaussianMixture(n_components=K, covariance_type=kind)
    gm.weights_ = np.array(snapshot.weights)
    gm.means_ = np.array(snapshot.centres)
    gm.covariances_ = sk_cov
    gm.precisions_cholesky_ = _compute_precision_cholesky(sk_cov, kind)
    return gm


@pytest.mark.parametrize("kind", ["full", "diag", "spherical", "tied"])
def test_bic_aic_match_formula_and_sklearn(kind, three_blobs):
    sc = Scenario(points=three_blobs, algorithm="em", n_clusters=3, init="kmeans++",
                  settings=AlgorithmSettings(covariance_type=kind))
    [res] = choose_k(sc, (3, 3), n_restarts=3, seed=0)
    ll, n = res.best.objective, len(three_blobs)
    p = n_parameters(kind, 3, 2)
    assert res.bic == pytest.approx(-2 * ll + p * math.log(n), rel=1e-12)
    assert res.aic == pytest.approx(-2 * ll + 2 * p, rel=1e-12)
    assert bic(ll, p, n) == res.bic and aic(ll, p) == res.aic
    gm = _sklearn_mixture(kind, res.best.final)
    assert gm._n_parameters() == p
    assert res.bic == pytest.approx(gm.bic(three_blobs), rel=1e-8)
    assert res.aic == pytest.approx(gm.aic(three_blobs), rel=1e-8)


def test_choose_k_prefers_three_blobs_by_bic_and_holds_out(three_blobs):
    sc = Scenario(points=three_blobs, algorithm="em", n_clusters=3, init="kmeans++")
    results = choose_k(sc, (1, 5), n_restarts=4, seed=0, held_out=0.25)
    assert [r.k for r in results] == [1, 2, 3, 4, 5]
    assert min(results, key=lambda r: r.bic).k == 3
    assert all(r.held_out_log_likelihood is not None and np.isfinite(r.held_out_log_likelihood)
               for r in results)
    assert results[0].restarts.n == 270  # fitted on the 75% kept


# -- the command line --------------------------------------------------------------------

def test_cli_restarts_writes_the_documented_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main.main(["restarts", "--sample", "local-optimum", "--n", "300", "--k", "4", "--init", "forgy",
                      "--restarts", "12", "--seed", "0", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert (doc["format"], doc["version"], doc["algorithm"], doc["n"], doc["dim"], doc["k"]) == \
        ("clusterlab-restarts", 1, "kmeans", 300, 2, 4)
    assert len(doc["restarts"]) == 12
    for r in doc["restarts"]:
        assert set(r) >= {"seed", "initial_centres", "final_centres", "cost", "iterations", "converged"}
    assert sum(o["count"] for o in doc["optima"]) == 12
    assert doc["restarts"][doc["best"]]["cost"] == min(r["cost"] for r in doc["restarts"])
    assert doc["optima"][0]["cost"] == pytest.approx(178.4, abs=0.05)


def test_cli_choose_k_writes_bic_for_em(tmp_path, capsys):
    out = tmp_path / "k.json"
    code = main.main(["choose-k", "--sample", "blobs", "--algorithm", "em", "--k-range", "1:4",
                      "--restarts", "3", "--held-out", "0.2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    doc = json.loads(out.read_text())
    assert doc["format"] == "clusterlab-choose-k" and [r["k"] for r in doc["results"]] == [1, 2, 3, 4]
    for r in doc["results"]:
        assert {"log_likelihood", "bic", "aic", "held_out_log_likelihood"} <= set(r)
    assert min(doc["results"], key=lambda r: r["bic"])["k"] == 3


@pytest.mark.parametrize("args", [
    ["restarts", "--sample", "blobs", "--restarts", "0"],
    ["restarts", "--sample", "blobs", "--restarts", "10001"],
    ["choose-k", "--sample", "blobs", "--k-range", "5:2"],
    ["choose-k", "--sample", "blobs", "--n", "10", "--k-range", "1:11"],
    ["choose-k", "--sample", "blobs", "--k-range", "two:three"],
    ["choose-k", "--sample", "blobs", "--held-out", "0.7"],
    ["choose-k", "--sample", "blobs", "--held-out", "0.2"],  # k-means has no held-out likelihood
])
def test_cli_refuses_bad_arguments_with_one_line(args, tmp_path, capsys):
    out = tmp_path / "x.json"
    code = main.main(args + ["--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "error" in err
    assert not out.exists()
