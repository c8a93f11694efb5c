"""Image mode's window, driven by real key and mouse events (pytest-qt, offscreen)."""

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from test_gui import drag

from engine.image import PixelSpace, load_image, pixel_dataset
from engine.scenario import Scenario
from gui.image_session import SAMPLE_IMAGE
from gui.image_work import BOUNDARY_RGB

K = 4


def wait_idle(qtbot, session, timeout=60000):
    qtbot.waitUntil(lambda: not session.busy and session.frame is not None
                    and session.frame.run_id == session.run_id, timeout=timeout)
    QApplication.processEvents()


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "cup.png"
    with Image.open(SAMPLE_IMAGE) as im:
        im.convert("RGB").crop((150, 60, 450, 300)).save(path)  # 300 x 240
    return path


@pytest.fixture
def image_window(qtbot, photo):
    from gui.image_session import ImageSession
    from gui.image_window import ImageWindow
    session = ImageSession()
    session.n_clusters = K
    win = ImageWindow(session)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    win.open_image(photo)
    wait_idle(qtbot, session)
    yield win
    win.player.pause()
    win.close()
    win.deleteLater()


def key(win, qtbot, k, modifier=Qt.KeyboardModifier.NoModifier):
    QTest.keyClick(win, k, modifier)
    wait_idle(qtbot, win.session)


def colour_partition(pixels):
    """The pixels grouped by colour: a frozenset of frozensets of pixel indices."""
    flat = pixels.reshape(-1, 3)
    _, inverse = np.unique(flat, axis=0, return_inverse=True)
    return frozenset(frozenset(np.flatnonzero(inverse.ravel() == c)) for c in np.unique(inverse))


def test_the_quantised_image_follows_the_half_steps(image_window, qtbot, photo):
    win, s = image_window, image_window.session
    assert s.index == 0 and s.frame.quantised is None  # nothing assigned at the initialisation
    assert "initial centres" in win.quantised.placeholder
    np.testing.assert_array_equal(win.original.pixels, np.asarray(Image.open(photo).convert("RGB")))
    key(win, qtbot, Qt.Key.Key_Right)
    assert s.index == 1 and "Assignment step" in win.caption.text()
    first = win.quantised.pixels
    assert first.shape == (240, 300, 3) and len(np.unique(first.reshape(-1, 3), axis=0)) <= K
    assert win.palette.counts.sum() == pytest.approx(300 * 240)
    key(win, qtbot, Qt.Key.Key_Right)  # refit: the centres move, every pixel keeps its cluster
    assert s.index == 2 and "Refitting step" in win.caption.text()
    second = win.quantised.pixels
    assert not np.array_equal(first, second)
    assert colour_partition(first) == colour_partition(second)
    key(win, qtbot, Qt.Key.Key_Right)  # assignment: pixels change cluster
    assert s.index == 3 and colour_partition(win.quantised.pixels) != colour_partition(second)
    key(win, qtbot, Qt.Key.Key_Left)
    assert s.index == 2
    np.testing.assert_array_equal(win.quantised.pixels, second)
    # the J plot, as for points: one dot per half-step so far
    dots = win.cost_plot.points()
    assert len(dots[("cost", "assign")][0]) == 1 and len(dots[("cost", "refit")][0]) == 1


def test_end_runs_every_pixel_to_convergence_as_the_engine_does(image_window, qtbot, photo):
    win, s = image_window, image_window.session
    start = s.centres.copy()
    key(win, qtbot, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: s.at_end, timeout=60000)
    wait_idle(qtbot, s)
    rgb = load_image(photo)
    run = Scenario(points=pixel_dataset(rgb, PixelSpace("rgb")), centres=start).start().run()
    assert len(s.history) == len(run.history)
    assert s.history[-1].cost == pytest.approx(run.current.cost, rel=1e-12)
    assert "Converged" in win.caption.text()
    assert len(np.unique(win.quantised.pixels.reshape(-1, 3), axis=0)) <= K


