"""Application start-up (placeholder window until the GUI lands)."""


def main(args):
    from PySide6.QtWidgets import QApplication, QLabel
    app = QApplication.instance() or QApplication([])
    label = QLabel("ClusterLab")
    label.resize(400, 200)
    label.show()
    return app.exec()
