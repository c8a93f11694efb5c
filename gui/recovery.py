"""Never lose a lecturer's work: each window's own recovery copy, offered back after a crash.

Every window writes its unsaved work to its own file in the user's data
directory ($CLUSTERLAB_DATA_DIR when set; tests use that), beside a lock file
held while the window lives (Qt's QLockFile: it records the owner's process,
so a copy whose owner died is known to be orphaned on any platform).  At the
next start every orphaned copy is offered back.  A window deletes only its own
copy, and only when its work was saved or deliberately discarded.
"""

import os
import uuid
from pathlib import Path

from PySide6.QtCore import QLockFile

from engine.files import atomic_write_pieces, read_json
from engine.session_file import session_from_dict, session_pieces

PREFIX = "recovery-"  # earlier versions' one shared "recovery-session.json" matches too


def data_dir():
    custom = os.environ.get("CLUSTERLAB_DATA_DIR")
    if custom:
        return Path(custom)
    from platformdirs import user_data_dir
    return Path(user_data_dir("ClusterLab", appauthor=False))


def _lock_for(path):
    lock = QLockFile(str(path.with_suffix(".lock")))
    lock.setStaleLockTime(0)  # stale only when its owner is gone, never by age
    return lock


class RecoveryCopy:
    """One window's recovery file, locked for as long as the window lives."""

    def __init__(self):
        self.path = None
        self._lock = None
        self._claim(data_dir() / f"{PREFIX}{uuid.uuid4().hex}.json", None)

    def _claim(self, path, lock):
        self.path = path
        if lock is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = _lock_for(path)
            lock.tryLock(0)  # a fresh random name: nobody else holds it
        self._lock = lock

    def write(self, data, source_path=None):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        recovery_of = None if source_path is None else str(source_path)
        atomic_write_pieces(self.path, session_pieces(data, {"recovery_of": recovery_of}))

    def clear(self):
        """The work was saved or discarded: the copy goes."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def adopt(self, orphan):
        """Take over a restored orphan's file and lock: its work is now this window's."""
        self.clear()
        self._lock.unlock()
        self._claim(orphan.path, orphan.lock)

    def release(self):
        """The window closes: clear the copy and let go of the lock."""
        self.clear()
        self._lock.unlock()


class Orphan:
    """A recovery copy whose window is gone; holds its lock while the user decides."""

    def __init__(self, path, lock, data, source, mtime):
        self.path, self.lock, self.data, self.source, self.mtime = path, lock, data, source, mtime

    def discard(self):
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        self.lock.unlock()

    def keep(self):
        """Left for the next start."""
        self.lock.unlock()


def _remove_stale_temporaries(folder):
    """A window killed while it wrote its copy leaves ``.recovery-<id>.json.<hex>.tmp`` (up to
    20 MB at a million points): removed once that window's lock shows it gone.  Its copy,
    when there is one, is not touched here."""
    for tmp in folder.glob(f".{PREFIX}*.json.*.tmp"):
        copy = tmp.with_name(tmp.name[1:].split(".json.", 1)[0] + ".json")
        lock = _lock_for(copy)
        if not lock.tryLock(0):
            continue  # its window lives (and may be writing it now)
        try:
            tmp.unlink()
        except OSError:
            pass
        finally:
            lock.unlock()  # a copy beside it is offered below, under its lock taken again


def orphaned_copies():
    """Every readable recovery copy whose window is gone, newest first (their locks held)."""
    folder = data_dir()
    if not folder.is_dir():
        return []
    _remove_stale_temporaries(folder)
    found = []
    for path in folder.glob(f"{PREFIX}*.json"):
        lock = _lock_for(path)
        if not lock.tryLock(0):
            continue  # a live window's copy
        try:
            obj = read_json(path, "recovery copy")  # never blocks on a FIFO
            data = session_from_dict(obj, path)
            source = obj.get("recovery_of")
            found.append(Orphan(path, lock, data, source if isinstance(source, str) else None,
                                path.stat().st_mtime))
        except (OSError, ValueError):
            lock.unlock()  # unreadable: left alone, never deleted
    return sorted(found, key=lambda o: -o.mtime)
