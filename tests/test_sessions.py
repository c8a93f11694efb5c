"""Sessions: save, open, recover; bad files change nothing; loaders fuzzed."""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.formats import load_points
from engine.presets import PRESETS
from engine.session_file import SessionData, load_session, save_session, session_from_dict
from engine.settings import AlgorithmSettings, DisplayOptions
from engine.trace import trace

ROOT = Path(__file__).resolve().parent.parent


def example_data(three_blobs):
    return SessionData(points=three_blobs, centres=three_blobs[:3], algorithm="em",
                       settings=AlgorithmSettings(covariance_type="diag", reg_covar=1e-4, learn_weights=False,
                                                  max_iter=40, tol=1e-8, beta=2.0),
                       seed=7, init_method="forgy", n_clusters=3, mixture=PRESETS["unequal"][1],
                       sample_n=360, view=(-8.0, 8.0, -6.0, 7.0),
                       display=DisplayOptions(field=True))


def test_session_round_trip_reproduces_the_same_trace(tmp_path, three_blobs):
    data = example_data(three_blobs)
    path = tmp_path / "lecture.json"
    save_session(path, data)
    back = load_session(path)
    np.testing.assert_array_equal(back.points, data.points)
    np.testing.assert_array_equal(back.centres, data.centres)
    assert back.settings == data.settings
    assert (back.algorithm, back.seed, back.init_method, back.view) == ("em", 7, "forgy", data.view)
    np.testing.assert_array_equal(back.mixture.covariances, data.mixture.covariances)
    assert back.display == data.display
    assert json.dumps(trace(back.scenario().start().run())) == json.dumps(trace(data.scenario().start().run()))
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left nothing behind


def test_large_sessions_pack_their_points(tmp_path, monkeypatch):
    import engine.session_file as sf
    monkeypatch.setattr(sf, "INLINE_NUMBERS_MAX", 10)
    rng = np.random.default_rng(1)
    data = SessionData(points=rng.normal(size=(50, 2)), centres=np.zeros((0, 2)))
    path = tmp_path / "big.json"
    save_session(path, data)
    assert "base64" in json.loads(path.read_text())["points"]
    np.testing.assert_array_equal(load_session(path).points, data.points)
    broken = json.loads(path.read_text())
    broken["points"]["base64"] = "!!!"
    path.write_text(json.dumps(broken))
    with pytest.raises(ValueError, match="malformed packed array"):
        load_session(path)


def test_large_arrays_are_written_in_small_pieces(tmp_path, monkeypatch):
    """The autosave thread writes beside a playing window: no one call may hold the GIL for the
    whole base64 text, and the file is still the JSON of ``to_dict``, byte for byte."""
    import engine.session_file as sf
    monkeypatch.setattr(sf, "_BASE64_CHUNK", 3 * 64)
    rng = np.random.default_rng(2)
    n = 3 * sf.INLINE_NUMBERS_MAX  # points and truth both packed
    data = SessionData(points=rng.normal(size=(n, 2)), centres=np.zeros((1, 2)), truth=rng.integers(0, 3, n),
                       names=("x", "packed-0 y"))
    pieces = list(sf.session_pieces(data, {"recovery_of": "a.json"}))
    # base64 of at most 3 * 64 bytes each, but for the JSON before, between and after the two arrays
    assert sum(len(p) > 4 * 64 for p in pieces) <= 3
    assert len(pieces) > n * 16 // (3 * 64)
    expected = {**data.to_dict(), "recovery_of": "a.json"}
    assert b"".join(pieces).decode() == json.dumps(expected, allow_nan=False) + "\n"
    save_session(tmp_path / "s.json", data)
    back = load_session(tmp_path / "s.json")
    np.testing.assert_array_equal(back.points, data.points)
    np.testing.assert_array_equal(back.truth, data.truth)
    assert back.names == ("x", "packed-0 y")


def _write(tmp_path, text, name="bad.json"):
    path = tmp_path / name
    path.write_text(text) if isinstance(text, str) else path.write_bytes(text)
    return path


