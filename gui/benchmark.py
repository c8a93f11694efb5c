"""Drawing speed for ``python main.py bench``: frames/s while playing, and one frame
against a brush-per-point ScatterPlotItem."""

import os
import time

import numpy as np


def _app():
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from .worker import configure_threads
    configure_threads()
    from PySide6.QtWidgets import QApplication
    return QApplication.instance() or QApplication([])


def _wait(app, cond, timeout=120.0):
    t0 = time.perf_counter()
    while not cond():
        app.processEvents()
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError("frame did not arrive")
        time.sleep(0.0005)


class GapMeter:
    """The UI thread's longest wait: a 2 ms timer on it, and the longest time between two of
    its ticks (what a user feels as a stuck window; the goal is under 50 ms)."""

    INTERVAL_MS = 2

    def __init__(self):
        from PySide6.QtCore import Qt, QTimer
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(self.INTERVAL_MS)
        self._timer.timeout.connect(self._tick)
        self.worst = 0.0
        self._last = None

    def _tick(self):
        now = time.perf_counter()
        if self._last is not None:
            self.worst = max(self.worst, now - self._last)
        self._last = now

    def start(self):
        self.worst, self._last = 0.0, time.perf_counter()
        self._timer.start()

    def stop(self):
        self._timer.stop()
        return self.worst


def _play_window(n, k, algorithm, size, settings=None):
    """A shown window with n benchmark points, k centres and ``algorithm``, compiled and idle."""
    from engine.benchmark import benchmark_data

    from .main_window import MainWindow
    from .session import SessionModel
    from .worker import warm_up_then_freeze
    app = _app()
    X, centres = benchmark_data(n, k)
    session = SessionModel()
    window = MainWindow(session)
    window.resize(*size)
    window.show()
    session.set_algorithm(algorithm)
    for key, value in {"max_iter": 10_000, "tol": 0.0, **(settings or {})}.items():
        session.set_setting(key, value)
    session.set_points(X)
    session.set_centres(centres)
    window.canvas.fit_to_data()
    warm_up_then_freeze(session.client)  # as the app does; parallel kernels never run from two threads
    _wait(app, lambda: not session.busy and session.frame is not None
          and session.frame.run_id == session.run_id and session.frame.image is not None)
    return app, window


def _settle(seconds):
    """Let the window finish what it is doing (a repaint of a new run) before a wait is timed."""
    from PySide6.QtCore import QEventLoop, QTimer
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def _close(window):
    window.session.mark_saved()  # nothing to save: close without the question
    window.close()


def playing_fps(n, k=10, seconds=3.0, size=(1600, 1000), algorithm="soft-kmeans", settings=None,
                trials=3):
    """Frames per second painted on the canvas while playing at the top speed (60 /s), the
    median of ``trials``, with the mean split of a frame and the UI thread's worst gap.

    Each frame is the whole path of a played half-step: the engine step, the colours
    and the splat on the worker, then the canvas repaint on the UI thread,
    overlapping as they do in the window.
    """
    from PySide6.QtCore import QEventLoop, QTimer
    app, window = _play_window(n, k, algorithm, size, settings)
    session = window.session
    scene = window.canvas.scene_item
    shown = []
    session.sigFrameChanged.connect(lambda: shown.append(session.frame))
    window.player.set_speed(60)
    # one untimed second first: what a window does once, on its first play (PySide6 loads
    # signature data lazily, ~0.5 s), is not what every frame costs
    window.player.play()
    loop = QEventLoop()
    QTimer.singleShot(1000, loop.quit)
    loop.exec()
    window.player.pause()
    rates, gaps, frames = [], [], []
    stopped = []  # when the player stopped by itself: a run that ends within the trial plays no longer
    window.player.sigPlayingChanged.connect(lambda playing: stopped.append(time.perf_counter()) if not playing
                                            else None)
    for trial in range(trials):
        # a new run each time (a setting changed): the first play of a run, not a replay of one
        # computed already (whose colours are recomputed: the pass keeps only the last two)
        session.set_setting("max_iter", 10_000 + trial + 1)
        _wait(app, lambda: not session.busy and session.frame is not None and session.frame.index == 0
              and session.frame.run_id == session.run_id)
        shown.clear()
        meter = GapMeter()
        meter.start()
        window.player.play()
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        painted = scene.frames_painted
        t0 = time.perf_counter()
        loop.exec()
        elapsed = (min(stopped[-1], time.perf_counter()) if stopped and stopped[-1] > t0 else time.perf_counter()) - t0
        window.player.pause()
        gaps.append(meter.stop())
        # frames painted on the canvas, not frames delivered: one replaced before a paint was
        # never on screen
        rates.append((scene.frames_painted - painted) / elapsed)
        frames += [f for f in shown if f.index > 0]
    # the mean: a refit frame costs next to nothing and the assignment frame the pass, so a
    # median of the two kinds says little
    split = {key: float(np.mean([f.seconds.get(key, 0.0) for f in frames]) if frames else 0.0)
             for key in ("step", "colours", "splat")}
    _close(window)
    return float(np.median(rates)), split, max(gaps)


