"""Streaming .xlsx workbooks for exports: constant memory whatever the row count.

One small interface: `write_workbook` (an iterable of row batches) and `write_workbook_async` (an
async iterable, e.g. rows streamed from the report's SQL). The workbook has a cover sheet first
("About": title, notes such as filters and time zone, row count, data sheets, generation time)
and then the data sheets "Data", "Data (2)", … each with its own bold, frozen header row, an
autofilter over its data and set column widths; a new data sheet starts after
`max_rows_per_sheet` data rows (Excel's limit, 1,048,576 rows, less the header by default).
Rows are counted here: no writer library is trusted to stop at Excel's limit.

Cells:
- text: always a string cell (never a formula, never a hyperlink, whatever it starts with);
  characters XML/Excel forbid (C0 controls other than tab, LF and CR; U+FFFE, U+FFFF; lone
  surrogates) are removed and text is cut at Excel's 32,767 characters. A non-str value is
  written as its str().
- int, float: numbers. An integer beyond ±2**53 (which a double cannot hold exactly), or a value
  that is not a number, is written as text so no digit is lost.
- date: a real Excel date (format yyyy-mm-dd). A datetime given for a date column is converted
  to the workbook's time zone first.
- datetime: a real Excel date-time (format yyyy-mm-dd hh:mm:ss) in the workbook's time zone:
  aware datetimes are converted to `WorkbookInfo.time_zone`; naive ones are taken as UTC.
- bool: a real Excel boolean (TRUE/FALSE, localised by Excel), not Yes/No text.
- Dates and datetimes before 1900-03-01 (Excel has no dates before 1900, and counts a
  29 February 1900 that never was) are written as ISO text.
- None: an empty cell.

The writer is rvgsrust-xlsxwriter (rust_xlsxwriter in constant-memory mode) fed with Apache
Arrow record batches; see docs/benchmarks-xlsx.md for why. Each data sheet's rows go to an
anonymous temporary file beside the output until the workbook is closed, so memory does not grow
with the row count.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import re
import threading
from collections.abc import AsyncIterable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
from rvgsrust_xlsxwriter import Format, Workbook, Worksheet

ColumnKind = Literal["text", "int", "float", "date", "datetime", "bool"]

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
MAX_DATA_ROWS_PER_SHEET = EXCEL_MAX_ROWS - 1  # the header takes one row
MAX_TEXT_LENGTH = 32_767
COVER_SHEET = "About"
DATA_SHEET = "Data"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"

# Rows handed to the Rust writer per call: it holds the GIL while it writes, so a call stays
# short (~20 ms for 26 columns) whatever batch size the caller streams.
_CHUNK_ROWS = 2048
_MAX_SAFE_INT = 2**53
# Excel counts 1900 as a leap year: the writer's serial numbers are right from 1900-03-01 on.
_EXCEL_EPOCH_DATE = dt.date(1900, 3, 1)
_EXCEL_EPOCH = dt.datetime(1900, 3, 1)
_UTC = dt.UTC

# Removed from text: XML 1.0 forbids these code points, and Excel refuses a file holding them.
_FORBIDDEN = "\x00-\x08\x0b\x0c\x0e-\x1f"
_FORBIDDEN_PY = re.compile(f"[{_FORBIDDEN}\ud800-\udfff\ufffe\uffff]")
_FORBIDDEN_RE2 = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{fffe}\x{ffff}]"  # Arrow strings are valid UTF-8

_ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us"),
    "bool": pa.bool_(),
}
_NONE = type(None)
# The value types each kind takes on the vectorised path; anything else goes value by value.
_FAST_TYPES: dict[str, frozenset[type]] = {
    "text": frozenset({str, _NONE}),
    "int": frozenset({int, _NONE}),
    "float": frozenset({float, int, _NONE}),
    "date": frozenset({dt.date, _NONE}),
    "datetime": frozenset({dt.datetime, _NONE}),
    "bool": frozenset({bool, _NONE}),
}
_DEFAULT_WIDTHS: dict[str, int] = {
    "text": 20,
    "int": 12,
    "float": 14,
    "date": 12,
    "datetime": 20,
    "bool": 9,
}


@dataclass(frozen=True)
class Column:
    title: str  # header text, e.g. "Points Expiration Date"
    kind: ColumnKind
    width: int | None = None  # in characters; None: a default from the kind and title


@dataclass(frozen=True)
class WorkbookInfo:
    title: str  # e.g. "All Interactions" or "Points — Redemptions"
    notes: Sequence[tuple[str, str]]  # e.g. [("Filters", "…"), ("Time zone", "Asia/Kolkata")]
    time_zone: str  # IANA name: datetime values are shown in this zone
    # Shown on the cover unless a note already says "Generated at"; None: the time of writing.
    generated_at: dt.datetime | None = None


@dataclass(frozen=True)
class WriteResult:
    row_count: int  # data rows, headers not counted
    sheet_count: int  # data sheets, the cover not counted
    path: Path


def column_width(column: Column) -> int:
    """The width a column gets: its own, or one from its kind and title (room for the filter)."""
    if column.width is not None:
        return column.width
    base = _DEFAULT_WIDTHS[column.kind]
    if column.kind == "text" and "email" in column.title.lower():
        base = 30
    return min(max(base, len(column.title) + 4), 60)


def clean_text(value: str) -> str:
    """Text as Excel can hold it: forbidden characters removed, cut at 32,767 characters."""
    if _FORBIDDEN_PY.search(value):
        value = _FORBIDDEN_PY.sub("", value)
    return value[:MAX_TEXT_LENGTH]


def write_workbook(
    path: Path,
    columns: Sequence[Column],
    batches: Iterable[Sequence[Sequence[Any]]],
    info: WorkbookInfo,
    *,
    max_rows_per_sheet: int = MAX_DATA_ROWS_PER_SHEET,
) -> WriteResult:
    """Writes the rows of `batches` (each a sequence of rows, each row one value per column).

    The file appears at `path` only when the workbook is complete; memory stays constant.
    """
    if isinstance(batches, AsyncIterable):
        raise TypeError("an async iterable of batches: use write_workbook_async")
    writer = _WorkbookWriter(Path(path), columns, info, max_rows_per_sheet)
    for batch in batches:
        writer.write_batch(batch)
    return writer.close()


async def write_workbook_async(
    path: Path,
    columns: Sequence[Column],
    batches: AsyncIterable[Sequence[Sequence[Any]]] | Iterable[Sequence[Sequence[Any]]],
    info: WorkbookInfo,
    *,
    max_rows_per_sheet: int = MAX_DATA_ROWS_PER_SHEET,
) -> WriteResult:
    """`write_workbook` for an async (or plain) iterable of batches, off the event loop.

    The workbook is written in one worker thread, which pulls one batch at a time from the
    async iterable on this loop: one batch is in flight, so memory stays constant. Cancelled,
    it stops at the next batch and returns once the thread is done, leaving no file behind.
    """
    loop = asyncio.get_running_loop()
    stop = threading.Event()
    source = aiter(batches) if isinstance(batches, AsyncIterable) else None
    pulling: set[asyncio.Task[Any]] = set()  # runs on the loop: no race with the handler below

    async def pull() -> Sequence[Sequence[Any]]:
        assert source is not None
        if stop.is_set():
            raise _Stopped
        task = asyncio.current_task()
        assert task is not None
        pulling.add(task)
        try:
            return await anext(source)
        finally:
            pulling.discard(task)

    def pulled() -> Iterator[Sequence[Sequence[Any]]]:
        if source is None:
            for batch in cast(Iterable[Sequence[Sequence[Any]]], batches):
                if stop.is_set():
                    break
                yield batch
        else:
            while not stop.is_set():
                try:
                    yield asyncio.run_coroutine_threadsafe(pull(), loop).result()
                except StopAsyncIteration:
                    return
        if stop.is_set():
            raise _Stopped

    worker = asyncio.ensure_future(
        asyncio.to_thread(
            write_workbook, path, columns, pulled(), info, max_rows_per_sheet=max_rows_per_sheet
        )
    )
    try:
        return await asyncio.shield(worker)
    except asyncio.CancelledError:
        stop.set()
        for task in pulling:
            task.cancel()  # a batch still being fetched: stop waiting for it
        await asyncio.wait([worker])
        if not worker.cancelled() and worker.exception() is None:
            # It was closing the workbook: the caller asked for no file.
            await asyncio.to_thread(Path(path).unlink, missing_ok=True)
        raise
    finally:
        if source is not None and worker.done():
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()


class _Stopped(Exception):
    """The export was cancelled: the worker thread stops writing."""


class _WorkbookWriter:
    def __init__(
        self, path: Path, columns: Sequence[Column], info: WorkbookInfo, max_rows_per_sheet: int
    ) -> None:
        if not columns:
            raise ValueError("a workbook needs at least one column")
        if len(columns) > EXCEL_MAX_COLUMNS:
            raise ValueError(f"{len(columns)} columns: Excel allows {EXCEL_MAX_COLUMNS}")
        for column in columns:
            if column.kind not in _ARROW_TYPES:
                raise ValueError(f"column {column.title!r}: unknown kind {column.kind!r}")
        if not 1 <= max_rows_per_sheet <= MAX_DATA_ROWS_PER_SHEET:
            raise ValueError(f"max_rows_per_sheet must be within 1..{MAX_DATA_ROWS_PER_SHEET}")
        self.path = path
        self.columns = list(columns)
        self.info = info
        self.zone = ZoneInfo(info.time_zone)
        self.max_rows = max_rows_per_sheet
        self.generated_at = (info.generated_at or dt.datetime.now(_UTC)).astimezone(self.zone)
        self.converter = _ArrowConverter(self.columns, self.zone)

        self.workbook = Workbook()
        # The sheets' rows wait in anonymous temporary files: keep them on the output's disk.
        self.workbook.set_tempdir(str(path.parent))
        self.workbook.set_properties(title=clean_text(info.title))
        self.bold = self.workbook.add_format().set_bold()
        self.title_format = self.workbook.add_format().set_bold().set_font_size(14)
        self.date_format = self.workbook.add_format().set_num_format(DATE_FORMAT)
        self.datetime_format = self.workbook.add_format().set_num_format(DATETIME_FORMAT)
        self.cell_formats: list[Format | None] = [
            self.date_format
            if c.kind == "date"
            else self.datetime_format
            if c.kind == "datetime"
            else None
            for c in self.columns
        ]
        self.column_formats = {
            name: fmt
            for name, fmt in zip(self.converter.names, self.cell_formats, strict=True)
            if fmt is not None
        }
        self.cover = self.workbook.add_worksheet(COVER_SHEET)  # first, filled in at the end
        self.sheets: list[str] = []
        self.sheet: Worksheet | None = None
        self.sheet_rows = 0
        self.row_count = 0

    def write_batch(self, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        batch, bad = self.converter.convert(rows)
        bad_rows = sorted(bad)  # almost always empty
        next_bad = 0
        pos, n = 0, batch.num_rows
        while pos < n:
            if self.sheet is None or self.sheet_rows == self.max_rows:
                self._start_sheet()
            assert self.sheet is not None
            excel_row = self.sheet_rows + 1  # row 0 is the header
            end = min(n, pos + _CHUNK_ROWS, pos + self.max_rows - self.sheet_rows)
            if next_bad < len(bad_rows) and bad_rows[next_bad] == pos:
                self._write_row_by_cell(excel_row, batch.slice(pos, 1), bad[pos])
                next_bad += 1
                end = pos + 1
            else:
                if next_bad < len(bad_rows):
                    end = min(end, bad_rows[next_bad])
                self.sheet.write_dataframe(
                    excel_row,
                    0,
                    batch.slice(pos, end - pos),
                    write_header=False,
                    column_formats=self.column_formats,
                )
            self.sheet_rows += end - pos
            self.row_count += end - pos
            pos = end

    def _write_row_by_cell(
        self, excel_row: int, row: pa.RecordBatch, texts: dict[int, str]
    ) -> None:
        """A row with a value its column's type cannot hold: that value goes in as text."""
        assert self.sheet is not None
        for col, (array, fmt) in enumerate(zip(row.columns, self.cell_formats, strict=True)):
            value = texts.get(col, array[0].as_py())
            if value is None:
                continue
            if isinstance(value, str):
                self.sheet.write(excel_row, col, value)
            elif isinstance(value, dt.datetime):
                self.sheet.write_datetime_py(excel_row, col, value, fmt)
            elif isinstance(value, dt.date):
                self.sheet.write_date_py(excel_row, col, value, fmt)
            else:
                self.sheet.write(excel_row, col, value)

    def _start_sheet(self) -> None:
        self._finish_sheet()
        name = DATA_SHEET if not self.sheets else f"{DATA_SHEET} ({len(self.sheets) + 1})"
        sheet = self.workbook.add_worksheet(name, constant_memory=True)
        sheet.write_row(0, 0, [clean_text(c.title) for c in self.columns], self.bold)
        for index, column in enumerate(self.columns):
            sheet.set_column_width(index, column_width(column))
        sheet.freeze_panes(1, 0)
        self.sheets.append(name)
        self.sheet = sheet
        self.sheet_rows = 0

    def _finish_sheet(self) -> None:
        if self.sheet is not None:
            last_row = max(self.sheet_rows, 1)  # an empty sheet still gets its filter buttons
            self.sheet.autofilter(0, 0, last_row, len(self.columns) - 1)

    def _write_cover(self) -> None:
        cover = self.cover
        cover.set_column_width(0, 22)
        cover.set_column_width(1, 90)
        cover.write(0, 0, clean_text(self.info.title), self.title_format)
        lines = [(clean_text(k), clean_text(v)) for k, v in self.info.notes]
        keys = {k.strip().lower() for k, _ in lines}
        if "time zone" not in keys:
            lines.append(("Time zone", self.info.time_zone))
        if "generated at" not in keys:
            lines.append(("Generated at", _describe_time(self.generated_at, self.info.time_zone)))
        row = 2
        for key, value in lines:
            cover.write(row, 0, key, self.bold)
            cover.write(row, 1, value)
            row += 1
        cover.write(row, 0, "Rows", self.bold)
        cover.write(row, 1, self.row_count)
        cover.write(row + 1, 0, "Data sheets", self.bold)
        cover.write(row + 1, 1, ", ".join(self.sheets))

    def close(self) -> WriteResult:
        if self.sheet is None:
            self._start_sheet()  # no rows: still a data sheet with its header
        self._finish_sheet()
        self._write_cover()
        self.workbook.close(str(self.path))
        return WriteResult(row_count=self.row_count, sheet_count=len(self.sheets), path=self.path)


