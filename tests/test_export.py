"""Export for slides: exact pixel sizes, frame counts, GIF, strip, SVG; headless and from the window."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def cli(*args, timeout=300):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_headless_export_frames_gif_and_strip(tmp_path):
    scenario = ["--sample", "blobs", "--n", "150", "--algorithm", "em", "--k", "3", "--seed", "2"]
    trace = json.loads(cli("run", *scenario).stdout)
    n_steps = len(trace["steps"])
    frames, gif, strip = tmp_path / "frames", tmp_path / "run.gif", tmp_path / "strip.png"
    result = cli("export", *scenario, "--frames", str(frames), "--size", "640x360", "--gif", str(gif),
                 "--fps", "5", "--strip", str(strip), "--cols", "3", "--cost-plot")
    assert result.returncode == 0, result.stderr[-2000:]
    files = sorted(frames.glob("frame_*.png"))
    assert len(files) == n_steps
    for f in files:
        with Image.open(f) as im:
            assert im.size == (640, 360)
    with Image.open(gif) as im:
        assert im.n_frames == n_steps and im.size == (640, 360)
        assert im.info.get("duration") == 200
    rows = -(-n_steps // 3)
    with Image.open(strip) as im:
        assert im.size == (3 * (640 // 3), rows * 120)
    # consecutive frames differ (the run moves), first and last are not the same picture
    a = np.asarray(Image.open(files[0]).convert("RGB"), dtype=int)
    b = np.asarray(Image.open(files[-1]).convert("RGB"), dtype=int)
    assert np.abs(a - b).sum() > 0


def test_export_every_iteration_as_svg_from_a_session(tmp_path, three_blobs):
    from engine.session_file import SessionData, save_session
    session = tmp_path / "s.json"
    save_session(session, SessionData(points=three_blobs, centres=three_blobs[:3], algorithm="kmeans",
                                      view=(-10.0, 10.0, -8.0, 8.0)))
    out = tmp_path / "svg"
    result = cli("export", str(session), "--frames", str(out), "--format", "svg", "--size", "800x600",
                 "--frame-every", "iteration", "--transparent")
    assert result.returncode == 0, result.stderr[-2000:]
    files = sorted(out.glob("frame_*.svg"))
    from engine.scenario import Scenario
    run = Scenario(points=three_blobs, centres=three_blobs[:3]).start().run()
    assert len(files) == run.n_iter + 1 + (run.history[-1].phase == "assign")
    text = files[-1].read_text()
    assert 'viewBox="0 0 800 600"' in text
    assert text.count("<path") + text.count("<circle") + text.count("<ellipse") > len(three_blobs)


@pytest.mark.parametrize("args, message", [
    (["--sample", "blobs", "--frames", "X", "--size", "big"], "size must look like 1920x1080"),
    (["--sample", "blobs"], "nothing to export"),
    (["--sample", "blobs", "--frames", "X", "--cols", "0", "--strip", "s.png"], "--cols: must be from 1 to 16"),
    (["--sample", "blobs", "--gif", "X", "--fps", "0.001"], "--fps: must be from 0.1 to 100"),
    (["--sample", "blobs", "--gif", "X", "--loop", "65536"], "--loop: must be from 0 to 65,535"),
    (["--sample", "blobs", "--frames", "X", "--size", "200x16"], "leaves no room to draw"),
    (["--sample", "blobs", "--strip", "s.png", "--size", "640x360", "--cols", "16"], "leaves no room to draw"),
    (["--sample", "blobs", "--gif", "X", "--size", "16384x16384"], "larger than an image reader accepts"),
    (["missing-session.json", "--frames", "X"], "no such file"),
])
def test_export_bad_arguments_exit_2(tmp_path, args, message):
    result = cli("export", *[str(tmp_path / a) if a in ("X", "s.png") else a for a in args])
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_export_to_an_unwritable_folder_exits_2(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = cli("export", "--sample", "blobs", "--frames", str(blocker / "frames"))
    assert result.returncode == 2
    assert "cannot create the folder" in result.stderr and "Traceback" not in result.stderr


def test_mp4_without_the_video_dependency_says_so(tmp_path):
    try:
        import imageio_ffmpeg  # noqa: F401
        pytest.skip("the optional video dependency is installed")
    except ImportError:
        pass
    result = cli("export", "--sample", "blobs", "--mp4", str(tmp_path / "run.mp4"))
    assert result.returncode == 2 and "optional video dependency" in result.stderr


# -- from the window -------------------------------------------------------------

@pytest.fixture
def window(qtbot):
    from gui.main_window import MainWindow
    from gui.session import SessionModel
    win = MainWindow(SessionModel())
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.session.mark_saved()
    win.close()
    win.deleteLater()


def test_window_exports_current_frame_and_run_without_blocking(window, qtbot, tmp_path, three_blobs):
    from gui.export import ExportOptions
    s = window.session
    s.set_points(three_blobs)
    s.set_centres(three_blobs[:3])
    s.set_algorithm("soft-kmeans")
    options = ExportOptions(width=800, height=450, cost_plot=True)
    finished = []
    window.exporter.sigFinished.connect(lambda paths, err: finished.append((paths, err)))
    assert window.exporter.start(options, {"frame": (str(tmp_path / "now.png"), "png", 0)}, False)
    qtbot.waitUntil(lambda: bool(finished), timeout=30000)
    assert finished[0][1] is None
    with Image.open(tmp_path / "now.png") as im:
        assert im.size == (800, 450)
    outputs = {"every": "iteration", "frames": (tmp_path / "frames", "png"), "gif": (tmp_path / "r.gif", 4, 0)}
    assert window.exporter.start(options, outputs, False)
    assert window.exporter.busy
    assert window.isEnabled()  # the UI thread is free while the worker renders
    qtbot.waitUntil(lambda: len(finished) == 2, timeout=60000)
    assert finished[1][1] is None
    n = len(list((tmp_path / "frames").glob("*.png")))
    with Image.open(tmp_path / "r.gif") as im:
        assert im.n_frames == n > 2


def test_window_export_can_be_cancelled(window, qtbot, tmp_path):
    from gui.export import ExportOptions
    s = window.session
    rng = np.random.default_rng(0)
    s.set_points(rng.normal(size=(3000, 2)))
    s.set_centres(rng.normal(size=(6, 2)))
    s.set_algorithm("em")
    finished = []
    window.exporter.sigFinished.connect(lambda paths, err: finished.append((paths, err)))
    window.exporter.start(ExportOptions(width=1920, height=1080),
                          {"every": "half", "frames": (tmp_path / "f", "png")}, False)
    window.exporter.cancel()
    qtbot.waitUntil(lambda: bool(finished), timeout=60000)
    assert finished[0] == (None, "cancelled")
    assert len(list((tmp_path / "f").glob("*.png"))) <= 1


def test_labels_and_responsibilities_csv(tmp_path, three_blobs):
    from engine.scenario import Scenario
    from gui.export_dialog import write_labels_csv
    path = tmp_path / "labels.csv"
    write_labels_csv(Scenario(points=three_blobs, algorithm="em", centres=three_blobs[:3]), path)
    rows = np.loadtxt(path, delimiter=",", skiprows=1)
    assert path.read_text().splitlines()[0] == "x,y,label,r_1,r_2,r_3"
    assert rows.shape == (len(three_blobs), 6)
    np.testing.assert_allclose(rows[:, :2], three_blobs)
    np.testing.assert_allclose(rows[:, 3:].sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(rows[:, 2], rows[:, 3:].argmax(axis=1) + 1)


def test_export_dialog_offers_canvas_scales(qtbot):
    from gui.export_dialog import ExportDialog
    dialog = ExportDialog(None, True, (900, 600))
    qtbot.addWidget(dialog)
    sizes = [dialog.size_box.itemData(i) for i in range(dialog.size_box.count())]
    assert (1800, 1200) in sizes and (3840, 2160) in sizes
    dialog.size_box.setCurrentIndex(sizes.index((1800, 1200)))
    assert (dialog.width_spin.value(), dialog.height_spin.value()) == (1800, 1200)
    dialog.gif.setText("/tmp/x.gif")
    assert set(dialog.outputs()) == {"every", "gif"}


def test_cost_plot_labels_are_not_clipped(qapp):
    """Long objective values ("4.016e+05") fit left of the axis instead of running off the frame."""
    from engine.scenario import Scenario
    from gui.export import ExportOptions, FrameRenderer, _qimage_to_pil
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 2)) * 10.0
    run = Scenario(points=X, algorithm="kmeans", n_clusters=3, seed=1).start().run(6)
    assert max(s.cost for s in run.history[1:]) > 1e5  # printed in e-notation
    img = FrameRenderer(run, ExportOptions(width=900, height=500, cost_plot=True)).image(len(run.history) - 1)
    rgb = np.asarray(_qimage_to_pil(img).convert("RGB"))
    band = rgb[int(0.73 * 500):, :3].astype(int)  # the cost plot's first three pixel columns
    assert band.min() > 200, "ink at the frame's left edge: a tick label is clipped"
    labels = rgb[int(0.73 * 500):, 3:120].astype(int)
    assert labels.min() < 120  # the labels themselves are drawn