def single_frame_ratio(n=10_000, k=10, size=(1200, 800), repeats=5):
    """Seconds for one frame of n soft-coloured points: ours (colours, splat, draw)
    against pyqtgraph's ScatterPlotItem with a brush per point (setData and a render)."""
    import pyqtgraph as pg
    from PySide6.QtGui import QImage, QPainter

    from .palette import point_colours
    from .splat import marker_radius, render_points
    _app()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 2))
    resp = rng.random((n, k)).astype(np.float32)
    resp /= resp.sum(axis=1, keepdims=True)
    w, h = size
    transform = ((w / 8.0, 0.0, w / 2.0), (0.0, -h / 8.0, h / 2.0))
    target = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)

    def ours():
        colours = point_colours(k, responsibilities=resp)
        image = render_points(X, colours, transform, w, h, marker_radius(n))
        qimage = QImage(image.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied)
        painter = QPainter(target)
        painter.drawImage(0, 0, qimage)
        painter.end()

    widget = pg.PlotWidget()
    widget.resize(w, h)
    scatter = pg.ScatterPlotItem(size=2 * marker_radius(n), pen=None)
    widget.addItem(scatter)

    def brush_per_point():
        # The slow path the app avoids, built only here to measure against it.
        rgb = (resp @ np.array(pg.colormap.get("CET-C6").getLookupTable(nPts=k)[:, :3],
                                dtype=np.float32)).astype(np.uint8)
        brushes = list(map(pg.mkBrush, map(tuple, rgb)))
        scatter.setData(x=X[:, 0], y=X[:, 1], brush=brushes)
        widget.grab()

    result = {}
    for name, fn in (("ours", ours), ("brush-per-point", brush_per_point)):
        fn()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        result[name] = float(np.median(times))
    widget.close()
    return result


def _export_run(n=5_000, k=4, iterations=50):
    """EM (full) on n points from k blobs, stopped after 50 iterations: 101 half-steps."""
    from engine import AlgorithmSettings, Scenario
    from engine.benchmark import benchmark_data
    X, centres = benchmark_data(n, k)
    return Scenario(points=X, algorithm="em", centres=centres,
                    settings=AlgorithmSettings(max_iter=iterations, tol=0.0))


def export_seconds(size=(1920, 1080)):
    """Seconds to write the 101 half-steps of ``_export_run`` as PNG frames, and as a GIF
    (headless, with the cost plot: as ``main.py export``)."""
    import tempfile

    from .export import ExportOptions, FrameRenderer, export_frames, export_gif
    _app()
    run = _export_run().start().run()
    renderer = FrameRenderer(run, ExportOptions(width=size[0], height=size[1], cost_plot=True))
    indices = list(range(len(run.history)))
    renderer.image(indices[-1])  # warm: fonts, kernels
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        export_frames(renderer, folder, indices)
        frames = time.perf_counter() - t0
        t0 = time.perf_counter()
        export_gif(renderer, f"{folder}/run.gif", indices)
        gif = time.perf_counter() - t0
    return len(indices), frames, gif


RESTARTS = 20  # k-means restarts the window runs on the million points it imported


