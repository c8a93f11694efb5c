"""On-disk formats: point files (.csv / .npy), parameter files, mixtures, and JSON output.

Every reader raises one ValueError with the file name and what is wrong (for a
CSV, the line in the file and the column by its header name); never a numpy
traceback.  Files are opened through ``engine.files`` (regular files only,
bounded reads) and the memory a file needs is estimated from its content (a
.npy header's shape, a CSV's rows × columns) before it is read.

CSV: comma-, semicolon- or tab-separated (or whitespace-aligned) columns, an
optional header row, ``#`` comments and blank lines; in semicolon- or
tab-separated files a decimal comma (``1,5``) is read as a decimal point, as
spreadsheets in many locales write them.
"""

import csv
import io
import json
import math
import os
import warnings

import numpy as np

from .files import (atomic_write_text, check_memory, format_bytes, open_regular_file, read_json,
                    read_regular_bytes)

_BOM = b"\xef\xbb\xbf"
_NPY_MAGIC = b"\x93NUMPY"
_CSV_BLOCK_BYTES = 1 << 18  # CSVs are parsed in blocks of whole lines of about this size:
# small enough that a block (numpy holds the GIL while it parses one: ~10 ms for 256 KB, where
# 1 MB stalled the window 35-50 ms) never stalls the window
_CSV_DELIMITERS = (";", "\t", ",")
_CSV_MAX_LINE_BYTES = 1 << 26  # a longer first line is no table of points (and is not decoded whole)


# -- CSV ----------------------------------------------------------------------------

def _content(line):
    """The line without its ``#`` comment and surrounding white space (line endings included)."""
    return line.split("#", 1)[0].strip()


def _split(body, delimiter):
    if delimiter is None:
        return body.split()
    try:
        fields = next(csv.reader([body], delimiter=delimiter, quotechar='"'))
    except (csv.Error, StopIteration):
        fields = body.split(delimiter)
    return [f.strip() for f in fields]


def _number(text, decimal_comma):
    """float(text) as numpy's CSV parser reads it, or None."""
    text = text.strip()
    if not text or "_" in text:
        return None
    if decimal_comma:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def _detect_delimiter(first, second):
    """';', tab or ',' (the first one both lines have equally often), else None (white space)."""
    for d in _CSV_DELIMITERS:
        if d in first and (second is None or second.count(d) == first.count(d)):
            return d
    for d in _CSV_DELIMITERS:
        if d in first:
            return d
    return None if len(first.split()) > 1 else ","


def _decode(raw, path, first_line):
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = first_line + raw.count(b"\n", 0, exc.start)
        raise ValueError(f"{path}: not a text CSV file (bytes that are not UTF-8 text on line "
                         f"{line})") from None


def _show(field):
    if not field:
        return "an empty field"
    return repr(field if len(field) <= 40 else field[:37] + "...")


