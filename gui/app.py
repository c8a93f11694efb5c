"""Start the window: the session from the command line's flags, kernels warmed in the background."""

import os
import sys

import numpy as np


def build_session(args):
    """A SessionModel filled from parsed command-line flags (the same ones ``run`` takes)."""
    from engine.initialisation import initial_centres
    from engine.sampling import PRESETS

    from .session import SessionModel
    session = SessionModel()
    if getattr(args, "data", None) or getattr(args, "sample", None):
        from main import scenario_from_args
        scenario = scenario_from_args(args)
        session.algorithm = scenario.algorithm
        session.settings.update(scenario.settings)
        session.seed = scenario.seed
        session.n_clusters = scenario.n_clusters
        session.init_method = scenario.init
        session.sample_n = len(scenario.points)
        if getattr(args, "sample", None) in PRESETS:
            session.mixture = PRESETS[args.sample][1]
        points = np.asarray(scenario.points)[:, :2]
        centres = scenario.centres if scenario.centres is not None else initial_centres(
            scenario.init, points, scenario.n_clusters, scenario.seed)
        session.set_points(points, "Load data")
        session.set_centres(np.asarray(centres)[:, :2], "Initial centres")
        session.undo_stack.clear()
        session.sigSettingsChanged.emit()
    return session


def configure_threads():
    """Hand the GIL over quickly between the UI thread and the engine worker.

    The worker's kernels release the GIL, but the Python between them needs it
    back; with CPython's default 5 ms switch interval a busy UI thread made
    each frame wait tens of milliseconds for it (measured: 1e5 points went
    from 8 to N frames/s with 0.5 ms).
    """
    sys.setswitchinterval(0.0005)


def main(args):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow
    from .worker import warm_up
    configure_threads()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ClusterLab")
    app.setOrganizationName("ClusterLab")
    session = build_session(args)
    session.client.call(warm_up)  # compile / load kernels off the UI thread
    window = MainWindow(session)
    window.show()
    if getattr(args, "session", None):
        if not window.open_session(args.session):
            return 2
    elif len(session.points):
        window.canvas.fit_to_data()
    else:
        QTimer.singleShot(0, window.offer_recovery)
    if getattr(args, "play", False):
        QTimer.singleShot(0, window.player.play)
    quit_after = os.environ.get("CLUSTERLAB_QUIT_AFTER_MS")
    if quit_after:  # smoke tests of the real entry point: report and leave
        def report():
            print(f"window: {window.windowTitle()}; {len(session.points)} points, "
                  f"{len(session.centres)} centres, {session.algorithm}, half-step {session.index}",
                  flush=True)
            session.mark_saved()
            window.close()
        QTimer.singleShot(int(quit_after), report)
    return app.exec()
