"""The streaming workbook writer (exports/xlsx.py), checked by opening its files with openpyxl."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import threading
import tracemalloc
import zipfile
from collections.abc import AsyncIterator, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from openpyxl.utils.escape import unescape

from member360.exports.xlsx import (
    MAX_DATA_ROWS_PER_SHEET,
    MAX_TEXT_LENGTH,
    Column,
    WorkbookInfo,
    WriteResult,
    _write,
    column_width,
    write_workbook,
    write_workbook_async,
)

UTC = dt.UTC
KOLKATA = "Asia/Kolkata"
GENERATED = dt.datetime(2026, 3, 1, 6, 30, tzinfo=UTC)

ALL_KINDS = [
    Column("Date", "datetime"),
    Column("Name", "text"),
    Column("Points", "int"),
    Column("Rate", "float"),
    Column("Points Expiration Date", "date"),
    Column("Opted In", "bool"),
]

# Text a spreadsheet could take for a formula, a link or a command (issue 4).
DANGEROUS = ['=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(1)", "\tfoo", "\rbar", "=1+1"]
DANGEROUS += ["http://example.com", "_x0041_", " padded ", "two\nlines"]


def info(**kw: Any) -> WorkbookInfo:
    defaults: dict[str, Any] = {
        "title": "All Interactions",
        "notes": [("Filters", "from 2026-01-01 to 2026-01-31"), ("Time zone", KOLKATA)],
        "time_zone": KOLKATA,
        "generated_at": GENERATED,
    }
    return WorkbookInfo(**{**defaults, **kw})


def write(
    path: Path,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    *,
    batch: int = 1000,
    **kw: Any,
) -> WriteResult:
    batches = [rows[i : i + batch] for i in range(0, len(rows), batch)]
    return write_workbook(path, columns, batches, kw.pop("info", info()), **kw)


def data_rows(ws: Any) -> list[tuple[Any, ...]]:
    return [tuple(c.value for c in row) for row in ws.iter_rows(min_row=2)]


def cover(path: Path) -> dict[str, Any]:
    wb = openpyxl.load_workbook(path)
    ws = wb["About"]
    assert [c.value for c in ws[1]] == ["Item", "Value"] and all(c.font.b for c in ws[1])
    assert all(c.data_type == "s" for c in ws["A"])
    return {r[0].value: r[1].value for r in ws.iter_rows(min_row=2)}


def sheet_xml(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")}


def column_widths(xml: str) -> list[float]:
    """Each column's width from <cols> (openpyxl keeps a <col> range only under its first letter)."""
    widths: dict[int, float] = {}
    for low, high, width in re.findall(r'<col min="(\d+)" max="(\d+)" width="([\d.]+)"', xml):
        for k in range(int(low), int(high) + 1):
            widths[k] = float(width)
    return [widths.get(k, 0.0) for k in range(1, max(widths, default=0) + 1)]


# ---------------------------------------------------------------------------------------------
# Layout: the cover, the header, the filter, the widths.


