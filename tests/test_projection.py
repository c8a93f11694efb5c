"""Data with more than two columns: clustered in every column, shown through a view projection."""

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from test_gui import drag, wait_idle, widget_pos

from engine.formats import read_points_table
from engine.projection import Projection, default_projection
from engine.scenario import Scenario
from engine.session_file import load_session, save_session, session_from_dict
from gui.render import overlay_for

IRIS = Path(__file__).resolve().parent.parent / "resources" / "iris.csv"


def iris():
    return read_points_table(IRIS)


# -- the projection, Qt-free ------------------------------------------------------
def test_pca_axes_match_numpys_svd_up_to_sign():
    X, _ = iris()
    p = Projection.of_pca(X)
    _, s, vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    for a in range(2):
        assert abs(abs(p.matrix[a] @ vt[a]) - 1.0) < 1e-12
    np.testing.assert_allclose(p.matrix @ p.matrix.T, np.eye(2), atol=1e-12)
    share = s[0] ** 2 / np.sum(s ** 2)
    assert p.axis_names[0] == f"PC1 ({100 * share:.0f}% of variance)" == "PC1 (92% of variance)"
    shown = p.shown(X)
    np.testing.assert_allclose(shown.mean(axis=0), 0.0, atol=1e-12)  # centred on the mean
    np.testing.assert_allclose(np.var(shown, axis=0) * len(X), s[:2] ** 2, rtol=1e-10)


def test_columns_lift_and_covariance():
    p = Projection.of_columns(2, 3, 4, ("a", "b", "c", "d"))
    assert p.axis_names == ("c", "d") and not p.identity
    X = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(p.shown(X), X[:, 2:])
    ref = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(p.lift([7.0, -1.0], ref), [1.0, 2.0, 7.0, -1.0])
    sigma = np.diag([1.0, 2.0, 3.0, 4.0]) + 0.5
    np.testing.assert_array_equal(p.covariance(sigma), sigma[2:, 2:])
    # a rotated plane: lift moves only within it, and shows where it was asked
    q = Projection.of_pca(np.random.default_rng(3).normal(size=(200, 4)) @ np.diag([5.0, 3.0, 1.0, 0.5]))
    lifted = q.lift([0.3, -0.7], ref)
    np.testing.assert_allclose(q.shown(lifted), [0.3, -0.7], atol=1e-12)
    out_of_plane = np.eye(4) - q.matrix.T @ q.matrix
    np.testing.assert_allclose(out_of_plane @ (lifted - ref), 0.0, atol=1e-12)


def test_two_columns_are_the_identity_and_hand_back_their_input():
    p = default_projection(2)
    assert p.identity
    X = np.array([[0.1, 0.3]])
    assert p.shown(X) is X
    assert p.lift([0.3, 0.7], [0.1, 0.2]).tolist() == [0.3, 0.7]  # exactly, not 0.1 + (0.3 - 0.1)


@pytest.mark.parametrize("bad", [
    {"kind": "columns", "columns": [0, 0]},
    {"kind": "columns", "columns": [0, 4]},
    {"kind": "pca", "axis_names": ["a", "b"], "matrix": [[1, 0, 0, 0], [1, 0, 0, 0]], "offset": [0, 0, 0, 0]},
    {"kind": "pca", "axis_names": ["a", "b"], "matrix": [[1, 0, 0], [0, 1, 0]], "offset": [0, 0, 0]},
    {"kind": "tsne"},
    [0, 1],
])
def test_a_hostile_projection_in_a_session_file_is_refused_with_one_message(bad):
    X, names = iris()
    obj = _session_dict(X[:10], names)
    obj["projection"] = bad
    with pytest.raises(ValueError, match="^session: "):
        session_from_dict(obj)


@pytest.mark.parametrize("field, value", [
    ("names", ["a", "b"]), ("names", "abcd"), ("centres", [[1.0, 2.0]]), ("points", [[1.0]]),
])
def test_hostile_shapes_are_refused(field, value):
    X, names = iris()
    obj = _session_dict(X[:10], names)
    obj[field] = value
    with pytest.raises(ValueError, match="^session: "):
        session_from_dict(obj)


def _session_dict(X, names):
    from engine.session_file import SessionData
    data = SessionData(points=X, centres=X[:3], names=names, projection=Projection.of_pca(X))
    return json.loads(json.dumps(data.to_dict()))


def test_an_old_two_column_file_opens_as_before():
    obj = _session_dict(np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]), None)
    del obj["names"], obj["projection"]
    data = session_from_dict(obj)
    assert data.names is None and data.projection.identity and data.points.shape == (3, 2)


# -- the window ----------------------------------------------------------------------
def _import_iris(window, qtbot):
    window.import_points(str(IRIS))
    s = window.session
    if not len(s.centres):
        s.initialise("kmeans++")  # K centres in four columns, from the seed shown
    wait_idle(qtbot, s)
    return s


