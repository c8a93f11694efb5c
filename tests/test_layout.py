"""Classroom layout: the window fits small screens, captions never widen it, presentation mode
hides the controls and gives back exactly what was there, and new data is shown whole."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from test_gui import scenario_window, wait_idle, widget_pos
from test_window_bugs import click_button


@pytest.fixture
def bare_window(qtbot):
    """A window shown at the size it picks for itself (the `window` fixture resizes it)."""
    from gui.main_window import MainWindow
    from gui.session import SessionModel
    session = SessionModel()
    win = MainWindow(session)
    win.show()
    qtbot.waitExposed(win)
    yield win
    session.mark_saved()
    win.close()
    win.deleteLater()


def test_window_opens_inside_the_available_screen(bare_window):
    avail = QGuiApplication.primaryScreen().availableGeometry()
    assert avail.width() < 1400 or avail.height() < 900  # the offscreen screen is smaller than we'd like
    assert bare_window.width() <= avail.width() and bare_window.height() <= avail.height()
    assert avail.contains(bare_window.frameGeometry())


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720)])
def test_window_can_be_projector_sized(window, qtbot, size):
    hint = window.minimumSizeHint()
    assert hint.width() <= size[0] and hint.height() <= size[1]
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size)
    QApplication.processEvents()
    # the transport bar's labels sit beside the sliders, never over them
    t = window.transport
    boxes = [w.geometry() for w in (t.timeline, t.position, t.speed, t.speed_label)]
    for a, b in zip(boxes, boxes[1:]):
        assert a.right() < b.left()
    assert boxes[-1].right() <= t.width()
    assert t.position.width() >= t.position.fontMetrics().horizontalAdvance("9999 / 9999+")
    # and the toolbar's last entry is on the bar, not in the » overflow
    assert window.toolbar.widgetForAction(window.action_map["presentation"]).isVisible()


def test_a_long_caption_never_widens_the_window(window, qtbot):
    window.resize(1024, 768)
    qtbot.waitUntil(lambda: window.width() == 1024)
    min_width = window.minimumSizeHint().width()
    text = ("Converged after 137 iterations — log p(D) = −123,456.789 (L = −123,456.789) · "
            "component 3 collapsed onto the reg_covar floor, component 5 got no responsibility")
    window.canvas.sigCaption.emit(text)
    QApplication.processEvents()
    qtbot.wait(50)
    assert window.width() == 1024 and window.minimumSizeHint().width() == min_width
    assert window.caption.text() == text  # the whole text is kept (and in the tooltip) ...
    assert window.caption.toolTip() == text
    shown = QLabel_text(window.caption)
    assert shown != text and len(shown) < len(text)  # ... and elided on screen


def QLabel_text(label):
    from PySide6.QtWidgets import QLabel
    return QLabel.text(label)


def test_toolbar_buttons_keep_their_width_after_an_edit(window, qtbot):
    from gui.actions import TOOLBAR
    bar, actions = window.toolbar, window.action_map
    widths = {key: bar.widgetForAction(actions[key]).width() for key in TOOLBAR if key}
    canvas = window.canvas
    QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos(canvas, 1.0, 1.0))
    assert len(window.session.points) == 1 and actions["undo"].isEnabled()
    assert actions["undo"].text() != "Undo" and actions["undo"].iconText() == "Undo"
    QApplication.processEvents()
    assert {key: bar.widgetForAction(actions[key]).width() for key in widths} == widths


def _looks(window):
    axis = window.canvas.plotItem.getAxis("bottom")
    return {"geometry": window.geometry(), "dock": window.dock.isVisible(),
            "toolbar": window.toolbar.isVisible(), "status": window.statusBar().isVisible(),
            "menu": window.menuBar().isVisible(), "transport": window.transport.isVisible(),
            "splitter": window.splitter.sizes(), "caption_font": window.caption.font().pointSizeF(),
            "tick_font": axis.style["tickFont"], "app_font": QApplication.font().pointSizeF(),
            "marker_scale": window.session.display.marker_scale,
            "cost_text_pt": window.cost_plot.text_size,
            "load_width": next(b for b in window.controls.findChildren(
                __import__("PySide6.QtWidgets").QtWidgets.QPushButton) if b.text() == "Load").width()}


@pytest.mark.parametrize("leave_key", [Qt.Key.Key_F5, Qt.Key.Key_Escape])
def test_presentation_mode_hides_the_controls_and_restores_them_exactly(window, qtbot, three_blobs,
                                                                        leave_key):
    s = window.session
    s.set_points(three_blobs)
    s.set_centres(three_blobs[:3])
    s.mark_saved()  # as if just opened from its file: presenting must not make it "modified"
    window.resize(760, 600)  # smaller than the offscreen screen, so that full screen is larger
    qtbot.waitUntil(lambda: window.width() == 760)
    wait_idle(qtbot, s)
    window.splitter.setSizes([380, 130])
    QApplication.processEvents()
    before = _looks(window)
    canvas_width = window.canvas.width()
    QTest.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.canvas.width() > canvas_width)
    assert window.presenting and window.action_map["presentation"].isChecked()
    qtbot.waitUntil(lambda: window.geometry() == window.screen().geometry())
    assert not window.dock.isVisible() and not window.toolbar.isVisible()
    assert not window.statusBar().isVisible()
    assert s.display.marker_scale > 1 and window.caption.font().pointSizeF() > before["caption_font"]
    legend_pt = float(window.cost_plot.legend.items[0][1].opts["size"].rstrip("pt"))
    assert legend_pt > before["cost_text_pt"]  # the legend is read from the back row too
    # the transport keys still work while presenting
    QTest.keyClick(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: s.index == 1)
    QTest.keyClick(window, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: s.at_end, timeout=20000)
    QTest.keyClick(window, Qt.Key.Key_Home)
    qtbot.waitUntil(lambda: s.index == 0)
    QTest.keyClick(window, Qt.Key.Key_Space)
    assert window.player.playing
    if leave_key == Qt.Key.Key_F5:
        QTest.keyClick(window, Qt.Key.Key_Space)
    QTest.keyClick(window, leave_key)
    assert not window.player.playing  # Escape stops as well as leaving
    qtbot.waitUntil(lambda: not window.presenting and window.geometry() == before["geometry"])
    qtbot.wait(50)
    assert not window.action_map["presentation"].isChecked()
    assert _looks(window) == before
    assert not s.modified  # closing asks nothing: presenting changed nothing in the lecture


def test_escape_outside_presentation_mode_only_stops(window, qtbot, three_blobs):
    s = window.session
    s.set_points(three_blobs)
    s.set_centres(three_blobs[:3])
    wait_idle(qtbot, s)
    before = _looks(window)
    QTest.keyClick(window, Qt.Key.Key_Space)
    assert window.player.playing
    QTest.keyClick(window, Qt.Key.Key_Escape)
    assert not window.player.playing and not window.presenting
    assert _looks(window)["geometry"] == before["geometry"] and window.dock.isVisible()


def test_view_show_controls_toggles_the_dock(window, qtbot):
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    show = next(a for a in view.actions() if a.text() == "Show &controls")
    assert show is window.action_map["show_controls"] and show.isChecked()
    width = window.canvas.width()
    show.trigger()
    qtbot.waitUntil(lambda: not window.dock.isVisible())
    assert not show.isChecked()
    qtbot.waitUntil(lambda: window.canvas.width() > width)
    show.trigger()
    qtbot.waitUntil(lambda: window.dock.isVisible())
    assert show.isChecked()


def _assert_all_in_view(window):
    s = window.session
    (x0, x1), (y0, y1) = window.canvas.viewbox.viewRange()
    snap = s.current
    boxes = [s.points, snap.centres]
    if snap.covariances is not None:
        ext = 2.0 * np.sqrt(np.stack([snap.covariances[:, 0, 0], snap.covariances[:, 1, 1]], axis=1))
        boxes += [snap.centres - ext, snap.centres + ext]
    xy = np.vstack(boxes)
    assert xy[:, 0].min() > x0 and xy[:, 0].max() < x1
    assert xy[:, 1].min() > y0 and xy[:, 1].max() < y1
    # and the data is not tiny in the middle: it spans most of one direction
    assert max(np.ptp(xy[:, 0]) / (x1 - x0), np.ptp(xy[:, 1]) / (y1 - y0)) > 0.7


def _wait_fitted(window, qtbot):
    wait_idle(qtbot, window.session)
    qtbot.waitUntil(lambda: not window._fit_pending and window.session.current is not None)
    QApplication.processEvents()


@pytest.mark.parametrize("algorithm", ["kmeans", "em"])
def test_load_and_sample_fit_the_view(window, qtbot, algorithm):
    s, c = window.session, window.controls
    s.set_algorithm(algorithm)
    c.preset.setCurrentIndex(c.preset.findData("blobs"))
    click_button(c, "Load")
    _wait_fitted(window, qtbot)
    assert len(s.points) and (algorithm == "kmeans" or s.current.covariances is not None)
    _assert_all_in_view(window)
    c.preset.setCurrentIndex(c.preset.findData("old-faithful"))
    click_button(c, "Load")
    _wait_fitted(window, qtbot)
    assert s.points.shape == (272, 2)
    _assert_all_in_view(window)  # standardised: not tiny in the middle of the old view
    window.canvas.viewbox.setRange(xRange=(50, 60), yRange=(50, 60), padding=0)  # far away
    window.controls.sample_n.setValue(300)
    click_button(c, "Sample")
    _wait_fitted(window, qtbot)
    assert len(s.points) == 300
    _assert_all_in_view(window)


def test_import_fits_the_view(window, qtbot, tmp_path, three_blobs):
    s = window.session
    s.set_algorithm("em")
    s.set_centres(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]]))
    path = tmp_path / "far.csv"
    np.savetxt(path, three_blobs * 3 + [40.0, -25.0], delimiter=",")
    window.import_points(str(path))
    _wait_fitted(window, qtbot)
    assert s.points[:, 0].min() > 10
    _assert_all_in_view(window)


def test_fit_rect_holds_points_centres_and_two_sigma_ellipses():
    from gui.render import fit_rect
    points = np.array([[0.0, 0.0], [1.0, 1.0]])
    centres = np.array([[5.0, 0.0]])
    cov = np.array([[[4.0, 0.0], [0.0, 9.0]]])
    x0, x1, y0, y1 = fit_rect(points, centres, cov)
    assert x0 < 0 and x1 > 5 + 2 * 2 and y0 < -2 * 3 and y1 > 2 * 3
    assert fit_rect(points) == fit_rect(points, None, None)  # exports call it with points alone


def test_presenting_on_a_small_screen_keeps_the_value_in_the_caption_and_the_cost_plot_whole(
        window, qtbot, three_blobs):
    """At a projector's width the caption's end is the number the room must read: the font gives
    way before the text does; and the cost plot keeps room for its 16 pt axis and labels."""
    from gui.caption import SMALLEST
    from gui.main_window import PRESENTATION_AXIS_PT, PRESENTATION_CAPTION_PT
    s = window.session
    s.set_points(three_blobs)
    s.set_centres(three_blobs[:3])
    wait_idle(qtbot, s)
    window.splitter.setSizes([1000, 1])  # the cost plot as small as the splitter lets it be
    QTest.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: window.presenting and window.geometry() == window.screen().geometry())
    assert window.width() <= 1024  # the offscreen screen: a projector's width or less
    text = "Converged after 96 iterations — log p(D) = −1,587.25"
    window.canvas.sigCaption.emit(text)
    qtbot.waitUntil(lambda: QLabel_text(window.caption) == text)  # whole, not elided
    size = window.caption.font().pointSizeF()
    assert SMALLEST * PRESENTATION_CAPTION_PT <= size < PRESENTATION_CAPTION_PT
    height = window.caption.height()
    window.canvas.sigCaption.emit("Initialisation — J = 12")  # short: full size again ...
    qtbot.waitUntil(lambda: window.caption.font().pointSizeF() == PRESENTATION_CAPTION_PT)
    assert window.caption.height() == height  # ... without moving the canvas
    plot = window.cost_plot
    qtbot.wait(100)  # laid out in the 16 pt fonts
    assert plot.height() >= plot.plotItem.layout.minimumHeight()  # no item squeezed out
    for name in ("bottom", "left"):
        axis = plot.plotItem.getAxis(name)
        assert axis.labelStyle["font-size"] == f"{PRESENTATION_AXIS_PT}pt"
        box = axis.mapRectToScene(axis.boundingRect())
        assert box.bottom() <= plot.height() + 1, name  # nothing cut off below the window
    QTest.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.presenting)


def test_the_caption_keeps_one_size_while_remarks_come_and_go(qtbot):
    """EM names collapsed components at M-steps only: fitting the whole text made the caption
    jump between two sizes at every half-step.  The headline is fitted; a remark may elide."""
    from gui.caption import CaptionLabel
    label = CaptionLabel(28)
    qtbot.addWidget(label.bar)
    label.bar.resize(640, 60)
    label.bar.show()
    sizes = set()
    for step in range(10, 16):
        e = f"E-step {step} — log p(D) = −4,127,{393 + step} (L = −4,127,{393 + step})"
        m = (f"M-step {step} — log p(D) = −4,127,{394 + step} (L = −4,127,{390 + step}) · "
             "components 4, 16, 17, 40 collapsed onto the floor")
        for text in (e, m):
            label.setText(text)
            sizes.add(label.font().pointSizeF())
    assert len(sizes) == 1, sizes
    assert label.toolTip().endswith("collapsed onto the floor")  # the whole remark is in the tooltip


def test_a_new_half_step_does_not_lay_the_window_out_again(window, qtbot, three_blobs):
    """While playing, the caption, the state label and the half-step counter change at every
    half-step; a label whose size is not fixed then asks the whole window to lay itself out again
    (~1.5 ms of the UI thread a frame). Each holds its place."""
    from PySide6.QtCore import QEvent, QObject

    class LayoutRequests(QObject):
        count = 0

        def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.LayoutRequest:
                LayoutRequests.count += 1
            return False

    window.resize(1024, 700)
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3], "em", max_iter=50, tol=0.0)
    window.canvas.setFocus()
    QTest.keyClick(window, Qt.Key.Key_Right)
    wait_idle(qtbot, s)
    counter = LayoutRequests()
    for widget in [window, *window.findChildren(QWidget)]:
        widget.installEventFilter(counter)
    captions = set()
    for _ in range(8):
        QTest.keyClick(window, Qt.Key.Key_Right)
        wait_idle(qtbot, s)
        QApplication.processEvents()
        captions.add(window.caption.text())
    assert s.index == 9 and len(captions) == 8 and window.caption.width() > 500
    assert window.state_label.text().endswith("half-step 9") and window.transport.position.text().startswith("9 /")
    assert LayoutRequests.count == 0
