"""Reading a customer file: any CSV dialect or an Excel workbook, into dictionary-coded columns.

One damaged row never costs the file: `record_ends` splits records tolerating stray quote marks,
`_read_tolerant` rewrites damaged rows clean and flags them (the checker makes each an error),
and clean files take pyarrow's fast path. `_Fatal` is raised when the file cannot be read at all.
"""
from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from churn.schema import FILE_COLUMNS
from churn.validate.messages import (MSG_BAD_EXCEL, MSG_BINARY, MSG_EMPTY_FILE,
                                     MSG_HEADER_TOO_LONG, MSG_IS_FOLDER, MSG_LATIN1,
                                     MSG_NOT_FOUND, MSG_OLD_EXCEL, MSG_SHEETS,
                                     MSG_TOO_MANY_COLUMNS)
from churn.validate.report import Problem

# --- limits -------------------------------------------------------------------------------------
HEAD_BYTES = 65_536      # bytes looked at to recognise the format and the delimiter
DELIMITERS = (",", ";", "\t", "|")
MAX_COLUMNS = 1_000      # a header with more fields is refused at once (the schema has 21)
MAX_JOIN_LINES = 20      # lines one quoted value may span; a quote left open longer is stray
BINARY_RATIO = 0.01      # control bytes above this share of the first 64 KB: binary, not text
_CONTROL_BYTES = (*range(0, 9), 11, 12, *range(14, 32))   # tab, line feed, return are text
_CONTROL_TABLE = np.zeros(256, bool)
_CONTROL_TABLE[list(_CONTROL_BYTES)] = True
_CONTROL_RE = re.compile("[" + "".join(f"\\x{b:02x}" for b in _CONTROL_BYTES) + "]")
# A line of only these bytes (and its line end) holds no value: blank.
_BLANK_BYTES = b',;\t|" \xef\xbb\xbf'


def _source_name(source) -> str | None:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    name = getattr(source, "name", None)
    return Path(name).name if isinstance(name, str) else None


# --- reading ------------------------------------------------------------------------------------
class _Fatal(Exception):
    """The file cannot be read at all (message for the user)."""


@dataclass
class _Raw:
    """Every record of the file as text, one dictionary-coded column per field position.

    codes[j][i] indexes uniques[j] for record i (record 0 is the file's first line);
    missing trailing fields read as "".
    """

    codes: list[np.ndarray]
    uniques: list[np.ndarray]
    nrecords: int
    notes: list[Problem]         # file-level warnings from reading (encoding, sheets)
    name: str | None
    width: int | None = None     # fields in the header line (None: as wide as the table)
    flags: dict = field(default_factory=dict)  # record -> (kind, fields): damaged, rejected
    spans: dict = field(default_factory=dict)  # record -> file lines, when more than one


def _read(source) -> _Raw:
    name = _source_name(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise _Fatal(MSG_NOT_FOUND.format(path=path))
        if path.is_dir():
            raise _Fatal(MSG_IS_FOLDER.format(path=path))
        data = path.read_bytes()
    elif isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "read"):
        if hasattr(source, "seek"):
            try:
                source.seek(0)
            except (OSError, ValueError):
                pass
        data = source.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        data = bytes(data)
    else:
        raise ValueError(f"validate() takes a path, bytes or a binary file object, not "
                         f"{type(source).__name__}; pass the uploaded file or its path.")
    head = data[:HEAD_BYTES]
    if not head.strip():
        raise _Fatal(MSG_EMPTY_FILE)
    if head.startswith(b"PK\x03\x04"):
        return _read_excel(io.BytesIO(data), name)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _Fatal(MSG_OLD_EXCEL)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        data = data.decode("utf-16", errors="replace").encode("utf-8")
        head = data[:HEAD_BYTES]
    elif sum(head.count(bytes([b])) for b in _CONTROL_BYTES) > len(head) * BINARY_RATIO:
        raise _Fatal(MSG_BINARY)       # a few stray control bytes only cost their own rows
    return _read_text(data, name)


