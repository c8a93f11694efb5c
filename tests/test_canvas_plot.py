"""Canvas and cost plot for the classroom: exact Voronoi regions, readable axes, reveal, hover."""

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage, QPainter, QTransform

from gui.palette import CLUSTER_HEX
from gui.regions import paint_regions, voronoi_cells


def _cross(a, b):
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _inside(poly, pts):
    """Points strictly inside (or on the boundary of) the convex polygon ``poly``."""
    ok = np.ones(len(pts), dtype=bool)
    sign = np.sign(_cross(poly[1] - poly[0], poly[2] - poly[0]))
    for i in range(len(poly)):
        a, b = poly[i], poly[(i + 1) % len(poly)]
        ok &= sign * _cross(b - a, pts - a) >= -1e-9
    return ok


@pytest.mark.parametrize("seed,K", [(0, 2), (1, 4), (2, 10), (3, 7)])
def test_voronoi_cells_match_brute_force_nearest_centre(seed, K):
    rng = np.random.default_rng(seed)
    rect = (-3.0, 5.0, -2.0, 4.0)
    centres = rng.uniform([-4, -3], [6, 5], size=(K, 2))  # some centres outside the rectangle
    cells = voronoi_cells(centres, rect)
    assert len(cells) == K
    gx, gy = np.meshgrid(np.linspace(-2.99, 4.99, 97), np.linspace(-1.99, 3.99, 83))
    grid = np.c_[gx.ravel(), gy.ravel()]
    d2 = ((grid[:, None, :] - centres[None]) ** 2).sum(-1)
    nearest = d2.argmin(1)
    margin = np.sort(d2, 1)[:, 1] - np.sort(d2, 1)[:, 0]
    clear = margin > 1e-6  # grid points not on a bisector
    total_area = 0.0
    for k, cell in enumerate(cells):
        if not len(cell):
            assert not np.any(nearest[clear] == k)
            continue
        inside = _inside(cell, grid)
        np.testing.assert_array_equal(inside[clear], nearest[clear] == k)
        x, y = cell[:, 0], cell[:, 1]
        total_area += 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    assert total_area == pytest.approx(8.0 * 6.0, rel=1e-9)  # the cells tile the rectangle


def test_voronoi_duplicate_centres_lowest_index_wins():
    centres = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    cells = voronoi_cells(centres, (-2, 2, -2, 2))
    assert len(cells[0]) >= 3 and len(cells[1]) >= 3
    assert cells[2].shape == (0, 2)


def test_paint_regions_fills_each_pixel_with_its_nearest_centre_colour(qtbot):
    centres = np.array([[-1.0, 0.0], [1.0, 0.5], [0.2, 1.5]])
    img = QImage(200, 200, QImage.Format.Format_ARGB32)
    img.fill(QColor("white"))
    to_device = QTransform()
    to_device.translate(100, 100)
    to_device.scale(50, -50)  # data (-2..2) -> pixels, y up
    p = QPainter(img)
    paint_regions(p, to_device, centres, (-2, 2, -2, 2), alpha=255)
    p.end()
    for px, py in [(20, 120), (180, 120), (110, 20), (60, 180)]:
        x, y = (px + 0.5 - 100) / 50, -(py + 0.5 - 100) / 50
        k = int(((centres - [x, y]) ** 2).sum(1).argmin())
        assert QColor(img.pixel(px, py)).name().upper() == CLUSTER_HEX[k].upper()


# -- the cost plot ----------------------------------------------------------------
from PySide6.QtCore import QEvent, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from engine import Run  # noqa: E402,F401
from engine.captions import MINUS, format_tick  # noqa: E402
from engine.scenario import Scenario  # noqa: E402
from gui.palette import REFIT_STEP_HEX, RESPONSIBILITY_STEP_HEX, hex_to_rgb  # noqa: E402

from test_gui import scenario_window, send_mouse, wait_idle, widget_pos  # noqa: E402


def test_value_axis_ticks_have_no_exponent(qtbot):
    from gui.cost_plot import ValueAxis
    axis = ValueAxis(orientation="left")
    texts = axis.tickStrings([-15420.0, -15400.0, -3700.45, 1_250_000.0], 1.0, 10.0)
    assert texts[0] == f"{MINUS}15,420"
    assert not any("e+" in t or "e-" in t for t in texts)
    assert axis.tickStrings([-3700.45], 1.0, 0.05) == [f"{MINUS}3,700.45"]
    assert format_tick(0.25, 0.05) == "0.25"


