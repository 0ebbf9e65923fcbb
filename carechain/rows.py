"""Helpers that make the rows of a long list page cheap to render.

A list page of a few hundred rows spent most of its time in the template engine resolving the same
lookups per row: ``{% url %}``, ``get_FOO_display`` (which hashes its lazily translated choices on
every call), the ``date`` filter. These helpers do that work once per page, in Python; the
template then prints plain values. What the page shows is unchanged.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.db.models import Choices
from django.urls import reverse
from django.utils import timezone

# A primary key no row has: reversed once, then replaced by each row's own.
_MARKER = 987654321987654321


def url_for_pk(viewname: str) -> Callable[[object], str]:
    """``reverse(viewname, args=[pk])`` for many primary keys, with one ``reverse()``."""
    marker = str(_MARKER)
    head, tail = reverse(viewname, args=[_MARKER]).split(marker)
    return lambda pk: f"{head}{int(pk)}{tail}"


def choice_labels(choices: type[Choices]) -> dict[str, str]:
    """The labels of ``choices`` in the active language: what ``get_FOO_display`` shows."""
    return {value: str(label) for value, label in choices.choices}


def dmy(value: datetime.date | datetime.datetime | None) -> str:
    """The ``|date:"d-m-Y"`` filter: a datetime in the current time zone; "" for None."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{value.day:02d}-{value.month:02d}-{value.year:04d}"
