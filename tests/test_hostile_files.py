"""Hostile input and output files (issue #9): FIFOs and devices, lying headers, deep JSON,
misleading CSV locations, and writes that must be atomic and keep permissions.

Every bad file must give one ValueError naming the file; nothing may block or read without
end; a failed or killed write must leave the old file byte for byte.
"""

import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

import engine.files as files
import engine.formats as formats
from engine.files import (atomic_output, atomic_write_text, check_output_path, check_readable_file,
                          open_regular_file, read_regular_bytes)
from engine.formats import load_matrix, load_mixture, load_points, read_points_table

ROOT = Path(__file__).resolve().parent.parent
POSIX = os.name == "posix"
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
needs_posix_modes = pytest.mark.skipif(not POSIX, reason="POSIX permission bits")
I2 = [[1.0, 0.0], [0.0, 1.0]]


def finishes(call, timeout=10.0):
    """Run ``call`` in a thread: (finished in time, its exception or None)."""
    outcome = {}

    def target():
        try:
            call()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            outcome["exc"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    return not thread.is_alive(), outcome.get("exc")


def unblock(fifo):
    """Release a reader stuck in open() or read() of ``fifo`` (a writer that closes at once)."""
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


READERS = {
    "load_points": load_points,
    "load_matrix": lambda p: load_matrix(p, "centres"),
    "load_mixture": load_mixture,
    "check_readable_file": check_readable_file,
    "read_regular_bytes": read_regular_bytes,
}


# -- 1. FIFOs, devices, files swapped after the check --------------------------------

@needs_fifo
@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("name", ["pipe.csv", "pipe.npy", "pipe.json"])
def test_a_fifo_is_refused_without_blocking(tmp_path, reader, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    try:
        done, exc = finishes(lambda: READERS[reader](fifo))
    finally:
        unblock(fifo)
    assert done, f"{reader} blocked on a FIFO"
    assert isinstance(exc, ValueError) and str(fifo) in str(exc)
    assert "FIFO" in str(exc) and "not a regular file" in str(exc)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
@pytest.mark.parametrize("reader", READERS)
def test_device_files_are_refused(device, reader):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    done, exc = finishes(lambda: READERS[reader](device))
    assert done, f"{reader} read {device} without end"
    assert isinstance(exc, ValueError) and "character device" in str(exc)


def test_a_folder_and_a_missing_file(tmp_path):
    with pytest.raises(ValueError, match="is a folder"):
        load_points(tmp_path)
    with pytest.raises(ValueError, match="no such file"):
        load_points(tmp_path / "missing.csv")


def _lying_stat(monkeypatch, victim, fake_source):
    """os.stat says ``victim`` is the regular file ``fake_source``: a swap after the check."""
    real_stat = os.stat

    def fake_stat(path, *args, **kwargs):
        if os.fspath(path) == os.fspath(victim):
            return real_stat(fake_source)
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", fake_stat)


@needs_fifo
def test_a_fifo_swapped_in_after_the_check_is_caught_on_the_open_file(tmp_path, monkeypatch):
    innocent = tmp_path / "innocent.csv"
    innocent.write_text("x,y\n1,2\n")
    fifo = tmp_path / "swapped.csv"
    os.mkfifo(fifo)
    _lying_stat(monkeypatch, fifo, innocent)
    try:
        done, exc = finishes(lambda: load_points(fifo))
    finally:
        unblock(fifo)
    assert done, "blocked on a FIFO that looked like a regular file when checked"
    assert isinstance(exc, ValueError) and "FIFO" in str(exc)


def test_the_size_is_checked_on_the_open_file(tmp_path, monkeypatch):
    small = tmp_path / "small.csv"
    small.write_text("1,2\n")
    big = tmp_path / "big.csv"
    big.write_text("x,y\n" + "1,2\n" * 500)
    _lying_stat(monkeypatch, big, small)  # stat saw 4 bytes; the file opened holds 2 kB
    monkeypatch.setattr(files, "max_file_bytes", lambda: 100)
    with pytest.raises(ValueError, match="too large"):
        load_points(big)


# -- 2. lying .npy headers, memory estimated from the content, deep JSON -------------

def test_an_npz_renamed_npy_is_one_clear_error(tmp_path):
    path = tmp_path / "points.npy"
    with open(path, "wb") as fh:
        np.savez(fh, x=np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"\.npz archive") as info:
        load_points(path)
    assert str(path) in str(info.value)
    with pytest.raises(ValueError, match=r"\.npz archive"):
        load_matrix(path, "covariances")


def _npy_with_header(path, shape, descr="<f8", payload=b"\0" * 64, fortran=False):
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": descr, "fortran_order": fortran,
                                                  "shape": shape})
        fh.write(payload)
    return path