def _lab(hex_colour):
    rgb = np.array(hex_to_rgb(hex_colour)) / 255.0
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ lin
    f = np.cbrt(xyz / [0.9505, 1.0, 1.089])
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_cost_plot_colours_are_no_cluster_colour():
    for dot in (RESPONSIBILITY_STEP_HEX, REFIT_STEP_HEX):
        for cluster in CLUSTER_HEX:
            assert np.linalg.norm(_lab(dot) - _lab(cluster)) > 20, (dot, cluster)
    assert np.linalg.norm(_lab(RESPONSIBILITY_STEP_HEX) - _lab(REFIT_STEP_HEX)) > 60


def test_cost_plot_labels_fit_and_ticks_read_plainly(window, qtbot, three_blobs):
    s = scenario_window(window, qtbot, three_blobs * 40, three_blobs[:3] * 40)  # J in the 100,000s
    QTest.keyClick(window, Qt.Key.Key_End)
    wait_idle(qtbot, s)
    plot = window.cost_plot
    plot.viewport().repaint()
    QApplication.processEvents()
    left = plot.plotItem.getAxis("left")
    ticks = [t for level in left.tickValues(*plot.plotItem.vb.viewRange()[1], left.height())
             for t in level[1]]
    texts = left.tickStrings(ticks, 1.0, abs(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0)
    assert texts and not any("e+" in t for t in texts)
    # the y label (turned 90°) is no longer than the axis; the formula title no wider than the plot
    assert left.label.boundingRect().width() <= left.height()
    title = plot.plotItem.titleLabel
    assert title.item.boundingRect().width() <= plot.plotItem.width()
    # the legend sits beside the plot, outside the curves
    assert plot.legend.sceneBoundingRect().left() >= plot.plotItem.vb.sceneBoundingRect().right() - 1
    for algorithm in ("soft-kmeans", "em"):
        s.set_algorithm(algorithm)
        wait_idle(qtbot, s)
        plot.viewport().repaint()
        QApplication.processEvents()
        assert left.label.boundingRect().width() <= left.height()


def test_reveal_hides_dots_after_the_cursor_and_whole_run_shows_them(window, qtbot, three_blobs):
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3])
    QTest.keyClick(window, Qt.Key.Key_End)
    wait_idle(qtbot, s)
    n = len(s.history)
    assert n > 4
    plot = window.cost_plot
    yrange = plot.plotItem.vb.viewRange()
    s.goto(3)
    wait_idle(qtbot, s)
    shown = np.concatenate([x for x, _ in plot.points().values()])
    assert shown.max() == 3 and len(shown) == 3
    assert np.allclose(plot.plotItem.vb.viewRange(), yrange)  # the axes do not move
    plot.whole_run_action.trigger()
    shown = np.concatenate([x for x, _ in plot.points().values()])
    assert plot.show_whole_run and shown.max() == n - 1 and len(shown) == n - 1
    plot.whole_run_action.trigger()
    assert np.concatenate([x for x, _ in plot.points().values()]).max() == 3


def test_each_phase_is_coloured_and_its_legend_entry_hides_and_shows_its_dots(window, qtbot, three_blobs):
    """One scatter per objective holds every phase's dots (one paint, not three), coloured by phase;
    clicking a legend entry hides that phase's dots, as it hid a series of its own, also as the run grows."""
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3], "em", max_iter=50, tol=0.0)
    s.goto(4)
    wait_idle(qtbot, s)
    plot = window.cost_plot
    plot.viewport().repaint()
    QApplication.processEvents()
    dots = plot._dots_of["log_likelihood"]
    colours = {phase: {dots.data["brush"][i].color().name() for i in np.flatnonzero(dots.data["data"] == phase)}
               for phase in ("e", "m")}
    assert colours == {"e": {RESPONSIBILITY_STEP_HEX.lower()}, "m": {REFIT_STEP_HEX.lower()}}
    sample, label = next((sample, label) for sample, label in plot.legend.items if "M-step" in label.text
                         and "log p" in label.text)
    at = plot.mapFromScene(sample.sceneBoundingRect().center())
    QTest.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert len(plot.points()[("log_likelihood", "m")][0]) == 0
    assert plot.points()[("log_likelihood", "e")][0].tolist() == [1, 3]
    s.goto(8)  # new dots of the hidden phase stay hidden
    wait_idle(qtbot, s)
    assert len(plot.points()[("log_likelihood", "m")][0]) == 0 and len(plot.points()[("lower_bound", "m")][0]) == 4
    plot.set_text_size(16)  # presentation mode's text: the plot is built again, the phase stays off
    plot.set_text_size(10)
    plot.viewport().repaint()
    QApplication.processEvents()
    assert len(plot.points()[("log_likelihood", "m")][0]) == 0 and len(plot.points()[("log_likelihood", "e")][0]) == 4
    sample = next(sample for sample, label in plot.legend.items if "M-step" in label.text and "log p" in label.text)
    at = plot.mapFromScene(sample.sceneBoundingRect().center())
    QTest.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert plot.points()[("log_likelihood", "m")][0].tolist() == [2, 4, 6, 8]


