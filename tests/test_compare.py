"""View → Compare: k-means, soft k-means and EM side by side on the same points from the same
centres.  The panes equal three separate runs, half-step for half-step; one timeline moves them
all (real key presses); the exports are pictures of the right size with the clusters in them."""

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog

from engine.captions import completed_iterations, format_value
from engine.registry import ALGORITHM_NAMES
from engine.scenario import Scenario
from gui.compare_view import CompareView
from gui.compare_work import pane_grid, strip_iterations
from gui.palette import CLUSTER_HEX, UNASSIGNED_HEX, hex_to_rgb


def wait_idle(qtbot, session, timeout=60000):
    qtbot.waitUntil(lambda: not session.busy and session.frame is not None
                    and session.frame.run_id == session.run_id, timeout=timeout)
    QApplication.processEvents()


def open_compare(window, qtbot):
    """View → Compare, through the window's own action; waits until every pane is drawn."""
    window.action_map["compare"].trigger()
    view = window.findChild(CompareView)
    assert view is not None and view.isVisible()
    qtbot.waitExposed(view)
    view.activateWindow()
    qtbot.waitUntil(lambda: view.idle, timeout=60000)
    return view


def settle(qtbot, view):
    qtbot.waitUntil(lambda: view.idle, timeout=60000)
    QApplication.processEvents()


def separate_run(session, name):
    """The run the pane ``name`` should equal: a fresh Scenario of the session's points, centres
    and settings, nothing shared with the window."""
    return Scenario(points=session.points.copy(), algorithm=name, settings=session.settings,
                    centres=session.centres.copy()).start().run()


def expected_index(run, iteration):
    """The half-step a pane shows at ``iteration``: the initialisation at 0, the iteration-th
    refit / M-step, or the last half-step once the run has stopped by then."""
    if iteration == 0:
        return 0
    if completed_iterations(run.description, run.history[-1]) <= iteration:
        return len(run.history) - 1
    refits = [i for i, s in enumerate(run.history) if s.phase == run.description.refit_phase]
    return refits[iteration - 1]


def cluster_pixels(image, k, tolerance=12, colour=None):
    """Pixels of ``image`` (a QImage) within ``tolerance`` of cluster k's colour (or ``colour``)."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    rgb = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes()).reshape(h, image.bytesPerLine())
    rgb = rgb[:, :3 * w].reshape(h, w, 3).astype(int)
    return int((np.abs(rgb - np.array(hex_to_rgb(colour or CLUSTER_HEX[k]))).max(axis=2) <= tolerance).sum())


@pytest.fixture
def local_optimum(window, qtbot):
    """The local-optimum preset (k-means stuck), with a stiffer β and spherical components, so
    the panes must follow the session's settings, not the defaults."""
    s = window.session
    s.load_preset("local-optimum")
    s.set_setting("beta", 2.0)
    s.set_setting("covariance_type", "spherical")
    wait_idle(qtbot, s)
    return s


