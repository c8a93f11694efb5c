"""Reading and writing files safely: regular files only, size-checked, written atomically.

Reading: every reader in the engine opens its input through ``open_regular_file``
(or ``read_regular_bytes`` / ``read_regular_text`` / ``check_readable_file``,
which use it).  It refuses folders, FIFOs, devices and sockets *before* opening
(opening a FIFO for reading would block), opens without blocking where the
system has ``O_NONBLOCK``, and checks the type and size again on the open
descriptor, so a file swapped for a FIFO or ``/dev/zero`` between the check and
the open is still refused.  Reads are bounded: a file that grows while it is
read cannot make us read without end.

Memory: ``memory_budget_bytes()`` is the one limit on how much memory reading a
file may need; readers estimate that from the content (a .npy header's shape, a
CSV's rows × columns) and call ``check_memory``.  ``max_file_bytes()`` (the
budget, at most 2 GiB) bounds the bytes read at all.

Writing: ``atomic_write_text`` / ``atomic_write_bytes`` / ``atomic_output`` write
a temporary file beside the target and rename it over the target in one step, so
a crash or ``kill -9`` leaves either the old file or the new one, never half a
file.  The new file keeps the old one's permissions (a new file gets the usual
umask default, not mkstemp's 0600); a symlink is written through (its target is
replaced, the link stays); a read-only file is refused, not replaced.
"""

import errno
import functools
import json
import os
import secrets
import stat
from contextlib import contextmanager
from pathlib import Path

# Reading a file may use at most this fraction of physical memory (array, text and copies).
MEMORY_FRACTION = 0.25
# Never read more than this many bytes from one file, whatever the memory.
MAX_FILE_BYTES = 2 << 30
# Physical memory assumed where the system does not tell us.
FALLBACK_PHYSICAL_MEMORY = 8 << 30

_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # absent on Windows (no FIFOs to block on there)
_O_BINARY = getattr(os, "O_BINARY", 0)      # Windows only
_READ_FLAGS = os.O_RDONLY | _O_BINARY | _O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
_CHUNK = 1 << 20
# Python objects per byte of JSON text, at worst ("[]," is a 56-byte list): bounds a JSON file's memory.
JSON_BYTES_PER_CHAR = 32