def test_axes_are_copied_from_their_cache_while_frames_change_and_drawn_again_when_the_view_moves(
        window, qtbot, three_blobs, monkeypatch):
    """The canvas repaints at every half-step and its update reaches over the axes; their ticks
    have not changed, so they come from a pixmap, not from pyqtgraph's paint (0.65 ms a frame)."""
    import pyqtgraph as pg
    painted = []
    paint = pg.AxisItem.paint
    monkeypatch.setattr(pg.AxisItem, "paint", lambda self, *args: painted.append(self) or paint(self, *args))
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3], "em", max_iter=50, tol=0.0)
    canvas = window.canvas
    axes = [canvas.plotItem.getAxis(name) for name in ("left", "bottom")]
    canvas.viewport().repaint()
    frames = canvas.scene_item.frames_painted
    painted.clear()
    canvas.setFocus()
    for _ in range(6):
        QTest.keyClick(window, Qt.Key.Key_Right)
        wait_idle(qtbot, s)
        canvas.viewport().repaint()
    assert s.index == 6 and canvas.scene_item.frames_painted >= frames + 6
    assert not [axis for axis in painted if axis in axes]
    canvas.viewbox.scaleBy((0.5, 0.5))  # new ticks: drawn again
    QApplication.processEvents()
    canvas.viewport().repaint()
    assert {id(axis) for axis in painted if axis in axes} == {id(axis) for axis in axes}


def test_the_points_reach_the_screen_pixel_for_pixel(window, qtbot, rng):
    """The worker draws the points for the view at its device pixels; the canvas puts them there
    as they are (a draw scaled by a fraction of a pixel cost 4x and dropped a column)."""
    X = rng.normal(size=(40_000, 2))
    s = scenario_window(window, qtbot, X, X[:4], "kmeans")
    qtbot.waitUntil(lambda: not window.canvas._viewport_timer.isActive())
    wait_idle(qtbot, s)
    for _ in range(2):  # a refit step: no changed points ringed
        QTest.keyClick(window, Qt.Key.Key_Right)
        wait_idle(qtbot, s)
    frame = s.frame.image
    shot = window.canvas.viewport().grab().toImage().convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    screen = np.frombuffer(shot.constBits(), np.uint32).reshape(shot.height(), shot.bytesPerLine() // 4)
    target = window.canvas.scene_item.sceneTransform().mapRect(window.canvas.scene_item.boundingRect())
    ratio = shot.devicePixelRatio()  # the screen's pixels, at HiDPI too (QT_SCALE_FACTOR=2)
    x0, y0 = round(target.x() * ratio), round(target.y() * ratio)
    h, w = frame.shape
    shown = screen[y0:y0 + h, x0:x0 + w]
    assert shown.shape == frame.shape
    opaque = (frame >> 24) == 255  # over the white background, the points' own pixels
    assert opaque.mean() > 0.1
    assert (shown[opaque] == frame[opaque]).mean() > 0.95  # all but where centres and trails are drawn over them


def test_each_legend_dot_is_level_with_its_words_in_a_tall_plot(window, qtbot, three_blobs):
    """Stretched to a tall plot's height, the legend spread its rows apart and each dot sat half
    a row below its words (the image window at 1024x768); it keeps its own height, at the top."""
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3], "em")
    s.goto(2)
    wait_idle(qtbot, s)
    window.resize(1024, 900)
    window.splitter.setSizes([200, 600])
    qtbot.wait(50)
    plot = window.cost_plot
    plot.viewport().repaint()
    QApplication.processEvents()
    view, legend = plot.plotItem.vb.sceneBoundingRect(), plot.legend.sceneBoundingRect()
    assert view.height() > 300
    assert legend.height() < 0.4 * view.height() and abs(legend.top() - view.top()) < 20
    for sample, label in plot.legend.items:  # the words fill their row: the dot is level with them
        dot, words = sample.sceneBoundingRect(), label.sceneBoundingRect()
        assert words.height() < 2.5 * dot.height() and abs(dot.center().y() - words.center().y()) < 0.5 * dot.height()


def test_em_e_step_1_has_a_finite_non_degenerate_y_range(window, qtbot, three_blobs):
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3], "em")
    s.goto(1)
    wait_idle(qtbot, s)
    plot = window.cost_plot
    (_, _), (y0, y1) = plot.plotItem.vb.viewRange()
    values = np.concatenate([y for _, y in plot.points().values()])
    assert np.isfinite([y0, y1]).all() and y1 - y0 >= 1e-3 * abs(values).max()
    assert np.all((values > y0) & (values < y1))  # every dot is on screen
    left = plot.plotItem.getAxis("left")
    texts = left.tickStrings([y0, y1], 1.0, (y1 - y0) / 4)
    assert all(len(t) < 12 for t in texts)


