"""Saving what a results view shows (restarts, how many clusters) as a PNG for a slide: the
widget as it is on screen, at the screen's pixel ratio, written atomically."""

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton

from engine.files import failure_text

from .export import write_qimage_png


def save_widget_png(widget, path):
    """``widget`` as drawn now, to ``path`` (PNG); ValueError when it cannot be written."""
    if not str(path).lower().endswith(".png"):
        path = f"{path}.png"
    write_qimage_png(widget.grab().toImage(), path)
    return Path(path)


def save_png_button(dialog, widget, default_name):
    """A "Save as PNG…" button that asks where and saves ``widget``, saying so on failure."""
    button = QPushButton("Save as PNG…")
    button.setToolTip("The plot and the results as shown, for a slide")

    def save():
        path, _ = QFileDialog.getSaveFileName(dialog, "Save as PNG", default_name, "PNG image (*.png)")
        if not path:
            return
        try:
            save_widget_png(widget, path)
        except (OSError, ValueError) as exc:
            QMessageBox.warning(dialog, "Cannot save", failure_text(path, exc))

    button.clicked.connect(save)
    return button
