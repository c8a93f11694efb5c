"""Nothing a lecturer made is lost: recovery copies per window, offered after a crash whatever
the next start asks for, and outputs that a kill -9 leaves whole (issue #9, items 1-6)."""

import argparse
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from engine.session_file import SessionData, load_session, save_session

ROOT = Path(__file__).resolve().parent.parent

CRASH = textwrap.dedent("""
    import os, sys, time
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from gui.main_window import MainWindow
    from gui.session import SessionModel
    win = MainWindow(SessionModel())
    win.show()
    for x, y in [(float(v), 1.0) for v in sys.argv[1].split(",")]:
        win.session.add_point(x, y)
    t0 = time.time()
    while not win.files.recovery.path.exists() and time.time() - t0 < 20:
        app.processEvents()
        time.sleep(0.01)
    print(win.files.recovery.path, flush=True)
    os.kill(os.getpid(), 9)  # a crash: no closeEvent, no cleanup
""")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv("CLUSTERLAB_DATA_DIR", str(folder))
    return folder


def crash_a_window(tmp_path, xs):
    """A window in another process adds points at x = xs, autosaves, and is killed: its copy's path."""
    script = tmp_path / "crash.py"
    script.write_text(CRASH)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CLUSTERLAB_AUTOSAVE_MS": "100"}
    result = subprocess.run([sys.executable, str(script), ",".join(map(str, xs))], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == -signal.SIGKILL, result.stderr[-2000:]
    path = Path(result.stdout.strip())
    assert path.exists()
    return path


def window_args(**flags):
    args = argparse.Namespace(session=None, data=None, sample=None, n=500, seed=0, algorithm="kmeans",
                              k=None, beta=1.0, covariance="full", reg_covar=1e-6, fixed_weights=False,
                              max_iter=300, tol=1e-6, init="kmeans++", centres=None, weights=None,
                              covariances=None)
    for key, value in flags.items():
        setattr(args, key, value)
    return args


@pytest.fixture
def opened(qtbot):
    from gui.app import open_window
    windows = []

    def start(args, ask):
        win = open_window(args, ask)
        windows.append(win)
        return win
    yield start
    for win in windows:
        if win is not None:
            win.session.mark_saved()
            win.close()


def test_opening_a_session_after_a_crash_offers_the_copy_first(data_dir, tmp_path, opened, three_blobs):
    copy = crash_a_window(tmp_path, [1.5, 2.5])
    lecture = tmp_path / "lecture.json"
    save_session(lecture, SessionData(points=three_blobs, centres=three_blobs[:3]))
    asked = []
    win = opened(window_args(session=str(lecture)), lambda text: (asked.append(text), True)[1])
    assert len(asked) == 1 and "unsaved work" in asked[0]
    np.testing.assert_array_equal(win.session.points, [[1.5, 1.0], [2.5, 1.0]])
    assert win.session.modified and copy.exists()  # still this window's copy until saved


def test_declining_deletes_only_that_copy_and_then_opens_the_session(data_dir, tmp_path, opened, three_blobs):
    crash_a_window(tmp_path, [1.0])
    lecture = tmp_path / "lecture.json"
    save_session(lecture, SessionData(points=three_blobs, centres=three_blobs[:3]))
    win = opened(window_args(session=str(lecture)), lambda text: False)
    np.testing.assert_array_equal(win.session.points, three_blobs)
    assert not win.session.modified
    assert list(data_dir.glob("recovery-*.json")) == []  # declined: gone, and the new window has none yet


def test_sampling_at_start_after_a_crash_never_overwrites_the_copy(data_dir, tmp_path, opened, monkeypatch):
    monkeypatch.setattr("gui.session_files.AUTOSAVE_MS", 50)
    copy = crash_a_window(tmp_path, [3.0, 4.0])
    before = copy.read_bytes()
    seen = []

    def ask(text):  # while the question is open, the copy is as the crashed window left it
        seen.append(copy.read_bytes())
        return True
    win = opened(window_args(sample="blobs"), ask)
    assert seen == [before]
    np.testing.assert_array_equal(win.session.points, [[3.0, 1.0], [4.0, 1.0]])


def test_every_orphan_is_offered_one_restored_the_rest_kept(data_dir, tmp_path, opened):
    first = crash_a_window(tmp_path, [1.0])
    time.sleep(0.05)
    second = crash_a_window(tmp_path, [2.0])
    win = opened(window_args(), lambda text: True)  # restores the newest
    np.testing.assert_array_equal(win.session.points, [[2.0, 1.0]])
    assert first.exists() and second.exists()
    asked = []
    other = opened(window_args(), lambda text: (asked.append(text), True)[1])
    assert len(asked) == 1  # the live window's copy is not offered, the other orphan is
    np.testing.assert_array_equal(other.session.points, [[1.0, 1.0]])


def test_two_windows_keep_two_copies_and_discard_only_their_own(data_dir, qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from gui.main_window import MainWindow
    from gui.session import SessionModel
    windows = [MainWindow(SessionModel()), MainWindow(SessionModel())]
    for i, win in enumerate(windows):
        win.show()
        win.session.add_point(float(i), 0.0)
        win.files._on_autosave_timer()
        win.files._join_autosave()
    one, two = (w.files.recovery.path for w in windows)
    assert one != two and one.exists() and two.exists()
    assert load_session(one).points[0, 0] == 0.0 and load_session(two).points[0, 0] == 1.0
    # a third window must not offer the live windows' work, nor delete it
    third = MainWindow(SessionModel())
    assert not third.files.offer_recovery(lambda text: pytest.fail(f"offered a live copy: {text}"))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    windows[0].close()  # Quit -> Discard in window 1
    assert not one.exists() and two.exists()
    for win in (windows[1], third):
        win.session.mark_saved()
        win.close()


def test_a_failing_autosave_is_shown_and_retried(data_dir, qtbot, monkeypatch):
    from gui.main_window import MainWindow
    from gui.session import SessionModel
    win = MainWindow(SessionModel())
    win.show()
    calls = []
    real_write = win.files.recovery.write

    def flaky(data, source):
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("Out of range float values are not JSON compliant")
        real_write(data, source)
    monkeypatch.setattr(win.files.recovery, "write", flaky)
    shown = []
    win.files.sigStatus.connect(shown.append)
    win.session.add_point(0.0, 0.0)
    for _ in range(3):
        win.files._on_autosave_timer()
        win.files._join_autosave()
    assert len(calls) == 2 and win.files.recovery.path.exists()  # retried after the failure
    assert any("Autosave failed" in text for text in shown)
    win.session.mark_saved()
    win.close()


EXPORT_KILL = ["export", "--sample", "blobs", "--n", "3000", "--algorithm", "em", "--max-iter", "200",
               "--tol", "0", "--size", "1920x1080"]


@pytest.mark.parametrize("output", ["--gif", "--strip", "--mp4"])
def test_kill_9_mid_export_leaves_the_old_file_or_a_whole_new_one(tmp_path, output):
    """Killed at several moments: the file is always the old one or a complete new one."""
    if output == "--mp4":
        pytest.importorskip("imageio_ffmpeg")
    from PIL import Image
    target = tmp_path / ("out.gif" if output == "--gif" else "out.png" if output == "--strip" else "out.mp4")
    old = b"the lecturer's earlier export"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    killed_while_running = 0
    for delay in (1.0, 2.0, 3.0, 4.0):
        target.write_bytes(old)
        proc = subprocess.Popen([sys.executable, "main.py", *EXPORT_KILL, output, str(target)], cwd=ROOT,
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        killed_while_running += proc.poll() is None
        proc.kill()
        proc.wait(30)
        data = target.read_bytes()
        if data != old and output != "--mp4":
            with Image.open(target) as im:  # a new file is whole: every frame decodes
                for frame in range(getattr(im, "n_frames", 1)):
                    im.seek(frame)
                    im.load()
    assert killed_while_running >= 2  # the kills did land mid-export


def test_a_bad_export_flag_leaves_the_old_file_whole(tmp_path):
    target = tmp_path / "anim.gif"
    target.write_bytes(b"GIF89a old")
    for flags in (["--fps", "0.001"], ["--loop", "65536"], ["--size", "200x16"]):
        result = subprocess.run([sys.executable, "main.py", "export", "--sample", "blobs", "--gif", str(target),
                                 *flags], cwd=ROOT, capture_output=True, text=True, timeout=120,
                                env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
        assert target.read_bytes() == b"GIF89a old"


def test_run_out_onto_its_own_input_is_refused(tmp_path, three_blobs):
    data = tmp_path / "points.csv"
    np.savetxt(data, three_blobs, delimiter=",")
    before = data.read_bytes()
    result = subprocess.run([sys.executable, "main.py", "run", "--data", str(data), "--out", str(data)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert data.read_bytes() == before


def test_saved_sessions_are_readable_by_colleagues(tmp_path, three_blobs):
    path = tmp_path / "lecture.json"
    old_umask = os.umask(0o022)
    try:
        save_session(path, SessionData(points=three_blobs, centres=three_blobs[:3]))
    finally:
        os.umask(old_umask)
    assert path.stat().st_mode & 0o777 == 0o644
    json.loads(path.read_text())


def test_a_killed_windows_half_written_copy_is_removed_and_a_live_ones_kept(data_dir, tmp_path, qtbot):
    from gui.main_window import MainWindow
    from gui.recovery import orphaned_copies
    from gui.session import SessionModel
    copy = crash_a_window(tmp_path, [1.0])  # its owner is gone
    dead_tmp = copy.with_name(f".{copy.name}.0badc0de.tmp")
    dead_tmp.write_bytes(b"{half a session")
    never_written = data_dir / ".recovery-feedface.json.12345678.tmp"  # killed in its first write
    never_written.write_bytes(b"{")
    live = MainWindow(SessionModel())
    live_tmp = live.files.recovery.path.with_name(f".{live.files.recovery.path.name}.abcdef01.tmp")
    live_tmp.write_bytes(b"{being written")
    try:
        orphans = orphaned_copies()
        assert [o.path for o in orphans] == [copy]  # the copy itself is still offered
        for o in orphans:
            o.lock.unlock()
        assert not dead_tmp.exists() and not never_written.exists()
        assert live_tmp.exists()  # its window lives: maybe writing it right now
    finally:
        live.session.mark_saved()
        live.close()