# -- the canvas ------------------------------------------------------------------

def test_changed_points_are_ringed_as_many_as_the_trace_counts(window, qtbot, three_blobs):
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3])
    reference = Scenario(points=three_blobs, algorithm="kmeans", centres=three_blobs[:3]).start()
    reference.run(4)
    assert reference.history[3].changed > 0
    s.goto(3)  # assignment step 2
    wait_idle(qtbot, s)
    overlay = window.canvas.scene_item._overlay
    assert s.history[3].changed == reference.history[3].changed
    assert len(overlay.changed) == s.history[3].changed
    s.goto(4)  # a refit: no rings
    wait_idle(qtbot, s)
    assert window.canvas.scene_item._overlay.changed is None


def test_kmeans_field_is_exact_voronoi_cells(window, qtbot, three_blobs):
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3])
    s.set_display("field", True)
    s.goto(1)
    qtbot.wait(60)
    wait_idle(qtbot, s)
    assert s.frame.field_image is None and s.frame.regions is not None
    np.testing.assert_allclose(s.frame.regions, s.history[1].centres)
    assert len(window.canvas.scene_item._regions) == 3


def test_hovering_a_point_reads_its_responsibilities(window, qtbot, three_blobs):
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3], "soft-kmeans", beta=0.3)
    s.goto(3)
    wait_idle(qtbot, s)
    canvas = window.canvas
    i = 7
    pos = widget_pos(canvas, *three_blobs[i])
    for p in (pos + type(pos)(20, 0), pos):
        QTest.qWait(30)
        send_mouse(canvas.viewport(), QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    qtbot.waitUntil(lambda: canvas.reading != "", timeout=3000)
    assert canvas._hover == i
    reference = Scenario(points=three_blobs, algorithm="soft-kmeans", centres=three_blobs[:3],
                         settings=s.settings).start()
    reference.run(4)
    r = reference.responsibilities(3)[i]
    shown = [float(line.split("r = ")[1].split()[0].replace(MINUS, "-").replace("<", ""))
             for line in canvas.reading.splitlines() if line.startswith("k=")]
    np.testing.assert_allclose(shown, r, atol=5e-3)
    assert "β" in canvas.reading and "‖x − m_k‖²" in canvas.reading


def test_field_covers_the_viewport_at_a_third_of_its_pixels():
    """The soft k-means / EM field is sampled over the whole view (its speed is in the bench)."""
    from gui.worker import Viewport, field_image
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 2)) * 3
    for algorithm in ("soft-kmeans", "em"):
        run = Scenario(points=X, algorithm=algorithm, centres=X[:10]).start()
        run.run(2)
        img = field_image(run.algorithm, run.history[1], Viewport(-8, 8, -5, 5, 1280, 800))
        assert img.shape[0] * 3 >= 800 and img.shape[1] * 3 >= 1280
        assert img.shape[0] * 3 < 800 + 6 and img.shape[1] * 3 < 1280 + 6
        assert len(np.unique(img)) > 10  # a field, not a flat fill


def test_the_overlay_is_drawn_again_only_when_it_changes_and_is_never_stale(window, qtbot, three_blobs):
    """The canvas keeps the drawn overlay (ellipses, centres, labels) while neither it nor the view
    changes; whatever it reuses must be the picture a fresh drawing gives."""
    s = scenario_window(window, qtbot, three_blobs, three_blobs[:3], "em")
    item = window.canvas.scene_item
    view = window.canvas.viewport()

    def grab_twice():
        qtbot.wait(30)
        cached = view.grab().toImage()
        item._overlay_image = None  # forget it: drawn afresh
        fresh = view.grab().toImage()
        return cached, fresh

    for _ in range(5):  # the initialisation, then E-step, M-step, ... one key at a time
        QTest.keyClick(window, Qt.Key.Key_Right)
        wait_idle(qtbot, s)
        cached, fresh = grab_twice()
        assert cached == fresh, f"half-step {s.index}: the reused overlay differs from a fresh one"
    drawn, paints, frames = item.overlay_paints, item.paints, item.frames_painted
    for _ in range(4):
        view.repaint()  # nothing changed: the same overlay, reused
    assert item.paints >= paints + 4 and item.overlay_paints == drawn
    assert item.frames_painted == frames  # repaints of one frame: the bench counts it once
    QTest.keyClick(window, Qt.Key.Key_Right)
    wait_idle(qtbot, s)
    qtbot.waitUntil(lambda: item.frames_painted == frames + 1)
    drawn = item.overlay_paints
    window.canvas.viewbox.translateBy(x=0.5)  # a pan moves every ellipse: drawn again
    qtbot.waitUntil(lambda: item.overlay_paints > drawn, timeout=5000)
