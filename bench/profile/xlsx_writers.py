"""Streaming .xlsx writers side by side on the report's columns: time, CPU, peak memory, file.

    .venv/bin/python -m bench.profile.xlsx_writers                  # 1,000,000 rows, every writer
    .venv/bin/python -m bench.profile.xlsx_writers --rows 20000 --writers member360,xlsxwriter

Each writer runs in its own subprocess pinned to one CPU (os.sched_setaffinity), writing the same
rows: the report's 26 columns (Date … Store Type) with realistic values — aware UTC datetimes,
dates, ints, short texts, empty cells, and texts that look like formulas (`=SUM(1,1)`, `-10 …`,
`@home`, `+ bonus`). Every writer does the whole job the interface promises: datetimes in the
org's zone, real date cells, a bold frozen header with an autofilter, column widths, text never
a formula, forbidden characters removed, a new sheet after `--sheet-rows` rows, and a cover
sheet "About" with the row count. The subprocess reports wall time, CPU time and peak RSS
(ru_maxrss); then another subprocess checks the file with openpyxl (read-only): sheet names,
every data row counted, a sample of rows compared value by value and type by type with what was
generated, the cover's row count, and no <f> (formula) or hyperlink anywhere in the XML.

Writers:
- member360: backend/member360/exports/xlsx.py as shipped: rows converted to Arrow batches and
  spooled to an Arrow IPC file (lz4), then rustpy-xlsxwriter (rust_xlsxwriter, constant memory)
  writes the cover and the sheets from the spool, the row count being known by then.
- rustpy: rustpy-xlsxwriter fed dict records (its documented generator API). Its sheets and
  their order are fixed before the first row is read, and the first sheet is written first:
  alone it can neither split sheets on a count it has not seen nor put the final count on a
  cover sheet that comes first. Here it is handed the row count in advance, which the
  interface does not have (the report streams rows from SQL): member360's spool is the answer.
- rvgs-arrow: rvgsrust-xlsxwriter (rust_xlsxwriter too, a Worksheet API: add sheets as rows
  come, fill the cover last) fed the same Arrow batches with Worksheet.write_dataframe.
- rvgs-rows: rvgsrust-xlsxwriter fed Python rows (Worksheet.write_rows), no Arrow.
- xlsxwriter: XlsxWriter, constant_memory, strings_to_formulas/urls/numbers off, typed writes.
- openpyxl: openpyxl write-only (with lxml), WriteOnlyCell with data_type "s" for text that
  starts with "=".
- generate: no writer, only the rows (the floor every writer pays).

Results: a table on stdout and bench/results/xlsx-writers-<time>.json. Record the machine's
load (printed) with them: the machine has 2 cores and other work may be running.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import resource
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.common import RESULTS, ROOT
from member360.exports.xlsx import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    MAX_DATA_ROWS_PER_SHEET,
    Column,
    WorkbookInfo,
    clean_text,
    column_width,
    write_workbook,
)

TIME_ZONE = "Asia/Kolkata"
WRITERS = ["generate", "member360", "rustpy", "rvgs-arrow", "rvgs-rows", "xlsxwriter", "openpyxl"]
BATCH = 2000

COLUMNS = [
    Column("Date", "datetime"),
    Column("Name", "text"),
    Column("User ID", "text"),
    Column("Email", "text"),
    Column("Actions ID", "int"),
    Column("Actions", "text"),
    Column("Order ID", "text"),
    Column("Coupon", "text"),
    Column("Points", "int"),
    Column("Group Points", "int"),
    Column("Points Expiration Date", "date"),
    Column("Reason", "text"),
    Column("Source", "text"),
    Column("Opt-In Status", "text"),
    Column("Section ID", "int"),
    Column("Section Name", "text"),
    Column("Survey ID", "int"),
    Column("Survey Name", "text"),
    Column("Sender ID", "text"),
    Column("Receiver ID", "text"),
    Column("Phone Number", "text"),
    Column("User Role", "text"),
    Column("Store ID", "text"),
    Column("Store Name", "text"),
    Column("Store Region", "text"),
    Column("Store Type", "text"),
]

# ---------------------------------------------------------------------------------------------
# The rows: row(i) is a pure function of i, so the checker regenerates any row it samples.

_FIRST = ["Aarav", "Priya", "Rahul", "Ananya", "Vikram", "Sneha", "Arjun", "Kavya", "José", "Zoë"]
_LAST = ["Sharma", "Patel", "Iyer", "Reddy", "Singh", "Nair", "Gupta", "D'Souza", "Mehta", "Khan"]
_ACTIONS = [
    (1, "Purchase"),
    (2, "Redemption"),
    (3, "Referral"),
    (4, "Survey completed"),
    (5, "Birthday bonus"),
    (6, "Points expiry"),
    (7, "Manual adjustment"),
]
_REASONS = [
    None,
    "Goodwill",
    "-10 points: returned item",
    "=SUM(1,1)",
    "+ bonus",
    "@home delivery",
    "Campaign Q1\x07",  # a BEL Excel forbids: removed
    "Double points weekend",
]
_SOURCES = ["POS", "App", "Web", "Call center", "Import"]
_OPT_IN = ["OPTED_IN", "OPTED_OUT", "PENDING"]
_SECTIONS = [(10, "Electronics"), (11, "Apparel"), (12, "Grocery"), (13, "Home & Living")]
_SURVEYS = [(None, None), (None, None), (501, "NPS 2026"), (502, "Store feedback")]
_ROLES = ["member", "staff", "partner"]
_REGIONS = ["North", "South", "East", "West"]
_TYPES = ["Mall", "High street", "Outlet", "Online"]
_START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
_EXPIRY = dt.date(2026, 1, 1)


def row(i: int) -> list[Any]:
    action_id, action = _ACTIONS[i % 7]
    section_id, section = _SECTIONS[(i // 3) % 4]
    survey_id, survey = _SURVEYS[(i // 5) % 4]
    user = (i * 7919) % 200_000
    store = (i * 31) % 300
    return [
        _START + dt.timedelta(seconds=i * 29),
        f"{_FIRST[i % 10]} {_LAST[(i // 10) % 10]}",
        f"U{user:07d}",
        f"user{user}@example.com",
        action_id,
        action,
        f"ORD-{100_000_000 + i}" if action_id == 1 else None,
        f"SAVE{i % 50}" if i % 5 == 0 else None,
        (i % 997) - 100,
        (i % 311) if i % 2 else None,
        _EXPIRY + dt.timedelta(days=i % 730),
        _REASONS[i % len(_REASONS)],
        _SOURCES[i % 5],
        _OPT_IN[i % 3],
        section_id,
        section,
        survey_id,
        survey,
        f"S{(i * 13) % 5000:05d}",
        f"R{(i * 17) % 5000:05d}",
        f"+91 9{(i * 7919) % 1_000_000_000:09d}",
        _ROLES[i % 3],
        f"ST{store:04d}",
        f"Store {store} {_REGIONS[store % 4]}",
        _REGIONS[store % 4],
        _TYPES[store % 4],
    ]


def batches(rows: int) -> Iterator[list[list[Any]]]:
    for start in range(0, rows, BATCH):
        yield [row(i) for i in range(start, min(rows, start + BATCH))]


def info() -> WorkbookInfo:
    return WorkbookInfo(
        title="All Interactions",
        notes=[("Filters", "from 2025-01-01, every action"), ("Time zone", TIME_ZONE)],
        time_zone=TIME_ZONE,
    )


# ---------------------------------------------------------------------------------------------
# Writers. The Python-row writers share one conversion: text cleaned, datetimes to local naive.


def _python_converter(zone: ZoneInfo) -> Callable[[Sequence[Any]], list[Any]]:
    kinds = [c.kind for c in COLUMNS]

    def convert(values: Sequence[Any]) -> list[Any]:
        out: list[Any] = []
        for kind, value in zip(kinds, values, strict=True):
            if value is None:
                out.append(None)
            elif kind == "text":
                out.append(clean_text(value))
            elif kind == "datetime":
                out.append(value.astimezone(zone).replace(tzinfo=None))
            else:
                out.append(value)
        return out

    return convert


def _sheet_names(count: int) -> list[str]:
    return ["Data" if k == 0 else f"Data ({k + 1})" for k in range(count)]


def write_member360(path: Path, rows: int, sheet_rows: int) -> int:
    return write_workbook(
        path, COLUMNS, batches(rows), info(), max_rows_per_sheet=sheet_rows
    ).row_count


def write_generate(path: Path, rows: int, sheet_rows: int) -> int:
    count = 0
    for batch in batches(rows):
        count += len(batch)
    return count


def write_rvgs_arrow(path: Path, rows: int, sheet_rows: int) -> int:
    import pyarrow as pa
    from rvgsrust_xlsxwriter import Workbook

    from member360.exports.xlsx import _ArrowConverter

    converter = _ArrowConverter(COLUMNS, ZoneInfo(TIME_ZONE))
    names = [f"c{i}" for i in range(len(COLUMNS))]
    wb = Workbook()
    wb.set_tempdir(str(path.parent))
    bold = wb.add_format().set_bold()
    date_fmt = wb.add_format().set_num_format(DATE_FORMAT)
    dt_fmt = wb.add_format().set_num_format(DATETIME_FORMAT)
    formats = {
        n: date_fmt if c.kind == "date" else dt_fmt
        for n, c in zip(names, COLUMNS, strict=True)
        if c.kind in ("date", "datetime")
    }
    cover = wb.add_worksheet("About")
    sheets: list[Any] = []

    def new_sheet() -> Any:
        ws = wb.add_worksheet(_sheet_names(len(sheets) + 1)[-1], constant_memory=True)
        ws.write_row(0, 0, [c.title for c in COLUMNS], bold)
        for k, c in enumerate(COLUMNS):
            ws.set_column_width(k, column_width(c))
        ws.freeze_panes(1, 0)
        sheets.append(ws)
        return ws

    ws = new_sheet()
    count = in_sheet = 0
    for batch in batches(rows):
        spooled = converter.convert(batch)  # bench rows hold no value needing a text fallback
        arrow = pa.RecordBatch.from_arrays(spooled.columns[: len(COLUMNS)], names=names)
        pos = 0
        while pos < arrow.num_rows:
            if in_sheet == sheet_rows:
                ws.autofilter(0, 0, in_sheet, len(COLUMNS) - 1)
                ws, in_sheet = new_sheet(), 0
            take = min(arrow.num_rows - pos, sheet_rows - in_sheet)
            ws.write_dataframe(
                in_sheet + 1, 0, arrow.slice(pos, take), write_header=False, column_formats=formats
            )
            in_sheet += take
            count += take
            pos += take
    ws.autofilter(0, 0, max(in_sheet, 1), len(COLUMNS) - 1)
    _cover_rows(lambda r, c, v, b=False: cover.write(r, c, v, bold if b else None), count)
    wb.close(str(path))
    return count


def write_rvgs_rows(path: Path, rows: int, sheet_rows: int) -> int:
    from rvgsrust_xlsxwriter import Workbook

    convert = _python_converter(ZoneInfo(TIME_ZONE))
    wb = Workbook()
    wb.set_tempdir(str(path.parent))
    bold = wb.add_format().set_bold()
    cover = wb.add_worksheet("About")
    sheets: list[Any] = []
    count = in_sheet = 0

    def new_sheet() -> Any:
        ws = wb.add_worksheet(_sheet_names(len(sheets) + 1)[-1], constant_memory=True)
        ws.write_row(0, 0, [c.title for c in COLUMNS], bold)
        for k, c in enumerate(COLUMNS):
            ws.set_column_width(k, column_width(c))
        ws.freeze_panes(1, 0)
        sheets.append(ws)
        return ws

    ws = new_sheet()
    for batch in batches(rows):
        pos = 0
        while pos < len(batch):
            if in_sheet == sheet_rows:
                ws.autofilter(0, 0, in_sheet, len(COLUMNS) - 1)
                ws, in_sheet = new_sheet(), 0
            take = min(len(batch) - pos, sheet_rows - in_sheet)
            ws.write_rows(in_sheet + 1, 0, [convert(r) for r in batch[pos : pos + take]])
            in_sheet += take
            count += take
            pos += take
    ws.autofilter(0, 0, max(in_sheet, 1), len(COLUMNS) - 1)
    _cover_rows(lambda r, c, v, b=False: cover.write(r, c, v, bold if b else None), count)
    wb.close(str(path))
    return count


def write_rustpy(path: Path, rows: int, sheet_rows: int) -> int:
    from rustpy_xlsxwriter import Format, write_worksheets

    convert = _python_converter(ZoneInfo(TIME_ZONE))
    titles = [c.title for c in COLUMNS]
    names = _sheet_names(max(1, math.ceil(rows / sheet_rows)))  # the count, known in advance
    source = (r for batch in batches(rows) for r in batch)

    def sheet_records() -> Iterator[dict[str, Any]]:
        for _, values in zip(range(sheet_rows), source, strict=False):
            yield dict(zip(titles, convert(values), strict=True))

    cover: list[dict[str, Any]] = [{"About": "Title", "": info().title}]
    cover += [{"About": k, "": v} for k, v in info().notes]
    cover.append({"About": "Rows", "": rows})  # known only because the bench knows it
    formats = {
        c.title: Format().set_num_format(DATE_FORMAT if c.kind == "date" else DATETIME_FORMAT)
        for c in COLUMNS
        if c.kind in ("date", "datetime")
    }
    write_worksheets(
        [("About", cover)] + [(name, sheet_records()) for name in names],
        str(path),
        freeze_panes={name: {"row": 1, "col": 0} for name in names},
        datetime_format=DATETIME_FORMAT,
        bold_headers=True,
        autofilter={name: True for name in names},
        column_widths={name: [float(column_width(c)) for c in COLUMNS] for name in names},
        column_formats={name: formats for name in names},
    )
    return rows


def write_xlsxwriter(path: Path, rows: int, sheet_rows: int) -> int:
    import xlsxwriter

    zone = ZoneInfo(TIME_ZONE)
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "tmpdir": str(path.parent),
        },
    )
    bold = wb.add_format({"bold": True})
    date_fmt = wb.add_format({"num_format": DATE_FORMAT})
    dt_fmt = wb.add_format({"num_format": DATETIME_FORMAT})
    cover = wb.add_worksheet("About")
    sheets: list[Any] = []

    def new_sheet() -> Any:
        ws = wb.add_worksheet(_sheet_names(len(sheets) + 1)[-1])
        for k, c in enumerate(COLUMNS):
            ws.set_column(k, k, column_width(c))
            ws.write_string(0, k, c.title, bold)
        ws.freeze_panes(1, 0)
        sheets.append(ws)
        return ws

    def cell_writer(kind: str) -> Callable[[Any, int, int, Any], Any]:
        if kind == "text":
            return lambda ws, r, c, v: ws.write_string(r, c, clean_text(v))
        if kind == "datetime":
            return lambda ws, r, c, v: ws.write_datetime(
                r, c, v.astimezone(zone).replace(tzinfo=None), dt_fmt
            )
        if kind == "date":
            return lambda ws, r, c, v: ws.write_datetime(r, c, v, date_fmt)
        if kind == "bool":
            return lambda ws, r, c, v: ws.write_boolean(r, c, v)
        return lambda ws, r, c, v: ws.write_number(r, c, v)

    writers = list(enumerate(cell_writer(c.kind) for c in COLUMNS))
    ws = new_sheet()
    count = in_sheet = 0
    for batch in batches(rows):
        for values in batch:
            if in_sheet == sheet_rows:
                ws.autofilter(0, 0, in_sheet, len(COLUMNS) - 1)
                ws, in_sheet = new_sheet(), 0
            in_sheet += 1
            for k, write in writers:
                value = values[k]
                if value is not None:
                    write(ws, in_sheet, k, value)
            count += 1
    ws.autofilter(0, 0, max(in_sheet, 1), len(COLUMNS) - 1)
    _cover_rows(lambda r, c, v, b=False: cover.write(r, c, v, bold if b else None), count)
    wb.close()
    return count


def write_openpyxl(path: Path, rows: int, sheet_rows: int) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    convert = _python_converter(ZoneInfo(TIME_ZONE))
    wb = Workbook(write_only=True)
    cover = wb.create_sheet("About")
    sheets: list[Any] = []
    text_columns = [k for k, c in enumerate(COLUMNS) if c.kind == "text"]
    last = get_column_letter(len(COLUMNS))

    def new_sheet() -> Any:
        ws = wb.create_sheet(_sheet_names(len(sheets) + 1)[-1])
        for k, c in enumerate(COLUMNS, 1):
            ws.column_dimensions[get_column_letter(k)].width = column_width(c)
        ws.freeze_panes = "A2"
        header = []
        for c in COLUMNS:
            cell = WriteOnlyCell(ws, value=c.title)
            cell.font = Font(bold=True)
            header.append(cell)
        ws.append(header)
        sheets.append(ws)
        return ws

    def finish(ws: Any, n: int) -> None:
        ws.auto_filter.ref = f"A1:{last}{max(n, 1) + 1}"

    ws = new_sheet()
    count = in_sheet = 0
    for batch in batches(rows):
        for values in batch:
            if in_sheet == sheet_rows:
                finish(ws, in_sheet)
                ws, in_sheet = new_sheet(), 0
            out: list[Any] = convert(values)
            for k in text_columns:
                v = out[k]
                if v is not None and v.startswith("="):  # openpyxl would make it a formula
                    cell = WriteOnlyCell(ws, value=v)
                    cell.data_type = "s"
                    out[k] = cell
            ws.append(out)
            in_sheet += 1
            count += 1
    finish(ws, in_sheet)
    cover_rows: dict[int, list[Any]] = {}

    def put(r: int, c: int, v: Any, b: bool = False) -> None:
        cell = WriteOnlyCell(cover, value=v)
        if b:
            cell.font = Font(bold=True)
        cover_rows.setdefault(r, [None, None])[c] = cell

    _cover_rows(put, count)
    for r in range(max(cover_rows) + 1):
        cover.append(cover_rows.get(r, []))
    wb.save(str(path))
    return count


def _cover_rows(put: Callable[..., Any], count: int) -> None:
    put(0, 0, info().title, True)
    r = 2
    for key, value in info().notes:
        put(r, 0, key, True)
        put(r, 1, value)
        r += 1
    put(r, 0, "Rows", True)
    put(r, 1, count)


RUNNERS: dict[str, Callable[[Path, int, int], int]] = {
    "generate": write_generate,
    "member360": write_member360,
    "rvgs-arrow": write_rvgs_arrow,
    "rvgs-rows": write_rvgs_rows,
    "rustpy": write_rustpy,
    "xlsxwriter": write_xlsxwriter,
    "openpyxl": write_openpyxl,
}

# ---------------------------------------------------------------------------------------------
# The check: what a reader of the file sees, against what was generated.


def expected_cell(kind: str, value: Any, zone: ZoneInfo) -> Any:
    if value is None:
        return None
    if kind == "text":
        return clean_text(value)
    if kind == "datetime":
        return value.astimezone(zone).replace(tzinfo=None)
    if kind == "date":
        return dt.datetime.combine(value, dt.time())  # openpyxl reads a date cell as datetime
    return value


def same(kind: str, got: Any, want: Any) -> bool:
    if want is None:
        return got is None or got == ""
    if kind == "datetime":
        return isinstance(got, dt.datetime) and abs((got - want).total_seconds()) < 0.001
    if kind == "date":
        return isinstance(got, dt.datetime) and got == want
    if kind in ("int", "float"):
        return isinstance(got, int | float) and not isinstance(got, bool) and got == want
    if kind == "bool":
        return isinstance(got, bool) and got == want
    return isinstance(got, str) and got == want


def check(path: Path, rows: int, sheet_rows: int, samples: int, full: bool) -> dict[str, Any]:
    """Opens the file with openpyxl (read-only) and reports every problem found.

    openpyxl compares the first `samples` rows of each data sheet value by value and type by
    type (with `full`, every row is read and every rows/samples-th one compared: ~10 minutes
    of CPU per million rows of 26 columns); every sheet's XML is scanned for its row numbers
    (each row present once, in order: the row count), <f> elements and hyperlinks.
    """
    from openpyxl import load_workbook

    problems: list[str] = []
    zone = ZoneInfo(TIME_ZONE)
    sheets = max(1, math.ceil(rows / sheet_rows))
    wb = load_workbook(path, read_only=True)
    want_names = ["About", *_sheet_names(sheets)]
    if wb.sheetnames != want_names:
        problems.append(f"sheets {wb.sheetnames} != {want_names}")
    titles = tuple(c.title for c in COLUMNS)
    step = max(1, rows // samples) if full else 1
    compared = read = 0
    first = 0  # index of the sheet's first row in the generated data
    for name in wb.sheetnames[1:]:
        ws = wb[name]
        in_sheet = min(sheet_rows, rows - first)
        limit = None if full else min(in_sheet, samples) + 1
        it = ws.iter_rows(max_row=limit, values_only=True)
        header = next(it, None)
        if header is None or tuple(header[: len(titles)]) != titles:
            problems.append(f"{name}: header {header!r}")
        for k, values in enumerate(it):
            i = first + k
            read += 1
            if i % step and i != rows - 1:
                continue
            compared += 1
            for c, got, w in zip(COLUMNS, values, row(i), strict=False):
                if not same(c.kind, got, expected_cell(c.kind, w, zone)) and len(problems) < 20:
                    problems.append(f"{name} row {i}: {c.title}: {got!r} != {w!r}")
        first += in_sheet
    cover = {r[0]: r[1] for r in wb["About"].iter_rows(values_only=True) if len(r) > 1 and r[0]}
    if cover.get("Rows") != rows:
        problems.append(f"cover says Rows={cover.get('Rows')!r}")
    wb.close()

    formulas = hyperlinks = counted = 0
    with zipfile.ZipFile(path) as z:
        data_parts = {_sheet_part(z, name) for name in want_names[1:]}
        for name in z.namelist():
            if "hyperlink" in name.lower():
                hyperlinks += 1
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                f_count, h_count, numbers = _scan_sheet(z, name)
                formulas += f_count
                hyperlinks += h_count
                if name in data_parts:
                    if numbers != (1, numbers[1], True):
                        problems.append(f"{name}: row numbers not 1..n in order: {numbers}")
                    counted += numbers[1] - 1  # less the header
    if counted != rows:
        problems.append(f"{counted} data rows in the sheets' XML, {rows} written")
    if formulas:
        problems.append(f"{formulas} <f> elements")
    if hyperlinks:
        problems.append(f"{hyperlinks} hyperlinks")
    return {"rows_read_by_openpyxl": read, "rows_compared": compared, "problems": problems}


def _sheet_part(z: zipfile.ZipFile, sheet: str) -> str:
    """The zip member holding a sheet, from workbook.xml and its relationships."""

    def attrs(element: str) -> dict[str, str]:
        return dict(re.findall(r'([\w:]+)="([^"]*)"', element))

    workbook = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    ids = {a.get("name"): a.get("r:id") for a in map(attrs, re.findall(r"<sheet [^>]*>", workbook))}
    targets = {
        a.get("Id"): a.get("Target", "")
        for a in map(attrs, re.findall(r"<Relationship [^>]*>", rels))
    }
    target = targets.get(ids.get(sheet), "")
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _scan_sheet(z: zipfile.ZipFile, name: str) -> tuple[int, int, tuple[int, int, bool]]:
    """<f> elements, hyperlinks and (first row number, last row number, all in order)."""
    formulas = hyperlinks = 0
    first = last = 0
    in_order = True
    tail = b""
    with z.open(name) as f:
        while True:
            chunk = f.read(1 << 22)
            data = tail + chunk
            cut = data.rfind(b"<") if chunk else len(data)
            body, tail = data[:cut], data[cut:]
            formulas += body.count(b"<f>") + body.count(b"<f ")
            hyperlinks += body.count(b"<hyperlink")
            for number in map(int, re.findall(rb'<row r="(\d+)"', body)):
                if not first:
                    first = number
                elif number != last + 1:
                    in_order = False
                last = number
            if not chunk:
                return formulas, hyperlinks, (first, last, in_order)


# ---------------------------------------------------------------------------------------------


def run_one(writer: str, path: Path, rows: int, sheet_rows: int, cpu: int | None) -> dict[str, Any]:
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    start = time.perf_counter()
    cpu0 = os.times()
    count = RUNNERS[writer](path, rows, sheet_rows)
    cpu1 = os.times()
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "writer": writer,
        "rows": count,
        "wall_s": round(wall, 1),
        "cpu_s": round((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system), 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "file_mb": round(path.stat().st_size / 1e6, 1) if path.exists() else None,
    }


def subprocess_json(args: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.profile.xlsx_writers", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"{args}: exit {out.returncode}\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("rustpy-xlsxwriter", "pyarrow", "rvgsrust-xlsxwriter", "XlsxWriter", "openpyxl"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "-"
    try:
        found["lxml"] = version("lxml")
    except PackageNotFoundError:
        found["lxml"] = "- (not installed)"
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sheet-rows", type=int, default=MAX_DATA_ROWS_PER_SHEET)
    parser.add_argument("--writers", default=",".join(WRITERS))
    parser.add_argument("--out", type=Path, default=RESULTS / "xlsx")
    parser.add_argument("--cpu", type=int, default=1, help="the CPU each writer is pinned to")
    parser.add_argument("--samples", type=int, default=20_000, help="rows compared per sheet")
    parser.add_argument("--no-check", action="store_true")
    parser.add_argument("--full-check", action="store_true", help="openpyxl reads every row")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one writer, print JSON
    parser.add_argument("--check", type=Path, help=argparse.SUPPRESS)  # internal: check a file
    args = parser.parse_args()

    if args.one:
        path = args.out / f"{args.one}.xlsx"
        print(json.dumps(run_one(args.one, path, args.rows, args.sheet_rows, args.cpu)))
        return
    if args.check:
        verdict = check(args.check, args.rows, args.sheet_rows, args.samples, args.full_check)
        print(json.dumps(verdict))
        return

    args.out.mkdir(parents=True, exist_ok=True)
    common = ["--rows", str(args.rows), "--sheet-rows", str(args.sheet_rows)]
    results = []
    print(f"{args.rows:,} rows x {len(COLUMNS)} columns, sheet limit {args.sheet_rows:,}")
    print(f"versions: {versions()}")
    for writer in args.writers.split(","):
        path = args.out / f"{writer}.xlsx"
        path.unlink(missing_ok=True)
        load_before = os.getloadavg()
        result = subprocess_json(
            ["--one", writer, "--out", str(args.out), "--cpu", str(args.cpu), *common]
        )
        result["load_before"] = [round(x, 2) for x in load_before]
        result["load_after"] = [round(x, 2) for x in os.getloadavg()]
        if writer != "generate" and not args.no_check:
            full = ["--full-check"] if args.full_check else []
            verdict = subprocess_json(
                ["--check", str(path), "--samples", str(args.samples), *full, *common]
            )
            result["check"] = verdict
            result["correct"] = not verdict["problems"]
        results.append(result)
        print(json.dumps(result), flush=True)
        if writer != "generate":
            path.unlink(missing_ok=True)  # ~100 MB each

    print()
    print("| writer | wall s | CPU s | peak RSS MB | file MB | correct | load 1-min before/after |")
    print("|---|---:|---:|---:|---:|---|---|")
    for r in results:
        ok = r.get("correct")
        correct = "-" if ok is None else ("yes" if ok else "NO")
        print(
            f"| {r['writer']} | {r['wall_s']} | {r['cpu_s']} | {r['peak_rss_mb']} | "
            f"{r['file_mb'] or '-'} | {correct} | {r['load_before'][0]} / {r['load_after'][0]} |"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    out = RESULTS / f"xlsx-writers-{stamp}.json"
    meta = {"rows": args.rows, "columns": len(COLUMNS), "sheet_rows": args.sheet_rows}
    out.write_text(json.dumps({**meta, "versions": versions(), "results": results}, indent=1))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
