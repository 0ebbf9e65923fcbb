"""A report table as CSV (semicolons, UTF-8 with BOM, as Dutch spreadsheet programs expect) or
XLSX (openpyxl), exactly as the page shows it: suppressed cells stay "< 5"."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from .tables import MEDIAN, MONEY, SHARE, Cell, Table

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text(value) -> str:
    """Text a spreadsheet would otherwise run as a formula is kept as text."""
    text = str(value)
    return f"'{text}" if text[:1] in FORMULA_START else text


def table_csv(table: Table, *, heading: list[str]) -> bytes:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    for line in heading:
        writer.writerow([_text(line)])
    for row in table.export_rows():
        writer.writerow([_text(c.text if isinstance(c, Cell) else c) for c in row])
    return out.getvalue().encode("utf-8")


def table_xlsx(table: Table, *, heading: list[str]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = table.key[:31]
    for i, line in enumerate(heading, start=1):
        _put(sheet.cell(row=i, column=1), line)
    start = len(heading) + 2
    for r, row in enumerate(table.export_rows()):
        for c, value in enumerate(row):
            cell = sheet.cell(row=start + r, column=c + 1)
            if isinstance(value, Cell) and value.value is not None and not value.hidden:
                if value.kind == SHARE:
                    cell.value = float(value.value) / 100
                    cell.number_format = "0%"
                elif value.kind in (MEDIAN, MONEY):
                    cell.value = float(value.value)
                    cell.number_format = "#,##0.00" if value.kind == MONEY else "0.0"
                elif isinstance(value.value, int | float):
                    cell.value = value.value
                else:
                    _put(cell, value.text)
            else:
                _put(cell, value.text if isinstance(value, Cell) else value)
            if r == 0:
                cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 40
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _put(cell, text) -> None:
    """Always a string cell: openpyxl would read a leading '=' as a formula."""
    cell.value = str(text)
    cell.data_type = "s"
