"""Reading and writing files safely: regular files only, size-checked, written atomically.

Every reader in the engine opens its input through ``check_readable_file`` and
every writer goes through ``atomic_write_text`` (or ``atomic_output``), so a
crash never leaves half a file where a good one stood.
"""

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


def max_file_bytes():
    """The largest file we try to read: a quarter of physical memory, at most 2 GiB."""
    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        physical = 8 << 30
    return int(min(physical // 4, 2 << 30))


def check_file_size(path):
    size = Path(path).stat().st_size
    limit = max_file_bytes()
    if size > limit:
        raise ValueError(f"{path}: too large to open ({size / 2**20:.0f} MB; the limit here is "
                         f"{limit / 2**20:.0f} MB)")
    return size


def check_readable_file(path):
    """The path as a Path if it names a file we may read; ValueError otherwise."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such file")
    if path.is_dir():
        raise ValueError(f"{path}: is a folder, not a file")
    check_file_size(path)
    return path


@contextmanager
def atomic_output(path):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path, text):
    """Write ``text`` to ``path`` via a temporary file and rename: never a half-written file."""
    with atomic_output(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