def test_cover_sheet_first_then_data_with_bold_frozen_header_filter_and_widths(
    tmp_path: Path,
) -> None:
    path = tmp_path / "out.xlsx"
    rows = [
        [
            dt.datetime(2026, 1, 1, 10, tzinfo=UTC),
            f"member {i}",
            i,
            i / 2,
            dt.date(2026, 2, 1),
            True,
        ]
        for i in range(3)
    ]
    columns = [*ALL_KINDS[:-1], Column("Opted In", "bool", width=15)]
    result = write(path, columns, rows)

    assert result == WriteResult(row_count=3, sheet_count=1, path=path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["About", "Data"]
    ws = wb["Data"]
    header = next(ws.iter_rows(max_row=1))
    assert [c.value for c in header] == [c.title for c in columns]
    assert all(c.font.b for c in header)
    assert all(not c.font.b for c in ws[2])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:F4"
    widths = column_widths(sheet_xml(path)["xl/worksheets/sheet2.xml"])[:6]
    # Excel stores a width with its cell padding (+0.71 characters).
    assert widths == pytest.approx([column_width(c) + 0.71 for c in columns], abs=0.01)
    assert widths[-1] == pytest.approx(15.71, abs=0.01)
    assert (
        column_width(Column("Points Expiration Date", "date")) == len("Points Expiration Date") + 4
    )
    assert column_width(Column("Email", "text")) > column_width(Column("Name", "text"))

    about = cover(path)
    assert list(about)[0] == "Title" and about["Title"] == "All Interactions"
    assert about["Filters"] == "from 2026-01-01 to 2026-01-31"
    assert about["Time zone"] == KOLKATA
    assert about["Generated at"] == "2026-03-01 12:00:00 Asia/Kolkata (UTC+0530)"
    assert about["Rows"] == 3
    assert about["Data sheets"] == "Data"


def test_cover_adds_the_time_zone_and_time_when_the_notes_lack_them(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    write(path, ALL_KINDS, [], info=info(notes=[("Customer", "C-1")], generated_at=None))
    about = cover(path)
    assert about["Customer"] == "C-1"
    assert about["Time zone"] == KOLKATA
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d Asia/Kolkata \(UTC\+0530\)", about["Generated at"]
    )
    assert about["Rows"] == 0


def test_no_rows_still_gives_a_data_sheet_with_its_header(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    result = write(path, ALL_KINDS, [])
    assert (result.row_count, result.sheet_count) == (0, 1)
    ws = openpyxl.load_workbook(path)["Data"]
    assert [c.value for c in ws[1]] == [c.title for c in ALL_KINDS]
    assert ws.max_row == 1
    assert ws.freeze_panes == "A2"


# ---------------------------------------------------------------------------------------------
# Values and types.


def test_real_dates_numbers_and_booleans_and_datetimes_in_the_workbook_zone(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    zone = ZoneInfo(KOLKATA)
    rows: list[list[Any]] = [
        [
            dt.datetime(2026, 1, 1, 20, 45, 10, tzinfo=UTC),
            "Asha",
            120,
            2.5,
            dt.date(2026, 12, 31),
            True,
        ],
        # An aware datetime in another zone, and a naive one (taken as UTC).
        [
            dt.datetime(2026, 1, 1, 9, tzinfo=ZoneInfo("America/New_York")),
            "Ravi",
            -40,
            0.1,
            dt.date(2026, 1, 1),
            False,
        ],
        [dt.datetime(2026, 6, 30, 23, 59, 59), "Mina", 0, -3.75, dt.date(1900, 3, 1), None],
    ]
    write(path, ALL_KINDS, rows)

    ws = openpyxl.load_workbook(path)["Data"]
    got = list(ws.iter_rows(min_row=2))
    assert len(got) == 3
    for cells, source in zip(got, rows, strict=True):
        when, name, points, rate, expires, opted = cells
        local = (
            source[0].astimezone(zone)
            if source[0].tzinfo
            else source[0].replace(tzinfo=UTC).astimezone(zone)
        )
        assert when.data_type == "d" and when.is_date
        assert when.value == local.replace(tzinfo=None)
        assert when.number_format == "yyyy-mm-dd hh:mm:ss"
        assert name.data_type == "s" and name.value == source[1]
        assert points.data_type == "n" and points.value == source[2]
        assert rate.data_type == "n" and rate.value == pytest.approx(source[3])
        assert (
            expires.data_type == "d" and expires.is_date and expires.number_format == "yyyy-mm-dd"
        )
        assert expires.value == dt.datetime.combine(source[4], dt.time())
        if source[5] is None:
            assert opted.value is None
        else:
            assert opted.data_type == "b" and opted.value is source[5]
    assert got[0][0].value == dt.datetime(2026, 1, 2, 2, 15, 10)  # 20:45 UTC is 02:15 next day IST
    assert got[1][0].value == dt.datetime(2026, 1, 1, 19, 30)  # 09:00 EST is 14:00 UTC


@pytest.mark.parametrize(
    "zone", ["America/New_York", "Europe/London", "Australia/Lord_Howe", "UTC"]
)
def test_datetimes_around_daylight_saving_changes_match_zoneinfo(tmp_path: Path, zone: str) -> None:
    path = tmp_path / "out.xlsx"
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    instants = [start + dt.timedelta(minutes=37 * k) for k in range(0, 365 * 24 * 60 // 37, 41)]
    write(path, [Column("When", "datetime")], [[t] for t in instants], info=info(time_zone=zone))
    got = [r[0] for r in data_rows(openpyxl.load_workbook(path)["Data"])]
    want = [t.astimezone(ZoneInfo(zone)).replace(tzinfo=None) for t in instants]
    assert len(got) == len(want) > 300
    assert all(abs((g - w).total_seconds()) < 0.001 for g, w in zip(got, want, strict=True))


def test_none_values_become_empty_cells_in_every_kind(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    write(path, ALL_KINDS, [[None] * 6, [None, "x", None, None, None, None]])
    ws = openpyxl.load_workbook(path)["Data"]
    assert data_rows(ws) == [(None,) * 6, (None, "x", None, None, None, None)]
    xml = sheet_xml(path)["xl/worksheets/sheet2.xml"]
    assert '<c r="A2"' not in xml and '<c r="A3"' not in xml  # no empty string, no blank cell


def test_a_column_with_a_value_its_type_cannot_hold_is_text_in_that_sheet(tmp_path: Path) -> None:
    """Nothing is lost: the column becomes text in the sheet holding such a value."""
    path = tmp_path / "out.xlsx"
    rows: list[list[Any]] = [
        [dt.datetime(2026, 1, 1, tzinfo=UTC), 42, 2**60, Decimal("1.5"), dt.date(1850, 5, 1), 1],
        [
            dt.datetime(1899, 12, 31, 12, tzinfo=UTC),
            "ok",
            Decimal("12"),
            float("nan"),
            dt.date(2026, 1, 2),
            "maybe",
        ],
        # A datetime in a date column is the local date of that moment.
        [None, None, -(2**53), 7, dt.datetime(2026, 1, 1, 20, tzinfo=UTC), 0],
    ]
    write(path, ALL_KINDS, rows)
    got = data_rows(openpyxl.load_workbook(path)["Data"])
    assert got == [
        # Kolkata's offset in 1899 was local mean time, +05:21:10 (tz database).
        ("2026-01-01 05:30:00", "42", "1152921504606846976", 1.5, "1850-05-01", "TRUE"),
        ("1899-12-31 17:21:10", "ok", "12", None, "2026-01-02", "maybe"),  # NaN: empty
        (None, None, "-9007199254740992", 7, "2026-01-02", "FALSE"),
    ]


def test_the_text_fallback_stays_in_its_sheet(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(10)]
    rows: list[list[Any]] = [[d, i] for i, d in enumerate(days)]
    rows[2][0] = dt.date(1, 1, 1)
    write(path, [Column("Day", "date"), Column("N", "int")], rows, batch=3, max_rows_per_sheet=5)
    wb = openpyxl.load_workbook(path)
    first, second = data_rows(wb["Data"]), data_rows(wb["Data (2)"])
    assert [r[0] for r in first] == [
        "2026-01-01",
        "2026-01-02",
        "0001-01-01",
        "2026-01-04",
        "2026-01-05",
    ]
    assert [r[0] for r in second] == [dt.datetime.combine(d, dt.time()) for d in days[5:]]
    assert [r[1] for r in first + second] == list(range(10))
    assert wb["Data (2)"]["A2"].number_format == "yyyy-mm-dd"


@pytest.mark.parametrize("vectorised", [True, False])
def test_long_text_is_cut_at_excels_limit(tmp_path: Path, vectorised: bool) -> None:
    path = tmp_path / "out.xlsx"
    rows: list[list[Any]] = [["é" * 40_000], ["short"], ["\x01" + "x" * MAX_TEXT_LENGTH]]
    if not vectorised:
        rows.append([7])  # a non-str in the column: its values go one by one
    write(path, [Column("Note", "text")], rows)
    got = [r[0] for r in data_rows(openpyxl.load_workbook(path)["Data"])]
    assert got[:3] == ["é" * MAX_TEXT_LENGTH, "short", "x" * MAX_TEXT_LENGTH]


# ---------------------------------------------------------------------------------------------
# Formula safety and forbidden characters.


@pytest.mark.parametrize("path_kind", ["vectorised", "value by value", "text fallback"])
def test_text_that_looks_like_a_formula_or_link_is_stored_as_a_string(
    tmp_path: Path, path_kind: str
) -> None:
    """Each of the writer's ways to text; and the cover and the header too.

    openpyxl does not decode Excel's _xHHHH_ escapes, so the CR that Excel (and this writer)
    stores as _x000D_ is decoded here with openpyxl's own `unescape`; a text that merely looks
    like an escape ("_x0041_") is itself escaped, so decoding gives it back unchanged.
    """
    path = tmp_path / "out.xlsx"
    columns = [Column("=cmd|' /C calc'!A0", "text"), Column("Day", "date")]
    other: Any = dt.date(2026, 1, 1)
    rows: list[list[Any]] = [[text, other] for text in DANGEROUS]
    if path_kind == "value by value":
        rows.append([123, other])  # a non-str in the column: its values go one by one
    elif path_kind == "text fallback":
        rows[0][1] = dt.date(1800, 1, 1)  # the Day column becomes text in this sheet
    notes = [(text, text) for text in DANGEROUS]
    write(path, columns, rows, info=info(title='=HYPERLINK("http://x","y")', notes=notes))

    wb = openpyxl.load_workbook(path)
    ws = wb["Data"]
    assert ws["A1"].data_type == "s" and ws["A1"].value == columns[0].title
    cells = [row[0] for row in ws.iter_rows(min_row=2, max_row=len(DANGEROUS) + 1)]
    assert [c.data_type for c in cells] == ["s"] * len(DANGEROUS)
    assert [unescape(c.value) for c in cells] == DANGEROUS
    assert cells[DANGEROUS.index("\rbar")].value == "_x000D_bar"
    assert cells[DANGEROUS.index("=1+1")].value == "=1+1"
    assert not ws._hyperlinks

    about = wb["About"]
    assert about["B2"].data_type == "s" and about["B2"].value == '=HYPERLINK("http://x","y")'
    note_cells = [row for row in about.iter_rows(min_row=3, max_row=len(DANGEROUS) + 2)]
    assert all(k.data_type == v.data_type == "s" for k, v in note_cells)
    assert [unescape(k.value) for k, _ in note_cells] == DANGEROUS
    assert [unescape(v.value) for _, v in note_cells] == DANGEROUS

    for name, xml in sheet_xml(path).items():
        assert "<f>" not in xml and "<f " not in xml, name
        assert "<hyperlink" not in xml, name
    with zipfile.ZipFile(path) as z:
        assert not [
            n
            for n in z.namelist()
            if "hyperlink" in n.lower() or (n.endswith(".rels") and "worksheets" in n)
        ]


@pytest.mark.parametrize("vectorised", [True, False])
def test_characters_excel_forbids_are_removed_not_fatal(tmp_path: Path, vectorised: bool) -> None:
    path = tmp_path / "out.xlsx"
    forbidden = "".join(chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
    texts = ["a" + forbidden + "b", "tab\tand\nnewline kept", "\ufffeodd\uffff", "bell\x07"]
    if not vectorised:
        texts.append("lone \udc80surrogate")  # not UTF-8: Arrow refuses it, so value by value
    notes = [("Filters", "x\x00y\x1f")]
    write(
        path,
        [Column("Name\x01", "text")],
        [[t] for t in texts],
        info=info(title="T\x0bitle", notes=notes),
    )
    wb = openpyxl.load_workbook(path)
    got = [r[0] for r in data_rows(wb["Data"])]
    want = ["ab", "tab\tand\nnewline kept", "odd", "bell"]
    assert got == (want if vectorised else [*want, "lone surrogate"])
    assert wb["Data"]["A1"].value == "Name"
    about = cover(path)
    assert about["Title"] == "Title" and about["Filters"] == "xy"


# ---------------------------------------------------------------------------------------------
# A new sheet after max_rows_per_sheet rows.


@pytest.mark.parametrize(
    ("rows", "batch", "sheets"), [(12, 7, 3), (12, 1, 3), (10, 5, 2), (5, 100, 1)]
)
def test_a_new_data_sheet_after_the_row_limit_each_complete_with_its_header(
    tmp_path: Path, rows: int, batch: int, sheets: int
) -> None:
    path = tmp_path / "out.xlsx"
    source = [
        [i, f"row {i}", dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(hours=i)]
        for i in range(rows)
    ]
    columns = [Column("N", "int"), Column("Label", "text"), Column("At", "datetime")]
    result = write(path, columns, source, batch=batch, max_rows_per_sheet=5)

    assert (result.row_count, result.sheet_count) == (rows, sheets)
    wb = openpyxl.load_workbook(path)
    names = ["Data", "Data (2)", "Data (3)"][:sheets]
    assert wb.sheetnames == ["About", *names]
    seen: list[Any] = []
    for name in names:
        ws = wb[name]
        assert [c.value for c in ws[1]] == ["N", "Label", "At"] and all(c.font.b for c in ws[1])
        assert ws.freeze_panes == "A2"
        body = data_rows(ws)
        assert 1 <= len(body) <= 5
        assert ws.auto_filter.ref == f"A1:C{len(body) + 1}"
        seen.extend(body)
    assert [r[0] for r in seen] == list(range(rows))
    assert [r[1] for r in seen] == [f"row {i}" for i in range(rows)]
    assert seen[-1][2] == dt.datetime(2026, 1, 1, 5, 30) + dt.timedelta(hours=rows - 1)
    about = cover(path)
    assert about["Rows"] == rows
    assert about["Data sheets"] == ", ".join(names)


def test_the_default_limit_is_excels_rows_less_the_header() -> None:
    assert MAX_DATA_ROWS_PER_SHEET == 1_048_575


def test_nothing_is_left_behind_but_the_workbook(tmp_path: Path) -> None:
    """The spool beside the output goes, and a workbook cut short is removed."""
    path = tmp_path / "out.xlsx"
    write(path, [Column("N", "int")], [[i] for i in range(10)], batch=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.xlsx"]
    path.unlink()

    def broken() -> Iterator[list[list[Any]]]:
        yield [[1]]
        yield [[1, 2]]  # the wrong width: refused in the middle of the rows

    with pytest.raises(ValueError, match="rows of"):
        write_workbook(path, [Column("N", "int")], broken(), info())
    assert list(tmp_path.iterdir()) == []

    stop = threading.Event()

    def stopped_after_the_rows() -> Iterator[list[list[Any]]]:
        yield [[i] for i in range(100)]
        stop.set()  # as if cancelled while the workbook is being written from the spool

    with pytest.raises(RuntimeError, match="_Stopped"):
        _write(path, [Column("N", "int")], stopped_after_the_rows(), info(), 40, stop)
    assert list(tmp_path.iterdir()) == []


def test_invalid_input_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    with pytest.raises(ValueError, match="max_rows_per_sheet"):
        write(path, ALL_KINDS, [], max_rows_per_sheet=0)
    with pytest.raises(ValueError, match="max_rows_per_sheet"):
        write(path, ALL_KINDS, [], max_rows_per_sheet=MAX_DATA_ROWS_PER_SHEET + 1)
    with pytest.raises(ValueError, match="at least one column"):
        write(path, [], [])
    with pytest.raises(ValueError, match="unknown kind"):
        write(path, [Column("X", "money")], [])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rows of"):
        write(path, ALL_KINDS, [[1, 2]])
    with pytest.raises(Exception, match="Nowhere/Atlantis"):
        write(path, ALL_KINDS, [], info=info(time_zone="Nowhere/Atlantis"))
    assert not path.exists()


# ---------------------------------------------------------------------------------------------
# Constant memory.


def _statm_rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_300000_rows_stream_in_constant_memory(tmp_path: Path) -> None:
    """Python allocations (tracemalloc) and the whole process's resident memory (which also
    counts Arrow's and the Rust writer's buffers) stay flat while 300,000 rows stream through."""
    path = tmp_path / "big.xlsx"
    rows = 300_000
    columns = [
        Column("Date", "datetime"),
        Column("Name", "text"),
        Column("Email", "text"),
        Column("Points", "int"),
        Column("Expires", "date"),
        Column("Reason", "text"),
        Column("Rate", "float"),
        Column("Opted In", "bool"),
    ]
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    rss: list[int] = []

    warm: list[int] = []

    def batches() -> Iterator[list[list[Any]]]:
        for first in range(0, rows, 2000):
            rss.append(_statm_rss())
            if first == 30_000:
                warm.append(max(rss))
            yield [
                [
                    start + dt.timedelta(seconds=i * 7),
                    f"Member {i}",
                    f"member{i}@example.com",
                    i % 1000 - 100,
                    dt.date(2026, 1, 1) + dt.timedelta(days=i % 400),
                    "=SUM(1,1)" if i % 10 == 0 else f"reason {i % 17}",
                    i / 8,
                    i % 2 == 0,
                ]
                for i in range(first, first + 2000)
            ]

    sampling = threading.Event()

    def sample() -> None:  # also while the workbook is assembled after the last batch
        while not sampling.wait(0.05):
            rss.append(_statm_rss())

    sampler = threading.Thread(target=sample)
    tracemalloc.start()
    sampler.start()
    try:
        result = write_workbook(path, columns, batches(), info())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        sampling.set()
        sampler.join()
        tracemalloc.stop()

    assert result.row_count == rows
    # 300,000 rows x 8 values as Python objects would take well over 100 MB.
    assert peak < 25 * 2**20, f"Python peak {peak / 2**20:.1f} MB"
    assert warm, "no sample after 30,000 rows"
    growth = max(rss) - warm[0]
    assert growth < 40 * 2**20, f"RSS grew {growth / 2**20:.1f} MB after the first 30,000 rows"

    # openpyxl reads 300,000 rows far slower than they are written: it checks the sheets, the
    # count on the cover, the dimension and the first rows; the XML gives every row's number.
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.sheetnames == ["About", "Data"]
    about = {r[0]: r[1] for r in wb["About"].iter_rows(values_only=True) if len(r) > 1 and r[0]}
    assert about["Rows"] == rows
    ws = wb["Data"]
    assert ws.max_row == rows + 1 and ws.max_column == len(columns)
    first = list(ws.iter_rows(min_row=2, max_row=3, values_only=True))
    assert first[0] == (
        dt.datetime(2025, 1, 1, 5, 30),
        "Member 0",
        "member0@example.com",
        -100,
        dt.datetime(2026, 1, 1),
        "=SUM(1,1)",
        0,
        True,
    )
    assert first[1][1] == "Member 1"
    wb.close()
    numbers = []
    with zipfile.ZipFile(path) as z, z.open("xl/worksheets/sheet2.xml") as f:
        tail = b""
        while chunk := f.read(1 << 20):
            data = tail + chunk
            cut = data.rfind(b"<row ")
            numbers += [int(n) for n in re.findall(rb'<row r="(\d+)"', data[:cut])]
            tail = data[cut:]
        numbers += [int(n) for n in re.findall(rb'<row r="(\d+)"', tail)]
        assert b"<f>" not in tail
    assert numbers == list(range(1, rows + 2))


# ---------------------------------------------------------------------------------------------
# The async entry point.


async def test_async_source_is_written_off_the_event_loop(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    closed = False
    ticks = 0

    async def source() -> AsyncIterator[list[list[Any]]]:
        nonlocal closed
        try:
            for first in range(0, 20_000, 1000):
                await asyncio.sleep(0)  # as a database driver would
                yield [[i, f"n{i}", dt.date(2026, 1, 1)] for i in range(first, first + 1000)]
        finally:
            closed = True

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    columns = [Column("N", "int"), Column("Name", "text"), Column("Day", "date")]
    tick_task = asyncio.create_task(ticker())
    try:
        result = await write_workbook_async(
            path, columns, source(), info(), max_rows_per_sheet=15_000
        )
    finally:
        tick_task.cancel()
    assert (result.row_count, result.sheet_count) == (20_000, 2)
    assert closed
    assert ticks > 5  # the loop ran other tasks while the workbook was written
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.sheetnames == ["About", "Data", "Data (2)"]
    got = [
        r[0]
        for name in ("Data", "Data (2)")
        for r in wb[name].iter_rows(min_row=2, values_only=True)
    ]
    assert got == list(range(20_000))
    wb.close()


async def test_async_accepts_a_plain_iterable(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    result = await write_workbook_async(path, [Column("N", "int")], [[[1], [2]], [[3]]], info())
    assert result.row_count == 3
    assert [r[0] for r in data_rows(openpyxl.load_workbook(path)["Data"])] == [1, 2, 3]


async def test_a_failing_source_fails_the_write_and_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"

    async def source() -> AsyncIterator[list[list[Any]]]:
        yield [[1]]
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError, match="database went away"):
        await write_workbook_async(path, [Column("N", "int")], source(), info())
    assert not path.exists()


async def test_cancelling_stops_the_writer_and_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    pulled = 0
    closed = asyncio.Event()
    started = asyncio.Event()

    async def source() -> AsyncIterator[list[list[Any]]]:
        nonlocal pulled
        try:
            while True:
                pulled += 1
                started.set()
                await asyncio.sleep(0.001)
                yield [[pulled]] * 100
        finally:
            closed.set()

    task = asyncio.create_task(write_workbook_async(path, [Column("N", "int")], source(), info()))
    await started.wait()
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert closed.is_set()
    at_cancel = pulled
    await asyncio.sleep(0.05)
    assert pulled == at_cancel
    assert not path.exists()
    assert await asyncio.to_thread(lambda: list(tmp_path.iterdir())) == []


async def test_cancelling_while_a_batch_is_awaited_does_not_hang(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    waiting = asyncio.Event()

    async def source() -> AsyncIterator[list[list[Any]]]:
        yield [[1]]
        waiting.set()
        await asyncio.Event().wait()  # a query that never answers
        yield [[2]]

    task = asyncio.create_task(write_workbook_async(path, [Column("N", "int")], source(), info()))
    await asyncio.wait_for(waiting.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)
    assert not path.exists()


def test_the_sync_writer_refuses_an_async_iterable(tmp_path: Path) -> None:
    async def source() -> AsyncIterator[list[list[Any]]]:
        yield [[1]]

    with pytest.raises(TypeError, match="write_workbook_async"):
        write_workbook(tmp_path / "x.xlsx", [Column("N", "int")], source(), info())  # type: ignore[arg-type]


def test_the_first_day_excel_dates_right_is_1900_03_01(tmp_path: Path) -> None:
    """Excel counts a 29 February 1900: days before March 1900 would show one day off."""
    path = tmp_path / "out.xlsx"
    days = [dt.date(1900, 2, 28), dt.date(1900, 3, 1), dt.date(1900, 3, 2)]
    write(path, [Column("Day", "date")], [[d] for d in days], max_rows_per_sheet=1)
    wb = openpyxl.load_workbook(path)
    got = [data_rows(wb[name])[0][0] for name in ("Data", "Data (2)", "Data (3)")]
    assert got == ["1900-02-28", dt.datetime(1900, 3, 1), dt.datetime(1900, 3, 2)]
    assert "<v>61" in sheet_xml(path)["xl/worksheets/sheet3.xml"]  # Excel's serial for 1900-03-01