def test_an_npy_header_claiming_1e11_rows_is_refused_before_allocating(tmp_path):
    path = _npy_with_header(tmp_path / "huge.npy", (10 ** 11, 2))
    with pytest.raises(ValueError, match="truncated or damaged") as info:
        load_points(path)
    assert str(path) in str(info.value) and "100,000,000,000" in str(info.value)


@pytest.mark.parametrize("make, message", [
    (lambda p: _npy_with_header(p, (3, 2), payload=b"\0" * 10), "truncated"),
    (lambda p: p.write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': garbage}\n"), "damaged header"),
    (lambda p: p.write_bytes(b"\x93NUMPY\x03\x00" + b"\0" * 40), "version 3.0"),
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_text("x,y\n1,2\n"), "not a .npy file"),
    (lambda p: np.save(p, np.array([[1 + 2j, 3]])), "not real numbers"),
    (lambda p: np.save(p, np.array([[True, False]])), "not numbers"),
    (lambda p: np.save(p, np.zeros(3, dtype=[("a", "<f8"), ("b", "<f8")])), "not numbers"),
    (lambda p: np.save(p, np.array([[{}, 1]], dtype=object), allow_pickle=True), "Python objects"),
    (lambda p: np.save(p, np.zeros((2, 2, 2))), "2-D array"),
    (lambda p: np.save(p, np.zeros((2, 1))), "two or more columns"),
    (lambda p: np.save(p, np.zeros((0, 2))), "no points"),
    (lambda p: np.save(p, np.array([[0.0, 1.0], [np.inf, 2.0]])), r"NaN or infinite values \(first at index \(1, 0\)\)"),
])
def test_bad_npy_files(tmp_path, make, message):
    path = tmp_path / "p.npy"
    make(path)
    with pytest.raises(ValueError, match=message) as info:
        load_points(path)
    assert str(path) in str(info.value)


def test_npy_layouts_are_read_exactly(tmp_path):
    X = np.arange(12.0).reshape(6, 2) * 2 - 5
    for arr in (X, np.asfortranarray(X), X.astype(">f8"), X.astype(np.float32), X.astype(np.int16)):
        path = tmp_path / "p.npy"
        np.save(path, arr)
        got = load_points(path)
        assert got.dtype == np.float64 and got.flags.c_contiguous
        np.testing.assert_array_equal(got, X)
    covs = tmp_path / "c.npy"
    np.save(covs, np.stack([np.eye(2)] * 3))
    assert load_matrix(covs, "covariances").shape == (3, 2, 2)


def test_npy_memory_is_estimated_from_the_header_not_the_file_size(tmp_path, monkeypatch):
    path = tmp_path / "bytes.npy"
    np.save(path, np.ones((2500, 2), dtype=np.int8))  # 5 kB on disk, 40 kB as float64
    monkeypatch.setattr(files, "memory_budget_bytes", lambda: 20_000)
    assert path.stat().st_size < files.max_file_bytes()
    with pytest.raises(ValueError, match=r"too large.*\(2,500, 2\) array") as info:
        load_points(path)
    assert str(path) in str(info.value)
    monkeypatch.setattr(files, "memory_budget_bytes", lambda: 100_000)
    assert load_points(path).shape == (2500, 2)


