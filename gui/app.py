"""Start the window: the session from the command line's flags, kernels warmed in the background."""

import os
import sys

import numpy as np


def session_data_from_args(args):
    """The SessionData the command line's --data / --sample flags describe, or None without them."""
    if not (getattr(args, "data", None) or getattr(args, "sample", None)):
        return None
    from engine.command_line import mixture_from_args, scenario_from_args
    from engine.formats import read_points_table
    from engine.session_file import SessionData
    scenario, truth = scenario_from_args(args, with_truth=True)
    points = np.asarray(scenario.points)  # every column: the window shows a plane of them
    centres = scenario.initial_centres() if scenario.centres is None else scenario.centres
    names = read_points_table(args.data)[1] if getattr(args, "data", None) else None
    return SessionData(points=points, centres=np.asarray(centres),
                       algorithm=scenario.algorithm, settings=scenario.settings, seed=scenario.seed,
                       init_method=scenario.init, n_clusters=scenario.n_clusters,
                       mixture=mixture_from_args(args), sample_n=len(points), truth=truth,
                       names=None if names is None else tuple(names))


def open_window(args, ask_restore=None):
    """The main window as the command line asks for it, or None if its session would not open.

    Unsaved work left by a crashed window is offered first, whatever was asked
    for; only when none is restored does the window open the session file or
    the data the flags name.  ``ask_restore(text) -> bool`` replaces the
    question dialog (tests).
    """
    from .main_window import MainWindow
    from .session import SessionModel
    from .worker import warm_up_then_freeze
    data = session_data_from_args(args)  # bad flags fail here, before a window opens
    session = SessionModel()
    warm_up_then_freeze(session.client)  # compile / load kernels off the UI thread
    window = MainWindow(session)  # sized to fit the screen's available area
    if window.cramped:
        window.showMaximized()  # a projector's 1024×768: all of it (a window manager obliging)
    else:
        window.show()
    if not window.files.offer_recovery(ask_restore):
        if getattr(args, "session", None):
            if not window.files.open(args.session):
                window.close()
                return None
        elif data is not None:
            window.apply_session(data)  # what the command line says is not unsaved work
    return window


def main(args):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from .worker import configure_threads
    configure_threads()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ClusterLab")
    app.setOrganizationName("ClusterLab")
    if getattr(args, "image", None):  # image mode: the pixels of a photo as points
        from .image_window import run_image_mode
        return run_image_mode(app, args)
    if getattr(args, "max_pixels", None) is not None:
        raise ValueError("--max-pixels goes with --image")
    window = open_window(args)
    if window is None:
        return 2
    session = window.session
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
