"""The window, driven by real mouse and key events (pytest-qt, offscreen)."""

import numpy as np
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from engine import Run, SoftKMeans
from engine.scenario import Scenario
from gui.palette import cluster_rgb


def wait_idle(qtbot, session, timeout=60000):
    qtbot.waitUntil(lambda: not session.busy and session.frame is not None
                    and session.frame.run_id == session.run_id, timeout=timeout)
    QApplication.processEvents()


def scenario_window(window, qtbot, points, centres, algorithm="kmeans", **settings):
    s = window.session
    s.set_points(points)
    s.set_centres(centres)
    if algorithm != s.algorithm:
        s.set_algorithm(algorithm)
    for key, value in settings.items():
        s.set_setting(key, value)
    window.canvas.fit_to_data()
    qtbot.wait(60)  # the canvas pushes its new viewport after a short debounce
    wait_idle(qtbot, s)
    return s


def widget_pos(canvas, x, y):
    """Viewport pixel of data point (x, y)."""
    scene = canvas.viewbox.mapViewToScene(QPointF(x, y))
    return canvas.mapFromScene(scene)


def send_mouse(widget, kind, pos, button=Qt.MouseButton.LeftButton, buttons=None,
               modifiers=Qt.KeyboardModifier.NoModifier):
    buttons = button if buttons is None else buttons
    ev = QMouseEvent(kind, QPointF(pos), widget.mapToGlobal(QPointF(pos)), button, buttons,
                     modifiers)
    QApplication.sendEvent(widget, ev)


def drag(widget, start, end, steps=8, modifiers=Qt.KeyboardModifier.NoModifier):
    send_mouse(widget, QEvent.Type.MouseButtonPress, start, modifiers=modifiers)
    for i in range(1, steps + 1):
        QTest.qWait(25)  # pyqtgraph drops mouse moves that come faster than a screen refresh
        p = start + (end - start) * (i / steps)
        send_mouse(widget, QEvent.Type.MouseMove, QPoint(int(p.x()), int(p.y())),
                   Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, modifiers=modifiers)
    send_mouse(widget, QEvent.Type.MouseButtonRelease, end, buttons=Qt.MouseButton.NoButton,
               modifiers=modifiers)


def test_clicks_add_points_where_clicked_and_undo_redo(window, qtbot):
    s, canvas = window.session, window.canvas
    target = [(1.0, 2.0), (-3.0, -1.5), (4.5, 0.5)]
    for x, y in target:
        QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos(canvas, x, y))
    px = max(canvas.viewbox.viewPixelSize())
    assert len(s.points) == 3
    np.testing.assert_allclose(s.points, target, atol=1.5 * px)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(s.points) == 2
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert len(s.points) == 3
    # right click removes the point under the mouse
    QTest.mouseClick(canvas.viewport(), Qt.MouseButton.RightButton, pos=widget_pos(canvas, *target[1]))
    assert len(s.points) == 2
    assert not np.any(np.all(np.abs(s.points - target[1]) < 2 * px, axis=1))


def test_shift_drag_selects_and_delete_removes(window, qtbot):
    s, canvas = window.session, window.canvas
    points = np.array([[-2.0, -2.0], [-1.0, -1.0], [1.0, 1.0], [2.0, 2.0], [3.0, -3.0]])
    s.set_points(points)
    canvas.fit_to_data()
    qtbot.wait(60)
    drag(canvas.viewport(), widget_pos(canvas, -2.5, -2.5), widget_pos(canvas, 1.5, 1.5),
         modifiers=Qt.KeyboardModifier.ShiftModifier)
    assert sorted(canvas.selection.tolist()) == [0, 1, 2]
    assert len(s.points) == 5  # selecting edits nothing
    QTest.keyClick(window, Qt.Key.Key_Delete)
    np.testing.assert_array_equal(s.points, points[[3, 4]])
    assert len(canvas.selection) == 0
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(s.points, points)