def test_importing_iris_keeps_four_columns_and_clusters_in_four_d(window, qtbot):
    s = window.session
    s.set_algorithm("em")
    s = _import_iris(window, qtbot)
    X, names = iris()
    assert s.points.shape == (150, 4) and s.centres.shape == (s.n_clusters, 4)
    np.testing.assert_array_equal(s.points, X)
    assert s.names == names
    assert window.statusBar().toolTip().startswith("Imported 150 points from iris.csv · 4 columns: showing "
                                           "sepal_length – sepal_width")
    assert window.controls.shown_row.isVisibleTo(window.controls)
    assert not window.action_map["show_field"].isEnabled()
    s.run_to_end()
    wait_idle(qtbot, s)
    reference = Scenario(points=X, algorithm="em", settings=s.settings, centres=s.centres).start().run()
    assert len(s.history) == len(reference.history)
    np.testing.assert_allclose(s.history[-1].centres, reference.history[-1].centres, rtol=1e-12)
    np.testing.assert_allclose(s.history[-1].covariances, reference.history[-1].covariances, rtol=1e-12)
    assert np.asarray(s.history[-1].covariances).shape == (s.n_clusters, 4, 4)
    # the EM ellipses drawn are the projected covariances P Σ_k Pᵀ, around the projected means
    for show in (lambda: s.show_columns(2, 3), s.show_pca):
        show()
        P = s.projection.matrix
        overlay = overlay_for(s)
        snap = s.current
        for k in range(s.n_clusters):
            np.testing.assert_allclose(overlay.covariances[k], P @ snap.covariances[k] @ P.T, rtol=1e-12)
            np.testing.assert_allclose(overlay.centres[k], (snap.centres[k] - s.projection.offset) @ P.T)
    assert window.canvas.plotItem.getAxis("bottom").labelText.startswith("PC1 (92% of variance)")
    # undo gives back the two-column points, unnamed and unprojected
    while s.undo_stack.undoText() != "Import iris.csv":
        s.undo_stack.undo()
    s.undo_stack.undo()
    wait_idle(qtbot, s)
    assert s.dim == 2 and s.names is None and s.projection.identity
    assert window.action_map["show_field"].isEnabled()


def test_dragging_a_centre_in_the_pca_plane_moves_only_its_in_plane_part(window, qtbot):
    s = _import_iris(window, qtbot)
    s.show_pca()
    wait_idle(qtbot, s)
    canvas = window.canvas
    before = s.centres.copy()
    start = s.projection.shown(before[0])
    end = start + np.array([0.6, -0.4])
    drag(canvas.viewport(), widget_pos(canvas, *start), widget_pos(canvas, *end))
    wait_idle(qtbot, s)
    px = max(canvas.viewbox.viewPixelSize())
    moved = s.centres[0]
    np.testing.assert_allclose(s.projection.shown(moved), end, atol=2 * px)
    P = s.projection.matrix
    np.testing.assert_allclose((np.eye(4) - P.T @ P) @ (moved - before[0]), 0.0, atol=1e-9)
    np.testing.assert_array_equal(s.centres[1:], before[1:])
    assert s.undo_stack.undoText() == "Move centre"


def test_a_click_adds_a_point_in_the_plane_through_the_data_mean(window, qtbot):
    s = _import_iris(window, qtbot)
    s.show_columns(2, 3)  # petal length against petal width
    wait_idle(qtbot, s)
    mean = s.points.mean(axis=0)
    QTest.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos(window.canvas, 4.0, 1.0))
    px = max(window.canvas.viewbox.viewPixelSize())
    added = s.points[-1]
    assert len(s.points) == 151
    np.testing.assert_allclose(added[2:], [4.0, 1.0], atol=2 * px)
    np.testing.assert_allclose(added[:2], mean[:2], rtol=1e-12)


def test_save_and_reopen_keep_d_names_and_projection(window, qtbot, tmp_path):
    s = _import_iris(window, qtbot)
    s.show_pca()
    path = tmp_path / "iris.clusterlab"
    save_session(path, s.to_data())
    data = load_session(path)
    assert data.points.shape == (150, 4) and data.names == s.names
    assert data.projection == s.projection
    s.show_columns(0, 2)
    s.load_data(data)
    wait_idle(qtbot, s)
    assert s.projection == data.projection and s.projection.kind == "pca"
    np.testing.assert_array_equal(s.centres, data.centres)


def test_an_export_shows_the_sessions_plane(window, qtbot):
    from gui.export import ExportOptions, FrameRenderer, fit_view
    s = _import_iris(window, qtbot)
    s.show_columns(2, 3)
    run = Scenario(points=s.points, algorithm="em", centres=s.centres).start().run()
    renderer = FrameRenderer(run, ExportOptions(width=400, height=300, projection=s.projection))
    x0, x1, _, y1 = fit_view(run, projection=s.projection)
    assert x0 < s.points[:, 2].min() and x1 > s.points[:, 2].max() and y1 < 4.0  # petal width is small
    overlay = renderer._overlay(len(run.history) - 1, 1.0, None)
    snap = run.history[-1]
    np.testing.assert_array_equal(overlay.centres, np.asarray(snap.centres)[:, 2:])
    np.testing.assert_allclose(overlay.covariances, np.asarray(snap.covariances)[:, 2:, 2:])
    image = renderer.image(len(run.history) - 1)
    assert image.width() == 400 and image.height() == 300
