"""Run → Restarts… and Run → How many clusters?… driven by real clicks, with real numbers; and
the engine's fast path behind them (k-means restarts several at once, k-means++ draws)."""

import dataclasses
import itertools

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from test_gui import wait_idle

from engine.data import Dataset
from engine.initialisation import kmeans_plus_plus, kmeans_plus_plus_many
from engine.presets import PRESETS
from engine.restarts import bic, n_parameters, restart_batch, run_restarts
from engine.scenario import Scenario
from engine.settings import AlgorithmSettings
from gui.actions import show_dialog


def local_optimum(window, qtbot, algorithm="kmeans"):
    s = window.session
    s.load_preset("local-optimum")
    if algorithm != s.algorithm:
        s.set_algorithm(algorithm)
    wait_idle(qtbot, s)
    return s


def click(widget, pos):
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos)


def finished(qtbot, dialog, timeout=60000):
    qtbot.waitUntil(lambda: not dialog.running, timeout=timeout)
    QApplication.processEvents()


def open_restarts(window):
    window.action_map["restarts"].trigger()
    return window.restarts_dialog


# -- Restarts… -------------------------------------------------------------------------

def test_restarts_best_is_the_minimum_and_the_optima_add_up(window, qtbot):
    s = local_optimum(window, qtbot)
    dialog = open_restarts(window)
    assert dialog.isVisible() and not dialog.isModal()
    assert dialog.count.value() == 20
    dialog.starts.setCurrentIndex(dialog.starts.findData("forgy"))
    click(dialog.run_button, dialog.run_button.rect().center())
    finished(qtbot, dialog)
    result = dialog._result
    costs = [r.objective for r in result.restarts]
    assert len(costs) == 20 and [r.seed for r in result.restarts] == list(range(s.seed, s.seed + 20))
    assert result.restarts[result.best].objective == min(costs)
    assert sum(o.count for o in result.optima) + len(result.failed) == 20
    # the preset's trap: more than one optimum, the worst far above the best
    assert len(result.optima) > 1 and result.optima[-1].objective > 2 * result.optima[0].objective
    # on screen: one tile per optimum, their counts adding up to R; the sorted values
    items = [dialog.optima.item(i) for i in range(dialog.optima.count())]
    assert len(items) == len(result.optima)
    assert sum(int(item.text().split("\n")[1].split(" of ")[0]) for item in items) == 20
    assert all(not item.icon().isNull() for item in items)
    assert items[0].text().startswith("J = ")
    _, ys = dialog.plot.dots.getData()
    np.testing.assert_array_equal(ys, sorted(costs))
    # the same numbers as the engine's own series
    engine = run_restarts(dataclasses.replace(dialog.scenario(), points=s.points), 20, seed=s.seed)
    assert [r.objective for r in engine.restarts] == costs


def test_clicking_an_optimum_makes_its_start_the_main_run(window, qtbot):
    s = local_optimum(window, qtbot)
    before = s.centres.copy()
    dialog = open_restarts(window)
    dialog.starts.setCurrentIndex(dialog.starts.findData("forgy"))
    click(dialog.run_button, dialog.run_button.rect().center())
    finished(qtbot, dialog)
    s.run_to_end()
    wait_idle(qtbot, s)
    assert len(s.history) > 1
    worst = dialog.optima.item(dialog.optima.count() - 1)
    chosen = dialog._result.restarts[worst.data(Qt.ItemDataRole.UserRole)]
    undo_index = s.undo_stack.index()
    click(dialog.optima.viewport(), dialog.optima.visualItemRect(worst).center())
    np.testing.assert_array_equal(s.centres, chosen.initial_centres)
    wait_idle(qtbot, s)
    assert len(s.history) == 1 and s.index == 0  # the run starts again from its initialisation
    assert s.undo_stack.index() == undo_index + 1  # one undo step
    # stepped to its end, the main run lands where that restart did
    s.run_to_end()
    wait_idle(qtbot, s)
    assert s.history[-1].cost == pytest.approx(chosen.objective, rel=1e-12)
    s.undo_stack.undo()
    np.testing.assert_array_equal(s.centres, before)


def test_keep_best_places_the_best_start(window, qtbot):
    s = local_optimum(window, qtbot)
    dialog = open_restarts(window)
    dialog.count.setValue(12)
    click(dialog.run_button, dialog.run_button.rect().center())
    finished(qtbot, dialog)
    best = dialog._result.restarts[dialog._result.best]
    assert dialog.keep_best.isEnabled()
    click(dialog.keep_best, dialog.keep_best.rect().center())
    np.testing.assert_array_equal(s.centres, best.initial_centres)
    wait_idle(qtbot, s)
    assert len(s.history) == 1