def test_csv_memory_is_estimated_from_rows_and_columns(tmp_path, monkeypatch):
    path = tmp_path / "many.csv"
    path.write_text("x,y,z\n" + "1,2,3\n" * 2000)  # 12 kB of text, 48 kB of float64
    monkeypatch.setattr(files, "memory_budget_bytes", lambda: 40_000)
    with pytest.raises(ValueError, match=r"too large.*2,001 rows × 3 columns"):
        load_points(path)
    monkeypatch.setattr(files, "memory_budget_bytes", lambda: 200_000)
    assert load_points(path).shape == (2000, 3)


def test_the_memory_limit_has_one_name():
    assert files.max_file_bytes() <= files.memory_budget_bytes()
    assert files.max_file_bytes() <= 2 << 30
    assert files.memory_budget_bytes() == int(files.physical_memory_bytes() * files.MEMORY_FRACTION)


def _deep(depth):
    return "[" * depth + "1" + "]" * depth


@pytest.mark.parametrize("text, message", [
    (_deep(100_000), "nested too deeply"),
    (json.dumps({"weights": [[[1]]], "means": [[0, 0]], "covariances": [I2]}), r"weights must have shape \(K,\)"),
    ('{"weights": ' + _deep(500) + ', "means": [[0, 0]], "covariances": [[[1, 0], [0, 1]]]}', "weights must be numbers"),
    (json.dumps({"weights": [1], "means": [[0], [0, 0]], "covariances": [I2]}), "means must be numbers"),
    (json.dumps({"weights": [1], "means": 5, "covariances": [I2]}), "means must be a list"),
    (json.dumps({"weights": [1], "means": [[]], "covariances": [[[]]]}), "D >= 1"),
    (json.dumps({"weights": [1], "means": [["a", "b"]], "covariances": [I2]}), "means must be numbers"),
    (json.dumps({"weights": [1], "means": [[0, 0]], "covariances": {"a": 1}}), "covariances must be a list"),
    (json.dumps({"weights": [1], "means": [[0, 0]], "covariances": [I2, I2]}), r"covariances must have shape \(1, 2, 2\)"),
    (json.dumps({"weights": [0.5, 0.6], "means": [[0, 0], [1, 1]], "covariances": [I2, I2]}), "sum to 1"),
    (json.dumps({"weights": [1], "means": [[0, 0]], "covariances": [[[1, 2], [2, 1]]]}), "positive definite"),
    ('{"weights": [NaN], "means": [[0, 0]], "covariances": [[[1, 0], [0, 1]]]}', "NaN"),
    ('{"weights": [1' + "0" * 400 + '], "means": [[0, 0]], "covariances": [[[1, 0], [0, 1]]]}', "too large for a float"),
    ('{"weights": [1' + "0" * 5000 + ']}', "not valid JSON"),
    (json.dumps({"means": [[0, 0]]}), "needs weights, means and covariances"),
    (json.dumps([1, 2, 3]), "top level must be an object"),
    ('{"weights": [1], ', "not valid JSON"),
    ("", "empty"),
], ids=lambda value: value if len(value) < 40 else f"{value[:20]}...({len(value)} chars)")
def test_bad_mixture_files(tmp_path, text, message):
    path = tmp_path / "mix.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as info:
        load_mixture(path)
    assert str(info.value).startswith(f"{path}: ")


def test_mixture_file_that_is_not_utf8_and_a_good_one(tmp_path):
    path = tmp_path / "mix.json"
    path.write_bytes(b'{"weights": [1]}\n\xff\xfe')
    with pytest.raises(ValueError, match="not UTF-8 text on line 2"):
        load_mixture(path)
    path.write_text(json.dumps({"weights": [0.5, 0.5], "means": [[0, 0], [5, 5]],
                                "covariances": [I2, I2]}))
    mixture = load_mixture(path)
    assert mixture.means.tolist() == [[0, 0], [5, 5]]


def test_mixture_file_memory_is_bounded(tmp_path, monkeypatch):
    path = tmp_path / "mix.json"
    path.write_text(json.dumps({"weights": [1], "means": [[0, 0]], "covariances": [I2]}))
    monkeypatch.setattr(files, "memory_budget_bytes", lambda: 1000)
    with pytest.raises(ValueError, match="too large"):
        load_mixture(path)


