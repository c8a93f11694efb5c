"""A window's session file: new, open, save, recent files, autosave and recovery.

The window composes one ``SessionFiles``; it owns the path, asks before
unsaved work is thrown away, and keeps the window's recovery copy current.
Encoding and writing the copy happen on a thread (0.2 s at a million points);
a failure is reported on the status line and retried on the next tick.
"""

import os
import threading
import time

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.files import failure_text
from engine.session_file import SessionData, load_session, save_session

from .recovery import RecoveryCopy, orphaned_copies

AUTOSAVE_MS = int(os.environ.get("CLUSTERLAB_AUTOSAVE_MS", "2000"))
RECENT_MAX = 8
SESSION_FILTER = "ClusterLab session (*.json)"


class SessionFiles(QObject):
    """Files for one window: ``view_range()`` gives the view to save, ``apply(data)`` shows a
    loaded session, ``parent`` hosts the dialogs."""

    sigPathChanged = Signal()
    sigStatus = Signal(str)

    def __init__(self, session, parent, view_range, apply):
        super().__init__(parent)
        self.session, self._parent = session, parent
        self._view_range, self._apply = view_range, apply
        self.path = None
        self.recovery = RecoveryCopy()
        self._autosaved_serial = 0
        self._autosave_thread = None
        self._autosave_error = None
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self._on_autosave_timer)
        self.autosave_timer.start()

    @property
    def title(self):
        return os.path.basename(self.path) if self.path else "untitled"

    def _set_path(self, path):
        self.path = None if path is None else str(path)
        self.sigPathChanged.emit()

    # -- asking ------------------------------------------------------------------
    def maybe_save(self):
        """Ask before unsaved work is thrown away; False means the user cancelled."""
        if not self.session.modified:
            return True
        answer = QMessageBox.question(
            self._parent, "Unsaved changes", "Save the changes to this session first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # -- new, open, save ----------------------------------------------------------
    def new(self):
        if not self.maybe_save():
            return False
        empty = self.session.points[:0]
        self._apply(SessionData(points=empty, centres=empty))
        self._saved_or_discarded(None)
        return True

    def open(self, path=None):
        if not self.maybe_save():
            return False
        if not path:
            path, _ = QFileDialog.getOpenFileName(self._parent, "Open session", "", SESSION_FILTER)
            if not path:
                return False
        try:
            data = load_session(path)
        except ValueError as exc:
            QMessageBox.warning(self._parent, "Cannot open session", str(exc))
            return False
        self._apply(data)
        self._saved_or_discarded(path)
        self.sigStatus.emit(f"Opened {os.path.basename(path)}")
        return True

    def save(self):
        return self.save_as(self.path) if self.path else self.save_as()

    def save_as(self, path=None):
        if not path:
            path, _ = QFileDialog.getSaveFileName(self._parent, "Save session", "session.json",
                                                  SESSION_FILTER)
            if not path:
                return False
        try:
            save_session(path, self.session.to_data(self._view_range()))
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self._parent, "Cannot save", failure_text(path, exc))
            return False
        self._saved_or_discarded(path)
        self.sigStatus.emit(f"Saved {os.path.basename(path)}")
        return True

    def _saved_or_discarded(self, path):
        """The work on screen is now what ``path`` holds (None: nothing): no recovery copy needed."""
        self.session.mark_saved()
        self._join_autosave()
        self.recovery.clear()
        if path is not None:
            self._remember(str(path))
        self._set_path(path)

    # -- recent files ---------------------------------------------------------------
    def _remember(self, path):
        settings = QSettings()
        recent = [p for p in (settings.value("recent", []) or []) if p != path]
        settings.setValue("recent", [path] + recent[:RECENT_MAX - 1])

    @staticmethod
    def recent():
        return list(QSettings().value("recent", []) or [])

    # -- autosave --------------------------------------------------------------------
    def _on_autosave_timer(self):
        if self._autosave_error:
            self.sigStatus.emit(f"Autosave failed, retrying: {self._autosave_error}")
            self._autosave_error = None
        s = self.session
        busy = self._autosave_thread is not None and self._autosave_thread.is_alive()
        if s.modified and s.edit_serial != self._autosaved_serial and not busy:
            # the UI thread only takes the snapshot of the arrays; a thread encodes and writes
            data, source = s.to_data(self._view_range()), self.path
            self._autosaved_serial = s.edit_serial
            self._autosave_thread = threading.Thread(target=self._write_recovery, args=(data, source),
                                                     name="clusterlab-autosave", daemon=True)
            self._autosave_thread.start()

    def _write_recovery(self, data, source):
        try:
            self.recovery.write(data, source)
        except Exception as exc:  # noqa: BLE001 - any failure is shown and retried, never lost silently
            self._autosaved_serial = -1  # try again on the next tick
            self._autosave_error = getattr(exc, "strerror", None) or str(exc)

    def _join_autosave(self):
        if self._autosave_thread is not None:
            self._autosave_thread.join()

    # -- recovery ---------------------------------------------------------------------
    def offer_recovery(self, ask=None):
        """At start: offer each orphaned copy, newest first, until one is restored.

        A declined copy is deleted (the user discarded it); after one is restored
        the rest stay for the next start.  Returns True if one was restored.
        """
        ask = ask or self._ask_restore
        orphans = orphaned_copies()
        for i, orphan in enumerate(orphans):
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(orphan.mtime))
            what = f"of {os.path.basename(orphan.source)} " if orphan.source else ""
            if ask(f"ClusterLab closed with unsaved work {what}(last autosaved {when}). Restore it?"):
                self._apply(orphan.data)
                self.recovery.adopt(orphan)
                self._set_path(orphan.source)
                self.session.mark_modified()  # restored work is still unsaved
                for rest in orphans[i + 1:]:
                    rest.keep()
                return True
            orphan.discard()
        return False

    def _ask_restore(self, text):
        return QMessageBox.question(
            self._parent, "Restore unsaved work?", text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No) == QMessageBox.StandardButton.Yes

    def close(self):
        """The window closes with its work saved or discarded: the copy and its lock go."""
        self.autosave_timer.stop()
        self._join_autosave()
        self.recovery.release()