def test_cancel_escape_close_and_edits_stop_the_restarts(window, qtbot):
    s = local_optimum(window, qtbot)
    dialog = open_restarts(window)
    dialog.count.setValue(5000)

    def start_and_wait_for_some():
        click(dialog.run_button, dialog.run_button.rect().center())
        assert dialog.running
        qtbot.waitUntil(lambda: len(dialog._restarts) >= 8, timeout=30000)

    def assert_stopped():
        done = len(dialog._restarts)
        assert not dialog.running and dialog.run_button.isEnabled()
        wait_idle(qtbot, s)  # whatever was on the worker has answered: nothing more came
        QTest.qWait(50)
        assert len(dialog._restarts) == done < 5000
        return done

    start_and_wait_for_some()
    click(dialog.cancel_button, dialog.cancel_button.rect().center())
    done = assert_stopped()
    assert dialog.status.text().startswith(f"Cancelled after {done} of 5000")
    assert sum(o.count for o in dialog._result.optima) <= done

    start_and_wait_for_some()  # Escape stops them and leaves the dialog open
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert_stopped()
    assert dialog.isVisible()

    start_and_wait_for_some()  # an edit of the points stops them, and their results go
    s.add_point(0.0, 3.0)
    assert not dialog.running and dialog._restarts == [] and dialog.optima.count() == 0
    wait_idle(qtbot, s)

    start_and_wait_for_some()  # closing the dialog stops them
    dialog.close()
    assert_stopped()


def test_jitter_restarts_start_near_the_placed_centres(window, qtbot):
    s = local_optimum(window, qtbot)
    dialog = open_restarts(window)
    index = dialog.starts.findData("jitter")
    assert dialog.starts.model().item(index).isEnabled()  # centres are placed
    dialog.starts.setCurrentIndex(index)
    dialog.count.setValue(6)
    click(dialog.run_button, dialog.run_button.rect().center())
    finished(qtbot, dialog)
    starts = np.array([r.initial_centres for r in dialog._result.restarts])
    spread = s.points.std(axis=0)
    assert np.all(np.abs(starts - s.centres) < 0.6 * spread) and len({r.tobytes() for r in starts}) == 6
    s.clear_centres()
    assert not dialog.starts.model().item(index).isEnabled()
    assert dialog.starts.currentData() != "jitter"


def test_restarts_of_em_count_log_likelihood_optima(window, qtbot):
    s = local_optimum(window, qtbot, "em")
    dialog = open_restarts(window)
    dialog.count.setValue(6)
    click(dialog.run_button, dialog.run_button.rect().center())
    finished(qtbot, dialog, timeout=120000)
    result = dialog._result
    lls = [r.objective for r in result.restarts if r.objective is not None]
    assert result.restarts[result.best].objective == max(lls)  # the likelihood is maximised
    assert sum(o.count for o in result.optima) + len(result.failed) == 6
    assert dialog.optima.item(0).text().startswith(f"{s.description.primary.symbol} = ")


# -- How many clusters?… ------------------------------------------------------------------

def test_choose_k_curve_and_a_click_sets_k(window, qtbot):
    s = local_optimum(window, qtbot)
    window.action_map["choose_k"].trigger()
    dialog = window.choose_k_dialog
    dialog.k_low.setValue(1)
    dialog.k_high.setValue(6)
    dialog.count.setValue(6)
    click(dialog.run_button, dialog.run_button.rect().center())
    finished(qtbot, dialog)
    assert [r.k for r in dialog.results] == list(range(1, 7))
    costs = []
    for r in dialog.results:
        own = [x.objective for x in r.restarts.restarts]
        assert len(own) == 6 and r.best.objective == min(own)
        costs.append(r.best.objective)
    assert all(a > b for a, b in itertools.pairwise(costs[:4]))  # J(K) falls to the elbow
    assert costs[3] < 0.25 * costs[2]  # four blobs: the elbow at K = 4
    _, ys = dialog.objective_curve.getData()
    np.testing.assert_array_equal(ys, costs)
    assert not dialog.criteria_plot.isVisible()  # no BIC for k-means
    # a real click on the row of K = 3
    table = dialog.table
    click(table.viewport(), table.visualItemRect(table.item(2, 0)).center())
    chosen = dialog.results[2]
    assert s.n_clusters == 3
    np.testing.assert_array_equal(s.centres, chosen.best.initial_centres)
    wait_idle(qtbot, s)
    assert len(s.history) == 1
    # and on the plot, near K = 5
    plot = dialog.objective_plot
    scene = plot.plotItem.vb.mapViewToScene(QPointF(5.1, costs[4]))
    click(plot.viewport(), plot.mapFromScene(scene))
    assert s.n_clusters == 5 and len(s.centres) == 5
    np.testing.assert_array_equal(s.centres, dialog.results[4].best.initial_centres)


def test_choose_k_for_em_marks_the_best_k_by_bic(window, qtbot):
    s = local_optimum(window, qtbot, "em")
    dialog = show_dialog(window, "choose_k_dialog", "choose_k_view", "ChooseKDialog")
    assert dialog.held_box.isVisible()
    dialog.k_low.setValue(2)
    dialog.k_high.setValue(5)
    dialog.count.setValue(3)
    dialog.held_out.setChecked(True)
    click(dialog.run_button, dialog.run_button.rect().center())
    finished(qtbot, dialog, timeout=180000)
    results = dialog.results
    assert [r.k for r in results] == [2, 3, 4, 5]
    n_fit = len(s.points) - round(0.2 * len(s.points))
    algorithm = s.scenario().make_algorithm()
    for r in results:
        p = n_parameters(algorithm.covariance_type, r.k, 2, algorithm.learn_weights)
        assert r.bic == pytest.approx(bic(r.best.objective, p, n_fit), rel=1e-12)
        assert r.held_out_log_likelihood is not None
    best = min(results, key=lambda r: r.bic).k
    assert dialog.best_k_by_bic() == best == 4  # four blobs
    assert dialog.best_line.isVisible() and dialog.best_line.value() == best
    _, bics = dialog.bic_curve.getData()
    np.testing.assert_allclose(bics, [r.bic for r in results])
    assert dialog.table.columnCount() == 6  # K, log p(D), BIC, AIC, held-out, optima


