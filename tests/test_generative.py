"""The generative model: sampled points remember their true component z; the adjusted Rand index
and the confusion table of z against the fit; p(z | x) under the true mixture; the colourings of
View → Colour by; z in sessions, undo and the run trace."""

import itertools
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from sklearn.metrics import adjusted_rand_score

from engine.agreement import (MAX_TRUE_COMPONENTS, adjusted_rand_index, agreement, check_truth,
                              confusion_matrix, true_responsibilities)
from engine.command_line import scenario_from_args
from engine.presets import PRESETS
from engine.session_file import SessionData, load_session, save_session, session_from_dict
from engine.trace import trace
from gui.palette import MARGINAL_HEX, cluster_rgb, hex_to_rgb, point_colours

from test_gui import wait_idle, widget_pos

BLOBS = PRESETS["blobs"][1]


def pair_count_ari(truth, labels):
    """The adjusted Rand index straight from its definition: every pair of points, one by one."""
    n = len(truth)
    tp = fn = fp = tn = 0
    for i, j in itertools.combinations(range(n), 2):
        same_truth, same_label = truth[i] == truth[j], labels[i] == labels[j]
        tp += same_truth and same_label
        fn += same_truth and not same_label
        fp += same_label and not same_truth
        tn += not same_truth and not same_label
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


# -- the engine ----------------------------------------------------------------------------

@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 5)), max_size=40))
def test_ari_matches_scikit_learn_and_a_direct_pair_count(pairs):
    truth = np.array([p[0] for p in pairs], dtype=np.int64)
    labels = np.array([p[1] for p in pairs], dtype=np.int64)
    ari = adjusted_rand_index(truth, labels)
    assert ari == pytest.approx(adjusted_rand_score(truth, labels), abs=1e-12)
    assert ari == pytest.approx(pair_count_ari(truth, labels), abs=1e-12)


def test_ari_on_known_partitions():
    z = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert adjusted_rand_index(z, (z + 1) % 3) == 1.0  # the same grouping, clusters renamed
    assert adjusted_rand_index(z, np.array([0, 0, 1, 1, 1, 2, 2, 2, 0])) < 0.5
    # a hand count: 4 points, z = [0 0 1 1], labels = [0 0 0 1]: tp 1, fn 1, fp 2, tn 2
    assert adjusted_rand_index([0, 0, 1, 1], [0, 0, 0, 1]) == pytest.approx(
        2 * (1 * 2 - 1 * 2) / ((1 + 1) * (1 + 2) + (1 + 2) * (2 + 2)))
    # large, sparse label numbers are renumbered, not allocated
    assert adjusted_rand_index(z, z * 10**9) == 1.0
    # large N: exact integer pair counts, as scikit-learn
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 4, 200_000), rng.integers(0, 6, 200_000)
    b[:100_000] = a[:100_000]
    assert adjusted_rand_index(a, b) == pytest.approx(adjusted_rand_score(a, b), abs=1e-12)


def test_confusion_matrix_counts_every_point_once():
    rng = np.random.default_rng(0)
    z, labels = rng.integers(0, 3, 500), rng.integers(0, 4, 500)
    table = confusion_matrix(z, labels, 3, 5)
    assert table.shape == (3, 5) and table.sum() == 500
    direct = np.zeros((3, 5), dtype=int)
    for i, k in zip(z, labels):
        direct[i, k] += 1
    np.testing.assert_array_equal(table, direct)
    assert not table[:, 4].any()  # a cluster no point is in: an empty column
    result = agreement(z, labels, 3, 5)
    assert result.n_points == 500
    assert result.adjusted_rand_index == pytest.approx(adjusted_rand_score(z, labels), abs=1e-12)
    with pytest.raises(ValueError, match="below 3"):
        confusion_matrix([3], [0], 3, 5)
    with pytest.raises(ValueError, match="same length"):
        confusion_matrix([0, 1], [0], 3, 5)