# -- limits -------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def physical_memory_bytes():
    """Installed memory in bytes (sysconf on Linux/macOS, GlobalMemoryStatusEx on Windows)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError, TypeError):
        pass
    try:  # Windows
        import ctypes

        class _MemoryStatus(ctypes.Structure):
            _fields_ = [("dwLength", ctypes.c_ulong), ("dwMemoryLoad", ctypes.c_ulong),
                        ("ullTotalPhys", ctypes.c_ulonglong), ("ullAvailPhys", ctypes.c_ulonglong),
                        ("ullTotalPageFile", ctypes.c_ulonglong), ("ullAvailPageFile", ctypes.c_ulonglong),
                        ("ullTotalVirtual", ctypes.c_ulonglong), ("ullAvailVirtual", ctypes.c_ulonglong),
                        ("ullAvailExtendedVirtual", ctypes.c_ulonglong)]

        status = _MemoryStatus()
        status.dwLength = ctypes.sizeof(status)
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
            return int(status.ullTotalPhys)
    except Exception:  # noqa: BLE001 - no ctypes / not Windows: fall back
        pass
    return FALLBACK_PHYSICAL_MEMORY


def memory_budget_bytes():
    """The most memory reading one file may need: a quarter of physical memory."""
    return int(physical_memory_bytes() * MEMORY_FRACTION)


def max_file_bytes():
    """The largest file we read at all: the memory budget, at most 2 GiB."""
    return int(min(memory_budget_bytes(), MAX_FILE_BYTES))


def format_bytes(n):
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} bytes"


def check_file_size(path, size=None):
    """ValueError if ``path`` (or a file of ``size`` bytes) is more than ``max_file_bytes()``."""
    size = Path(path).stat().st_size if size is None else size
    limit = max_file_bytes()
    if size > limit:
        raise ValueError(f"{path}: too large to open ({format_bytes(size)}; the limit here is "
                         f"{format_bytes(limit)})")
    return size


def check_memory(path, needed, what="its contents"):
    """ValueError if reading ``path`` needs more than ``memory_budget_bytes()`` (estimate in bytes)."""
    budget = memory_budget_bytes()
    if needed > budget:
        raise ValueError(f"{path}: too large to open: {what} would need about {format_bytes(needed)} "
                         f"of memory; the limit here is {format_bytes(budget)}")


# -- reading ------------------------------------------------------------------------

def _not_regular(path, mode):
    if stat.S_ISDIR(mode):
        return ValueError(f"{path}: is a folder, not a file")
    kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else
            "a character device" if stat.S_ISCHR(mode) else
            "a block device" if stat.S_ISBLK(mode) else
            "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    return ValueError(f"{path}: is {kind}, not a regular file")


def _os_error(path, exc, doing="cannot read"):
    if isinstance(exc, FileNotFoundError):
        return ValueError(f"{path}: no such file")
    reason = exc.strerror or str(exc)
    return ValueError(f"{path}: {doing} ({reason})")


def open_regular_file(path, mode="rb", encoding=None):
    """Open ``path`` for reading if it is a regular file within ``max_file_bytes()``.

    The type is checked before opening (a FIFO would block in open()), the file is
    opened with O_NONBLOCK where the system has it, and type and size are checked
    again on the open descriptor (fstat), so a file swapped after the first check is
    refused too.  Returns a file object (``mode`` "rb" or "r"); ValueError otherwise.
    """
    if mode not in ("rb", "r"):
        raise ValueError(f"open_regular_file: mode must be 'rb' or 'r', not {mode!r}")
    try:
        before = os.stat(path)
    except OSError as exc:
        raise _os_error(path, exc) from None
    except ValueError:  # an embedded NUL byte
        raise ValueError(f"{path!r}: not a valid file name") from None
    if not stat.S_ISREG(before.st_mode):
        raise _not_regular(path, before.st_mode)
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError as exc:
        raise _os_error(path, exc) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(path, st.st_mode)
        check_file_size(path, st.st_size)
        if _O_NONBLOCK:
            os.set_blocking(fd, True)  # regular files ignore it; clear it for tidiness
        fh = os.fdopen(fd, mode, encoding=encoding if mode == "r" else None)
    except BaseException:
        os.close(fd)
        raise
    return fh


def read_bounded(fh, path):
    """All bytes of an open binary file, refusing more than ``max_file_bytes()`` (the file may grow)."""
    limit = max_file_bytes()
    try:
        size = os.fstat(fh.fileno()).st_size
        parts = [fh.read(min(size, limit))] if size else []
        total = sum(len(p) for p in parts)
        while True:  # the file grew, or reports size 0 (/proc): read on, in bounded steps
            chunk = fh.read(min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
            if total > limit:
                check_file_size(path, total)
    except OSError as exc:
        raise _os_error(path, exc) from None
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_regular_bytes(path):
    """The bytes of a regular file (see ``open_regular_file``); ValueError for anything else."""
    with open_regular_file(path, "rb") as fh:
        return read_bounded(fh, path)


def read_regular_text(path, what="text", bytes_per_char=1):
    """The text of a regular UTF-8 file (a BOM is dropped); ValueError for anything else.

    ``bytes_per_char``: memory its parsed form needs per byte, at worst (JSON_BYTES_PER_CHAR
    for JSON), checked against the budget before the file is read.
    """
    with open_regular_file(path, "rb") as fh:
        check_memory(path, bytes_per_char * os.fstat(fh.fileno()).st_size, f"the {what}")
        data = read_bounded(fh, path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ValueError(f"{path}: not a {what} file (bytes that are not UTF-8 text on line {line})") from None


def read_json(path, what):
    """The parsed JSON of a regular file, its memory checked first; ValueError naming the file
    for anything else (not UTF-8, empty, truncated, nested too deeply)."""
    text = read_regular_text(path, f"{what} JSON", JSON_BYTES_PER_CHAR)
    if not text.strip():
        raise ValueError(f"{path}: file is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON, perhaps truncated ({exc.msg} at line {exc.lineno} "
                         f"column {exc.colno})") from None
    except RecursionError:
        raise ValueError(f"{path}: not a {what} (nested too deeply)") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ValueError(f"{path}: not valid JSON ({exc})") from None


def check_readable_file(path):
    """The path as a Path if it names a regular file we may read (opened and checked); ValueError otherwise."""
    with open_regular_file(path, "rb"):
        pass
    return Path(path)


# -- writing ------------------------------------------------------------------------

def _write_target(path):
    """(the file a write to ``path`` replaces, symlinks followed; its stat or None when new)."""
    try:
        st = os.stat(path)  # follows links, /dev/stdout's included
    except FileNotFoundError:
        st = None
    except ValueError:  # an embedded NUL byte
        raise ValueError(f"{path!r}: not a valid file name") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ValueError(f"{path}: cannot write (a symbolic link loop)") from None
        raise _os_error(path, exc, "cannot write") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        if stat.S_ISDIR(st.st_mode):
            raise ValueError(f"{path}: is a folder, not a file")
        raise ValueError(f"{_not_regular(path, st.st_mode)!s}; cannot replace it")
    try:
        target = Path(os.path.realpath(path))
    except (OSError, RuntimeError, ValueError) as exc:
        raise ValueError(f"{path}: cannot write ({getattr(exc, 'strerror', None) or exc})") from None
    if st is None:
        if not target.parent.is_dir():
            raise ValueError(f"{path}: cannot write (folder {target.parent} does not exist)")
        return target, None
    try:
        same = os.path.samestat(st, os.stat(target))
    except (OSError, AttributeError):
        same = False
    if not same:  # e.g. /proc/self/fd/N of a deleted file: no name to replace
        raise ValueError(f"{path}: cannot write (the link does not lead to a file that can be replaced)")
    if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(target, os.W_OK):
        raise ValueError(f"{path}: is read-only; not replaced (make it writable or choose another name)")
    return target, st


def _create_temp(target, keep_suffix):
    """A new, empty temporary file beside ``target``, created with mode 0666 less the umask."""
    base = target.name[:120]
    suffix = target.suffix[:16] if keep_suffix else ""
    for _ in range(100):
        tmp = target.parent / f".{base}.{secrets.token_hex(4)}.tmp{suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise ValueError(f"{target}: cannot write in {target.parent} "
                             f"({exc.strerror or exc})") from None
        os.close(fd)
        return tmp
    raise ValueError(f"{target}: cannot create a temporary file in {target.parent}")


def _copy_metadata(tmp, old, new_mode):
    """Give ``tmp`` the old file's owner, group and mode (or ``new_mode`` for a new file)."""
    if old is not None and hasattr(os, "chown"):
        if (old.st_uid, old.st_gid) != (os.stat(tmp).st_uid, os.stat(tmp).st_gid):
            try:
                os.chown(tmp, old.st_uid, old.st_gid)
            except OSError:
                try:  # not root: at least the group, when we are in it
                    os.chown(tmp, -1, old.st_gid)
                except OSError:
                    pass
    os.chmod(tmp, stat.S_IMODE(old.st_mode) if old is not None else new_mode)


