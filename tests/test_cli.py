"""`python main.py run`: the headless contract others script against."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import main

ROOT = Path(__file__).resolve().parent.parent


def run_main(args, capsys):
    code = main.main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def points_csv(tmp_path, three_blobs):
    path = tmp_path / "points.csv"
    np.savetxt(path, three_blobs, delimiter=",", header="x,y", comments="")
    return path


def test_run_writes_the_documented_trace(tmp_path, points_csv, capsys):
    out = tmp_path / "trace.json"
    code, _, err = run_main(["run", "--data", str(points_csv), "--algorithm", "kmeans", "--k", "3",
                             "--seed", "4", "--out", str(out)], capsys)
    assert code == 0, err
    trace = json.loads(out.read_text())
    for key in ("algorithm", "settings", "n", "dim", "k", "converged", "iterations", "steps", "final"):
        assert key in trace
    assert (trace["algorithm"], trace["n"], trace["dim"], trace["k"]) == ("kmeans", 360, 2, 3)
    steps = trace["steps"]
    assert [s["index"] for s in steps] == list(range(len(steps)))
    assert steps[0]["phase"] == "init" and steps[1]["phase"] == "assign"
    assert {s["phase"] for s in steps[1:]} == {"assign", "refit"}
    assert trace["converged"] and steps[-1]["converged"]
    costs = [s["cost"] for s in steps[1:]]
    assert all(b <= a + 1e-9 for a, b in zip(costs, costs[1:]))
    assert len(trace["final"]["labels"]) == 360
    assert np.array(steps[-1]["centres"]).shape == (3, 2)


def test_em_trace_with_manual_parameters(tmp_path, points_csv, capsys):
    centres = tmp_path / "centres.csv"
    centres.write_text("-4,-2\n4,-2\n0,4\n")
    weights = tmp_path / "weights.csv"
    weights.write_text("0.2\n0.3\n0.5\n")
    covs = tmp_path / "covs.npy"
    np.save(covs, np.stack([np.eye(2) * 2] * 3))
    out = tmp_path / "em.json"
    code, _, err = run_main(["run", "--data", str(points_csv), "--algorithm", "em", "--covariance",
                             "diag", "--centres", str(centres), "--weights", str(weights),
                             "--covariances", str(covs), "--max-iter", "5", "--tol", "0",
                             "--out", str(out)], capsys)
    assert code == 0, err
    trace = json.loads(out.read_text())
    first = trace["steps"][0]
    assert first["weights"] == [0.2, 0.3, 0.5]
    assert first["centres"] == [[-4, -2], [4, -2], [0, 4]]
    assert {s["phase"] for s in trace["steps"][1:]} == {"e", "m"}
    assert trace["iterations"] == 5 and len(trace["steps"]) == 11
    assert set(trace["steps"][1]) >= {"log_likelihood", "lower_bound", "covariances"}
    assert "cost" not in trace["steps"][1]


def test_soft_kmeans_from_sample_to_stdout(capsys):
    code, out, _ = run_main(["run", "--sample", "blobs", "--n", "90", "--algorithm", "soft-kmeans",
                             "--beta", "2", "--init", "forgy"], capsys)
    assert code == 0
    trace = json.loads(out)
    assert trace["settings"]["beta"] == 2.0 and trace["n"] == 90
    assert trace["steps"][1]["free_energy"] is not None


@pytest.mark.parametrize("args, message", [
    (["--data", "missing.csv"], "no such file"),
    (["--sample", "blobs", "--k", "0"], "argument --k: must be from 1 to 100, got 0"),
    (["--sample", "blobs", "--n", "5", "--k", "9"], "larger than the number of points"),
    (["--sample", "blobs", "--algorithm", "soft-kmeans", "--beta", "-1"], "argument --beta: must be from 1e-09 to 1e+09"),
    (["--sample", "blobs", "--algorithm", "nope"], "invalid choice"),
    (["--sample", "blobs", "--k", "two"], "argument --k: must be an integer, got 'two'"),
    (["--sample", "blobs", "--n", "1e10"], "argument --n: must be an integer"),
    (["--sample", "blobs", "--n", "10000000000"], "argument --n: must be from 1 to 10,000,000"),
    (["--sample", "blobs", "--max-iter", "1000000000000"], "argument --max-iter: must be from 1 to 100,000"),
    (["--sample", "blobs", "--seed", "1099511627776"], "argument --seed: must be from 0 to 2,147,483,647"),
    (["--sample", "blobs", "--algorithm", "soft-kmeans", "--beta", "1e308"], "argument --beta"),
    (["--sample", "blobs", "--algorithm", "soft-kmeans", "--beta", "5e-324"], "argument --beta"),
    (["--sample", "no-such-preset"], "not a preset"),
    ([], "no data"),
    (["--sample", "blobs", "--tol", "-1"], "argument --tol: must be at least 0 and less than 1"),
])
def test_bad_arguments_exit_2_with_one_line(args, message, capsys):
    code, _, err = run_main(["run"] + args, capsys)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


@pytest.mark.parametrize("content, message", [
    ("x,y\n1,2\n3,oops\n", "not a numeric CSV"),
    ("", "empty"),
    ("x,y\n1,nan\n", "NaN"),
    ("1\n2\n", "at least 2 numeric columns"),
    ("x,y\n", "no data rows"),
])
def test_bad_data_files_exit_2(tmp_path, content, message, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    code, _, err = run_main(["run", "--data", str(path)], capsys)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_bad_parameter_files_exit_2(tmp_path, points_csv, capsys):
    covs = tmp_path / "covs.npy"
    np.save(covs, np.stack([[[1.0, 2.0], [2.0, 1.0]]] * 3))
    code, _, err = run_main(["run", "--data", str(points_csv), "--algorithm", "em", "--k", "3",
                             "--covariances", str(covs)], capsys)
    assert code == 2 and "not positive definite" in err
    centres = tmp_path / "c.csv"
    centres.write_text("1,2,3\n")
    code, _, err = run_main(["run", "--data", str(points_csv), "--centres", str(centres)], capsys)
    assert code == 2 and "shape (K, 2)" in err


def test_npy_points_and_mixture_spec(tmp_path, capsys, three_blobs):
    npy = tmp_path / "p.npy"
    np.save(npy, three_blobs)
    code, out, _ = run_main(["run", "--data", str(npy), "--k", "2"], capsys)
    assert code == 0 and json.loads(out)["k"] == 2
    spec = tmp_path / "mix.json"
    spec.write_text(json.dumps({"weights": [0.5, 0.5], "means": [[0, 0], [5, 5]],
                                "covariances": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]}))
    code, out, _ = run_main(["run", "--sample", str(spec), "--n", "50", "--k", "2"], capsys)
    assert code == 0 and json.loads(out)["n"] == 50


def test_help_lists_subcommands():
    result = subprocess.run([sys.executable, "main.py", "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0
    for command in ("run", "export", "bench"):
        assert command in result.stdout


def test_run_in_a_subprocess_exits_2_without_traceback(tmp_path):
    result = subprocess.run([sys.executable, "main.py", "run", "--sample", "blobs", "--k", "-3"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr


def test_engine_never_imports_qt():
    code = ("import sys, engine, engine.benchmark, engine.formats, engine.scenario; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')]; "
            "print(','.join(bad))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env={**os.environ})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_final_labels_are_one_definition_in_the_trace_and_the_labels_csv(tmp_path, rng):
    """EM stopped by max_iter after an M-step: the labels are those under the final parameters,
    in the trace and in the window's labels CSV alike."""
    from engine.scenario import Scenario
    from engine.settings import AlgorithmSettings
    from engine.trace import trace
    from gui.export_dialog import write_labels_csv
    X = np.vstack([rng.normal(size=(200, 2)), rng.normal(size=(200, 2)) + 1.2])
    scenario = Scenario(points=X, algorithm="em", settings=AlgorithmSettings(max_iter=3),
                        centres=X[:3])
    run = scenario.start().run()
    assert run.current.phase == "m" and not run.converged
    final = np.array(trace(run)["final"]["labels"])
    shown = run.labels()  # the last E-step's responsibilities: what the M-step frame shows
    assert np.any(final != shown)  # the two definitions really differ here
    path = tmp_path / "labels.csv"
    write_labels_csv(scenario, path)
    csv_labels = np.loadtxt(path, delimiter=",", skiprows=1, usecols=2).astype(int) - 1
    np.testing.assert_array_equal(csv_labels, final)
    expected = np.argmax(run.algorithm.responsibilities(run.data, run.current), axis=1)
    np.testing.assert_array_equal(final, expected)