def test_true_responsibilities_are_bayes_rule_under_the_true_mixture():
    X, z = BLOBS.sample(300, seed=2)
    resp = true_responsibilities(BLOBS, X)
    assert resp.dtype == np.float32 and resp.shape == (300, 3)
    joint = np.empty((300, 3))
    for k in range(3):
        d = X - BLOBS.means[k]
        prec = np.linalg.inv(BLOBS.covariances[k])
        joint[:, k] = BLOBS.weights[k] * np.exp(-0.5 * np.einsum("ni,ij,nj->n", d, prec, d)) / (
            2 * np.pi * np.sqrt(np.linalg.det(BLOBS.covariances[k])))
    np.testing.assert_allclose(resp, joint / joint.sum(axis=1, keepdims=True), atol=1e-5)
    assert (resp.argmax(axis=1) == z).mean() > 0.97  # well-separated blobs: z is nearly certain


def test_sampled_components_are_where_the_mixture_puts_them():
    X, z = BLOBS.sample(3000, seed=5)
    for k in range(3):
        np.testing.assert_allclose(X[z == k].mean(axis=0), BLOBS.means[k], atol=0.1)
    assert np.bincount(z).tolist() == np.bincount(BLOBS.sample(3000, seed=5)[1]).tolist()  # seeded


@pytest.mark.parametrize("truth, message", [
    ([0, 1], "one component number per point"),
    ([0, 1, -1], "from 0 to"),
    ([0, 1.0, 2], "must hold integers"),
    ([0, "1", 2], "must hold integers"),
    ([0, True, 2], "must hold integers"),
    ([0, [1], 2], "must hold integers"),
    ([0, 1, MAX_TRUE_COMPONENTS], "from 0 to"),
    ([0, 1, 2**70], "too large"),
    ("012", "must be a list"),
    ({"0": 1}, "must be a list"),
    (np.array([0.0, 1.0, 2.0]), "must hold integers"),
])
def test_check_truth_refuses_what_is_not_a_component_per_point(truth, message):
    with pytest.raises(ValueError, match=message):
        check_truth(truth, 3)
    z = check_truth([2, 0, 1], 3)
    assert z.dtype == np.int32 and not z.flags.writeable


# -- sessions and the trace ------------------------------------------------------------

def _session(n=40, truth=True):
    X, z = BLOBS.sample(n, seed=1)
    return SessionData(points=X, centres=X[:3], mixture=BLOBS, truth=z if truth else None)


def test_truth_survives_save_and_load(tmp_path, monkeypatch):
    data = _session()
    path = tmp_path / "s.json"
    save_session(path, data)
    assert json.loads(path.read_text())["truth"] == data.truth.tolist()
    np.testing.assert_array_equal(load_session(path).truth, data.truth)
    # long ones are packed, like the points
    import engine.session_file as sf
    monkeypatch.setattr(sf, "INLINE_NUMBERS_MAX", 10)
    save_session(path, data)
    assert "base64" in json.loads(path.read_text())["truth"]
    np.testing.assert_array_equal(load_session(path).truth, data.truth)


def test_files_without_truth_still_open(tmp_path):
    obj = _session().to_dict()
    del obj["truth"]  # a file written before z was kept
    assert session_from_dict(obj).truth is None
    obj["truth"] = None
    assert session_from_dict(obj).truth is None


@pytest.mark.parametrize("truth, message", [
    ([0, 1, 2], "one component number per point"),
    ([-1] * 40, "from 0 to"),
    ([0.0] * 40, "must hold integers"),
    (["a"] * 40, "must hold integers"),
    ([False] * 40, "must hold integers"),
    ([[0]] * 40, "must hold integers"),
    ([10**30] * 40, "too large"),
    ("z", "must be a list"),
    (7, "must be a list"),
    ({"shape": [40], "dtype": "<f8", "base64": ""}, "malformed packed array"),
    ({"shape": [40], "dtype": "<i4", "base64": "!!"}, "malformed packed array"),
    ({"shape": [2], "dtype": "<i4", "base64": "AAAAAAEAAAA="}, "one component number per point"),
])
def test_session_refuses_hostile_truth(tmp_path, truth, message):
    obj = _session().to_dict()
    obj["truth"] = truth
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(obj))
    with pytest.raises(ValueError, match=message) as info:
        load_session(path)
    assert str(info.value).startswith(str(path))


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                     lambda inner: st.lists(inner, max_size=45) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                     max_leaves=60)


