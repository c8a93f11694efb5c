"""Bugs a lecturer found in the window (issue #9, items 14-23), each driven as the user did it."""

import numpy as np
from PySide6.QtCore import QEvent, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from engine.presets import PRESETS
from test_gui import drag, scenario_window, send_mouse, wait_idle, widget_pos


def click_button(panel, text):
    from PySide6.QtWidgets import QPushButton
    button = next(b for b in panel.findChildren(QPushButton) if b.text() == text)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def test_append_draws_new_points_not_the_same_again(window, qtbot):
    s = window.session
    window.controls.sample_n.setValue(5)
    click_button(window.controls, "Sample")
    click_button(window.controls, "Append")
    assert len(s.points) == 10
    assert not np.any(np.all(np.isclose(s.points[5:, None], s.points[None, :5]), axis=2))
    s.undo_stack.undo()
    assert len(s.points) == 5


def test_new_discard_leaves_no_old_points_drawn(window, qtbot, monkeypatch, three_blobs):
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3])
    assert s.frame.image is not None and np.any(s.frame.image != 0)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    window.action_map["new"].trigger()
    wait_idle(qtbot, s)
    assert len(s.points) == 0
    assert s.frame.image is None or not np.any(s.frame.image)  # nothing of the old points drawn


def test_import_and_sample_draw_new_centres_keeping_k(window, qtbot, tmp_path, three_blobs):
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:4])
    far = three_blobs + 100.0
    path = tmp_path / "far.csv"
    np.savetxt(path, far, delimiter=",", header="x,y", comments="")
    window.import_points(str(path))
    wait_idle(qtbot, s)
    assert len(s.centres) == 4  # K kept
    assert np.all(s.centres > 90)  # drawn from the new data, not left behind
    assert all(len(c) == 0 for c in (s.current.empty,)) or s.current is None
    s.undo_stack.undo()  # one step takes back the import with its centres
    np.testing.assert_array_equal(s.points, three_blobs)
    np.testing.assert_array_equal(s.centres, three_blobs[:4])
    click_button(window.controls, "Sample")
    assert len(s.centres) == 4 and len(s.points) == s.sample_n
    lo, hi = s.points.min(axis=0), s.points.max(axis=0)
    assert np.all((s.centres >= lo) & (s.centres <= hi))


def test_reopening_restores_n_and_the_preset_and_n_marks_modified(window, qtbot, tmp_path):
    s = window.session
    c = window.controls
    c.preset.setCurrentIndex(c.preset.findData("unequal"))
    click_button(c, "Load")
    wait_idle(qtbot, s)
    c.sample_n.setValue(777)
    s.mark_saved()
    c.sample_n.setValue(778)  # a change of N alone is unsaved work
    assert s.modified
    s.set_setting("tol", 3e-5)  # not one of the box's entries
    assert c.tol.currentText() == "3e-05"
    path = tmp_path / "s.json"
    assert window.files.save_as(str(path))
    c.sample_n.setValue(50)
    c.preset.setCurrentIndex(c.preset.findData("blobs"))
    s.set_setting("tol", 1e-6)
    s.mark_saved()  # no "save changes?" question
    assert window.files.open(str(path))
    assert (s.sample_n, c.sample_n.value()) == (778, 778)
    assert c.preset.currentData() == "unequal" and s.mixture == PRESETS["unequal"][1]
    assert c.tol.currentText() == "3e-05" and s.settings.tol == 3e-5


def test_k_above_the_number_of_points_is_said_where_the_user_looks(window, qtbot):
    s = window.session
    for x in (0.0, 1.0, 2.0):
        s.add_point(x, 0.0)
    window.controls.k_spin.setValue(5)
    click_button(window.controls, "Forgy")
    assert len(s.centres) == 3
    assert "K = 5 asked, but there are only 3 points" in window.controls.centre_count.text()


