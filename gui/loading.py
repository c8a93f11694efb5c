"""Reading a big file on a plain thread, so the window stays live while it loads.

File reading is numpy and Python only (never numba), so it may run beside the
engine worker.  numpy parses a CSV in blocks small enough that the GIL comes
back to the UI thread between them (``engine.formats``).  Only the newest load
is delivered: one started later supersedes it.
"""

import itertools
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

# a file at least this big is read off the UI thread (a smaller one reads in well under 50 ms)
BACKGROUND_BYTES = 2 << 20


class FileLoader(QObject):
    """``start(read, path, done, failed)``: ``read(path)`` on a thread, then ``done(result)`` or
    ``failed(ValueError)`` on the UI thread."""

    _sigFinished = Signal(int, object, object)  # token, result, error

    def __init__(self, parent=None):
        super().__init__(parent)
        self._tokens = itertools.count(1)
        self._latest = 0
        self._callbacks = {}
        self._sigFinished.connect(self._on_finished)  # queued: emitted from the reading thread

    @property
    def busy(self):
        return bool(self._callbacks)

    @staticmethod
    def in_background(path):
        try:
            return Path(path).stat().st_size >= BACKGROUND_BYTES
        except OSError:
            return False  # read at once: the reader says what is wrong with it

    def start(self, read, path, done, failed):
        token = next(self._tokens)
        self._latest = token
        self._callbacks[token] = (done, failed)

        def work():
            try:
                self._sigFinished.emit(token, read(path), None)
            except (ValueError, OSError, MemoryError) as exc:
                self._sigFinished.emit(token, None, exc)

        threading.Thread(target=work, name="clusterlab-load", daemon=True).start()
        return token

    def _on_finished(self, token, result, error):
        done, failed = self._callbacks.pop(token)
        if token != self._latest:
            return  # superseded by a newer load
        if error is not None:
            failed(error if isinstance(error, ValueError) else ValueError(str(error)))
        else:
            done(result)
