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
- int, float: numbers (NaN and infinities, which Excel lacks: empty cells).
- date: a real Excel date (format yyyy-mm-dd). A datetime given for a date column is converted
  to the workbook's time zone first.
- datetime: a real Excel date-time (format yyyy-mm-dd hh:mm:ss) in the workbook's time zone:
  aware datetimes are converted to `WorkbookInfo.time_zone`; naive ones are taken as UTC.
- bool: a real Excel boolean (TRUE/FALSE, localised by Excel), not Yes/No text.
- None: an empty cell.
- A value its column's type cannot hold — a date or datetime before 1900-03-01 (Excel has no
  dates before 1900 and counts a 29 February 1900 that never was), an integer beyond ±2**53
  (a double would change its digits), a word in a number column — makes that column text in
  that data sheet (dates as ISO text, numbers in full, booleans TRUE/FALSE): nothing is lost.

How: the rows are converted batch by batch to Apache Arrow (vectorised: text cleaned, datetimes
moved to the zone) and spooled to an Arrow IPC file beside the output (lz4); then, with the row
count known, rustpy-xlsxwriter (rust_xlsxwriter, constant-memory mode, GIL released) writes the
cover and the data sheets from that spool, streaming it back one batch at a time. Memory stays
flat whatever the row count; disk holds the spool (~110 MB per million rows of the report's 26
columns) until the workbook is written. See docs/benchmarks-xlsx.md for the choice of writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
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
from rustpy_xlsxwriter import Format, write_worksheets

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
    "int": pa.float64(),  # converted from int64 once checked to be exact
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
    return _write(Path(path), columns, batches, info, max_rows_per_sheet, None)