def window_gaps(n=1_000_000):
    """The UI thread's worst gap (and the seconds taken) while the window imports n points from a
    CSV, runs RESTARTS k-means restarts on them, and exports the 101 half-steps of
    ``_export_run`` as PNG frames."""
    import tempfile

    from engine.formats import save_points_csv

    from .export import ExportOptions
    from .main_window import MainWindow
    from .session import SessionModel
    from .worker import warm_up_then_freeze
    app = _app()
    session = SessionModel()
    window = MainWindow(session)
    window.resize(1280, 800)
    window.show()
    warm_up_then_freeze(session.client)
    _wait(app, lambda: not session.busy)
    result = {}
    with tempfile.TemporaryDirectory() as folder:
        from engine.benchmark import benchmark_data
        X, _ = benchmark_data(n, 10)
        path = f"{folder}/points.csv"
        save_points_csv(path, X)
        meter = GapMeter()
        meter.start()
        t0 = time.perf_counter()
        window.import_points(path)
        _wait(app, lambda: len(session.points) == n and not window.loader.busy and not session.busy
              and session.frame is not None and session.frame.run_id == session.run_id)
        result["loading"] = (meter.stop(), time.perf_counter() - t0)
        # restarts of k-means from the million points' run: the batches run on the worker while
        # the dialog draws each restart's result as it comes
        session.set_algorithm("kmeans")
        _wait(app, lambda: not session.busy)
        window.action_map["restarts"].trigger()
        restarts = window.restarts_dialog
        restarts.count.setValue(RESTARTS)
        _settle(0.5)
        meter.start()
        t0 = time.perf_counter()
        restarts.run_button.click()
        _wait(app, lambda: not restarts.running)
        result["restarting"] = (meter.stop(), time.perf_counter() - t0)
        restarts.close()
        scenario = _export_run()
        session.set_algorithm("em")
        session.set_setting("max_iter", 50)
        session.set_setting("tol", 0.0)
        session.set_points(scenario.points)
        session.set_centres(scenario.centres)
        _wait(app, lambda: not session.busy)
        _settle(0.5)  # the window's own repaint of the new run (tens of ms) is not the export's
        finished = []
        window.exporter.sigFinished.connect(lambda written, error: finished.append((written, error)))
        meter.start()
        t0 = time.perf_counter()
        window.exporter.start(ExportOptions(width=1920, height=1080, cost_plot=True),
                              {"frames": (f"{folder}/frames", "png")}, show_progress=True)
        _wait(app, lambda: finished)
        result["exporting"] = (meter.stop(), time.perf_counter() - t0)
        if finished[0][1] is not None:
            raise RuntimeError(f"export failed: {finished[0][1]}")
    _close(window)
    return result


PLAYED = (("soft-kmeans", "soft k-means", None), ("em", "EM (full)", {"covariance_type": "full"}),
          ("kmeans", "k-means", None))


def run_gui_benchmark(out=print, sizes=(100_000, 1_000_000)):
    out("drawing benchmark (offscreen Qt, canvas about 1280x800):")
    frame = single_frame_ratio()
    out(f"  one frame, 10,000 soft-coloured points: ours {frame['ours'] * 1e3:.2f} ms, "
        f"ScatterPlotItem brush-per-point {frame['brush-per-point'] * 1e3:.1f} ms "
        f"-> {frame['brush-per-point'] / frame['ours']:.0f}x faster")
    out("  playing at the top speed (60 half-steps/s), K=10, median of 3 runs of 3 s after 1 s untimed:")
    for algorithm, name, settings in PLAYED:
        for n in sizes:
            fps, split, gap = playing_fps(n, algorithm=algorithm, settings=settings)
            out(f"  N={n:,}, {name}: {fps:.1f} frames/s (mean per frame: step {split['step'] * 1e3:.1f} ms, "
                f"colours {split['colours'] * 1e3:.1f} ms, splat {split['splat'] * 1e3:.1f} ms; "
                f"worst UI gap {gap * 1e3:.0f} ms)")
    count, frames, gif = export_seconds()
    out(f"  export, {count} half-steps of EM at 1920x1080 with the cost plot (5,000 points, headless): "
        f"PNG frames {frames:.1f} s, GIF {gif:.1f} s")
    for what, (gap, seconds) in window_gaps().items():
        what = {"loading": "importing 1,000,000 points (CSV)",
                "restarting": f"running {RESTARTS} k-means restarts on them",
                "exporting": f"exporting {count} PNG frames"}[what]
        out(f"  window {what}: {seconds:.1f} s, worst UI gap {gap * 1e3:.0f} ms")