def test_the_panes_equal_three_separate_runs_at_every_iteration(window, qtbot, local_optimum):
    s = local_optimum
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert window.action_map["compare"] in view_menu.actions()
    main_index = s.index
    view = open_compare(window, qtbot)
    assert view.names() == ALGORITHM_NAMES
    runs = {name: separate_run(s, name) for name in view.names()}
    for name, run in runs.items():
        pane = view.states[name]
        assert pane.finished and pane.stop_reason == run.stop_reason
        assert len(pane.history) == len(run.history)
        for a, b in zip(pane.history, run.history):
            assert (a.phase, a.iteration, a.converged) == (b.phase, b.iteration, b.converged)
            assert np.array_equal(a.centres, b.centres)
            for field in ("cost", "free_energy", "log_likelihood", "lower_bound"):
                assert getattr(a, field) == getattr(b, field)
    # the settings reached the runs: β = 2 and spherical components (one variance per component)
    soft, em = runs["soft-kmeans"], runs["em"]
    assert soft.algorithm.beta == 2.0
    cov = np.asarray(em.current.covariances)
    assert np.allclose(cov[:, 0, 1], 0) and np.allclose(cov[:, 0, 0], cov[:, 1, 1])
    # k-means is stuck here, and so says its pane; EM climbs much longer
    last = max(completed_iterations(r.description, r.history[-1]) for r in runs.values())
    assert view.last == last > completed_iterations(runs["kmeans"].description, runs["kmeans"].history[-1])

    # step the shared timeline with Right, one iteration per key press, to the end
    for iteration in range(last + 1):
        if iteration:
            QTest.keyClick(view, Qt.Key.Key_Right)
            settle(qtbot, view)
        assert view.iteration == iteration and view.slider.value() == iteration
        assert view.iteration_label.text() == f"Iteration {iteration} of {last}"
        for name, run in runs.items():
            pane, index = view.panes[name], expected_index(run, iteration)
            assert pane.index == index, (name, iteration)
            snap = run.history[index]
            value = run.description.objective(snap)
            if value is not None:
                assert f"{run.description.primary.symbol} = {format_value(value)}" in pane.caption.text()
            # the pane's cost plot: the primary objective up to the half-step shown, exactly
            x, y = pane.cost.points()
            ex, ey = run.description.objective_points(run.history[:index + 1], run.description.primary)
            assert np.array_equal(x, ex) and np.array_equal(y, ey)
    n = completed_iterations(runs["kmeans"].description, runs["kmeans"].history[-1])
    assert view.panes["kmeans"].caption.text().startswith(f"Converged at iteration {n} — J = ")
    QTest.keyClick(view, Qt.Key.Key_Right)  # past the end: nothing moves
    settle(qtbot, view)
    assert view.iteration == last
    wait_idle(qtbot, s)
    assert s.index == main_index  # the keys stepped the comparison, not the main window's run


def test_keys_and_the_slider_move_every_pane(window, qtbot, local_optimum):
    view = open_compare(window, qtbot)
    panes = [view.panes[n] for n in view.names()]
    assert view.iteration == 0 and all(p.index == 0 for p in panes)
    # the initialisation: every point grey, the cluster colours only in the centres' markers
    at_init = [cluster_pixels(p.image.image, 2) for p in panes]
    QTest.keyClick(view, Qt.Key.Key_End)
    settle(qtbot, view)
    assert view.iteration == view.last
    assert [p.index for p in panes] == [len(view.states[p.name].history) - 1 for p in panes]
    # the points coloured by each algorithm's responsibilities
    assert all(cluster_pixels(p.image.image, 2) > 3 * before + 200 for p, before in zip(panes, at_init))
    QTest.keyClick(view, Qt.Key.Key_Left)
    settle(qtbot, view)
    assert view.iteration == view.last - 1
    QTest.keyClick(view, Qt.Key.Key_Home)
    settle(qtbot, view)
    assert view.iteration == 0 and all(p.index == 0 for p in panes)
    # the slider, dragged with the mouse to its right end
    slider = view.slider
    slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    QTest.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(slider.width() - 3, slider.height() // 2))
    settle(qtbot, view)
    assert view.iteration > 0 and all(p.index > 0 for p in panes)
    # Space plays, one iteration at a time, and stops at the end
    QTest.keyClick(view, Qt.Key.Key_Home)
    QTest.keyClick(view, Qt.Key.Key_Space)
    assert view.playing
    qtbot.waitUntil(lambda: view.iteration >= 2, timeout=20000)
    QTest.keyClick(view, Qt.Key.Key_Space)
    assert not view.playing


def test_unticking_em_leaves_two_panes_on_one_timeline(window, qtbot, local_optimum):
    view = open_compare(window, qtbot)
    box = view.include["em"]
    QTest.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    settle(qtbot, view)
    assert view.names() == ("kmeans", "soft-kmeans")
    assert not view.panes["em"].isVisible() and view.panes["soft-kmeans"].isVisible()
    assert view.last == max(view.states[n].last_iteration for n in ("kmeans", "soft-kmeans"))
    QTest.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    settle(qtbot, view)
    assert view.names() == ALGORITHM_NAMES and view.panes["em"].isVisible()


def test_an_edit_in_the_window_starts_the_comparison_again(window, qtbot, local_optimum):
    s = local_optimum
    view = open_compare(window, qtbot)
    before = view.states["kmeans"].history[-1].cost
    # the lecture's way out of the local optimum: a centre moved to the lonely blob
    centres = s.centres.copy()
    centres[1] = (-2.0, 0.0)
    s.set_centres(centres)
    qtbot.waitUntil(lambda: view.states.get("kmeans") is not None
                    and view.states["kmeans"].history[0].centres[1, 0] == -2.0, timeout=20000)
    settle(qtbot, view)
    run = separate_run(s, "kmeans")
    assert view.states["kmeans"].history[-1].cost == run.history[-1].cost < before


def test_exports_a_frame_and_a_strip(window, qtbot, local_optimum, tmp_path, monkeypatch):
    view = open_compare(window, qtbot)
    for _ in range(3):
        QTest.keyClick(view, Qt.Key.Key_Right)
    settle(qtbot, view)
    assert view.export_size() == (1920, 1080)
    frame, strip = tmp_path / "frame.png", tmp_path / "strip.png"
    for button, path in ((view.export_frame_button, frame), (view.export_strip_button, strip)):
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, p=path, **k: (str(p), ""))
        QTest.mouseClick(button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda p=path: view.last_export == str(p), timeout=60000)
    K = len(local_optimum.centres)
    for path in (frame, strip):
        image = QImage(str(path))
        assert (image.width(), image.height()) == (1920, 1080)
        # every cluster's colour is there (at iteration 3 every algorithm has coloured its points)
        assert all(cluster_pixels(image, k) > 100 for k in range(K)), path
    # the strip: a row per algorithm, each with its clusters; its first column the initialisation
    # (grey points), its last key iteration coloured
    image = QImage(str(strip))
    rows = [image.copy(QRect(0, 60 + r * 335, 1920, 330)) for r in range(3)]
    assert all(cluster_pixels(row, k) > 30 for row in rows for k in range(K))
    # (the first and the fifth column: 263 pixels wide from x = 222, after the row names)
    grey = [cluster_pixels(image.copy(QRect(x, 60, 255, 1000)), 0, colour=UNASSIGNED_HEX) for x in (226, 1280)]
    assert grey[0] > 300 and grey[1] < grey[0] / 5