def test_em_collapse_is_named_in_the_caption(window, qtbot):
    s = window.session
    points = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
    scenario_window(window, qtbot, points, points, "em")
    QTest.keyClick(window, Qt.Key.Key_End)
    wait_idle(qtbot, s)
    assert s.current.collapsed
    assert "collapsed" in window.caption.text() and "component" in window.caption.text()


def test_right_click_on_a_centre_moved_mid_run_removes_that_centre_not_a_point(window, qtbot, three_blobs):
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3])
    s.goto(2)
    wait_idle(qtbot, s)
    shown = np.array(s.history[2].centres)
    assert np.linalg.norm(shown[0] - s.centres[0]) > 0.5  # the refit moved it away
    s.add_point(*shown[0])  # a data point right under the moved centre
    wait_idle(qtbot, s)
    s.goto(2)
    wait_idle(qtbot, s)
    n_points = len(s.points)
    pos = widget_pos(window.canvas, *shown[0])
    send_mouse(window.canvas.viewport(), QEvent.Type.MouseButtonPress, pos, Qt.MouseButton.RightButton)
    send_mouse(window.canvas.viewport(), QEvent.Type.MouseButtonRelease, pos, Qt.MouseButton.RightButton,
               buttons=Qt.MouseButton.NoButton)
    wait_idle(qtbot, s)
    assert len(s.points) == n_points
    assert len(s.centres) == 2


def test_undo_after_dragging_a_centre_mid_run_is_one_step_back_to_the_run(window, qtbot, three_blobs):
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3])
    before = s.centres.copy()
    s.goto(4)
    wait_idle(qtbot, s)
    shown = np.array(s.history[4].centres)
    drag(window.canvas.viewport(), widget_pos(window.canvas, *shown[0]),
         widget_pos(window.canvas, shown[0][0] + 0.5, shown[0][1]))
    wait_idle(qtbot, s)
    assert s.index == 0 and not np.array_equal(s.centres, before)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, s)
    np.testing.assert_array_equal(s.centres, before)
    assert s.index == 4
    np.testing.assert_array_equal(s.current.centres, shown)


def test_importing_three_columns_keeps_them_and_says_which_two_are_shown(window, qtbot, tmp_path, monkeypatch,
                                                                         rng):
    told = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: told.append(a[2]))
    path = tmp_path / "three.csv"
    np.savetxt(path, rng.normal(size=(40, 3)), delimiter=",", header="a,b,c", comments="")
    window.import_points(str(path))
    s = window.session
    assert s.points.shape == (40, 3) and tuple(s.names) == ("a", "b", "c")
    assert not told  # no dialog: every column is kept and clustered
    assert "3 columns: showing a – b" in window.statusBar().toolTip()  # the full text of the status line


def test_escape_interrupts_a_run_to_the_end(window, qtbot, rng):
    s = window.session
    X = rng.normal(size=(20_000, 2))
    # EM that will not converge soon: many tight components on noise, a tiny tolerance
    scenario_window(window, qtbot, X, X[:10], "em", tol=0.0, max_iter=100_000)
    window.canvas.setFocus()
    QTest.keyClick(window, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: s.index > 4, timeout=20000)  # the run shows its progress as it goes
    QTest.keyClick(window, Qt.Key.Key_Escape)
    wait_idle(qtbot, s, timeout=5000)
    assert not s.finished and s.index < 2 * 100_000
    reached = s.index
    qtbot.wait(300)
    assert s.index == reached and not s.busy  # it stopped, and stays where it stopped
    QTest.keyClick(window, Qt.Key.Key_Home)
    wait_idle(qtbot, s)
    assert s.index == 0


def test_saving_a_session_keeps_working_after_a_bad_display_value_is_refused(window, qtbot, tmp_path):
    s = window.session
    try:
        s.set_display("marker_scale", float("nan"))
    except ValueError as exc:
        assert "marker_scale" in str(exc)
    assert s.display.marker_scale == 1.0
    s.add_point(0.0, 0.0)
    assert window.files.save_as(str(tmp_path / "ok.json"))