def test_centre_tool_and_drag_moves_a_centre(window, qtbot, three_blobs):
    s, canvas = window.session, window.canvas
    s.set_points(three_blobs)
    canvas.fit_to_data()
    QTest.keyClick(window, Qt.Key.Key_C)
    assert canvas.tool == "centres"
    for x, y in [(-4, -2), (4, -2), (0, 4)]:
        QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos(canvas, x, y))
    assert len(s.centres) == 3 and len(s.points) == len(three_blobs)
    wait_idle(qtbot, s)
    start, end = widget_pos(canvas, 0, 4), widget_pos(canvas, 1.0, 2.5)
    drag(canvas.viewport(), start, end)
    px = max(canvas.viewbox.viewPixelSize())
    np.testing.assert_allclose(s.centres[2], [1.0, 2.5], atol=2 * px)
    np.testing.assert_allclose(s.centres[0], [-4, -2], atol=2 * px)
    assert s.undo_stack.undoText() == "Move centre"
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_allclose(s.centres[2], [0, 4], atol=2 * px)


def test_dragging_a_centre_mid_run_starts_a_new_run_from_there(window, qtbot, three_blobs):
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3])
    s.goto(4)
    wait_idle(qtbot, s)
    assert s.index == 4
    shown = np.array(s.history[4].centres)
    start = widget_pos(window.canvas, *shown[0])
    end = widget_pos(window.canvas, shown[0][0] + 0.5, shown[0][1])
    drag(window.canvas.viewport(), start, end)
    wait_idle(qtbot, s)
    assert s.index == 0
    np.testing.assert_allclose(s.centres[1:], shown[1:])
    assert s.centres[0][0] > shown[0][0] + 0.3


def test_keys_walk_the_engine_snapshots(window, qtbot, three_blobs):
    centres = np.array([[-1.0, 0.0], [0.0, 0.5], [1.0, 0.0]])
    s = scenario_window(window, qtbot, three_blobs, centres)
    reference = Scenario(points=three_blobs, algorithm="kmeans", centres=centres,
                         settings=s.settings).start().run()
    for expected in (1, 2, 3):
        QTest.keyClick(window, Qt.Key.Key_Right)
        wait_idle(qtbot, s)
        assert s.index == expected
        np.testing.assert_allclose(s.current.centres, reference.history[expected].centres)
        assert s.current.phase == reference.history[expected].phase
    QTest.keyClick(window, Qt.Key.Key_Left)
    wait_idle(qtbot, s)
    assert s.index == 2
    QTest.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    wait_idle(qtbot, s)
    assert s.index == 4 and s.current.phase == "refit"
    QTest.keyClick(window, Qt.Key.Key_End)
    wait_idle(qtbot, s)
    assert s.finished and s.index == len(reference.history) - 1
    assert s.current.converged
    assert window.canvas.caption.startswith(f"Converged after {reference.n_iter} iterations")
    assert window.caption.text() == window.canvas.caption
    QTest.keyClick(window, Qt.Key.Key_Home)
    wait_idle(qtbot, s)
    assert s.index == 0 and window.canvas.caption.startswith("Initialisation")
    assert window.transport.timeline.maximum() == len(reference.history) - 1