def _write(
    path: Path,
    columns: Sequence[Column],
    batches: Iterable[Sequence[Sequence[Any]]],
    info: WorkbookInfo,
    max_rows_per_sheet: int,
    stop: threading.Event | None,
) -> WriteResult:
    writer = _WorkbookWriter(path, columns, info, max_rows_per_sheet, stop)
    try:
        for batch in batches:
            writer.write_batch(batch)
        return writer.close()
    finally:
        writer.discard_spool()


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
        asyncio.to_thread(_write, Path(path), columns, pulled(), info, max_rows_per_sheet, stop)
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
    """Pass 1 spools converted batches; `close` (pass 2) writes the workbook from the spool."""

    def __init__(
        self,
        path: Path,
        columns: Sequence[Column],
        info: WorkbookInfo,
        max_rows_per_sheet: int,
        stop: threading.Event | None,
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
        self.titles = _unique_titles(c.title for c in self.columns)
        self.info = info
        self.zone = ZoneInfo(info.time_zone)
        self.max_rows = max_rows_per_sheet
        self.stop = stop
        self.generated_at = (info.generated_at or dt.datetime.now(_UTC)).astimezone(self.zone)
        self.converter = _ArrowConverter(self.columns, self.zone)
        hidden = path.name if path.name.startswith(".") else f".{path.name}"
        self.spool_path = path.with_name(f"{hidden}.spool")  # beside the output, same disk
        self.spool: pa.ipc.RecordBatchStreamWriter | None = None
        self.reader: pa.ipc.RecordBatchStreamReader | None = None
        self.row_count = 0
        # Per data sheet, the columns holding a value their type cannot: text in that sheet.
        self.text_columns: dict[int, set[int]] = {}

    def write_batch(self, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        batch = self.converter.convert(rows)
        for col, overrides in self.converter.overrides(batch):
            for row in pc.indices_nonzero(overrides.is_valid()).to_pylist():
                sheet = (self.row_count + row) // self.max_rows
                self.text_columns.setdefault(sheet, set()).add(col)
        if self.spool is None:
            codec = "lz4" if pa.Codec.is_available("lz4") else None
            self.spool = pa.ipc.new_stream(
                str(self.spool_path),
                self.converter.schema,
                options=pa.ipc.IpcWriteOptions(compression=codec),
            )
        self.spool.write_batch(batch)
        self.row_count += batch.num_rows

    def close(self) -> WriteResult:
        if self.spool is not None:
            self.spool.close()
        sheets = max(1, -(-self.row_count // self.max_rows))
        names = [DATA_SHEET if k == 0 else f"{DATA_SHEET} ({k + 1})" for k in range(sheets)]
        if self.spool is not None:
            # Plain reads: a memory map would count the whole spool in the resident set.
            self.reader = pa.ipc.open_stream(pa.OSFile(str(self.spool_path), "r"))
        source = iter(self.reader) if self.reader is not None else iter(())
        carry: list[pa.RecordBatch] = []
        order = iter(range(sheets))
        data = []
        formats: dict[str, dict[str, Format]] = {}
        for k, name in enumerate(names):
            text = self.text_columns.get(k, set())
            schema = pa.schema(
                [
                    (title, pa.string() if i in text else _ARROW_TYPES[c.kind])
                    for i, (title, c) in enumerate(zip(self.titles, self.columns, strict=True))
                ]
            )
            rows = min(self.max_rows, self.row_count - k * self.max_rows)
            batches = self._sheet_batches(k, order, source, carry, rows, text, schema)
            data.append((name, pa.RecordBatchReader.from_batches(schema, batches)))
            formats[name] = {
                title: Format().set_num_format(DATE_FORMAT if c.kind == "date" else DATETIME_FORMAT)
                for i, (title, c) in enumerate(zip(self.titles, self.columns, strict=True))
                if c.kind in ("date", "datetime") and i not in text
            }
        widths = [float(column_width(c)) for c in self.columns]
        try:
            self._write_file(names, data, formats, widths)
        except BaseException:
            self.path.unlink(missing_ok=True)  # a workbook cut short is no workbook
            raise
        return WriteResult(row_count=self.row_count, sheet_count=sheets, path=self.path)

    def _write_file(
        self,
        names: list[str],
        data: list[tuple[str, pa.RecordBatchReader]],
        formats: dict[str, dict[str, Format]],
        widths: list[float],
    ) -> None:
        write_worksheets(
            [(COVER_SHEET, self._cover(names)), *data],
            str(self.path),
            freeze_panes={name: {"row": 1, "col": 0} for name in names},
            datetime_format=DATETIME_FORMAT,
            bold_headers=True,
            autofilter={name: True for name in names},
            column_widths={COVER_SHEET: [24.0, 90.0], **{name: widths for name in names}},
            column_formats={name: f for name, f in formats.items() if f},
        )

    def discard_spool(self) -> None:
        if self.reader is not None:
            self.reader.close()
        if self.spool is not None:
            with contextlib.suppress(pa.ArrowInvalid):
                self.spool.close()  # already closed, or failed
        self.spool_path.unlink(missing_ok=True)

    def _sheet_batches(
        self,
        sheet: int,
        order: Iterator[int],
        source: Iterator[pa.RecordBatch],
        carry: list[pa.RecordBatch],
        rows: int,
        text: set[int],
        schema: pa.Schema,
    ) -> Iterator[pa.RecordBatch]:
        """One sheet's rows from the spool; the sheets share it, so they must be read in order."""
        if next(order, None) != sheet:
            raise RuntimeError("the writer read the data sheets out of order")
        while rows > 0:
            if self.stop is not None and self.stop.is_set():
                raise _Stopped
            batch = carry.pop() if carry else next(source)
            if batch.num_rows > rows:
                carry.append(batch.slice(rows))
                batch = batch.slice(0, rows)
            rows -= batch.num_rows
            yield self.converter.finish(batch, text, schema)

    def _cover(self, names: list[str]) -> list[dict[str, Any]]:
        lines: list[tuple[str, Any]] = [("Title", clean_text(self.info.title))]
        lines += [(clean_text(k), clean_text(v)) for k, v in self.info.notes]
        keys = {k.strip().lower() for k, _ in lines}
        if "time zone" not in keys:
            lines.append(("Time zone", self.info.time_zone))
        if "generated at" not in keys:
            lines.append(("Generated at", _describe_time(self.generated_at, self.info.time_zone)))
        lines += [("Rows", self.row_count), ("Data sheets", ", ".join(names))]
        return [{"Item": key, "Value": value} for key, value in lines]


def _unique_titles(titles: Iterable[str]) -> list[str]:
    """Header texts, cleaned and made unique (they name the Arrow columns)."""
    seen: set[str] = set()
    out = []
    for index, title in enumerate(titles, 1):
        base = clean_text(title) or f"Column {index}"
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base} ({n})"
        seen.add(name)
        out.append(name)
    return out


def _describe_time(moment: dt.datetime, zone: str) -> str:
    return f"{moment.strftime('%Y-%m-%d %H:%M:%S')} {zone} (UTC{moment.strftime('%z')})"


class _ArrowConverter:
    """Rows of Python values -> an Arrow record batch of the columns' types, for the spool.

    Each column goes through Arrow's vectorised conversion when its values are all of the
    expected Python type (the usual case); otherwise value by value. A value that the column's
    type cannot hold (a date before 1900-03-01, a huge integer, a word in a number column) is
    left null there and kept as text in the column's override column ("<i>:text"), which
    `finish` uses to write that column of that sheet as text.
    """

    def __init__(self, columns: Sequence[Column], zone: ZoneInfo) -> None:
        self.kinds = [c.kind for c in columns]
        self.zone = zone
        self.zone_name = zone.key
        self.arrow_zone_ok = True
        fields = [(f"{i}", _ARROW_TYPES[k]) for i, k in enumerate(self.kinds)]
        self.override_of = {
            i: len(self.kinds) + n
            for n, i in enumerate(i for i, k in enumerate(self.kinds) if k != "text")
        }
        fields += [(f"{i}:text", pa.string()) for i in self.override_of]
        self.schema = pa.schema(fields)

    def convert(self, rows: Sequence[Sequence[Any]]) -> pa.RecordBatch:
        width = len(self.kinds)
        lengths = set(map(len, rows))
        if lengths != {width}:
            raise ValueError(f"rows of {sorted(lengths)} values for {width} columns")
        arrays = []
        overrides = []
        for kind, values in zip(self.kinds, zip(*rows, strict=True), strict=True):
            array, texts = self._column(kind, values)
            arrays.append(array)
            if kind != "text":
                overrides.append(
                    pa.array([texts.get(r) for r in range(len(rows))], pa.string())
                    if texts
                    else pa.nulls(len(rows), pa.string())
                )
        return pa.RecordBatch.from_arrays(arrays + overrides, schema=self.schema)

    def overrides(self, batch: pa.RecordBatch) -> Iterator[tuple[int, pa.Array]]:
        """(column, its override texts) for the columns with at least one override."""
        for col, index in self.override_of.items():
            array = batch.column(index)
            if array.null_count < len(array):
                yield col, array

    def finish(self, batch: pa.RecordBatch, text: set[int], schema: pa.Schema) -> pa.RecordBatch:
        """A spooled batch as the sheet shows it: `text` columns as text, overrides included."""
        arrays = []
        for i, kind in enumerate(self.kinds):
            array = batch.column(i)
            if i in text:
                array = pc.if_else(
                    batch.column(self.override_of[i]).is_valid(),
                    batch.column(self.override_of[i]),
                    _as_text(kind, array),
                )
            arrays.append(array)
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

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
                array = pa.array(values, pa.int64() if kind == "int" else _ARROW_TYPES[kind])
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
            array = array.cast(pa.float64())  # exact below 2**53; Excel holds doubles anyway
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
        return pa.array(out, _ARROW_TYPES[kind]), texts

    # Value by value: the Python value for the column's Arrow type, or _Text to write as text.

    @staticmethod
    def _to_text(value: Any) -> Any:
        return clean_text(value if isinstance(value, str) else str(value))

    @staticmethod
    def _to_int(value: Any) -> Any:
        if isinstance(value, bool):
            return float(value)
        exact = isinstance(value, int) or (isinstance(value, Decimal) and value.is_finite())
        if exact and abs(value) >= _MAX_SAFE_INT:
            return _Text(str(value))  # a double would change its last digits
        if isinstance(value, int | float | Decimal):
            return float(value)  # NaN and infinities: empty cells, Excel has neither
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
        return value if value >= _EXCEL_EPOCH else _Text(value.isoformat(" ", "seconds"))

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


def _as_text(kind: str, array: pa.Array) -> pa.Array:
    """A typed spool column as the text a sheet shows when the column must be text there."""
    if kind == "datetime":
        seconds = array.cast(pa.timestamp("s"), safe=False)  # else %S shows microseconds
        return pc.strftime(seconds, format="%Y-%m-%d %H:%M:%S")
    if kind == "bool":
        return pc.if_else(array, "TRUE", "FALSE")
    if kind in ("int", "float"):
        whole = pc.equal(pc.floor(array), array)
        return pc.if_else(
            whole, array.cast(pa.int64(), safe=False).cast(pa.string()), array.cast(pa.string())
        )
    return array.cast(pa.string())