class _CsvLayout:
    """Where the data start and how to split them, from the first lines of a CSV."""

    def __init__(self, path, data, start, min_columns):
        n = len(data)
        pos, lineno, found, comment = start, 0, [], None
        while pos < n and len(found) < 2:
            end = data.find(b"\n", pos)
            end = n if end < 0 else end + 1
            lineno += 1
            if end - pos > _CSV_MAX_LINE_BYTES:
                raise ValueError(f"{path}: not a CSV of points (line {lineno} is "
                                 f"{format_bytes(end - pos)} long)")
            text = _decode(data[pos:end], path, lineno)
            body = _content(text)
            if body:
                found.append((lineno, body, end))
            elif not found:  # np.savetxt writes its header as "# x,y" just above the data
                comment = text.lstrip()[1:].strip() if text.lstrip().startswith("#") else None
            pos = end
        if not found:
            if not data[start:].strip():
                raise ValueError(f"{path}: file is empty")
            raise ValueError(f"{path}: no data rows")
        first, second = found[0], found[1] if len(found) > 1 else None
        delimiter = _detect_delimiter(first[1], second[1] if second else None)
        fields = _split(first[1], delimiter)
        maybe_decimal_comma = delimiter != ","
        self.header_line = None
        self.names = None
        if not all(_number(f, maybe_decimal_comma) is not None for f in fields):
            if second is None:
                raise ValueError(f"{path}: no data rows")
            self.header_line, self.names = first[0], tuple(fields)
            data_first = second
            self.pos, self.line = first[2], first[0] + 1
        else:
            data_first = first
            self.pos, self.line = start, 1
            if comment:
                names = _split(comment, delimiter)
                if len(names) == len(fields) and all(n and _number(n, maybe_decimal_comma) is None
                                                     for n in names):
                    self.names = tuple(names)
        self.delimiter = delimiter
        self.decimal_comma = maybe_decimal_comma  # ',' is no separator here: "1,5" means 1.5
        self.first_data_line = data_first[0]
        self.ncols = len(_split(data_first[1], delimiter))
        if self.header_line is not None and len(self.names) != self.ncols:
            raise ValueError(f"{path}: not a numeric CSV: the header on line {self.header_line} names "
                             f"{len(self.names)} columns but line {data_first[0]} has {self.ncols} "
                             "fields")
        if self.ncols < min_columns:
            raise ValueError(f"{path}: needs at least {min_columns} numeric columns, found {self.ncols}")

    def column(self, j):
        if self.names is not None and self.names[j]:
            return f"column '{self.names[j]}'"
        return f"column {j + 1}"

    def rows(self, text, first_line):
        """(line number, fields) of each data line of a block of text."""
        for i, line in enumerate(text.split("\n")):
            body = _content(line)
            if body:
                yield first_line + i, _split(body, self.delimiter)

    def parse_slowly(self, path, text, first_line):
        """A block parsed in Python: the reference the fast path must agree with; says where it fails."""
        rows = []
        for lineno, fields in self.rows(text, first_line):
            if len(fields) != self.ncols:
                like = (f"the header on line {self.header_line} names {self.ncols} columns"
                        if self.header_line is not None else
                        f"line {self.first_data_line} has {self.ncols}")
                raise ValueError(f"{path}: not a numeric CSV: line {lineno} has {len(fields)} "
                                 f"field{'s' * (len(fields) != 1)}; {like}")
            row = [_number(f, self.decimal_comma) for f in fields]
            for j, value in enumerate(row):
                if value is None:
                    raise ValueError(f"{path}: not a numeric CSV: line {lineno}, {self.column(j)}: "
                                     f"{_show(fields[j])} is not a number")
            rows.append(row)
        return np.array(rows, dtype=np.float64).reshape(-1, self.ncols)

    def parse(self, path, text, first_line):
        fast = text.replace(",", ".") if self.decimal_comma and "," in text else text
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "input contained no data": a block of comments
                arr = np.loadtxt(io.StringIO(fast), delimiter=self.delimiter, comments="#",
                                 quotechar='"', dtype=np.float64, ndmin=2)
            if arr.size == 0 or arr.shape[1] == self.ncols:
                return arr
        except ValueError:
            pass
        return self.parse_slowly(path, text, first_line)


def _blocks(data, pos, first_line, path):
    """(first line number, text) of blocks of whole lines from ``pos`` on."""
    n = len(data)
    while pos < n:
        if n - pos <= _CSV_BLOCK_BYTES:
            end = n
        else:
            end = data.find(b"\n", pos + _CSV_BLOCK_BYTES - 1)
            end = n if end < 0 else end + 1
        text = _decode(data[pos:end], path, first_line)
        yield first_line, text
        first_line += text.count("\n")
        pos = end


def _count(data, needle, start=0):
    """data.count(needle, start) for a needle that cannot overlap itself (b"\\r\\n", one byte), a
    block at a time: a bytes method holds the GIL, and three scans of a 40 MB file at once
    stalled the window 35-40 ms while a million points loaded."""
    step = _CSV_BLOCK_BYTES * 4
    total, pos = 0, start
    while pos < len(data):
        end = min(len(data), pos + step)
        total += data.count(needle, pos, end)
        # a needle across the block's end: counted once, by the block it starts in
        if len(needle) > 1 and end < len(data):
            total += data.count(needle, end - len(needle) + 1, end + len(needle) - 1)
        pos = end
    return total