def test_cost_plot_has_one_point_per_half_step_and_j_never_increases(window, qtbot, three_blobs):
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3])
    QTest.keyClick(window, Qt.Key.Key_End)
    wait_idle(qtbot, s)
    data = window.cost_plot.points()
    assert set(data) == {("cost", "init"), ("cost", "assign"), ("cost", "refit")}
    assert len(data[("cost", "init")][0]) == 0  # init has no J yet
    assign, refit = data[("cost", "assign")], data[("cost", "refit")]
    xs = np.concatenate([assign[0], refit[0]])
    assert sorted(xs.tolist()) == list(range(1, len(s.history)))
    order = np.argsort(xs)
    j = np.concatenate([assign[1], refit[1]])[order]
    assert np.all(np.diff(j) <= 1e-9 * j[0])
    assert np.all(assign[0] % 2 == 1) and np.all(refit[0] % 2 == 0)
    # clicking the plot jumps the timeline; scrubbing moves the marker
    plot = window.cost_plot
    plot.viewport().repaint()  # pyqtgraph settles auto-ranges when it paints
    QApplication.processEvents()
    scene_pt = plot.plotItem.vb.mapViewToScene(QPointF(3, j[2]))
    QTest.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=plot.mapFromScene(scene_pt))
    wait_idle(qtbot, s)
    assert s.index == 3 and plot.marker.value() == 3
    window.transport.timeline.setValue(1)
    wait_idle(qtbot, s)
    assert s.index == 1 and plot.marker.value() == 1


def test_em_plots_likelihood_and_bound(window, qtbot, three_blobs):
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3], "em")
    s.goto(6)
    wait_idle(qtbot, s)
    data = window.cost_plot.points()
    assert {field for field, _ in data} == {"log_likelihood", "lower_bound"}

    def series(field):  # every dot of one objective, in half-step order
        x = np.concatenate([data[(field, p)][0] for p in ("init", "e", "m")])
        y = np.concatenate([data[(field, p)][1] for p in ("init", "e", "m")])
        return x[np.argsort(x)], y[np.argsort(x)]
    assert len(series("log_likelihood")[0]) == 7 and len(series("lower_bound")[0]) == 6
    assert np.all(np.diff(series("lower_bound")[1]) >= -1e-9)
    assert np.all(np.diff(series("log_likelihood")[1]) >= -1e-9)
    assert np.array_equal(data[("log_likelihood", "e")][0], [1, 3, 5])


def test_space_plays_and_pauses(window, qtbot, three_blobs):
    s = scenario_window(window, qtbot, three_blobs, np.array([[-1.0, 0.0], [0.0, 0.5], [1.0, 0.0]]))
    window.player.set_speed(60)
    QTest.keyClick(window, Qt.Key.Key_Space)
    assert window.player.playing
    qtbot.waitUntil(lambda: s.index >= 3, timeout=5000)
    QTest.keyClick(window, Qt.Key.Key_Space)
    assert not window.player.playing
    wait_idle(qtbot, s)
    stopped = s.index
    qtbot.wait(200)
    assert s.index == stopped


def test_a_half_step_made_ahead_is_shown_at_once_and_a_stale_one_never(window, qtbot, three_blobs):
    """The player has the next half-step made while this one is painted (SessionModel.prefetch):
    asked for, it is on screen without waiting for the worker; one made for a wish since
    replaced (Home pressed meanwhile) never reaches the screen."""
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3], "soft-kmeans")
    qtbot.waitUntil(lambda: not window.canvas._viewport_timer.isActive())  # the view settled: no new frame of it
    wait_idle(qtbot, s)
    shown = []
    s.sigFrameChanged.connect(lambda: shown.append(s.index))
    s.prefetch(3, 4)
    wait_idle(qtbot, s)
    assert s.index == 0 and not shown and s.made_ahead(3) and s.made_ahead(4)  # made, one after the other
    s.goto(3)
    assert s.index == 3 and shown == [3]  # at once: no request went to the worker
    s.goto(4)
    assert s.index == 4 and shown == [3, 4]
    s.prefetch(7)
    QTest.keyClick(window, Qt.Key.Key_Home)  # before the prefetch lands
    wait_idle(qtbot, s)
    qtbot.wait(100)
    assert 7 not in shown and s.index == 0
    s.goto(7)  # asked for again: made again, not taken from the dropped prefetch's frame
    wait_idle(qtbot, s)
    assert s.index == 7 and s.frame.index == 7