def _good_dict(three_blobs):
    return example_data(three_blobs).to_dict()


@pytest.mark.parametrize("mutate, message", [
    (lambda d: json.dumps(d)[:200], "not valid JSON, perhaps truncated"),
    (lambda d: "{not json", "not valid JSON"),
    (lambda d: "", "empty"),
    (lambda d: json.dumps({**d, "version": 99}), "version 99 is not supported"),
    (lambda d: json.dumps({**d, "format": "something"}), "not a ClusterLab session"),
    (lambda d: json.dumps({k: v for k, v in d.items() if k != "centres"}), "missing field 'centres'"),
    (lambda d: json.dumps({**d, "points": [["a", "b"]]}), "numeric"),
    (lambda d: json.dumps({**d, "points": [[1.0, float("nan")]]}), "NaN"),
    (lambda d: json.dumps({**d, "points": [[1.0, 2.0, 3.0]]}), "2 columns"),
    (lambda d: json.dumps({**d, "settings": {"beta": -1}}), "beta must be from"),
    (lambda d: json.dumps({**d, "algorithm": "dbscan"}), "algorithm must be one of"),
    (lambda d: json.dumps([1, 2, 3]), "top level is not an object"),
    (lambda d: json.dumps({**d, "view": [1, 0, 0, 1]}), "view"),
    # wrong kinds and ranges, field by field (each crashed or aborted the window before)
    (lambda d: json.dumps({**d, "display": {**d["display"], "marker_scale": "big"}}), "marker_scale must be a number"),
    (lambda d: json.dumps({**d, "display": {**d["display"], "marker_scale": float("nan")}}), "marker_scale must be finite"),
    (lambda d: json.dumps({**d, "display": {**d["display"], "trails": 1}}), "trails must be true or false"),
    (lambda d: json.dumps({**d, "display": {"sparkles": True}}), "unknown key 'sparkles'"),
    (lambda d: json.dumps({**d, "n_clusters": float("inf")}), "n_clusters must be an integer"),
    (lambda d: json.dumps({**d, "sample_n": float("inf")}), "sample_n must be an integer"),
    (lambda d: json.dumps({**d, "sample_n": 0}), "sample_n must be from 1"),
    (lambda d: json.dumps({**d, "seed": 2**40}), "seed must be from 0 to 2,147,483,647"),
    (lambda d: json.dumps({**d, "seed": "7"}), "seed must be an integer"),
    (lambda d: json.dumps({**d, "settings": {"max_iter": 1e12}}), "max_iter must be from 1 to 100,000"),
    (lambda d: json.dumps({**d, "settings": {"max_iter": 2.5}}), "max_iter must be an integer"),
    (lambda d: json.dumps({**d, "settings": {"learn_weights": "yes"}}), "learn_weights must be true or false"),
    (lambda d: json.dumps({**d, "settings": {"covariance_type": "round"}}), "covariance_type must be one of"),
    (lambda d: json.dumps({**d, "settings": {"gamma": 1}}), "unknown key 'gamma'"),
    (lambda d: json.dumps({**d, "init_method": "psychic"}), "init_method must be one of"),
    (lambda d: json.dumps({**d, "mixture": {"weights": [1.0], "means": [[0.0]], "covariances": [[[1.0]]]}}),
     "mixture must be 2-D, got 1-D"),
    (lambda d: json.dumps({**d, "mixture": {"weights": [1.0], "means": [[0.0, 0, 0]],
                                            "covariances": [np.eye(3).tolist()]}}), "mixture must be 2-D, got 3-D"),
    (lambda d: json.dumps({**d, "view": [0, 1, "a", 2]}), "view must hold numbers"),
])
def test_bad_session_files_give_one_clear_error(tmp_path, three_blobs, mutate, message):
    path = _write(tmp_path, mutate(_good_dict(three_blobs)))
    with pytest.raises(ValueError, match=message) as info:
        load_session(path)
    assert str(path) in str(info.value)