def test_readable_at_1024x768_and_1280x720(window, qtbot):
    """Three panes in a row for round data, one above another for data in a row; the points
    always get a usable share of the window."""
    s = window.session
    s.load_preset("blobs")
    wait_idle(qtbot, s)
    view = open_compare(window, qtbot)
    for size in ((1024, 720), (1280, 672)):
        view.resize(*size)
        settle(qtbot, view)
        images = [view.panes[n].image for n in view.names()]
        tops = {im.mapTo(view, QPoint(0, 0)).y() for im in images}
        assert len(tops) == 1  # in a row
        assert all(im.width() >= 280 and im.height() >= 250 for im in images), [im.size() for im in images]
        for n in view.names():
            heading = view.panes[n].heading
            assert heading.fontMetrics().horizontalAdvance(heading.text()) <= heading.width()
    s.load_preset("local-optimum")
    qtbot.waitUntil(lambda: view.view_rect is not None
                    and view.view_rect[1] - view.view_rect[0] > 4 * (view.view_rect[3] - view.view_rect[2]),
                    timeout=20000)
    settle(qtbot, view)
    images = [view.panes[n].image for n in view.names()]
    assert len({im.mapTo(view, QPoint(0, 0)).x() for im in images}) == 1  # one above another
    assert all(im.width() >= 500 for im in images)


def test_pane_grid_and_strip_iterations():
    assert pane_grid(3, 1000, 600, 1.2, 40)[:2] == (3, 1)  # round data: a row
    assert pane_grid(3, 1000, 600, 7.0, 40)[:2] == (1, 3)  # data in a row: a column
    assert pane_grid(3, 1000, 600, 4.0, 40) == (1, 3, True)  # the cost plots beside low panes
    assert pane_grid(3, 1000, 600, 12.0, 40) == (1, 3, False)  # under very thin ones
    assert strip_iterations(3) == [0, 1, 2, 3]
    picks = strip_iterations(27)
    assert picks[0] == 0 and picks[1] == 1 and picks[-1] == 27 and len(picks) == 5