def test_dropping_an_image_opens_it_and_a_bad_one_is_one_dialog(image_window, qtbot, tmp_path, monkeypatch):
    win, s = image_window, image_window.session
    other = tmp_path / "small.png"
    Image.fromarray(np.full((30, 40, 3), (20, 120, 200), dtype=np.uint8)).save(other)

    def drop(path):
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        enter = QDragEnterEvent(QPoint(200, 200), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(win, enter)
        assert enter.isAccepted()
        win.dropEvent(QDropEvent(QPointF(200, 200), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                 Qt.KeyboardModifier.NoModifier))

    drop(other)
    qtbot.waitUntil(lambda: s.info.name == "small.png", timeout=30000)
    wait_idle(qtbot, s)
    assert win.original.pixels.shape == (30, 40, 3) and "small.png" in win.windowTitle()
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: warnings.append((title, text)))
    data = other.read_bytes()
    broken = tmp_path / "broken.png"
    broken.write_bytes(data[:len(data) // 2])
    drop(broken)
    qtbot.waitUntil(lambda: bool(warnings), timeout=30000)
    wait_idle(qtbot, s)
    assert len(warnings) == 1 and "broken.png" in warnings[0][1]
    assert s.info.name == "small.png"  # the image on screen stays


def test_segmentation_draws_boundaries_and_the_slider_sets_lambda(image_window, qtbot):
    win, s = image_window, image_window.session
    box = win.controls.segment
    QTest.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    wait_idle(qtbot, s)
    assert s.features.space.segmenting and s.centres.shape == (K, 5)
    key(win, qtbot, Qt.Key.Key_Right)
    boundary = np.all(win.original.pixels == BOUNDARY_RGB, axis=2)
    assert boundary.any() and not boundary.all()
    assert "segments" in win.quantised.title
    # a click on the slider's groove, right of the handle, moves lambda a page (1.0) up
    slider = win.controls.weight
    before = s.spatial_weight
    QTest.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(slider.width() - 4, slider.height() // 2))
    wait_idle(qtbot, s)
    assert s.features.space.spatial_weight == pytest.approx(before + 1.0)
    assert win.controls.weight_label.text() == f"λ = {before + 1.0:.1f}"
    # the cloud offers where the pixels are
    win.controls.select_axes((3, 4))
    wait_idle(qtbot, s)
    assert win.cloud.axes == (3, 4) and win.controls.axes.currentText().startswith("λx–λy")
    assert win.cloud.viewbox.yInverted()  # rows grow downwards, as in the image


def test_dragging_a_centre_in_the_cloud_starts_again_from_there(image_window, qtbot):
    win, s = image_window, image_window.session
    key(win, qtbot, Qt.Key.Key_Right)
    key(win, qtbot, Qt.Key.Key_Right)
    shown = np.array(s.current.centres)
    run_id = s.run_id
    cloud = win.cloud
    start = cloud.target_position(0)
    target = QPointF(start) + QPointF(40, -30)
    drag(cloud.viewport(), start, QPoint(int(target.x()), int(target.y())))
    wait_idle(qtbot, s)
    assert s.run_id > run_id and s.index == 0
    moved = np.abs(s.centres - shown) > 1e-9
    assert moved[0, 0] and moved[0, 1] and not moved[0, 2] and not moved[1:].any()
    # the marker sits where it was dropped
    dropped = cloud.target_position(0)
    assert abs(dropped.x() - target.x()) <= 2 and abs(dropped.y() - target.y()) <= 2


def test_the_cloud_says_what_it_shows_and_colours_by_centre(image_window, qtbot):
    win, s = image_window, image_window.session
    assert win.cloud.note() == "all 72,000 pixels"
    key(win, qtbot, Qt.Key.Key_Right)
    own = s.frame.cloud.copy()
    win.controls.colour_by.setCurrentIndex(win.controls.colour_by.findData("centre"))
    wait_idle(qtbot, s)
    centre = s.frame.cloud
    assert not np.array_equal(own, centre)
    # every drawn point is now one of the K centre colours (the rims of overlapping discs aside)
    opaque = centre[(centre >> 24) == 255] & 0xFFFFFF
    palette = {int(r) << 16 | int(g) << 8 | int(b) for r, g, b in s.frame.palette}
    assert np.isin(opaque, list(palette)).mean() > 0.9


def test_exports_write_full_size_files(image_window, qtbot, tmp_path):
    win, s = image_window, image_window.session
    key(win, qtbot, Qt.Key.Key_Right)
    path = tmp_path / "q.png"
    win.export_quantised(path)
    qtbot.waitUntil(path.exists, timeout=30000)
    wait_idle(qtbot, s)
    image = np.asarray(Image.open(path))
    assert image.shape == (240, 300, 3) and len(np.unique(image.reshape(-1, 3), axis=0)) <= K
    np.testing.assert_array_equal(image, win.quantised.pixels)  # the preview is every pixel here
    strip = tmp_path / "strip.png"
    win.export_strip(strip, ks=(2, 3))
    qtbot.waitUntil(strip.exists, timeout=60000)
    width, height = Image.open(strip).size
    assert width > 2.5 * height


def test_the_image_flag_opens_image_mode_and_refuses_a_bad_file_before_a_window(tmp_path, capsys):
    import os
    import subprocess
    import sys
    from pathlib import Path

    import main
    bad = tmp_path / "notes.png"
    bad.write_text("not pixels")
    assert main.main(["--image", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and "not an image that can be read" in err and out == ""
    assert main.main(["--image", str(SAMPLE_IMAGE), "--data", str(bad)]) == 2
    assert "--image takes no --data" in capsys.readouterr().err
    width, height = Image.open(SAMPLE_IMAGE).size
    assert main.main(["--image", str(SAMPLE_IMAGE), "--max-pixels", str(width * height - 1)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"more than the limit of {width * height - 1:,}" in err
    assert main.main(["--max-pixels", "5000"]) == 2
    assert "--max-pixels goes with --image" in capsys.readouterr().err
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CLUSTERLAB_QUIT_AFTER_MS": "4000"}
    done = subprocess.run([sys.executable, str(root / "main.py"), "--image", str(SAMPLE_IMAGE), "--k", "5",
                           "--max-pixels", str(width * height)],  # exactly at the limit: in
                          env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("image window: coffee.png — ClusterLab image mode;")