@given(_json)
def test_session_loader_fuzzed_truth(truth):
    obj = _session().to_dict()
    obj["truth"] = truth
    try:
        data = session_from_dict(obj)
    except ValueError as exc:
        assert str(exc).startswith("session: ")
    else:  # only z of one small integer per point gets through
        assert data.truth is None or (data.truth.shape == (40,) and data.truth.min() >= 0)


def _run_args(*extra):
    import main
    return main.build_parser().parse_args(["run", "--sample", "blobs", "--n", "300", "--seed", "3",
                                           "--algorithm", "kmeans", "--k", "3", *extra])


def test_trace_holds_truth_and_the_final_adjusted_rand_index():
    args = _run_args()
    scenario, truth = scenario_from_args(args, with_truth=True)
    np.testing.assert_array_equal(truth, BLOBS.sample(300, seed=3)[1])
    result = trace(scenario.start().run(), truth=truth)
    assert result["truth"] == truth.tolist()
    labels = result["final"]["labels"]
    assert result["final"]["adjusted_rand_index"] == pytest.approx(adjusted_rand_score(truth, labels), abs=1e-12)
    assert result["final"]["adjusted_rand_index"] == pytest.approx(pair_count_ari(truth, labels), abs=1e-12)
    # without z (data from a file): neither key
    plain = trace(scenario.start().run())
    assert "truth" not in plain and "adjusted_rand_index" not in plain["final"]
    with pytest.raises(ValueError, match="one component number per point"):
        trace(scenario.start().run(), truth=truth[:10])