def test_a_file_too_large_for_memory_is_refused(tmp_path, monkeypatch, three_blobs):
    import engine.files as sf
    path = tmp_path / "big.json"
    save_session(path, example_data(three_blobs))
    monkeypatch.setattr(sf, "max_file_bytes", lambda: 100)
    with pytest.raises(ValueError, match="too large"):
        load_session(path)
    csv = _write(tmp_path, "x,y\n" + "1,2\n" * 100, "big.csv")
    with pytest.raises(ValueError, match="too large"):
        load_points(csv)


@given(st.binary(max_size=300))
def test_session_loader_fuzzed_bytes(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("fuzz") / "s.json"
    path.write_bytes(blob)
    try:
        load_session(path)
    except ValueError as exc:
        assert str(exc)


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                     max_leaves=20)


@given(st.dictionaries(st.sampled_from(["format", "version", "points", "centres", "algorithm", "settings",
                                        "seed", "mixture", "view", "display", "n_clusters", "sample_n"]),
                       _json, max_size=12))
def test_session_loader_fuzzed_structures(fields):
    obj = {"format": "clusterlab-session", "version": 1, **fields}
    try:
        session_from_dict(obj)
    except ValueError as exc:
        assert str(exc)


@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_points_loader_fuzzed(tmp_path_factory, blob):
    folder = tmp_path_factory.mktemp("fuzzcsv")
    for name in ("p.csv", "p.npy"):
        path = folder / name
        path.write_bytes(blob)
        try:
            X = load_points(path)
            assert X.ndim == 2 and X.shape[1] >= 2 and np.all(np.isfinite(X))
        except ValueError as exc:
            assert str(exc)


# -- the window ---------------------------------------------------------------------

@pytest.fixture
def make_window(qtbot):
    from gui.main_window import MainWindow
    from gui.session import SessionModel
    made = []

    def make():
        win = MainWindow(SessionModel())
        win.show()
        qtbot.waitExposed(win)
        made.append(win)
        return win
    yield make
    for win in made:
        win.session.mark_saved()
        win.close()
        win.deleteLater()


def _idle(qtbot, session):
    qtbot.waitUntil(lambda: not session.busy and session.frame is not None
                    and session.frame.run_id == session.run_id, timeout=20000)


def test_window_save_and_reopen(make_window, qtbot, tmp_path, three_blobs):
    win = make_window()
    s = win.session
    s.set_points(three_blobs)
    s.set_centres(three_blobs[:3])
    s.set_algorithm("soft-kmeans")
    s.set_setting("beta", 0.3)
    s.set_display("field", True)
    assert s.modified and win.isWindowModified()
    path = tmp_path / "class.json"
    assert win.files.save_as(str(path))
    assert not s.modified and "class.json" in win.windowTitle()
    other = make_window()
    assert other.files.open(str(path))
    o = other.session
    np.testing.assert_array_equal(o.points, three_blobs)
    np.testing.assert_array_equal(o.centres, three_blobs[:3])
    assert (o.algorithm, o.settings.beta, o.display.field) == ("soft-kmeans", 0.3, True)
    assert other.action_map["show_field"].isChecked()
    np.testing.assert_allclose(other.view_range(), win.view_range(), rtol=0.05, atol=0.3)
    o.run_to_end()
    s.run_to_end()
    _idle(qtbot, o)
    _idle(qtbot, s)
    assert [x.free_energy for x in o.history] == [x.free_energy for x in s.history]


def test_bad_file_changes_nothing(make_window, qtbot, tmp_path, monkeypatch, three_blobs):
    from PySide6.QtWidgets import QMessageBox
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    win = make_window()
    win.session.set_points(three_blobs)
    win.session.mark_saved()
    bad = _write(tmp_path, '{"format": "clusterlab-session", "version": 1, "points": [[1, 2]')
    assert not win.files.open(str(bad))
    assert warnings and "perhaps truncated" in warnings[0]
    np.testing.assert_array_equal(win.session.points, three_blobs)