def test_choose_k_cancel_stops_the_scan(window, qtbot):
    s = local_optimum(window, qtbot)
    dialog = show_dialog(window, "choose_k_dialog", "choose_k_view", "ChooseKDialog")
    dialog.k_low.setValue(1)
    dialog.k_high.setValue(40)
    dialog.count.setValue(200)
    click(dialog.run_button, dialog.run_button.rect().center())
    qtbot.waitUntil(lambda: len(dialog.results) >= 1, timeout=60000)
    click(dialog.cancel_button, dialog.cancel_button.rect().center())
    done = len(dialog.results)
    assert not dialog.running
    wait_idle(qtbot, s)
    QTest.qWait(50)
    assert len(dialog.results) == done < 40


# -- the engine's fast path behind the view ---------------------------------------------------

@pytest.mark.parametrize("init", ["forgy", "kmeans++", "random"])
@pytest.mark.parametrize("max_iter", [300, 2])
def test_kmeans_restarts_end_as_a_run(init, max_iter):
    """Several k-means runs at once, whole, in one compiled call: each ends where a Run from
    its start does (the same partition, iterations and reason to stop; the same centres and J
    to rounding: its passes scan fewer points), far from 0 too."""
    X = PRESETS["blobs"][1].sample(3000, seed=4)[0] * [1.0, 3.0] + [1e6, -2e6]
    data = Dataset(X)
    sc = Scenario(points=data, algorithm="kmeans", n_clusters=7, init=init,
                  settings=AlgorithmSettings(max_iter=max_iter))
    batch = restart_batch(sc, data, 3, range(10, 18))
    assert [r.index for r in batch] == list(range(3, 11)) and [r.seed for r in batch] == list(range(10, 18))
    keys = set()
    for r in batch:
        run = dataclasses.replace(sc, centres=r.initial_centres).start().run()
        f, g = run.current, r.final
        assert (f.index, f.phase, f.iteration, f.converged, f.changed, f.empty) == \
            (g.index, g.phase, g.iteration, g.converged, g.changed, g.empty)
        np.testing.assert_array_equal(run.final_labels(), run.algorithm.labels(data, g))
        np.testing.assert_array_equal(f.counts, g.counts)
        np.testing.assert_allclose(g.centres, f.centres, rtol=1e-13)
        assert r.objective == g.cost == pytest.approx(f.cost, rel=1e-12)
        assert (run.n_iter, run.stop_reason) == (r.iterations, r.stopped)
        keys.add(r.key)
    if max_iter == 2:
        assert all(r.stopped == "max_iter" for r in batch)
    # one key per partition: as many keys as distinct (renumbered) final labellings
    partitions = {tuple(np.unique(run_labels, return_inverse=True)[1]) for run_labels in
                  (_renumbered(sc.make_algorithm().labels(data, r.final)) for r in batch)}
    assert len(keys) == len(partitions)


def _renumbered(labels):
    first = {}
    return np.array([first.setdefault(k, len(first)) for k in labels.tolist()])


def test_kmeans_plus_plus_many_draws_as_one_at_a_time():
    X = np.random.default_rng(3).normal(size=(5000, 3))
    seeds = [0, 7, 42]
    many = kmeans_plus_plus_many(X, 6, seeds)
    for i, seed in enumerate(seeds):
        np.testing.assert_array_equal(many[i], kmeans_plus_plus(X, 6, seed))


# -- for slides ------------------------------------------------------------------------

def test_both_views_save_what_they_show_as_a_png(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QFileDialog
    local_optimum(window, qtbot)
    dialog = open_restarts(window)
    dialog.count.setValue(8)
    click(dialog.run_button, dialog.run_button.rect().center())
    finished(qtbot, dialog)
    window.action_map["choose_k"].trigger()
    choose = window.choose_k_dialog
    choose.k_low.setValue(1)
    choose.k_high.setValue(4)
    choose.count.setValue(3)
    click(choose.run_button, choose.run_button.rect().center())
    finished(qtbot, choose)
    for view, name in ((dialog, "restarts"), (choose, "k")):
        target = tmp_path / name  # no suffix given: .png is added
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, t=target, **k: (str(t), ""))
        click(view.save_png, view.save_png.rect().center())
        image = QImage(str(target) + ".png")
        assert not image.isNull() and image.width() > 300 and image.height() > 200
        # the plots' colours are in it, not a blank grab
        colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
        assert len(colours) > 20