def _sniff(text: str) -> str:
    """The delimiter most used in the first non-blank line (comma when none is used)."""
    line = next((ln for ln in text.lstrip("\ufeff").splitlines() if ln.strip()), "")
    counts = {d: line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _split_fields(text: str, sep: str) -> list[str]:
    """The values of one record (quote-aware, like every CSV reader)."""
    import csv

    try:
        return next(csv.reader([text], delimiter=sep, strict=False), [""])
    except csv.Error:           # e.g. a line break right after a closing quote: split plainly
        return text.split(sep)


def header_shape(buf: bytes, eof: bool = True) -> tuple[str, int] | None:
    """(delimiter, number of fields) of the header: the first line of ``buf`` that is not blank.

    None when ``buf`` holds no complete non-blank line yet and more data is coming (``eof``
    False). Raises `_Fatal` when the header is absurd: longer than `HEAD_BYTES` bytes or more
    than `MAX_COLUMNS` fields, so such a file is refused before anything else is read.
    """
    pos = 0
    while True:
        nl = buf.find(b"\n", pos)
        if nl < 0 and not eof:
            if len(buf) - pos > HEAD_BYTES:
                raise _Fatal(MSG_HEADER_TOO_LONG.format(limit=HEAD_BYTES))
            return None
        line = buf[pos:] if nl < 0 else buf[pos:nl]
        if line.translate(None, _BLANK_BYTES).strip(b"\r\n"):
            break
        if nl < 0:
            return None
        pos = nl + 1
    if len(line) > HEAD_BYTES:
        raise _Fatal(MSG_HEADER_TOO_LONG.format(limit=HEAD_BYTES))
    text = line.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r")
    sep = _sniff(text)
    width = len(_split_fields(text, sep))
    if width > MAX_COLUMNS:
        raise _Fatal(MSG_TOO_MANY_COLUMNS.format(count=width, expected=len(FILE_COLUMNS),
                                                 limit=MAX_COLUMNS))
    return sep, width


@dataclass
class _Records:
    """How a run of CSV bytes splits into records (see `record_ends`)."""

    ends: np.ndarray                 # exclusive end offset of each record (line end included)
    stray: np.ndarray                # records holding a quote mark that is never closed
    spans: dict[int, int]            # record -> physical lines, for records over several lines


def record_ends(buf: bytes, sep: str, width: int, eof: bool = True) -> _Records:
    """Split ``buf`` (starting at a record start) into records, tolerating stray quote marks.

    A record is one line, unless a quoted value holds a line break: a line with an odd number of
    quote marks is joined with the lines up to the next such line (at most `MAX_JOIN_LINES`
    ahead) when the joined text splits into exactly ``width`` values (more only if the extra ones
    are empty); otherwise its quote mark is stray, and that line alone is a record that cannot be
    split (``stray``), so a single bad byte never swallows the rows after it. With ``eof`` False
    only records that later data cannot change are returned (a trailing partial line, or a line
    whose partner may still come, is left for the next call). Linear in ``len(buf)``: the
    lines are found with numpy and only lines with an odd number of quotes are looked at one by
    one. One reader for `validate` and for `churn.batch`'s pieces.
    """
    arr = np.frombuffer(buf, np.uint8)
    line_ends = np.flatnonzero(arr == 10) + 1
    if eof and len(buf) and (not len(line_ends) or line_ends[-1] != len(buf)):
        line_ends = np.append(line_ends, len(buf))
    nothing = np.empty(0, np.int64)
    qpos = np.flatnonzero(arr == 34)
    if not len(qpos) or not len(line_ends):
        return _Records(line_ends.astype(np.int64), nothing, {})
    qline = np.searchsorted(line_ends, qpos, side="right")
    counts = np.bincount(qline, minlength=len(line_ends) + 1)[:len(line_ends)]
    odd = np.flatnonzero(counts & 1)
    if not len(odd):
        return _Records(line_ends.astype(np.int64), nothing, {})
    is_end = np.ones(len(line_ends), bool)
    stray_lines, joined = [], {}
    stop = len(line_ends)               # lines from here on are not final yet
    k = 0
    while k < len(odd):
        i = int(odd[k])
        j = int(odd[k + 1]) if k + 1 < len(odd) else None
        if j is not None and j - i <= MAX_JOIN_LINES:
            start = int(line_ends[i - 1]) if i else 0
            text = buf[start:int(line_ends[j])].decode("latin-1").rstrip("\r\n")
            values = _split_fields(text, sep)
            if len(values) == width or (len(values) > width and not any(values[width:])):
                is_end[i:j] = False
                joined[i] = j - i + 1
                k += 2
                continue
        elif not eof and len(line_ends) - 1 - i < MAX_JOIN_LINES:
            stop = i                    # its partner may be in the data still to come
            break
        stray_lines.append(i)
        k += 1
    end_lines = np.flatnonzero(is_end[:stop])
    ends = line_ends[end_lines].astype(np.int64)
    stray = np.searchsorted(end_lines, np.asarray(stray_lines, np.int64))
    spans = {int(np.searchsorted(end_lines, i)): n for i, n in joined.items()}
    return _Records(ends, stray.astype(np.int64), spans)


def _read_text(data: bytes, name: str | None) -> _Raw:
    """A CSV file's bytes as coded columns: the fast path when the file is clean, else the
    tolerant reader (each damaged row rejected on its own, every other row read)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        data = re.sub(rb"\r(?!\n)", b"\n", data)      # old Mac line ends
    shape = header_shape(data)
    if shape is None:
        raise _Fatal(MSG_EMPTY_FILE)
    sep, width = shape
    fast = _parse_csv_arrow(data, sep, width)
    if fast is not None:
        return _Raw(*fast, [], name, width)
    return _read_tolerant(data, sep, width, name)


def _read_tolerant(data: bytes, sep: str, width: int, name: str | None) -> _Raw:
    """Read a CSV whatever its damage, in time and memory linear in its size.

    Records come from `record_ends`. A record with fewer values than the header is padded with
    blanks; one with more is cut to the header's width (an error when a cut value is not
    blank, or when the row has more than `MAX_COLUMNS` fields at all); a record with a stray quote, control characters or bytes that are not UTF-8 is
    rewritten clean. Such rows carry a flag (`_Raw.flags`) that the checker turns into a row
    error; every other record reaches the parser byte for byte. The cleaned text is then parsed
    by the fast reader (or, should it still refuse, record by record).
    """
    import csv

    csv.field_size_limit(max(csv.field_size_limit(), len(data) + 1))
    recs = record_ends(data, sep, width)
    ends = recs.ends
    n = len(ends)
    starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
    arr = np.frombuffer(data, np.uint8)
    notes: list[Problem] = []
    # values per record: delimiters outside quotes + 1 (quote parity counted from the record start)
    dpos = np.flatnonzero(arr == ord(sep))
    drec = np.searchsorted(ends, dpos, side="right")
    qpos = np.flatnonzero(arr == 34)
    if len(qpos):
        inside = (np.searchsorted(qpos, dpos) - np.searchsorted(qpos, starts)[drec]) & 1
        drec = drec[inside == 0]
    fields = np.bincount(drec, minlength=n)[:n] + 1
    del dpos, drec
    cpos = np.flatnonzero(_CONTROL_TABLE[arr])
    control = {}
    for r, p in zip(np.searchsorted(ends, cpos, side="right").tolist(), cpos.tolist()):
        control.setdefault(r, int(arr[p]))
    latin1: set[int] = set()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        for r in np.unique(np.searchsorted(ends, np.flatnonzero(arr >= 128), side="right")):
            try:
                data[starts[r]:ends[r]].decode("utf-8")
            except UnicodeDecodeError:
                latin1.add(int(r))
        notes.append(Problem(None, None, MSG_LATIN1))
    stray = set(recs.stray.tolist())
    touch = set(np.flatnonzero(fields != width).tolist()) | stray | set(control) | latin1
    flags: dict[int, tuple] = {}
    pieces, new_len = [], (ends - starts).astype(np.int64)
    prev = 0
    for r in sorted(touch):
        s, e = int(starts[r]), int(ends[r])
        pieces.append(data[prev:s])
        prev = e
        raw = data[s:e]
        text = raw.decode("latin-1" if r in latin1 else "utf-8", errors="replace")
        text = text.rstrip("\r\n")
        if r in control:
            text = _CONTROL_RE.sub("", text)
        values = text.split(sep) if r in stray else _split_fields(text, sep)
        if r in stray:
            flags[r] = ("stray", {})
        elif r in recs.spans:         # joined over lines and damaged too: say what it took in
            flags[r] = ("span", {"lines": recs.spans[r]})
        elif r in control:
            flags[r] = ("control", {"byte": control[r]})
        if len(values) > width:
            last = max((i for i, v in enumerate(values) if v != ""), default=-1) + 1
            if len(values) > MAX_COLUMNS:
                last = max(last, len(values))   # empty or not, that many fields is damage
            if last > width and r not in flags:
                flags[r] = ("extra", {"count": last})
            values = values[:width]
        values = values + [""] * (width - len(values))
        out = io.StringIO()
        csv.writer(out, delimiter=sep, lineterminator="\n").writerow(values)
        line = out.getvalue().encode("utf-8")
        if len(values) == 1 and values[0] == "":
            line = b'""\n'                     # one blank value, not a line the parser skips
        pieces.append(line)
        new_len[r] = len(line)
    if touch:
        pieces.append(data[prev:])
        clean = b"".join(pieces)
        del pieces
    else:
        clean = data
    new_ends = np.cumsum(new_len)
    parsed = _parse_csv_arrow(clean, sep, width, rows=n, block=int(new_len.max(initial=0)))
    if parsed is None:
        parsed = _parse_records(clean, new_ends, sep, width)
    return _Raw(*parsed, notes, name, width, flags=flags, spans=recs.spans)


def _parse_records(clean: bytes, ends: np.ndarray, sep: str, width: int):
    """Last resort: every record parsed on its own (slow but never out of step)."""
    cols: list[list[str]] = [[] for _ in range(width)]
    start = 0
    for e in ends.tolist():
        values = _split_fields(clean[start:e].decode("utf-8", errors="replace").rstrip("\r\n"),
                               sep)[:width]
        values += [""] * (width - len(values))
        for j, v in enumerate(values):
            cols[j].append(v)
        start = e
    codes, uniques = [], []
    for col in cols:
        c, u = pd.factorize(np.asarray(col, dtype=object))
        codes.append(c)
        uniques.append(np.asarray(u, dtype=object))
    return codes, uniques, len(ends)


def _code_table(table: pd.DataFrame) -> tuple[list[np.ndarray], list[np.ndarray], int]:
    codes, uniques = [], []
    for j in range(table.shape[1]):
        c, u = pd.factorize(table.iloc[:, j].to_numpy(dtype=object))
        codes.append(c)
        uniques.append(np.asarray(u, dtype=object))
    return codes, uniques, len(table)


def _parse_csv_arrow(data: bytes, sep: str, width: int, rows: int | None = None,
                     block: int = 0):
    """pyarrow's multi-threaded reader, dictionary-coding every column while parsing.

    Returns (codes, uniques, nrecords), or None whenever the text is not plainly rectangular
    UTF-8 with ``width`` columns (ragged rows, bad bytes, an unclosed quote, a line break or a
    control character inside a value, or not ``rows`` records when given): the tolerant reader
    then takes over and says which rows were damaged.
    """
    try:
        import pyarrow.csv as pacsv

        text = pa.dictionary(pa.int32(), pa.string())   # dictionary-coded while parsing
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, encoding="utf8",
                                           block_size=max(1 << 20, 2 * block + 1)),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": text for i in range(width)}))
        if table.num_columns != width or any(t != text for t in table.schema.types):
            return None
        if rows is not None and table.num_rows != rows:
            return None
        table = table.unify_dictionaries()
        codes, uniques = [], []
        for j in range(width):
            enc = table.column(j).combine_chunks()
            if enc.null_count:
                return None
            # a line break or control byte inside a value: the tolerant reader judges the row
            if rows is None and pc.any(pc.match_substring_regex(
                    enc.dictionary, "[\r\n\x00-\x08\x0b\x0c\x0e-\x1f]")).as_py():
                return None
            codes.append(enc.indices.to_numpy(zero_copy_only=False))
            uniques.append(enc.dictionary.to_numpy(zero_copy_only=False).astype(object))
    except (pa.ArrowException, OSError, ValueError):
        return None
    return codes, uniques, table.num_rows


def _read_excel(src, name) -> _Raw:
    try:
        book = pd.ExcelFile(src, engine="openpyxl")
        sheets = book.sheet_names
        table = book.parse(sheets[0], header=None, dtype=str)
    except Exception:  # noqa: BLE001 - any failure of openpyxl means "cannot open"
        raise _Fatal(MSG_BAD_EXCEL) from None
    if table.empty:
        raise _Fatal(MSG_EMPTY_FILE)
    if table.shape[1] > MAX_COLUMNS:
        raise _Fatal(MSG_TOO_MANY_COLUMNS.format(count=table.shape[1], expected=len(FILE_COLUMNS),
                                                 limit=MAX_COLUMNS))
    table = table.fillna("").astype(str)
    notes = []
    if len(sheets) > 1:
        notes.append(Problem(None, None, MSG_SHEETS.format(count=len(sheets), name=sheets[0])))
    return _Raw(*_code_table(table), notes, name)


def _blank_code(uniques: np.ndarray) -> int:
    """The code of "" in a column's distinct texts (-1 when no field is empty)."""
    hit = np.flatnonzero(uniques == "")
    return int(hit[0]) if len(hit) else -1


def _has_values(raw: _Raw, j: int, first: int) -> bool:
    """Whether field position j holds any value below the header row `first`."""
    b = _blank_code(raw.uniques[j])
    return bool((raw.codes[j][first + 1:] != b).any())