def test_main_run_sample_writes_truth(tmp_path, capsys):
    import main
    out = tmp_path / "trace.json"
    assert main.main(["run", "--sample", "blobs", "--n", "300", "--seed", "3", "--algorithm", "em",
                      "--k", "3", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    truth = BLOBS.sample(300, seed=3)[1]
    assert result["truth"] == truth.tolist()
    assert result["final"]["adjusted_rand_index"] == pytest.approx(
        adjusted_rand_score(truth, result["final"]["labels"]), abs=1e-12)


# -- the window: z kept aligned with the points ----------------------------------------------

def _sampled(window, qtbot, preset="blobs", algorithm="em"):
    s = window.session
    s.set_algorithm(algorithm)
    s.load_preset(preset)
    window.canvas.fit_to_data()
    qtbot.wait(60)  # the canvas pushes its new viewport after a short debounce
    wait_idle(qtbot, s)
    return s


def test_sampled_points_remember_their_component(window, qtbot):
    s = _sampled(window, qtbot)
    X, z = s.mixture.sample(s.sample_n, seed=s.seed)
    np.testing.assert_array_equal(s.points, X)
    np.testing.assert_array_equal(s.truth, z)
    s.set_sample_n(50)
    s.sample(append=True)  # appended points extend z
    assert len(s.truth) == len(s.points) == len(X) + 50
    np.testing.assert_array_equal(s.truth[:len(X)], z)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(s.truth, z)
    s.load_preset("old-faithful")  # data with no known components
    assert s.truth is None
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(s.truth, z)


def test_truth_survives_removal_and_its_undo(window, qtbot):
    s, canvas = _sampled(window, qtbot), window.canvas
    points, z = s.points.copy(), s.truth.copy()
    # right-click removes the point under the mouse: its z goes with it
    i = int(np.argmax(s.points[:, 0]))  # the rightmost point: nothing overlaps it
    QTest.mouseClick(canvas.viewport(), Qt.MouseButton.RightButton, pos=widget_pos(canvas, *points[i]))
    np.testing.assert_array_equal(s.points, np.delete(points, i, axis=0))
    np.testing.assert_array_equal(s.truth, np.delete(z, i))
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(s.points, points)
    np.testing.assert_array_equal(s.truth, z)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    np.testing.assert_array_equal(s.truth, np.delete(z, i))


def test_a_point_added_by_hand_makes_z_unknown_until_undone(window, qtbot):
    s, canvas = _sampled(window, qtbot), window.canvas
    z = s.truth.copy()
    truth_section = window.controls.sections["truth"]
    assert truth_section.isVisible() and window.action_map["colour_truth"].isEnabled()
    QTest.keyClick(window, Qt.Key.Key_End)  # a filled table first, as after a lecture's run
    wait_idle(qtbot, s)
    qtbot.waitUntil(lambda: s.agreement is not None, timeout=20000)
    QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos(canvas, 0.0, 0.0))
    assert len(s.points) == len(z) + 1 and s.truth is None
    assert not truth_section.isVisible() and not window.action_map["colour_truth"].isEnabled()
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(s.truth, z)
    assert truth_section.isVisible() and window.action_map["colour_truth"].isEnabled()
    # the table is back with a row per component, not an empty strip
    assert window.controls.agreement.table.rowCount() == s.n_true == 3


def test_a_moved_point_keeps_its_component_and_save_reopen_keeps_z(window, qtbot, tmp_path):
    from test_gui import drag
    s, canvas = _sampled(window, qtbot), window.canvas
    z = s.truth.copy()
    i = int(np.argmax(s.points[:, 1]))  # the topmost point
    x, y = s.points[i]
    drag(canvas.viewport(), widget_pos(canvas, x, y), widget_pos(canvas, x + 0.5, y + 0.5))
    assert s.undo_stack.undoText() == "Move point"
    np.testing.assert_array_equal(s.truth, z)
    path = tmp_path / "z.json"
    assert window.files.save_as(str(path))
    np.testing.assert_array_equal(load_session(path).truth, z)
    s.load_preset("old-faithful")
    assert s.truth is None
    s.mark_saved()  # no "save changes?" question
    assert window.files.open(str(path))
    np.testing.assert_array_equal(window.session.truth, z)


# -- the window: the agreement shown ---------------------------------------------------------

def _direct_agreement(s):
    """ARI and confusion table at the half-step on screen, computed here from the engine."""
    from engine.data import Dataset
    from engine.registry import make_algorithm
    snap = s.history[s.index if s.current.phase == s.description.responsibility_phase else s.index - 1]
    labels = make_algorithm(s.algorithm, s.settings).labels(Dataset(s.points), snap)
    table = np.zeros((s.n_true, snap.n_clusters), dtype=int)
    np.add.at(table, (s.truth, labels), 1)
    return adjusted_rand_score(s.truth, labels), table


@pytest.mark.parametrize("algorithm", ["kmeans", "em"])
def test_agreement_shows_the_ari_and_confusion_of_the_half_step_on_screen(window, qtbot, algorithm):
    s = _sampled(window, qtbot, "local-optimum", algorithm)
    view = window.controls.agreement
    assert s.agreement is None and view.ari.text().startswith("—")  # the initialisation
    for _ in range(3):  # assignment / E-step, refit / M-step, assignment / E-step
        QTest.keyClick(window, Qt.Key.Key_Right)
        wait_idle(qtbot, s)
        qtbot.waitUntil(lambda: s.agreement is not None and s._agreement_call is None)
        ari, table = _direct_agreement(s)
        assert s.agreement.adjusted_rand_index == pytest.approx(ari, abs=1e-12)
        np.testing.assert_array_equal(s.agreement.confusion, table)
        assert s.agreement.confusion.sum() == len(s.points)
        assert view.ari.text() == f"{ari:.3f}"
        shown = [[view.table.item(r, c).text() for c in range(table.shape[1])] for r in range(table.shape[0])]
        assert shown == [[f"{v:,}" for v in row] for row in table]
    # the stuck local optimum: one centre holds two blobs, the ARI says so
    assert s.agreement.adjusted_rand_index < 0.9 or algorithm == "em"


def test_agreement_after_running_to_the_end_is_the_final_one(window, qtbot):
    s = _sampled(window, qtbot, "unequal", "em")
    QTest.keyClick(window, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: s.at_end, timeout=60000)
    wait_idle(qtbot, s)
    qtbot.waitUntil(lambda: s.agreement is not None and s._agreement_call is None)
    ari, table = _direct_agreement(s)
    assert s.agreement.adjusted_rand_index == pytest.approx(ari, abs=1e-12)
    np.testing.assert_array_equal(s.agreement.confusion, table)
    QTest.keyClick(window, Qt.Key.Key_Home)  # the initialisation: no assignment to compare
    wait_idle(qtbot, s)
    qtbot.waitUntil(lambda: s.agreement is None)
    assert window.controls.agreement.ari.text().startswith("—")


def test_agreement_fits_a_projector_and_hides_without_z(window, qtbot):
    window.resize(1024, 700)
    s = _sampled(window, qtbot)
    QTest.keyClick(window, Qt.Key.Key_Right)
    wait_idle(qtbot, s)
    qtbot.waitUntil(lambda: s.agreement is not None)
    table = window.controls.agreement.table
    assert table.isVisible()
    # every column of the table is visible without scrolling sideways
    assert table.horizontalScrollBar().maximum() == 0
    assert window.controls.horizontalScrollBar().maximum() == 0  # nor the panel
    s.load_preset("old-faithful")
    wait_idle(qtbot, s)
    assert not window.controls.sections["truth"].isVisible() and s.agreement is None


# -- the window: Colour by -------------------------------------------------------------------

def test_colour_by_menu_and_panel_set_the_display_option(window, qtbot, tmp_path):
    s = _sampled(window, qtbot)
    view = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    colour = next(a.menu() for a in view.actions() if a.text() == "&Colour by")
    assert [a.text() for a in colour.actions()] == [
        "Current &fit", "True component &z", "&Nothing (p(x))", "&Responsibilities under the true mixture"]
    assert s.display.colour_by == "fit" and window.action_map["colour_fit"].isChecked()
    combo = window.controls.colour_by
    window.controls.sections["display"].expand(animate=False)
    combo.setFocus()
    QTest.keyClick(combo, Qt.Key.Key_Down)
    assert s.display.colour_by == "truth" and window.action_map["colour_truth"].isChecked()
    QTest.keyClick(combo, Qt.Key.Key_Down)
    assert s.display.colour_by == "marginal" and window.action_map["colour_marginal"].isChecked()
    window.action_map["colour_true_responsibilities"].trigger()
    assert s.display.colour_by == "true_responsibilities" and combo.currentIndex() == 3
    path = tmp_path / "c.json"
    assert window.files.save_as(str(path))
    assert load_session(path).display.colour_by == "true_responsibilities"


# The colour tests read the canvas' pixels at each point (what the class sees; the frame no
# longer carries a colour per point since the worker renders them straight into its image).
GRID_X, GRID_Y = np.meshgrid(np.linspace(-6, 6, 9), np.linspace(-4, 4, 7))
GRID = np.c_[GRID_X.ravel(), GRID_Y.ravel()]
GRID_CENTRES = np.array([[-5.0, 3.5], [5.0, 3.5], [0.0, -3.5]])


def _grid_window(window, qtbot, truth):
    """Sparse points on a grid (no two markers overlap) with the given z, k-means from three centres."""
    s = window.session
    s.set_mixture(BLOBS)
    s.set_points(GRID, "Grid", truth=truth)
    s.set_centres(GRID_CENTRES)
    s.set_algorithm("kmeans")
    for option in ("trails", "ellipses", "true_mixture"):
        s.set_display(option, False)
    window.canvas.fit_to_data()
    qtbot.wait(60)
    QTest.keyClick(window, Qt.Key.Key_Right)  # the first assignment step
    wait_idle(qtbot, s)
    return s


def _pixels(window, qtbot, key=None):
    """RGB of the canvas at every grid point away from the centre markers: {point index: rgb}."""
    s = window.session
    if key is not None:
        window.action_map[key].trigger()
    wait_idle(qtbot, s)
    qtbot.wait(30)
    image = window.canvas.grab().toImage()
    dpr = image.devicePixelRatio()
    out = {}
    for n, point in enumerate(s.points):
        if np.min(np.hypot(*(GRID_CENTRES - point).T)) < 1.5 or n >= len(GRID):
            continue  # under a centre marker, or not a grid point
        p = widget_pos(window.canvas, *point)
        c = image.pixelColor(int(p.x() * dpr), int(p.y() * dpr))
        out[n] = np.array([c.red(), c.green(), c.blue()])
    assert len(out) > 40
    return out


def _assert_pixels(pixels, expected_rgb):
    for n, rgb in pixels.items():
        np.testing.assert_allclose(rgb, expected_rgb[n], atol=3, err_msg=f"point {n}")


def _argb_to_rgb(argb):
    argb = np.asarray(argb, dtype=np.uint32)
    return np.stack([(argb >> 16) & 255, (argb >> 8) & 255, argb & 255], axis=-1).astype(float)


GRID_TRUTH = np.arange(len(GRID)) % 3  # a z that no spatial clustering reproduces


def test_colour_by_truth_paints_each_point_in_its_components_colour(window, qtbot):
    _grid_window(window, qtbot, GRID_TRUTH)
    _assert_pixels(_pixels(window, qtbot, "colour_truth"), cluster_rgb(3)[GRID_TRUTH].astype(float))


def test_colour_by_nothing_paints_every_point_one_grey(window, qtbot):
    s = _grid_window(window, qtbot, GRID_TRUTH)
    grey = np.array(hex_to_rgb(MARGINAL_HEX), dtype=float)
    _assert_pixels(_pixels(window, qtbot, "colour_marginal"), np.broadcast_to(grey, (len(s.points), 3)))


def test_colour_by_true_responsibilities_follows_the_mixture(window, qtbot):
    from engine.sampling import Mixture
    s = _grid_window(window, qtbot, GRID_TRUTH)
    # wide components: p(z | x) really blends between them
    wide = Mixture(BLOBS.weights, BLOBS.means, BLOBS.covariances * 8)
    s.set_mixture(wide)
    expected = _argb_to_rgb(point_colours(3, responsibilities=true_responsibilities(wide, GRID)))
    assert np.ptp(expected, axis=0).max() > 60  # the test sees really different colours
    _assert_pixels(_pixels(window, qtbot, "colour_true_responsibilities"), expected)
    # editing the true mixture recolours the points
    moved = Mixture(wide.weights, wide.means[[1, 2, 0]], wide.covariances)
    s.set_mixture(moved)
    _assert_pixels(_pixels(window, qtbot),
                   _argb_to_rgb(point_colours(3, responsibilities=true_responsibilities(moved, GRID))))


def test_colour_by_truth_without_z_falls_back_to_the_fit(window, qtbot):
    s = _grid_window(window, qtbot, GRID_TRUTH)
    fit = _pixels(window, qtbot, "colour_fit")
    _assert_pixels(_pixels(window, qtbot, "colour_truth"), cluster_rgb(3)[GRID_TRUTH].astype(float))
    # a point added by hand: z unknown, so the fit's colours again (the setting stays)
    QTest.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos(window.canvas, 6.5, -4.5))
    assert s.truth is None and s.display.colour_by == "truth"
    QTest.keyClick(window, Qt.Key.Key_Right)  # the first assignment step again: the same labels
    wait_idle(qtbot, s)
    _assert_pixels(_pixels(window, qtbot), fit)