def test_command_line_exits_2_with_one_line(tmp_path, capsys):
    import main
    npz = tmp_path / "points.npy"
    with open(npz, "wb") as fh:
        np.savez(fh, x=np.zeros((3, 2)))
    huge = _npy_with_header(tmp_path / "huge.npy", (10 ** 11, 2))
    text = tmp_path / "text.csv"
    text.write_text("x,y\n1,2\n3,abc\n")
    cases = [(["--data", str(npz)], ".npz archive"), (["--data", str(huge)], "truncated"),
             (["--data", str(text)], "line 3, column 'y'")]
    if os.path.exists("/dev/zero"):
        cases.append((["--sample", "blobs", "--centres", "/dev/zero"], "character device"))
    for args, message in cases:
        code = main.main(["run"] + args)
        _, err = capsys.readouterr()
        assert code == 2, err
        assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


# -- 3. CSV: the line in the file, the column by name, spreadsheet dialects ----------

@pytest.mark.parametrize("text, message", [
    ("x,y\n1,2\n3,abc\n", "line 3, column 'y': 'abc' is not a number"),
    ("# exported\n\nx,y\n# first rows\n1,2\n\n3,4\nfive,6\n", "line 8, column 'x': 'five' is not a number"),
    ("1,2\n3,abc\n", "line 2, column 2: 'abc' is not a number"),
    ("x,y\n1,2\n3,\n", "line 3, column 'y': an empty field is not a number"),
    ("x,y\n1,2\n3\n", "line 3 has 1 field; the header on line 1 names 2 columns"),
    ("1,2\n\n3,4,5\n", "line 3 has 3 fields; line 1 has 2"),
    ("x,y,z\n1,2\n", "the header on line 1 names 3 columns but line 2 has 2 fields"),
    ("x,y\n1,2\n3,1_0\n", "line 3, column 'y': '1_0' is not a number"),
    ("x;y\n1;2\n3;4,5,6\n", "line 3, column 'y': '4,5,6' is not a number"),
    ("x,y\n1,2\n3,nan\n", "line 3, column 'y': 'nan' is NaN or infinite; points must be finite"),
    ("x,y\n# c\n1,2\n\n-inf,4\n", "line 5, column 'x': '-inf' is NaN or infinite"),
    ("x,y\n1,1e999\n", "line 2, column 'y': '1e999' is NaN or infinite"),
    ("x,y\r\n1,2\r\n3,oops\r\n", "line 3, column 'y': 'oops'"),
    ("x,y\r1,2\r3,oops\r", "line 3, column 'y': 'oops'"),
    ("\ufeffx,y\n1,2\n3,oops\n", "line 3, column 'y'"),
    ("x,y\n   \n1,2\n3,oops\n", "line 4, column 'y'"),
    ("", "file is empty"),
    ("\n  \n", "file is empty"),
    ("# only a comment\n", "no data rows"),
    ("x,y\n", "no data rows"),
    ("x,y\n# nothing\n", "no data rows"),
    ("1\n2\n", "needs at least 2 numeric columns, found 1"),
])
def test_csv_messages_name_the_line_and_column(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(text.encode("utf-8"))
    with pytest.raises(ValueError) as info:
        load_points(path)
    assert message in str(info.value)
    assert str(info.value).startswith(f"{path}: ")


def test_binary_and_non_utf8_csv(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    with pytest.raises(ValueError, match="binary"):
        load_points(path)
    path.write_bytes(b"x,y\n1,2\n3,\xe94\n")
    with pytest.raises(ValueError, match="not UTF-8 text on line 3"):
        load_points(path)


@pytest.mark.parametrize("text, names", [
    ("x,y\n1,2\n3,4.5\n", ("x", "y")),
    ("x;y\n1;2\n3;4.5\n", ("x", "y")),
    ("x;y\n1;2\n3;4,5\n", ("x", "y")),                   # a decimal comma (spreadsheet export)
    ('"x";"y"\n"1";"2"\n"3";"4,5"\n', ("x", "y")),
    ("x\ty\n1\t2\n3\t4.5\n", ("x", "y")),
    ("x\ty\n1\t2\n3\t4,5\n", ("x", "y")),
    ("waiting  eruption\n 1   2\n 3   4.5\n", ("waiting", "eruption")),
    ("# exported by a spreadsheet\n\nx,y\n# units: m\n1,2 # first\n\n3,4.5\n", ("x", "y")),
    ("# x,y\n1,2\n3,4.5\n", ("x", "y")),                  # numpy.savetxt's default header
    ("# x,y\n\n1,2\n3,4.5\n", None),                       # a comment, not just above the data
    ("# made by v1.2, 2024\n1,2\n3,4.5\n", None),
    ("1,2\n3,4.5\n", None),
    ("\ufeffx,y\r\n1,2\r\n3,4.5\r\n", ("x", "y")),
    ("x, y\n1, 2\n3 ,4.5\n", ("x", "y")),
])
def test_csv_dialects_and_header_names(tmp_path, text, names):
    path = tmp_path / "p.csv"
    path.write_bytes(text.encode("utf-8"))
    X, got = read_points_table(path)
    np.testing.assert_array_equal(X, [[1.0, 2.0], [3.0, 4.5]])
    assert got == names
    np.testing.assert_array_equal(load_points(path), X)


def test_csv_blocks_keep_line_numbers(tmp_path, monkeypatch, rng):
    monkeypatch.setattr(formats, "_CSV_BLOCK_BYTES", 64)  # many blocks
    X = rng.normal(size=(200, 2)).round(6)
    lines = ["a,b"] + [f"{x},{y}" for x, y in X]
    lines.insert(50, "# a comment in the middle")
    lines.insert(90, "   ")  # white space only: numpy's parser rejects it, ours skips it
    path = tmp_path / "p.csv"
    path.write_text("\n".join(lines) + "\n")
    got, names = read_points_table(path)
    np.testing.assert_array_equal(got, X)
    assert names == ("a", "b")
    lines[150] = lines[150].split(",")[0] + ",oops"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="line 151, column 'b': 'oops'"):
        load_points(path)
    lines[150] = lines[150].split(",")[0] + ",nan"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="line 151, column 'b': 'nan' is NaN"):
        load_points(path)