def _allocate(path, shape, dtype):
    """np.empty, or ValueError when the memory is not there after all (the budget is an estimate)."""
    try:
        return np.empty(shape, dtype=dtype)
    except MemoryError:
        raise ValueError(f"{path}: too large to open: not enough memory for "
                         f"{format_bytes(np.dtype(dtype).itemsize * math.prod(np.atleast_1d(shape)))}"
                         ) from None


def _read_csv(path, min_columns, what):
    """(array (rows, columns) float64 and finite, header names or None) of a CSV file."""
    data = read_regular_bytes(path)
    if _count(data, b"\0"):
        raise ValueError(f"{path}: not a text CSV file (it holds binary data)")
    start = len(_BOM) if data.startswith(_BOM) else 0
    returns = _count(data, b"\r")
    if returns and returns != _count(data, b"\r\n"):
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")  # old Mac line ends
    layout = _CsvLayout(path, data, start, min_columns)
    rows_at_most = _count(data, b"\n", layout.pos) + 1
    # the bytes, the array, and a block's text and numpy's copies of it
    check_memory(path, len(data) + 8 * rows_at_most * layout.ncols + 4 * min(len(data), _CSV_BLOCK_BYTES),
                 f"{rows_at_most:,} rows × {layout.ncols} columns")
    out = _allocate(path, (rows_at_most, layout.ncols), np.float64)
    filled, counts = 0, []
    for first_line, text in _blocks(data, layout.pos, layout.line, path):
        arr = layout.parse(path, text, first_line)
        if arr.size:
            out[filled:filled + len(arr)] = arr
            filled += len(arr)
        counts.append(len(arr))
    if filled == 0:
        raise ValueError(f"{path}: no data rows")
    out.resize((filled, layout.ncols), refcheck=False)
    bad = np.argwhere(~np.isfinite(out))
    if len(bad):
        _report_non_finite(path, data, layout, counts, *bad[0], what)
    return out, layout.names


def _report_non_finite(path, data, layout, counts, row, col, what):
    """Raise the ValueError for the first NaN / infinite value, with its line and column."""
    where, raw = f"data row {row + 1}, {layout.column(col)}", None
    skipped = 0
    for (first_line, text), count in zip(_blocks(data, layout.pos, layout.line, path), counts):
        if row < skipped + count:
            for i, (lineno, fields) in enumerate(layout.rows(text, first_line)):
                if i == row - skipped:
                    where, raw = f"line {lineno}, {layout.column(col)}", fields[col]
                    break
            break
        skipped += count
    value = f" {_show(raw)} is" if raw is not None else ""
    raise ValueError(f"{path}: {where}:{value} NaN or infinite; {what} must be finite numbers")


# -- .npy ---------------------------------------------------------------------------

def _shape_text(shape):
    return "(" + ", ".join(f"{s:,}" for s in shape) + ")"


