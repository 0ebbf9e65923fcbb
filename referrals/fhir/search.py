"""Task search: by identifier, and what changed since a KIS's last poll, in pages of constant cost.

Every search is ordered by (lastUpdated, id) and paged by keyset: the ``next`` link carries the
last row's position as a signed token (``_page``), so page 1,000 costs what page 1 costs and a
referral changing between two calls moves to a later page instead of being skipped.
"""

from __future__ import annotations

import datetime
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core import signing
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from ..models import Channel, Referral
from .errors import FhirError
from .fhir_in import ZD_NUMBER_SYSTEM
from .fhir_out import REFERRAL_ID_SYSTEM

DEFAULT_COUNT = 50
MAX_COUNT = 200
_PAGE_SALT = "fhir.task-search.page"
_PREFIXES = ("gt", "ge", "lt", "le", "eq")
_YEAR = re.compile(r"[0-9]{4}")
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")
_KNOWN = {"_id", "focus", "identifier", "_lastUpdated", "_count", "_page", "_format"}


@dataclass
class TaskSearch:
    condition: Q = field(default_factory=Q)
    count: int = DEFAULT_COUNT
    after: tuple[datetime.datetime, uuid.UUID] | None = None
    params: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def parse(cls, query) -> TaskSearch:
        unknown = sorted(set(query) - _KNOWN)
        if unknown:
            raise FhirError(
                400,
                "not-supported",
                _("Unknown search parameter %(name)s; see the CapabilityStatement.")
                % {"name": unknown[0]},
                f"Task?{unknown[0]}",
            )
        if not {"_id", "focus", "identifier", "_lastUpdated"} & set(query):
            raise FhirError(
                400,
                "required",
                _(
                    "Search Task by _id, focus (ServiceRequest/<id>), identifier or "
                    "_lastUpdated (e.g. _lastUpdated=gt2026-01-31T12:00:00+01:00)."
                ),
                "Task",
            )
        search = cls()
        for name in ("_id", "focus", "identifier", "_lastUpdated"):
            for value in query.getlist(name):
                search.params.append((name, value))
                search.condition &= _condition(name, value)
        search.count = _count(query.get("_count"))
        if "_page" in query:
            search.after = _position(query["_page"])
        return search

    def apply(self, referrals: QuerySet[Referral]) -> QuerySet[Referral]:
        referrals = referrals.filter(self.condition)
        if self.after is not None:
            moment, public_id = self.after
            referrals = referrals.filter(
                Q(updated_at__gt=moment) | Q(updated_at=moment, public_id__gt=public_id)
            )
        return referrals.order_by("updated_at", "public_id")

    def next_url(self, request, last: Referral) -> str:
        token = signing.dumps([last.updated_at.isoformat(), str(last.public_id)], salt=_PAGE_SALT)
        query = [*self.params, ("_count", str(self.count)), ("_page", token)]
        return request.build_absolute_uri(f"{request.path}?{urlencode(query)}")


def _condition(name: str, value: str) -> Q:
    if name == "_id":
        return Q(public_id=_uuid(value))
    if name == "focus":
        return Q(public_id=_uuid(value.removeprefix("ServiceRequest/")))
    if name == "identifier":
        system, _bar, code = value.rpartition("|")
        if system == REFERRAL_ID_SYSTEM:
            return Q(public_id=_uuid(code))
        if system == ZD_NUMBER_SYSTEM:
            return Q(channel=Channel.ZORGDOMEIN, external_id=code)
        return Q(external_id=code) & ~Q(external_id="")
    return _last_updated(value)


def _last_updated(value: str) -> Q:
    """``gt|ge|lt|le|eq`` + a FHIR instant or date. An instant is that exact moment (send back the
    ``meta.lastUpdated`` you last saw, microseconds included); a date is the whole day, month or
    year it names (``2026-01-31``, ``2026-01``, ``2026``), as FHIR's search on a date's precision."""
    raw = value.strip().replace(" ", "+")  # an unescaped "+" of the offset arrives as a space
    prefix = raw[:2] if raw[:2] in _PREFIXES else "eq"
    text = raw[2:] if raw[:2] in _PREFIXES else raw
    start, end = _interval(text, value)
    lookups = {
        "gt": Q(updated_at__gte=end) if end != start else Q(updated_at__gt=start),
        "ge": Q(updated_at__gte=start),
        "lt": Q(updated_at__lt=start),
        "le": Q(updated_at__lt=end) if end != start else Q(updated_at__lte=start),
        "eq": Q(updated_at__gte=start, updated_at__lt=end) if end != start else Q(updated_at=start),
    }
    return lookups[prefix]


def _interval(text: str, original: str) -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end) of a date; (moment, moment) of an instant."""
    try:
        # In UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts.
        if "T" in text:
            moment = parse_datetime(text)
            if moment is not None:
                if timezone.is_naive(moment):
                    moment = timezone.make_aware(moment)
                moment = moment.astimezone(datetime.UTC)
                return moment, moment
        else:
            days = _days(text)
            if days is not None:
                start, end = (
                    timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
                    for day in days
                )
                return start.astimezone(datetime.UTC), end.astimezone(datetime.UTC)
    except (OverflowError, ValueError):
        pass
    raise FhirError(
        400,
        "value",
        _(
            "_lastUpdated %(value)s is not a FHIR date or instant with an optional prefix "
            "gt, ge, lt, le or eq (e.g. gt2026-01-31T12:00:00+01:00, URL-encode the '+')."
        )
        % {"value": original},
        "Task?_lastUpdated",
    )


def _days(text: str) -> tuple[datetime.date, datetime.date] | None:
    """The first day of a FHIR date (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) and the day after it."""
    if _YEAR.fullmatch(text):
        year = int(text)
        return datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)
    if _MONTH.fullmatch(text):
        year, month = (int(part) for part in text.split("-"))
        first = datetime.date(year, month, 1)
        return first, (first + datetime.timedelta(days=32)).replace(day=1)
    day = parse_date(text)
    return (day, day + datetime.timedelta(days=1)) if day is not None else None


def _count(value: str | None) -> int:
    if value is None:
        return DEFAULT_COUNT
    if not (value.isascii() and value.isdigit() and int(value) > 0):
        raise FhirError(
            400,
            "value",
            _("_count must be a whole number from 1 to %(max)s.") % {"max": MAX_COUNT},
            "Task?_count",
        )
    return min(int(value), MAX_COUNT)


def _position(token: str) -> tuple[datetime.datetime, uuid.UUID]:
    try:
        moment, public_id = signing.loads(token, salt=_PAGE_SALT)
        return datetime.datetime.fromisoformat(moment), uuid.UUID(public_id)
    except (signing.BadSignature, ValueError, TypeError):
        raise FhirError(
            400,
            "value",
            _("This _page link is damaged; start again from the first page."),
            "Task?_page",
        ) from None


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None
