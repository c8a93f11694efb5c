"""A repainting window must survive: PySide6-Essentials 6.12.0 on Python < 3.12 drops a
reference to None per Python-overridden virtual call and dies after ~20k paints
(``Fatal Python error: none_dealloc``).  pyproject excludes that build; this test
would catch it, or any other per-paint leak of a refcount, in a subprocess."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent("""
    import os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    import numpy as np
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from gui.session import SessionModel
    from gui.canvas import Canvas
    session = SessionModel()
    canvas = Canvas(session)
    canvas.resize(160, 120)
    for axis in ("left", "bottom"):  # fewer items a paint: the same virtual calls, faster
        canvas.plotItem.hideAxis(axis)
    canvas.show()
    rng = np.random.default_rng(0)
    session.set_points(rng.normal(size=(50, 2)))
    session.set_centres([[-1.0, 0.0], [1.0, 0.0]])
    session.set_algorithm("em")
    while session.busy or session.frame is None or session.frame.run_id != session.run_id:
        app.processEvents()
    before = sys.getrefcount(None)
    paints = 0
    for i in range(int(sys.argv[1])):
        canvas.viewport().repaint()
        paints += 1
        if i % 1000 == 0:
            app.processEvents()
    app.processEvents()
    print("paints", paints, "none-refs", sys.getrefcount(None) - before, canvas.scene_item.paints)
    session.close()
""")


def test_thirty_thousand_repaints(tmp_path):
    script = tmp_path / "soak.py"
    script.write_text(SCRIPT)
    result = subprocess.run([sys.executable, str(script), "30000"], cwd=ROOT, capture_output=True,
                            text=True, timeout=600, env={"PYTHONPATH": str(ROOT),
                                                          **__import__("os").environ})
    assert result.returncode == 0, result.stderr[-2000:]
    words = result.stdout.split()
    assert words[0] == "paints" and int(words[1]) == 30000
    # each repaint ran our Python paint(); the count of None references did not run away
    assert int(words[4]) >= 30000
    assert abs(int(words[3])) < 1000