def test_whole_file_scans_count_across_block_ends(tmp_path, monkeypatch):
    """The NUL, carriage-return and line counts over a file go a block at a time (a bytes scan
    holds the GIL: the window stalled while a million points loaded); a CR LF split across two
    blocks still counts once, and old Mac line ends are still read."""
    monkeypatch.setattr(formats, "_CSV_BLOCK_BYTES", 2)  # scans of 8 bytes
    data = b"ab\r\n\r\r\n1\r\n\n\r\nxyz\r" * 7
    for needle in (b"\0", b"\r", b"\n", b"\r\n"):
        for start in range(0, 12):
            assert formats._count(data, needle, start) == data.count(needle, start), (needle, start)
    path = tmp_path / "mac.csv"
    path.write_bytes(b"x,y\r1,2\r3,4.5\r")
    X, names = read_points_table(path)
    np.testing.assert_array_equal(X, [[1.0, 2.0], [3.0, 4.5]])
    path.write_bytes(b"x,y\n1,2\n3,\x004\n")
    with pytest.raises(ValueError, match="binary data"):
        read_points_table(path)


def test_large_csv_matches_numpy(tmp_path, rng):
    X = rng.normal(size=(20_000, 3))
    path = tmp_path / "big.csv"
    np.savetxt(path, X, delimiter=",", header="a,b,c", comments="")
    got, names = read_points_table(path)
    np.testing.assert_array_equal(got, np.loadtxt(path, delimiter=",", skiprows=1))
    assert names == ("a", "b", "c") and got.flags.c_contiguous


def test_parameter_csvs_and_their_messages(tmp_path):
    weights = tmp_path / "w.csv"
    weights.write_text("0.2\n0.3\n0.5\n")
    assert load_matrix(weights, "weights").ravel().tolist() == [0.2, 0.3, 0.5]
    centres = tmp_path / "c.csv"
    centres.write_text("x;y\n1,5;2\n-3;4\n")
    assert load_matrix(centres, "centres").tolist() == [[1.5, 2.0], [-3.0, 4.0]]
    centres.write_text("x,y\n1,2\n3,inf\n")
    with pytest.raises(ValueError, match="line 3, column 'y': 'inf' is NaN or infinite; centres must"):
        load_matrix(centres, "centres")


