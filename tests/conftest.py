import os

import numpy as np
import pytest
from hypothesis import settings

import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# recent files (QSettings) and recovery copies go to a throw-away place, never the user's
_SANDBOX = tempfile.mkdtemp(prefix="clusterlab-tests-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_SANDBOX, "config")
os.environ["CLUSTERLAB_DATA_DIR"] = os.path.join(_SANDBOX, "data")

# numba compiles on first call; a deadline would flake on that, not on speed.
settings.register_profile("clusterlab", deadline=None, max_examples=60)
settings.load_profile("clusterlab")


@pytest.fixture(scope="session", autouse=True)
def compiled_kernels(qapp):
    """Compile (or load) every kernel once, before any window's worker thread exists: a fresh
    clone has no numba cache, and compiling on a worker mid-test would eat a test's timeout.

    Asks for pytest-qt's QApplication first: a headless export run in-process would otherwise
    make a QGuiApplication, and any window made after it aborts (whatever order tests run in)."""
    from gui.worker import warm_up
    warm_up()


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def three_blobs(rng):
    means = np.array([[-4.0, -2.0], [4.0, -2.0], [0.0, 4.0]])
    X = np.vstack([m + rng.normal(size=(120, 2)) for m in means])
    return rng.permutation(X)


@pytest.fixture
def window(qtbot):
    """A shown main window on a fresh session, closed without a "save changes?" question."""
    from gui.main_window import MainWindow
    from gui.session import SessionModel
    session = SessionModel()
    win = MainWindow(session)  # closed below, not by qtbot: its hook would close it still modified
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: not session.busy and session.frame is not None, timeout=20000)
    yield win
    win.player.pause()
    session.mark_saved()
    win.close()
    win.deleteLater()
