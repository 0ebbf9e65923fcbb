"""Reading a list of smokers exported from the GP information system (HIS): pure, no database.

Every row becomes either a ``Person`` or a ``Rejection`` with its line number and reason: nothing is
dropped silently. HIS exports differ: ``;`` (Dutch Excel) or ``,``, UTF-8 (with or without BOM) or
Windows-1252, dates as dd-mm-jjjj or jjjj-mm-dd, the address in one column or as street + number.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from carechain.validators import normalise_bsn, validate_bsn

MAX_ROWS = 20000
POSTCODE = re.compile(r"^([1-9][0-9]{3})\s?([A-Za-z]{2})$")
# Letter pairs the post never uses in a postcode (PostNL).
POSTCODE_EXCLUDED = {"SA", "SD", "SS"}

# column -> the header names accepted for it (compared lower-case, without spaces/underscores)
COLUMNS = {
    "bsn": ("bsn", "burgerservicenummer"),
    "initials": ("voorletters", "initialen"),
    "first_name": ("voornaam", "roepnaam"),
    "name_prefix": ("tussenvoegsel", "voorvoegsel"),
    "last_name": ("achternaam", "geslachtsnaam", "naam"),
    "birth_date": ("geboortedatum", "gebdatum", "geboren"),
    "address": ("adres",),
    "street": ("straat", "straatnaam"),
    "house_number": ("huisnummer", "huisnr"),
    "postal_code": ("postcode",),
    "city": ("woonplaats", "plaats"),
}
REQUIRED = ("bsn", "last_name", "birth_date", "postal_code", "city")
# What the upload page documents, in this order.
DOCUMENTED = [
    ("bsn", True, "123456782"),
    ("voorletters", False, "J."),
    ("voornaam", False, "Jan"),
    ("tussenvoegsel", False, "de"),
    ("achternaam", True, "Vries"),
    ("geboortedatum", True, "31-12-1965"),
    ("adres", True, "Dorpsstraat 12"),
    ("postcode", True, "4701 AB"),
    ("woonplaats", True, "Roosendaal"),
]


@dataclass
class Person:
    line: int
    bsn: str
    last_name: str
    birth_date: datetime.date
    postal_code: str
    city: str
    address: str
    initials: str = ""
    first_name: str = ""
    name_prefix: str = ""


@dataclass
class Rejection:
    line: int
    reason: str


@dataclass
class ListFile:
    encoding: str = ""
    delimiter: str = ""
    people: list[Person] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.people) + len(self.rejections)


class UnreadableFile(ValidationError):
    """The file as a whole cannot be read (no header, wrong columns, not text)."""


def decode(raw: bytes) -> tuple[str, str]:
    """UTF-8 (a BOM is dropped) or else Windows-1252, the two encodings HIS exports come in."""
    if b"\x00" in raw:
        raise UnreadableFile(_("This is not a text (CSV) file."), code="binary")
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        raise UnreadableFile(
            _("The file is neither UTF-8 nor Windows-1252 text."), code="encoding"
        ) from None


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=";,").delimiter
    except csv.Error:
        return ";" if header.count(";") >= header.count(",") else ","


def _key(name: str) -> str:
    return re.sub(r"[\s_\-.]", "", (name or "").strip().lower())


def _header_map(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _key(name)
        for column, aliases in COLUMNS.items():
            if key in aliases and column not in found:
                found[column] = index
    missing = [c for c in REQUIRED if c not in found]
    if "address" not in found and "street" not in found:
        missing.append("address")
    if missing:
        labels = {
            "bsn": "bsn",
            "last_name": "achternaam",
            "birth_date": "geboortedatum",
            "postal_code": "postcode",
            "city": "woonplaats",
            "address": "adres",
        }
        raise UnreadableFile(
            _("Columns missing in the first row: %(columns)s.")
            % {"columns": ", ".join(labels[c] for c in missing)},
            code="columns",
        )
    return found


def parse_date(value: str) -> datetime.date | None:
    value = value.strip()
    for fmt in ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a date only
        except ValueError:
            continue
    return None


def normalise_postcode(value: str) -> str | None:
    match = POSTCODE.match(value.strip())
    if not match or match.group(2).upper() in POSTCODE_EXCLUDED:
        return None
    return f"{match.group(1)} {match.group(2).upper()}"


def _row(line: int, cells: list[str], columns: dict[str, int]) -> Person | Rejection:
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    problems = []
    bsn = normalise_bsn(cell("bsn"))
    if not cell("bsn"):
        problems.append(_("BSN missing"))
    else:
        try:
            validate_bsn(bsn)
        except ValidationError as exc:
            problems.append(exc.messages[0].rstrip("."))
    last_name = cell("last_name")
    if not last_name:
        problems.append(_("last name missing"))
    birth_date = None
    if not cell("birth_date"):
        problems.append(_("date of birth missing"))
    else:
        birth_date = parse_date(cell("birth_date"))
        if birth_date is None:
            problems.append(_("date of birth not understood (use dd-mm-jjjj)"))
        elif birth_date > timezone.localdate() or birth_date.year < 1900:
            problems.append(_("date of birth impossible"))
    postal_code = None
    if not cell("postal_code"):
        problems.append(_("postcode missing"))
    else:
        postal_code = normalise_postcode(cell("postal_code"))
        if postal_code is None:
            problems.append(_("postcode is not like 1234 AB"))
    address = cell("address") or " ".join(p for p in (cell("street"), cell("house_number")) if p)
    if not address:
        problems.append(_("address missing"))
    if not cell("city"):
        problems.append(_("city missing"))
    too_long = [
        name
        for name, limit in (
            ("last_name", 100),
            ("first_name", 100),
            ("initials", 20),
            ("name_prefix", 20),
            ("city", 100),
        )
        if len(cell(name)) > limit
    ]
    if len(address) > 200 or too_long:
        problems.append(_("a field is too long"))
    if problems:
        return Rejection(line, "; ".join(problems))
    return Person(
        line=line,
        bsn=bsn,
        last_name=last_name,
        birth_date=birth_date,
        postal_code=postal_code,
        city=cell("city"),
        address=address,
        initials=cell("initials"),
        first_name=cell("first_name"),
        name_prefix=cell("name_prefix"),
    )


def read_list(raw: bytes) -> ListFile:
    """Parse and validate every row; line numbers are those of the file (the header is line 1)."""
    text, encoding = decode(raw)
    if "\x00" in text:
        raise UnreadableFile(_("This is not a text (CSV) file."), code="binary")
    if not text.strip():
        raise UnreadableFile(_("The file is empty."), code="empty")
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    result = ListFile(encoding=encoding, delimiter=delimiter)
    try:
        header = next(reader)
        columns = _header_map(header)
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # an empty line is no person
            if result.rows >= MAX_ROWS:
                raise UnreadableFile(
                    _("At most %(max)s rows per upload; split the list.") % {"max": MAX_ROWS},
                    code="too_many",
                )
            item = _row(line, cells, columns)
            (result.people if isinstance(item, Person) else result.rejections).append(item)
    except csv.Error as exc:
        raise UnreadableFile(
            _("The file is not valid CSV near line %(line)s.") % {"line": reader.line_num},
            code="csv",
        ) from exc
    return result