def test_the_worker_makes_the_second_half_step_ahead_while_the_ui_thread_is_busy(window, qtbot, three_blobs,
                                                                                 monkeypatch):
    """Both frames made ahead are asked at once: while the UI thread paints (here: sleeps,
    handling no event) the worker goes on from the first to the second, and neither request
    supersedes the other. Asked one at a time, the second waited for the UI thread."""
    import time

    from gui import worker as worker_module
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3], "soft-kmeans")
    qtbot.waitUntil(lambda: not window.canvas._viewport_timer.isActive())
    wait_idle(qtbot, s)
    made = []
    make_frame = worker_module._Worker._frame

    def recording(worker, generation, run_id, index, *args):
        frame = make_frame(worker, generation, run_id, index, *args)
        made.append(index)
        return frame
    monkeypatch.setattr(worker_module._Worker, "_frame", recording)
    s.prefetch(5, 6)
    deadline = time.monotonic() + 10.0
    while len(made) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # the UI thread busy: no event handled, no frame taken
    assert made == [5, 6]
    wait_idle(qtbot, s)
    assert s.made_ahead(5) and s.made_ahead(6) and s.index == 0


def test_only_the_last_half_step_asked_for_is_shown_when_prefetches_land(window, qtbot, three_blobs, monkeypatch):
    """Two prefetches on their way (or one made, one on its way): asking for the second and then
    the first (the timeline scrubbed forward and back while playing) ends on the first; the
    second lands unseen instead of replacing it."""
    import time

    from gui import worker as worker_module
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3], "soft-kmeans", max_iter=50, tol=0.0)
    qtbot.waitUntil(lambda: not window.canvas._viewport_timer.isActive())
    wait_idle(qtbot, s)
    shown = []
    s.sigFrameChanged.connect(lambda: shown.append(s.index))
    s.prefetch(5, 6)
    s.goto(6)  # both still on their way: no event handled since
    s.goto(5)
    wait_idle(qtbot, s)
    qtbot.wait(100)
    assert s.index == 5 and shown == [5]
    make_frame = worker_module._Worker._frame

    def slow_for_7(worker, generation, run_id, index, *args):
        if index == 7:
            time.sleep(0.3)  # still on its way when 6 is asked for
        return make_frame(worker, generation, run_id, index, *args)
    monkeypatch.setattr(worker_module._Worker, "_frame", slow_for_7)
    shown.clear()
    s.prefetch(6, 7)
    qtbot.waitUntil(lambda: s.made_ahead(6), timeout=10000)
    assert not s.made_ahead(7)
    s.goto(7)  # on its way: to be shown when it lands...
    s.goto(6)  # ...until 6, made already, is asked for
    wait_idle(qtbot, s)
    qtbot.wait(100)
    assert s.index == 6 and shown == [6]


def test_the_engine_worker_yields_the_cores_to_the_ui_thread(window, qtbot):
    """The worker thread (and the kernel threads it starts) run at a lower priority: with two
    cores, a paint otherwise shared them with two kernel threads and took half as long again."""
    import os
    import sys
    import threading

    import pytest

    from gui.worker import WORKER_NICE
    if not sys.platform.startswith("linux"):
        pytest.skip("thread niceness is read per thread on Linux only")
    client = window.session.client
    answers = {}
    client.sigCalled.connect(lambda generation, result, error: answers.setdefault(generation, result))
    asked = client.call(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    qtbot.waitUntil(lambda: asked in answers, timeout=10000)
    ui_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    # lowered by WORKER_NICE from where the app runs (started under nice 3, say: 8), not set to it;
    # and the UI thread, not the whole process
    assert answers[asked] == min(ui_nice + WORKER_NICE, 19)


def test_a_prefetch_the_worker_fails_on_never_stalls_playing(window, qtbot, three_blobs, monkeypatch):
    """A worker bug on a half-step made ahead (no frame ever comes): playing goes on at the next
    tick, as it did before frames were made ahead, and reaches the end."""
    from engine import run as run_module
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3], "soft-kmeans", max_iter=12)
    step = run_module.Run.step
    failed = []

    def step_once_failing(run):
        if len(run.history) == 5 and not failed:
            failed.append(True)
            raise RuntimeError("a worker bug (simulated)")
        return step(run)
    monkeypatch.setattr(run_module.Run, "step", step_once_failing)
    window.player.set_speed(60)
    with qtbot.capture_exceptions() as exceptions:
        QTest.keyClick(window, Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: not window.player.playing, timeout=20000)
    assert failed and len(exceptions) == 1  # it did fail, once
    wait_idle(qtbot, s)
    assert s.at_end and not s._prefetching