def _fsync(path, flags):
    """Flush ``path`` to disk if it can be opened with ``flags``; best effort, never raises."""
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_path(path):
    _fsync(path, os.O_RDWR | _O_BINARY)


def _fsync_dir(folder):
    """Make the rename durable (POSIX); Windows cannot open folders and needs nothing."""
    if os.name != "nt":
        _fsync(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def _remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


@contextmanager
def atomic_output(path, keep_suffix=True):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    For writers that want a file name (images, GIF, video): the temporary name,
    ``.NAME.XXXXXXXX.tmp.SUFFIX``, ends with the target's suffix (``.png``, ``.gif``,
    ...) unless ``keep_suffix`` is false.  The target is checked first
    (ValueError for a folder, a device, a read-only file or a missing folder), a
    symlink is written through, and the result keeps the old file's permissions (the
    umask default for a new file).  On an exception the temporary file is removed
    and ``path`` is left as it was; after ``kill -9`` the old file is intact too (only
    a ``.NAME.*.tmp*`` file may be left beside it).
    """
    target, old = _write_target(path)
    tmp = _create_temp(target, keep_suffix)
    try:
        new_mode = stat.S_IMODE(os.stat(tmp).st_mode)  # what the umask gave a 0666 file
        yield tmp
        try:
            _copy_metadata(tmp, old, new_mode)
        except FileNotFoundError:
            raise ValueError(f"{path}: nothing was written") from None
        _fsync_path(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        _remove_quietly(tmp)
        raise _os_error(path, exc, "cannot write") from None
    except BaseException:
        _remove_quietly(tmp)
        raise
    _fsync_dir(target.parent)


def failure_text(path, exc):
    """One line naming ``path`` and why it could not be written or read: an OSError's reason, or
    a ValueError's message, which names the file already (never "x.json: x.json: ...")."""
    text = getattr(exc, "strerror", None) or str(exc)
    return text if text.startswith(str(path)) else f"{path}: {text}"


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` via a temporary file and rename: never a half-written file."""
    atomic_write_pieces(path, (data,))


def atomic_write_pieces(path, pieces):
    """``atomic_write_bytes`` of the bytes ``pieces`` yields one after the other (they may be
    made as they are written; an exception while making them leaves ``path`` as it was)."""
    with atomic_output(path, keep_suffix=False) as tmp:  # ".NAME.XXXXXXXX.tmp": no "*.json" matches it
        with open(tmp, "wb") as fh:
            for piece in pieces:
                fh.write(piece)
            fh.flush()
            os.fsync(fh.fileno())


def atomic_write_text(path, text):
    """Write ``text`` (UTF-8) to ``path`` via a temporary file and rename (see ``atomic_output``)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        pass
    try:
        return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))
    except (OSError, ValueError, RuntimeError):
        return False


def check_output_path(out, inputs):
    """ValueError if ``out`` is one of the ``inputs`` (same file, via links or another spelling).

    ``inputs`` may hold None (flags not given).  Returns ``out`` as a Path (None stays None).
    """
    if out is None:
        return None
    for source in inputs:
        if source is not None and _same_file(out, source):
            raise ValueError(f"{out}: is the input file {source}; writing there would replace it "
                             "(choose another output)")
    return Path(out)