def test_an_export_colours_as_the_session_does(tmp_path):
    """View → Colour by reaches the exports: "True component z" paints each point in the colour
    of its z, whatever the fit says, and "Nothing" paints them all one grey."""
    from PySide6.QtGui import QColor, QImage

    from engine import Scenario
    from engine.presets import PRESETS
    from gui.export import ExportOptions, FrameRenderer
    from gui.palette import CLUSTER_HEX, MARGINAL_HEX
    mixture = PRESETS["blobs"][1]
    X, z = mixture.sample(400, seed=1)
    run = Scenario(points=X, algorithm="kmeans", centres=X[:3]).start().run(1)  # one assignment
    counts = {}
    for colour_by in ("truth", "marginal"):
        renderer = FrameRenderer(run, ExportOptions(width=480, height=320, caption=False, legend=False,
                                                    colouring=(colour_by, z, mixture, 3)))
        image = renderer.image(1)
        names = [QColor(image.pixel(x, y)).name().upper() for x in range(0, 480, 2) for y in range(0, 320, 2)]
        counts[colour_by] = {h: names.count(h) for h in [*(c.upper() for c in CLUSTER_HEX[:3]), MARGINAL_HEX]}
    truth, marginal = counts["truth"], counts["marginal"]
    assert all(truth[c.upper()] > 15 for c in CLUSTER_HEX[:3])  # every z has its points in its colour
    assert marginal[MARGINAL_HEX] > 60 and truth[MARGINAL_HEX] == 0
    # without z's colours only the centre markers are left in cluster colours
    assert sum(marginal[c.upper()] for c in CLUSTER_HEX[:3]) < sum(truth[c.upper()] for c in CLUSTER_HEX[:3]) / 4