def _describe_time(moment: dt.datetime, zone: str) -> str:
    return f"{moment.strftime('%Y-%m-%d %H:%M:%S')} {zone} (UTC{moment.strftime('%z')})"


class _ArrowConverter:
    """Rows of Python values -> an Arrow record batch of the columns' types.

    Each column goes through Arrow's vectorised conversion when its values are all of the
    expected Python type (the usual case); otherwise value by value. A value that the column's
    type cannot hold (a date before 1900, a huge integer, a word in a number column) is left
    null in the batch and returned as text, by row, to be written on its own.
    """

    def __init__(self, columns: Sequence[Column], zone: ZoneInfo) -> None:
        self.kinds = [c.kind for c in columns]
        self.names = [f"c{i}" for i in range(len(columns))]
        self.zone = zone
        self.zone_name = zone.key
        self.arrow_zone_ok = True

    def convert(
        self, rows: Sequence[Sequence[Any]]
    ) -> tuple[pa.RecordBatch, dict[int, dict[int, str]]]:
        width = len(self.kinds)
        lengths = set(map(len, rows))
        if lengths != {width}:
            raise ValueError(f"rows of {sorted(lengths)} values for {width} columns")
        bad: dict[int, dict[int, str]] = {}
        arrays = []
        for col, (kind, values) in enumerate(zip(self.kinds, zip(*rows, strict=True), strict=True)):
            array, texts = self._column(kind, values)
            for row, text in texts.items():
                bad.setdefault(row, {})[col] = text
            arrays.append(array)
        return pa.RecordBatch.from_arrays(arrays, names=self.names), bad

    def _column(self, kind: str, values: tuple[Any, ...]) -> tuple[pa.Array, dict[int, str]]:
        if set(map(type, values)) <= _FAST_TYPES[kind]:
            array = self._fast(kind, values)
            if array is not None:
                return array, {}
        return self._slow(kind, values)

    def _fast(self, kind: str, values: tuple[Any, ...]) -> pa.Array | None:
        """The vectorised conversion, or None where it cannot be exact."""
        try:
            if kind == "datetime":
                if not self.arrow_zone_ok:
                    return None
                utc = pa.array(values, pa.timestamp("us", tz="UTC"))  # naive values: UTC
                array = pc.local_timestamp(utc.cast(pa.timestamp("us", tz=self.zone_name)))
            else:
                array = pa.array(values, _ARROW_TYPES[kind])
        except pa.ArrowInvalid:
            if kind == "datetime":
                self.arrow_zone_ok = False  # Arrow lacks this zone (no system tz database)
            return None
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            return None  # e.g. a lone surrogate in a string
        if array.null_count == len(array):
            return array
        if kind == "text":
            if pc.any(pc.match_substring_regex(array, _FORBIDDEN_RE2)).as_py():
                array = pc.replace_substring_regex(array, _FORBIDDEN_RE2, "")
            if pc.max(pc.utf8_length(array)).as_py() > MAX_TEXT_LENGTH:
                array = pc.utf8_slice_codeunits(array, 0, MAX_TEXT_LENGTH)
        elif kind == "int":
            low, high = (s.as_py() for s in pc.min_max(array).values())
            if low <= -_MAX_SAFE_INT or high >= _MAX_SAFE_INT:
                return None
        elif kind == "float":
            pass  # NaN and infinities: the writer shows them as the text NAN, INF, -INF
        elif kind in ("date", "datetime"):
            epoch = _EXCEL_EPOCH_DATE if kind == "date" else _EXCEL_EPOCH
            if pc.min(array).as_py() < epoch:
                return None
        return array

    def _slow(self, kind: str, values: tuple[Any, ...]) -> tuple[pa.Array, dict[int, str]]:
        texts: dict[int, str] = {}
        out: list[Any] = []
        convert = getattr(self, f"_to_{kind}")
        for row, value in enumerate(values):
            if value is None:
                out.append(None)
                continue
            converted = convert(value)
            if isinstance(converted, _Text):
                texts[row] = clean_text(converted.text)
                out.append(None)
            else:
                out.append(converted)
        target = pa.float64() if kind in ("int", "float") else _ARROW_TYPES[kind]
        return pa.array(out, target), texts

    # Value by value: the Python value for the column's Arrow type, or _Text to write as text.

    @staticmethod
    def _to_text(value: Any) -> Any:
        return clean_text(value if isinstance(value, str) else str(value))

    @staticmethod
    def _to_int(value: Any) -> Any:
        if isinstance(value, bool):
            return float(value)
        if isinstance(value, int) or (isinstance(value, Decimal) and value.is_finite()):
            if abs(value) >= _MAX_SAFE_INT:
                return _Text(str(value))  # a double would change its last digits
            return float(value)
        if isinstance(value, float | Decimal):
            number = float(value)
            if math.isnan(number):
                return _Text("NAN")
            if math.isinf(number):
                return _Text("INF" if number > 0 else "-INF")
            return number
        return _Text(str(value))

    _to_float = _to_int

    def _local(self, value: dt.datetime) -> dt.datetime:
        aware = value if value.tzinfo is not None else value.replace(tzinfo=_UTC)
        return aware.astimezone(self.zone).replace(tzinfo=None)

    def _to_date(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            value = self._local(value).date()
        if isinstance(value, dt.date):
            return value if value >= _EXCEL_EPOCH_DATE else _Text(value.isoformat())
        return _Text(str(value))

    def _to_datetime(self, value: Any) -> Any:
        if isinstance(value, dt.datetime):
            value = self._local(value)
        elif isinstance(value, dt.date):
            value = dt.datetime.combine(value, dt.time())  # a day: local midnight
        else:
            return _Text(str(value))
        return value if value >= _EXCEL_EPOCH else _Text(value.isoformat(sep=" "))

    @staticmethod
    def _to_bool(value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        return _Text(str(value))


@dataclass(frozen=True, slots=True)
class _Text:
    text: str
