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


def playing_fps(n, k=10, seconds=4.0, size=(1600, 1000), algorithm="soft-kmeans"):
    """Frames per second reaching the canvas while playing at the top speed (60 /s).

    Each frame is the whole path of a played half-step: the engine step,
    responsibilities, colours and the splat on the worker, then the canvas
    repaint on the UI thread, overlapping as they do in the window.
    """
    from engine.benchmark import benchmark_data

    from .main_window import MainWindow
    from .session import SessionModel
    from .worker import warm_up
    app = _app()
    X, centres = benchmark_data(n, k)
    session = SessionModel()
    window = MainWindow(session)
    window.resize(*size)
    window.show()
    session.set_algorithm(algorithm)
    session.set_setting("max_iter", 10_000)
    session.set_setting("tol", 0.0)
    session.set_points(X)
    session.set_centres(centres)
    window.canvas.fit_to_data()
    session.client.call(warm_up)  # on the worker: parallel kernels never run from two threads
    _wait(app, lambda: not session.busy and session.frame is not None
          and session.frame.run_id == session.run_id and session.frame.image is not None)
    # Play at the top speed (60 half-steps/s) and count the frames that reach the canvas.
    from PySide6.QtCore import QEventLoop, QTimer
    shown = []
    session.sigFrameChanged.connect(lambda: shown.append(session.frame))
    window.player.set_speed(60)
    window.player.play()
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    t0 = time.perf_counter()
    loop.exec()
    elapsed = time.perf_counter() - t0
    window.player.pause()
    frames = [f for f in shown if f.index > 0]
    split = {key: float(np.median([f.seconds.get(key, 0.0) for f in frames]) if frames else 0.0)
             for key in ("step", "colours", "splat")}
    session.mark_saved()  # nothing to save: close without the question
    window.close()
    return len(frames) / elapsed, split


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


def run_gui_benchmark(out=print, sizes=(100_000, 1_000_000)):
    out("drawing benchmark (offscreen Qt, canvas about 1280x800):")
    frame = single_frame_ratio()
    out(f"  one frame, 10,000 soft-coloured points: ours {frame['ours'] * 1e3:.2f} ms, "
        f"ScatterPlotItem brush-per-point {frame['brush-per-point'] * 1e3:.1f} ms "
        f"-> {frame['brush-per-point'] / frame['ours']:.0f}x faster")
    for n in sizes:
        fps, split = playing_fps(n)
        out(f"  playing soft k-means, N={n:,}, K=10: {fps:5.1f} frames/s "
            f"(per frame: step {split['step'] * 1e3:.1f} ms, responsibilities+colours "
            f"{split['colours'] * 1e3:.1f} ms, splat {split['splat'] * 1e3:.1f} ms)")