# -- 4. atomic writes that keep permissions, links and the old file ------------------

WRITERS = {
    "atomic_write_text": lambda path, text: atomic_write_text(path, text),
    "atomic_output": lambda path, text: _write_via_atomic_output(path, text),
}


def _write_via_atomic_output(path, text):
    with atomic_output(path) as tmp:
        Path(tmp).write_text(text)


@needs_posix_modes
@pytest.mark.parametrize("writer", WRITERS)
def test_an_existing_files_permissions_are_kept(tmp_path, writer):
    path = tmp_path / "lecture.json"
    path.write_text("old")
    os.chmod(path, 0o644)
    WRITERS[writer](path, "new")
    assert path.read_text() == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    os.chmod(path, 0o640)
    WRITERS[writer](path, "newer")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@needs_posix_modes
@pytest.mark.parametrize("writer", WRITERS)
def test_a_new_file_gets_the_umask_default(tmp_path, writer):
    old = os.umask(0o022)
    try:
        WRITERS[writer](tmp_path / "new.json", "{}")
        os.umask(0o027)
        WRITERS[writer](tmp_path / "private.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o640


@pytest.mark.parametrize("writer", WRITERS)
def test_a_symlink_is_written_through(tmp_path, writer):
    real = tmp_path / "shared" / "lecture.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "lecture.json"
    try:
        link.symlink_to(real)
    except (OSError, NotImplementedError):
        pytest.skip("cannot make symlinks here")
    WRITERS[writer](link, "new")
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert real.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lecture.json", "shared"]
    assert [p.name for p in real.parent.iterdir()] == ["lecture.json"]


@pytest.mark.parametrize("writer", WRITERS)
def test_a_read_only_file_is_refused_not_replaced(tmp_path, writer):
    path = tmp_path / "lecture.json"
    path.write_text("old")
    os.chmod(path, stat.S_IREAD)
    try:
        with pytest.raises(ValueError, match="is read-only") as info:
            WRITERS[writer](path, "new")
        assert str(path) in str(info.value)
        assert path.read_text() == "old"
        assert [p.name for p in tmp_path.iterdir()] == ["lecture.json"]
    finally:
        os.chmod(path, stat.S_IREAD | stat.S_IWRITE)


@pytest.mark.parametrize("writer", WRITERS)
def test_unwritable_targets_are_one_clear_error(tmp_path, writer):
    with pytest.raises(ValueError, match="does not exist"):
        WRITERS[writer](tmp_path / "no" / "such" / "folder.json", "x")
    with pytest.raises(ValueError, match="is a folder"):
        WRITERS[writer](tmp_path, "x")
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe.json"
        os.mkfifo(fifo)
        done, exc = finishes(lambda: WRITERS[writer](fifo, "x"))
        assert done and isinstance(exc, ValueError) and "FIFO" in str(exc)


def test_atomic_output_keeps_the_suffix_and_cleans_up_after_a_failure(tmp_path):
    path = tmp_path / "run.gif"
    path.write_bytes(b"old gif")
    with pytest.raises(RuntimeError, match="encoder crashed"):
        with atomic_output(path) as tmp:
            assert Path(tmp).parent.resolve() == tmp_path.resolve() and Path(tmp).suffix == ".gif"
            assert Path(tmp).name.startswith(".run.gif.")
            Path(tmp).write_bytes(b"half a gif")
            raise RuntimeError("encoder crashed")
    assert path.read_bytes() == b"old gif"
    assert [p.name for p in tmp_path.iterdir()] == ["run.gif"]


def test_atomic_output_reports_a_writer_that_wrote_nothing(tmp_path):
    path = tmp_path / "strip.png"
    path.write_bytes(b"old")
    with pytest.raises(ValueError, match="nothing was written"):
        with atomic_output(path) as tmp:
            os.unlink(tmp)
    assert path.read_bytes() == b"old"


_KILLED_WRITER = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {root!r})
    from engine import files
    target, how = sys.argv[1], sys.argv[2]

    def stall(*args, **kwargs):
        print("writing", flush=True)
        time.sleep(60)

    if how == "atomic_write_text":
        os.fsync = stall                  # the data are in the temporary file, not yet renamed
        files.atomic_write_text(target, "new " * 5_000_000)
    else:
        with files.atomic_output(target) as tmp:
            with open(tmp, "wb") as fh:
                fh.write(b"new frame " * 1_000_000)
                fh.flush()
                stall()                   # half-way through an export
                fh.write(b"the rest")