def test_numbers_the_engine_refuses_ahead_are_said_when_their_half_step_comes(window, qtbot, three_blobs,
                                                                             monkeypatch):
    """Stepping on to half-step 6 overflows while 4 is on screen (made ahead): 5, the last good
    one, is still played, and the error is said with it, not over 4."""
    from engine import run as run_module
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3], "soft-kmeans", max_iter=12)
    step = run_module.Run.step

    def overflowing(run):
        if len(run.history) == 6:
            raise ValueError("beta * ||x - m||^2 overflows (simulated)")
        return step(run)
    monkeypatch.setattr(run_module.Run, "step", overflowing)
    shown = []
    s.sigFrameChanged.connect(lambda: shown.append((s.index, s.error is not None)))
    window.player.set_speed(60)
    QTest.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.player.playing, timeout=20000)
    wait_idle(qtbot, s)
    assert (5, False) in shown and s.index == 5 and "overflows" in s.error
    assert all(not error for index, error in shown if index < 5)


def test_the_player_waits_for_each_half_step_to_be_painted(window, qtbot, three_blobs):
    """A half-step replaced before it was painted is never seen: the player goes on only once the
    view says it painted the one shown (or after PAINT_WAIT_S, so a hidden view never stops it)."""
    from PySide6.QtCore import QObject, Signal

    from gui.player import PAINT_WAIT_S, Player

    class View(QObject):
        sigFramePainted = Signal()
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3], "soft-kmeans", max_iter=40)
    view = View()
    player = Player(s)
    player.follow_paints(view.sigFramePainted)
    player.set_speed(60)
    player.play()
    qtbot.waitUntil(lambda: s.index == 1, timeout=5000)
    qtbot.wait(int(PAINT_WAIT_S * 1000 * 0.5))
    assert s.index == 1  # not painted yet: held
    view.sigFramePainted.emit()
    qtbot.waitUntil(lambda: s.index == 2, timeout=5000)
    qtbot.wait(int(PAINT_WAIT_S * 1000 * 1.5) + 100)
    assert s.index >= 3  # never painted: it goes on after the wait
    player.pause()
    wait_idle(qtbot, s)


def test_playing_shows_every_half_step_in_order_and_the_plot_every_dot(window, qtbot, three_blobs):
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3], "soft-kmeans", max_iter=40)
    shown = []
    s.sigFrameChanged.connect(lambda: shown.append(s.index))
    window.player.set_speed(60)
    QTest.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.player.playing, timeout=20000)  # it stops at the end
    wait_idle(qtbot, s)
    # (a frame of the start may come again first: the canvas's debounced view)
    assert [i for i in shown if i] == list(range(1, len(s.history)))  # none skipped, twice or stale
    assert s.at_end and len(s.history) > 8
    qtbot.wait(200)  # the plot's last refresh, put off while playing, has come
    data = window.cost_plot.points()
    for phase, first in (("assign", 1), ("refit", 2)):
        x, y = data[("cost", phase)]
        assert list(x) == list(range(first, len(s.history), 2))  # appended while playing: each dot once
        assert np.allclose(y, [s.history[int(i)].cost for i in x])