def _read_npy(path, check_shape=None):
    """A float64 array from a .npy file, its header checked before anything is allocated.

    ``check_shape(shape)`` may raise ValueError to refuse the shape the header declares.
    """
    with open_regular_file(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        magic = fh.read(len(_NPY_MAGIC))
        if not magic:
            raise ValueError(f"{path}: file is empty")
        if magic.startswith(b"PK"):
            raise ValueError(f"{path}: is a .npz archive (zipped arrays), not a .npy array; save one "
                             "array with numpy.save")
        if magic != _NPY_MAGIC:
            raise ValueError(f"{path}: not a .npy file (it does not start with the NumPy header)")
        fh.seek(0)
        try:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                version = f"version {version[0]}.{version[1]} is not supported"
                shape = None
        except Exception as exc:  # noqa: BLE001 - a damaged header: ValueError, SyntaxError, ...
            raise ValueError(f"{path}: not a readable .npy file (a damaged header: {exc})") from None
        if shape is None:
            raise ValueError(f"{path}: not a readable .npy file ({version})")
        if dtype.hasobject:
            raise ValueError(f"{path}: holds Python objects, not numbers (not read: it would need pickle)")
        if dtype.names is not None or dtype.subdtype is not None or dtype.kind not in "iuf":
            raise ValueError(f"{path}: holds {dtype} values, not {'real ' * (dtype.kind == 'c')}numbers")
        if check_shape is not None:
            check_shape(shape)
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        available = size - fh.tell()
        if nbytes > available:
            raise ValueError(f"{path}: truncated or damaged: its header promises a {_shape_text(shape)} "
                             f"array of {dtype} ({format_bytes(nbytes)}), the file holds "
                             f"{format_bytes(max(available, 0))}")
        converts = fortran or dtype != np.dtype(np.float64)
        check_memory(path, nbytes + 8 * count * converts, f"a {_shape_text(shape)} array")
        flat = _allocate(path, count, dtype)
        got = 0
        if nbytes:
            buffer = memoryview(flat.view(np.uint8))
            try:
                while got < nbytes:
                    n = fh.readinto(buffer[got:])
                    if not n:
                        break
                    got += n
            except OSError as exc:
                raise ValueError(f"{path}: cannot read ({exc.strerror or exc})") from None
        if got < nbytes:
            raise ValueError(f"{path}: truncated: the file ended after {format_bytes(got)} of "
                             f"{format_bytes(nbytes)}")
    arr = flat.reshape(shape, order="F" if fortran else "C")
    with np.errstate(over="ignore", invalid="ignore"):  # float128 beyond float64: inf, reported later
        return np.ascontiguousarray(arr, dtype=np.float64)


def _check_finite_npy(path, arr, what):
    bad = np.argwhere(~np.isfinite(arr))
    if len(bad):
        where = tuple(int(i) for i in bad[0])
        raise ValueError(f"{path}: {what} contain NaN or infinite values (first at index {where})")


# -- public readers -----------------------------------------------------------------

def read_points_table(path):
    """Points and column names from .csv or .npy: (X of shape (n_samples, n_features), names).

    ``names`` is a tuple of the header's column names, or None when the file has no
    header (a .npy never has one).  X is float64, finite, with two or more columns.
    ValueError naming the file (and for a CSV the line and column) for anything else.
    """
    path = os.fspath(path)
    if path.lower().endswith(".npy"):
        def check_shape(shape):
            if len(shape) != 2 or shape[1] < 2:
                raise ValueError(f"{path}: needs a 2-D array with two or more columns, got shape "
                                 f"{_shape_text(shape)}")
            if shape[0] == 0:
                raise ValueError(f"{path}: no points")

        X = _read_npy(path, check_shape)
        _check_finite_npy(path, X, "points")
        return X, None
    return _read_csv(path, min_columns=2, what="points")


def load_points(path):
    """Points from .csv (two or more numeric columns, optional header row) or .npy.

    Returns ndarray of shape (n_samples, n_features), float64, finite.
    """
    return read_points_table(path)[0]


def load_matrix(path, what):
    """Centres or weights from .csv (rows of numbers) or any numeric array from .npy."""
    path = os.fspath(path)
    if path.lower().endswith(".npy"):
        arr = _read_npy(path)
        _check_finite_npy(path, arr, what)
        return arr
    return _read_csv(path, min_columns=1, what=what)[0]


def load_mixture(path):
    """A Mixture from a JSON file ``{"weights": [...], "means": [[...]], "covariances": [[[...]]]}``.

    ValueError naming the file for anything else: not a regular file, too large, not
    UTF-8, not JSON, nested too deeply, missing keys, wrong shapes or types, weights
    not summing to 1, covariances not positive definite.
    """
    from .sampling import Mixture
    spec = read_json(path, "mixture")
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: not a mixture (the top level must be an object with weights, "
                         "means and covariances)")
    try:
        return Mixture.from_dict(spec)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


# -- writers ------------------------------------------------------------------------

def save_points_csv(path, X, header=("x", "y")):
    header = list(header) + [f"x{i}" for i in range(len(header), X.shape[1])]
    lines = [",".join(header[:X.shape[1]])]
    lines += [",".join(repr(float(v)) for v in row) for row in X]
    atomic_write_text(path, "\n".join(lines) + "\n")


def write_json(path, obj):
    atomic_write_text(path, json.dumps(obj, allow_nan=False, indent=1) + "\n")
