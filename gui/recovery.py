"""Never lose a lecturer's work: a recovery copy of unsaved sessions, offered back on start.

The copy is a normal session file (written atomically) in the user's data
directory, or in $CLUSTERLAB_DATA_DIR when set (tests use that).  It is
removed when the work is saved or deliberately discarded.
"""

import json
import os
from pathlib import Path

from engine.formats import atomic_write_text
from engine.session_file import session_from_dict

RECOVERY_NAME = "recovery-session.json"


def data_dir():
    custom = os.environ.get("CLUSTERLAB_DATA_DIR")
    if custom:
        return Path(custom)
    from platformdirs import user_data_dir
    return Path(user_data_dir("ClusterLab", appauthor=False))


def recovery_path():
    return data_dir() / RECOVERY_NAME


def write_recovery(data, source_path=None):
    path = recovery_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    obj = data.to_dict()
    obj["recovery_of"] = None if source_path is None else str(source_path)
    atomic_write_text(path, json.dumps(obj, allow_nan=False))
    return path


def read_recovery():
    """(SessionData, original path or None, modification time) or None if there is nothing usable."""
    path = recovery_path()
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
        data = session_from_dict(obj, path)
    except (OSError, ValueError):
        return None
    return data, obj.get("recovery_of"), path.stat().st_mtime


def clear_recovery():
    try:
        recovery_path().unlink()
    except FileNotFoundError:
        pass