def test_canvas_pixels_show_each_points_responsibility_colour(window, qtbot):
    rng = np.random.default_rng(3)
    # sparse points on a grid, so no two markers overlap; soft k-means blends colours
    gx, gy = np.meshgrid(np.linspace(-6, 6, 9), np.linspace(-4, 4, 7))
    points = np.c_[gx.ravel(), gy.ravel()] + rng.normal(scale=0.05, size=(63, 2))
    centres = np.array([[-5.0, 3.5], [5.0, 3.5], [0.0, -3.5]])
    s = scenario_window(window, qtbot, points, centres, "soft-kmeans", beta=0.5)
    s.set_display("trails", False)
    s.goto(1)
    wait_idle(qtbot, s)
    image = window.canvas.grab().toImage()
    run = Run(SoftKMeans(beta=0.5, max_iter=s.settings.max_iter, tol=s.settings.tol), points,
              centres)
    run.step()
    resp = run.responsibilities(1)
    expected = resp @ cluster_rgb(3).astype(float)
    checked = 0
    for n in range(len(points)):
        if np.min(np.hypot(*(centres - points[n]).T)) < 1.5:
            continue  # under a centre marker
        p = widget_pos(window.canvas, *points[n])
        dpr = image.devicePixelRatio()
        c = image.pixelColor(int(p.x() * dpr), int(p.y() * dpr))
        np.testing.assert_allclose([c.red(), c.green(), c.blue()], expected[n], atol=3)
        checked += 1
    assert checked > 40
    assert np.ptp(expected, axis=0).max() > 60  # the test sees really different colours


def test_settings_change_resets_the_run_but_keeps_points_and_centres(window, qtbot, three_blobs):
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3])
    s.goto(5)
    wait_idle(qtbot, s)
    window.controls.algorithm.setCurrentIndex(window.controls.algorithm.findData("em"))
    wait_idle(qtbot, s)
    assert s.algorithm == "em" and s.index == 0 and s.current.phase == "init"
    assert len(s.points) == len(three_blobs) and len(s.centres) == 3
    assert window.controls.covariance.isVisible() and not window.controls.beta.isVisible()


def test_presets_and_initialisations(window, qtbot):
    s = window.session
    c = window.controls
    c.preset.setCurrentIndex(c.preset.findData("local-optimum"))
    s.load_preset("local-optimum")
    wait_idle(qtbot, s)
    assert len(s.centres) == 4 and len(s.points) == s.sample_n
    s.undo_stack.undo()
    assert len(s.points) == 0  # one undo step for the whole preset
    s.load_preset("old-faithful")
    wait_idle(qtbot, s)
    assert s.points.shape == (272, 2) and len(s.centres) == 2
    first = s.centres.copy()
    s.initialise("forgy")
    again = s.centres.copy()
    s.initialise("forgy")
    np.testing.assert_array_equal(again, s.centres)
    assert not np.array_equal(first, again) or s.init_method == "forgy"


def test_drop_a_csv_onto_the_window(window, qtbot, tmp_path, three_blobs):
    path = tmp_path / "drop.csv"
    np.savetxt(path, three_blobs, delimiter=",", header="a,b", comments="")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    ev = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    window.dropEvent(ev)
    np.testing.assert_allclose(window.session.points, three_blobs)


def test_whole_window_screenshot(window, qtbot, tmp_path, three_blobs):
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3], "em")
    s.goto(7)
    wait_idle(qtbot, s)
    path = tmp_path / "window.png"
    assert window.grab().save(str(path))
    image = window.grab().toImage()
    assert image.width() >= 1000
    colours = {image.pixel(x, y) for x in range(0, image.width(), 23) for y in range(0, image.height(), 23)}
    assert len(colours) > 20


def test_what_exists_once_the_kernels_are_warm_is_frozen_out_of_the_collector(window, qtbot):
    """A full collection of everything loaded at start stalled a playing window for ~140 ms."""
    import gc

    from gui.worker import warm_up_then_freeze
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        warm_up_then_freeze(window.session.client)
        qtbot.waitUntil(lambda: gc.get_freeze_count() > 10_000, timeout=60000)
    finally:
        gc.unfreeze()  # the other tests' objects stay collectable