def test_closing_with_unsaved_changes_asks(make_window, qtbot, monkeypatch, three_blobs):
    from PySide6.QtWidgets import QMessageBox
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Discard]
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: (asked.append(a[2]), answers.pop(0))[1])
    win = make_window()
    win.session.add_point(1.0, 2.0)
    win.files._on_autosave_timer()
    win.files._join_autosave()
    copy = win.files.recovery.path
    assert copy.exists()
    win.close()
    assert win.isVisible() and len(asked) == 1  # cancelled: still open
    win.close()
    assert not win.isVisible() and len(asked) == 2
    assert not copy.exists()  # discarded on purpose: nothing to recover


RECOVERY_SCRIPT = textwrap.dedent("""
    import os, sys, time
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from gui.session import SessionModel
    from gui.main_window import MainWindow
    win = MainWindow(SessionModel())
    win.show()
    s = win.session
    for x, y in [(0.5, 1.5), (2.0, -1.0), (-3.0, 0.25)]:
        s.add_point(x, y)
    s.add_centre(0.0, 0.0)
    s.set_algorithm("em")
    t0 = time.time()
    while not win.files.recovery.path.exists() and time.time() - t0 < 20:
        app.processEvents()
        time.sleep(0.01)
    print("autosaved", win.files.recovery.path.exists(), flush=True)
    os.kill(os.getpid(), 9)  # a crash: no closeEvent, no cleanup
""")


def test_recovery_after_a_kill(make_window, qtbot, tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    monkeypatch.setenv("CLUSTERLAB_DATA_DIR", str(data_dir))
    script = tmp_path / "crash.py"
    script.write_text(RECOVERY_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CLUSTERLAB_AUTOSAVE_MS": "100"}
    result = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == -signal.SIGKILL
    assert "autosaved True" in result.stdout
    win = make_window()
    offered = []
    assert win.files.offer_recovery(ask=lambda text: (offered.append(text), True)[1])
    assert "unsaved work" in offered[0]
    np.testing.assert_array_equal(win.session.points, [[0.5, 1.5], [2.0, -1.0], [-3.0, 0.25]])
    np.testing.assert_array_equal(win.session.centres, [[0.0, 0.0]])
    assert win.session.algorithm == "em" and win.session.modified


def test_main_opens_a_session_file(tmp_path, three_blobs):
    path = tmp_path / "s.json"
    save_session(path, example_data(three_blobs))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CLUSTERLAB_QUIT_AFTER_MS": "1500"}
    result = subprocess.run([sys.executable, "main.py", str(path)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "s.json" in result.stdout and "360 points, 3 centres, em" in result.stdout


def test_a_session_that_cannot_be_written_leaves_the_old_file_and_no_temporary(tmp_path, three_blobs):
    """json.dumps refuses NaN while the pieces are made, inside the atomic write: nothing changes."""
    path = tmp_path / "lecture.json"
    save_session(path, example_data(three_blobs))
    before = path.read_bytes()
    bad = example_data(three_blobs)
    bad.centres = bad.centres.copy()
    bad.centres[0, 0] = np.nan
    with pytest.raises(ValueError):
        save_session(path, bad)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["lecture.json"]
    import engine.session_file as sf
    many = np.random.default_rng(5).normal(size=(sf.INLINE_NUMBERS_MAX, 2))  # packed, not listed
    many[77, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):  # refused as the reader would refuse it
        save_session(path, SessionData(points=many, centres=many[:2]))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["lecture.json"]


def test_a_failed_save_names_the_file_once(window, tmp_path, monkeypatch):
    """"x.json: x.json: is read-only" read twice the path the engine's message names already."""
    from PySide6.QtWidgets import QMessageBox

    from engine.files import failure_text
    said = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: said.append((title, text)))
    window.session.add_point(1.0, 2.0)
    folder = tmp_path / "a folder.json"
    folder.mkdir()
    assert window.files.save_as(str(folder)) is False
    (title, text), = said
    assert title == "Cannot save" and text.count(str(folder)) == 1, text
    assert failure_text("b.json", PermissionError(13, "Permission denied")) == "b.json: Permission denied"
    window.session.mark_saved()