""")


@pytest.mark.parametrize("how", ["atomic_write_text", "atomic_output"])
def test_kill_9_mid_write_leaves_the_old_file_intact(tmp_path, how):
    path = tmp_path / "lecture.json"
    old = os.urandom(100_000)
    path.write_bytes(old)
    mode = stat.S_IMODE(path.stat().st_mode)
    script = tmp_path / "writer.py"
    script.write_text(_KILLED_WRITER.format(root=str(ROOT)))
    proc = subprocess.Popen([sys.executable, str(script), str(path), how], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        temporary = [p for p in tmp_path.iterdir() if p.name.startswith(".lecture.json.")]
        assert len(temporary) == 1 and temporary[0].stat().st_size > 1_000_000
        # a leftover is hidden, and only atomic_output's (for format-sniffing writers) ends in .json
        assert temporary[0].suffix == (".tmp" if how == "atomic_write_text" else ".json")
    finally:
        proc.kill()  # SIGKILL on POSIX, TerminateProcess on Windows
        proc.wait(30)
        proc.stdout.close()
    assert path.read_bytes() == old
    assert stat.S_IMODE(path.stat().st_mode) == mode


# -- check_output_path ------------------------------------------------------------

def test_output_onto_an_input_is_refused(tmp_path, monkeypatch):
    data = tmp_path / "data.csv"
    data.write_text("x,y\n1,2\n")
    centres = tmp_path / "centres.csv"
    centres.write_text("1,2\n")
    with pytest.raises(ValueError, match="is the input file") as info:
        check_output_path(data, [data])
    assert str(data) in str(info.value)
    monkeypatch.chdir(tmp_path)
    for spelling in ("data.csv", "./data.csv", f"../{tmp_path.name}/data.csv", str(data)):
        with pytest.raises(ValueError, match="is the input file"):
            check_output_path(spelling, [None, str(centres), "data.csv"])
    try:
        (tmp_path / "alias.csv").symlink_to(data)
        with pytest.raises(ValueError, match="is the input file"):
            check_output_path(tmp_path / "alias.csv", [data])
    except (OSError, NotImplementedError):
        pass
    try:
        os.link(data, tmp_path / "hard.csv")
        with pytest.raises(ValueError, match="is the input file"):
            check_output_path(tmp_path / "hard.csv", [data])
    except (OSError, AttributeError):
        pass
    assert check_output_path(tmp_path / "trace.json", [data, centres, None]) == tmp_path / "trace.json"
    assert check_output_path(None, [data]) is None


def test_open_regular_file_reads_text_and_bytes(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes("héllo\n".encode())
    with open_regular_file(path) as fh:
        assert fh.read() == "héllo\n".encode()
    with open_regular_file(path, "r", encoding="utf-8") as fh:
        assert fh.read() == "héllo\n"
    assert files.read_regular_text(path) == "héllo\n"


def test_a_huge_first_line_and_a_failed_allocation_are_clear_errors(tmp_path, monkeypatch):
    path = tmp_path / "one-line.csv"
    path.write_text(",".join(["1"] * 50) + "\n")
    monkeypatch.setattr(formats, "_CSV_MAX_LINE_BYTES", 64)
    with pytest.raises(ValueError, match="line 1 is 100 bytes long"):
        load_points(path)
    monkeypatch.undo()
    npy = tmp_path / "p.npy"
    np.save(npy, np.zeros((4, 2)))

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(np, "empty", no_memory)  # the budget is only an estimate
    for source in (path, npy):
        with pytest.raises(ValueError, match="not enough memory"):
            load_points(source)
