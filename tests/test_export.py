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
    with Image.open(strip) as im:  # the strip is the frame size: 16:9, whatever the panels
        assert im.size == (640, 360)
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
    (["--sample", "blobs", "--strip", "s.png", "--size", "64x36", "--cols", "16"], "leaves no room to draw"),
    (["--sample", "blobs", "--deck", "s.png"], "a deck must be a .pptx or a .pdf file"),
    (["--sample", "blobs", "--strip", "s.png", "--panels", "0"], "--panels: must be from 1 to 64"),
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


def test_export_progress_is_in_the_status_bar_and_its_cancel_button_stops_it(window, qtbot, tmp_path):
    """No dialog window: the progress shows in the status bar once an export has run a while,
    the window stays live, and its Cancel button (a real click) stops the export."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from gui.export import ExportOptions
    s = window.session
    rng = np.random.default_rng(0)
    s.set_points(rng.normal(size=(3000, 2)))
    s.set_centres(rng.normal(size=(6, 2)))
    s.set_algorithm("em")
    s.set_setting("max_iter", 200)
    s.set_setting("tol", 0.0)
    finished = []
    window.exporter.sigFinished.connect(lambda paths, err: finished.append((paths, err)))
    progress = window.exporter.progress
    assert window.exporter.start(ExportOptions(width=1920, height=1080),
                                 {"every": "half", "frames": (tmp_path / "f", "png")})
    qtbot.waitUntil(lambda: progress.isVisible() and progress.bar.value() > 0, timeout=30000)
    assert not finished
    assert [w for w in QApplication.topLevelWidgets() if w.isVisible()] == [window]  # no dialog window
    assert progress.bar.maximum() > 100  # the 401 half-steps, counted as they are written
    QTest.mouseClick(progress.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(finished), timeout=60000)
    assert finished[0] == (None, "cancelled") and not progress.isVisible()
    assert len(list((tmp_path / "f").glob("*.png"))) < progress.bar.maximum() // 2  # stopped early


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
    from gui.export import ExportOptions, FrameRenderer, qimage_pixels
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 2)) * 10.0
    run = Scenario(points=X, algorithm="kmeans", n_clusters=3, seed=1).start().run(6)
    assert max(s.cost for s in run.history[1:]) > 1e5  # printed in e-notation
    img = FrameRenderer(run, ExportOptions(width=900, height=500, cost_plot=True)).image(len(run.history) - 1)
    rgb = qimage_pixels(img)[:, :, :3]
    band = rgb[int(0.73 * 500):, :3].astype(int)  # the cost plot's first three pixel columns
    assert band.min() > 200, "ink at the frame's left edge: a tick label is clipped"
    labels = rgb[int(0.73 * 500):, 3:120].astype(int)
    assert labels.min() < 120  # the labels themselves are drawn


def test_export_dialog_offers_a_deck_and_panels(qtbot):
    from gui.export_dialog import ExportDialog
    dialog = ExportDialog(None, True)
    qtbot.addWidget(dialog)
    dialog.deck.setText("/tmp/run.pptx")
    dialog.panels.setValue(5)
    out = dialog.outputs()
    assert out["deck"] == Path("/tmp/run.pptx") and out["panels"] == 5 and "strip" not in out
    dialog.strip.setText("/tmp/s.png")
    assert dialog.outputs()["strip"] == (Path("/tmp/s.png"), None)  # columns: automatic


# -- the frame on screen, framed for a slide ----------------------------------------

def _rgb(img):
    from gui.export import qimage_pixels
    return qimage_pixels(img)[:, :, :3].astype(int)


def _kmeans_run(three_blobs, n_iter=None):
    from engine.scenario import Scenario
    run = Scenario(points=three_blobs, algorithm="kmeans", centres=three_blobs[:3]).start()
    return run.run(n_iter)


def test_data_fill_the_frame(qapp, three_blobs):
    """Equal aspect and a tight margin: the points span >= 70 % of the canvas area one way."""
    from engine.settings import DisplayOptions
    from gui.export import ExportOptions, FrameRenderer
    run = _kmeans_run(three_blobs)
    options = ExportOptions(width=1920, height=1080, legend=False,
                            display=DisplayOptions(trails=False, ellipses=False))
    renderer = FrameRenderer(run, options)
    _, area, _, _ = renderer._layout(1920, 1080)
    rgb = _rgb(renderer.image(len(run.history) - 1))
    inner = rgb[int(area.top()) + 2:int(area.bottom()) - 1, int(area.left()) + 2:int(area.right()) - 1]
    ys, xs = np.nonzero((inner < 235).any(axis=2))
    fill_w = (xs.max() - xs.min()) / inner.shape[1]
    fill_h = (ys.max() - ys.min()) / inner.shape[0]
    assert max(fill_w, fill_h) >= 0.70, (fill_w, fill_h)
    assert max(fill_w, fill_h) >= 0.90, (fill_w, fill_h)  # a tight margin (the window's 8 % gives 0.85)
    # equal aspect: the data's pixel box has the data's own width / height ratio
    X = three_blobs
    data_ratio = np.ptp(X[:, 0]) / np.ptp(X[:, 1])
    assert abs((xs.max() - xs.min()) / (ys.max() - ys.min()) / data_ratio - 1) < 0.1


def test_regions_flag_changes_the_frame(tmp_path):
    """--regions: the nearest-centre regions fill the canvas where no point is."""
    scenario = ["--sample", "blobs", "--n", "200", "--algorithm", "kmeans", "--k", "3", "--seed", "3"]
    plain, regions = tmp_path / "plain", tmp_path / "regions"
    for out, extra in ((plain, []), (regions, ["--regions"])):
        result = cli("export", *scenario, "--frames", str(out), "--size", "640x360", "--no-legend", *extra)
        assert result.returncode == 0, result.stderr[-2000:]
    a = np.asarray(Image.open(plain / "frame_0002.png").convert("RGB")).astype(int)
    b = np.asarray(Image.open(regions / "frame_0002.png").convert("RGB")).astype(int)
    assert np.abs(a - b).sum() > 0
    empty = (a == 255).all(axis=2)[40:-15, 15:-15]  # no point, no centre, no caption there
    coloured = (b < 250).any(axis=2)[40:-15, 15:-15]
    assert empty.sum() > 0.3 * empty.size
    assert (empty & coloured).sum() > 0.8 * empty.sum()
    # washed cluster colours, not grey: the channels differ
    tint = b[40:-15, 15:-15][empty & coloured]
    assert (tint.max(axis=1) - tint.min(axis=1)).mean() > 15
    # the initialisation has no regions yet, as on the canvas
    a0 = np.asarray(Image.open(plain / "frame_0000.png").convert("RGB")).astype(int)
    b0 = np.asarray(Image.open(regions / "frame_0000.png").convert("RGB")).astype(int)
    assert np.array_equal(a0, b0)


def test_soft_field_in_exports(qapp, three_blobs):
    from engine.scenario import Scenario
    from engine.settings import DisplayOptions
    from gui.export import ExportOptions, FrameRenderer
    run = Scenario(points=three_blobs, algorithm="em", centres=three_blobs[:3]).start().run()
    with_field = FrameRenderer(run, ExportOptions(width=800, height=450, legend=False,
                                                  display=DisplayOptions(field=True)))
    without = FrameRenderer(run, ExportOptions(width=800, height=450, legend=False))
    last = len(run.history) - 1
    a, b = _rgb(without.image(last)), _rgb(with_field.image(last))
    empty = (a == 255).all(axis=2)
    assert ((b < 250).any(axis=2) & empty).sum() > 0.5 * empty.sum()


def test_em_cost_plot_shows_both_objectives_and_phases(qapp, three_blobs):
    from engine.scenario import Scenario
    from gui.export import ExportOptions, FrameRenderer
    from gui.palette import REFIT_STEP_HEX, RESPONSIBILITY_STEP_HEX, hex_to_rgb
    run = Scenario(points=three_blobs, algorithm="em", centres=three_blobs[:3]).start().run()
    h = 720
    rgb = _rgb(FrameRenderer(run, ExportOptions(width=1280, height=h, cost_plot=True)).image(3))
    band = rgb[int(0.73 * h):]
    for colour in (RESPONSIBILITY_STEP_HEX, REFIT_STEP_HEX):
        near = (np.abs(band - np.array(hex_to_rgb(colour))).sum(axis=2) < 40).sum()
        assert near > 30, colour
    assert band[:, :3].min() > 200, "ink at the frame's left edge: a label is clipped"
    assert band[:, 3:40].min() < 150  # the rotated y label is drawn


def test_key_half_steps(three_blobs):
    from engine.scenario import Scenario
    from gui.export import key_half_steps
    rng = np.random.default_rng(4)
    X = np.vstack([m + rng.normal(size=(80, 2)) for m in rng.normal(scale=6, size=(8, 2))])
    run = Scenario(points=X, algorithm="kmeans", n_clusters=8, init="random", seed=2).start().run()
    last = len(run.history) - 1
    assert last + 1 > 8
    keys = key_half_steps(run, 8)
    assert len(keys) == 8 and keys == sorted(set(keys))
    assert keys[:3] == [0, 1, 2] and keys[-1] == last
    # the rest are the biggest changes of J
    J = [s.cost for s in run.history]
    changes = {i: abs(J[i] - J[i - 1]) for i in range(2, last + 1)}
    chosen = [i for i in keys if i not in (0, 1, 2, last)]
    others = [i for i in changes if i not in keys]
    assert min(changes[i] for i in chosen) >= max(changes[i] for i in others)
    assert key_half_steps(run, 3) == [0, 1, last]
    short = _kmeans_run(three_blobs, 3)
    assert key_half_steps(short, 8) == list(range(len(short.history)))


def test_strip_is_16_9_with_key_panels(qapp, tmp_path):
    """A strip of a long run: one 16:9 image, at most 8 panels, from the init to the end."""
    from engine.scenario import Scenario
    from gui.export import ExportOptions, FrameRenderer, export_strip, key_half_steps
    rng = np.random.default_rng(4)
    X = np.vstack([m + rng.normal(size=(80, 2)) for m in rng.normal(scale=6, size=(8, 2))])
    run = Scenario(points=X, algorithm="kmeans", n_clusters=8, init="random", seed=2).start().run()
    renderer = FrameRenderer(run, ExportOptions(cost_plot=True))
    keys = key_half_steps(run)
    assert len(run.history) > 8 and len(keys) <= 8
    assert keys[0] == 0 and keys[-1] == len(run.history) - 1
    path, (rows, cols) = export_strip(renderer, tmp_path / "strip.png", keys)
    assert rows * cols >= len(keys) > (rows - 1) * cols
    with Image.open(path) as im:
        assert abs(im.size[0] / im.size[1] - 16 / 9) < 0.01 * 16 / 9
        assert im.size == (1920, 1080)
        rgb = np.asarray(im.convert("RGB")).astype(int)
    # the options were restored after the panels were drawn
    assert renderer.options.caption and renderer.options.legend and renderer.options.cost_plot
    # every panel has a drawing (points in cluster colours), none is blank
    grid_h = 1080 - round(0.24 * 1080) - 52
    pw, ph = 1920 // cols, grid_h // rows
    for i in range(len(keys)):
        r, c = divmod(i, cols)
        panel = rgb[r * ph + int(ph * 0.15):(r + 1) * ph, c * pw:(c + 1) * pw]
        assert ((panel.max(axis=2) - panel.min(axis=2)) > 60).sum() > 200, i


def test_axes_draw_tick_labels(qapp, three_blobs):
    from gui.export import ExportOptions, FrameRenderer
    run = _kmeans_run(three_blobs, 2)
    plain = FrameRenderer(run, ExportOptions(width=800, height=450, legend=False))
    axes = FrameRenderer(run, ExportOptions(width=800, height=450, legend=False, axes=True))
    _, area, _, _ = axes._layout(800, 450)
    rgb = _rgb(axes.image(2))
    left = rgb[int(area.top()):int(area.bottom()), :int(area.left()) - 2]
    assert (left < 200).any()  # tick labels left of the canvas
    _, area0, _, _ = plain._layout(800, 450)
    assert area.left() > area0.left()


def test_session_export_fits_the_data_unless_the_saved_view_is_asked_for(tmp_path, three_blobs):
    """A session saved with a wide window view: the export fits the data (default) or keeps the
    view as on screen (--saved-view)."""
    from engine.session_file import SessionData, save_session
    session = tmp_path / "s.json"
    save_session(session, SessionData(points=three_blobs, centres=three_blobs[:3], algorithm="kmeans",
                                      view=(-40.0, 40.0, -30.0, 30.0)))
    spans = {}
    for name, extra in (("fit", []), ("saved", ["--saved-view"])):
        out = tmp_path / name
        result = cli("export", str(session), "--frames", str(out), "--size", "960x540", "--no-legend",
                     "--no-caption", *extra)
        assert result.returncode == 0, result.stderr[-2000:]
        rgb = np.asarray(Image.open(out / "frame_0000.png").convert("RGB")).astype(int)[20:-20, 20:-20]
        ys, _ = np.nonzero((rgb < 235).any(axis=2))
        spans[name] = (ys.max() - ys.min()) / rgb.shape[0]
    assert spans["fit"] >= 0.85 and spans["saved"] < 0.4, spans


def test_export_job_writes_strip_and_deck(qapp, tmp_path, three_blobs):
    """The window's Export run job (on the worker thread): a strip and a deck from the dialog's outputs."""
    from engine.scenario import Scenario
    from gui.export import ExportOptions
    from gui.export_dialog import run_export_job
    scenario = Scenario(points=three_blobs, algorithm="soft-kmeans", centres=three_blobs[:3])
    outputs = {"every": "half", "strip": (tmp_path / "s.png", None), "deck": tmp_path / "d.pdf", "panels": 3}
    written = run_export_job(scenario, ExportOptions(width=960, height=540), outputs)
    assert written == [str(tmp_path / "s.png"), str(tmp_path / "d.pdf")]
    with Image.open(tmp_path / "s.png") as im:
        assert im.size == (960, 540)
    assert (tmp_path / "d.pdf").read_bytes().count(b"/Type /Page\n") == 3


def test_a_transparent_gif_is_drawn_on_white_and_png_frames_keep_their_alpha(tmp_path):
    """A GIF has no partial transparency: the clear background came out black, the caption unreadable."""
    result = cli("export", "--sample", "blobs", "--gif", str(tmp_path / "a.gif"), "--frames", str(tmp_path / "f"),
                 "--size", "480x270", "--transparent", "--max-iter", "2")
    assert result.returncode == 0, result.stderr[-2000:]
    with Image.open(tmp_path / "a.gif") as gif:
        corner = gif.convert("RGB").getpixel((2, 2))
    assert min(corner) >= 250, corner  # white, not black
    with Image.open(sorted((tmp_path / "f").glob("frame_*.png"))[0]) as frame:
        assert frame.mode == "RGBA" and frame.getpixel((2, 2))[3] == 0  # the PNG stays clear
