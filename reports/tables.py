"""A report table: columns, one row per practice (or coach, month, meeting), the total beside them,
small-cell suppression, and what the page, the CSV and the XLSX export show of each cell.

Small-cell suppression (for zorggroep users): a count of 1 to 4 patients is shown as "< 5". Where
cells add up to a total that is shown (the practices to the zorggroep total, the channels to a
row's total), one hidden cell could be computed back as the total minus the others; then the
smallest other non-zero cell of that sum is hidden too, as "×" (complementary suppression: it is
not itself small, and "< 5" would misstate it), repeated until
no sum has exactly one hidden cell. A share or a median is shown only when its count is at least 5
and neither its numerator nor its denominator is hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from django.utils.formats import number_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

COUNT, SHARE, MEDIAN, TEXT, MONEY = "count", "share", "median", "text", "money"
THRESHOLD = 5
HIDDEN = "< 5"
COMPLEMENT = "×"  # hidden only so that a sum does not give a small cell away: not itself small
NOT_APPLICABLE = "–"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = COUNT
    numerator: str = ""  # SHARE: the count column above the line
    denominator: str = ""  # SHARE: the count column below it; MEDIAN: the count it is taken over
    part_of: str = ""  # COUNT: this column is one of the parts that add up to that column
    unit: str = ""  # MEDIAN: e.g. "uur"


@dataclass(frozen=True)
class Cell:
    text: str
    value: object  # the number when it is shown, else None
    hidden: bool = False
    kind: str = COUNT

    @property
    def css(self) -> str:
        return ("" if self.kind == TEXT else "num") + (" suppressed" if self.hidden else "")


@dataclass
class Table:
    key: str
    title: str
    label_header: str
    columns: list[Column]
    rows: list[dict]
    total: dict | None = None
    rows_add_up: bool = True  # the rows' counts add up to the total row
    note: str = ""
    suppressed: bool = False
    _hidden: dict[int, set[str]] = field(default_factory=dict)
    _small: dict[int, set[str]] = field(default_factory=dict)

    # -- suppression ---------------------------------------------------------------------------
    def all_rows(self) -> list[dict]:
        return [*self.rows, *([self.total] if self.total is not None else [])]

    def suppress(self) -> Table:
        """Hide small cells, then their complements, for zorggroep users (see module docstring)."""
        self.suppressed = True
        rows = self.all_rows()
        counts = [c.key for c in self.columns if c.kind == COUNT]
        hidden = {
            i: {k for k in counts if 0 < (row.get(k) or 0) < THRESHOLD}
            for i, row in enumerate(rows)
        }
        small = {i: set(keys) for i, keys in hidden.items()}
        sums: list[list[tuple[int, str]]] = []  # each: the whole first, then its parts
        if self.total is not None and self.rows_add_up:
            total_index = len(rows) - 1
            for key in counts:
                sums.append([(total_index, key), *((i, key) for i in range(len(self.rows)))])
        for whole in counts:
            parts = [c.key for c in self.columns if c.part_of == whole]
            if parts:
                for i in range(len(rows)):
                    sums.append([(i, whole), *((i, p) for p in parts)])
        changed = True
        while changed:
            changed = False
            for cells in sums:
                if sum(1 for i, k in cells if k in hidden[i]) != 1:
                    continue
                candidates = [
                    (rows[i].get(k) or 0, n, i, k)
                    for n, (i, k) in enumerate(cells)
                    if k not in hidden[i] and (rows[i].get(k) or 0) > 0
                ]
                if candidates:
                    # Prefer hiding a part over the whole: the total is the figure people look for.
                    parts = [c for c in candidates if c[1] > 0]
                    _value, _n, i, k = min(parts or candidates)
                    hidden[i].add(k)
                    changed = True
        self._hidden = hidden
        self._small = small
        return self

    def _is_hidden(self, index: int, key: str) -> bool:
        return key in self._hidden.get(index, set())

    # -- cells ---------------------------------------------------------------------------------
    def cells(self, index: int) -> list[Cell]:
        row = self.all_rows()[index]
        return [self._cell(index, row, column) for column in self.columns]

    def _cell(self, index: int, row: dict, column: Column) -> Cell:
        value = row.get(column.key)
        if column.kind == TEXT:
            return Cell(str(value if value is not None else ""), value, kind=TEXT)
        if column.kind == MONEY:
            if value is None:
                return Cell(NOT_APPLICABLE, None, kind=MONEY)
            return Cell(f"€ {number_format(value, 2, force_grouping=True)}", value, kind=MONEY)
        if column.kind == COUNT:
            if self._is_hidden(index, column.key):
                small = column.key in self._small.get(index, set())
                return Cell(HIDDEN if small else COMPLEMENT, None, hidden=True)
            return Cell(str(value or 0), value or 0)
        base = column.denominator
        base_value = row.get(base) or 0
        blocked = self.suppressed and (
            self._is_hidden(index, base)
            or base_value < THRESHOLD
            or (column.numerator and self._is_hidden(index, column.numerator))
        )
        if column.kind == SHARE:
            if not base_value:
                return Cell(NOT_APPLICABLE, None, kind=SHARE)
            if blocked:
                return Cell(HIDDEN, None, hidden=True, kind=SHARE)
            share = 100 * (row.get(column.numerator) or 0) / base_value
            return Cell(f"{number_format(share, 0)}%", round(share, 1), kind=SHARE)
        if value is None:
            return Cell(NOT_APPLICABLE, None, kind=MEDIAN)
        if blocked:
            return Cell(HIDDEN, None, hidden=True, kind=MEDIAN)
        unit = f" {column.unit}" if column.unit else ""
        return Cell(f"{number_format(value, 1)}{unit}", round(value, 1), kind=MEDIAN)

    def body(self) -> list[tuple[dict, list[Cell]]]:
        return [(row, self.cells(i)) for i, row in enumerate(self.rows)]

    @staticmethod
    def _row_html(label, cells: list[Cell]) -> str:
        # Every text escaped (names of practices and coaches are typed by people); the classes are
        # our own constants.
        tds = "".join(f'<td class="{c.css}">{escape(c.text)}</td>' for c in cells)
        return f'<th scope="row">{escape(str(label))}</th>{tds}'

    def body_html(self):
        """The rows as HTML: a report of 120 practices renders many times faster than through
        template tags per cell."""
        return mark_safe(  # noqa: S308 - built from escaped text only (_row_html)
            "\n".join(
                f"<tr>{self._row_html(row.get('label', ''), cells)}</tr>"
                for row, cells in self.body()
            )
        )

    def total_html(self):
        cells = self.total_cells()
        if cells is None:
            return ""
        return mark_safe(  # noqa: S308 - built from escaped text only (_row_html)
            f'<tr class="total">{self._row_html(self.total.get("label", ""), cells)}</tr>'
        )

    def total_cells(self) -> list[Cell] | None:
        if self.total is None:
            return None
        return self.cells(len(self.rows))

    def value(self, index: int, key: str):
        """The shown number of a cell: what a chart may draw (None when hidden, "–" for none)."""
        column = next(c for c in self.columns if c.key == key)
        cell = self._cell(index, self.all_rows()[index], column)
        if cell.value is None and not cell.hidden:
            return NOT_APPLICABLE  # nothing to count (no denominator): not a hidden figure
        return cell.value

    # -- export --------------------------------------------------------------------------------
    def export_rows(self) -> list[list[Cell | str]]:
        out = [[self.label_header, *[str(c.label) for c in self.columns]]]
        for i, row in enumerate(self.all_rows()):
            out.append([str(row.get("label", "")), *self.cells(i)])
        return out


TOTAL_LABEL = _("Zorggroep total")
