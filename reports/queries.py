"""The reports' figures, aggregated in SQL: a fixed number of queries whatever the data's size.

Every function takes the scope (a zorggroep's practices, or a provider and optionally one coach)
and the period, and returns plain numbers per practice or coach; ``reports.tables`` turns them
into tables and suppresses small cells. No function returns a patient or anything about one.

Definitions (the page states them in Dutch):

* A referral counts in the period it was received; a trajectory's start is its intake date; its
  end is its end date (end of treatment, stopped, dropped out); its 12-month call counts in the
  period it was due.
* First contact within target: the first contact took place on or before the referral's due date,
  2 working days after receipt (``referrals.workdays``). Referrals not contacted whose due date
  has passed count as not within target; declined and cancelled ones, and those still within
  their 2 days, are left out.
* Russell Standard: smoke-free self-reported (at most 5 cigarettes since two weeks after the quit
  date, as the coach records it) and CO-validated (and a CO measurement below 10 ppm). Everyone
  who ended, stopped or dropped out counts in the denominator; whoever is lost to follow-up or not
  measured counts as smoking.
* Escalation: a trajectory with an escalation to the POH-GGZ that started in the period, among the
  trajectories in care during the period (intake before its end, not ended before its start).
  The *POH-S* of the seed's "61 % of the POH-S" is the referrer of the referral (the account that
  referred, or the referrer's AGB code or name for ZorgDomein and KIS referrals), counted per
  practice.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, NullIf, TruncMonth
from django.utils import timezone

from billing.budget import committed_lines
from billing.models import Claim, InvoiceLine, KetenzorgBudget
from carechain.models import Practice
from pathways.models import (
    ACTIVE_STATES,
    ENDED_STATES,
    FOLLOW_UP_STATES,
    Attendance,
    Escalation,
    GroupMeeting,
    GroupParticipant,
    Outcome,
    Trajectory,
)
from pathways.models import FollowUpOutcome as FU
from pathways.models import TrajectoryState as T
from referrals.models import OPEN_STATES, Channel, Referral
from referrals.models import ReferralState as RS

from .median import Median, SecondsBetween
from .periods import Period

CO_VALIDATED_BELOW = 10  # ppm
NOT_NEEDING_CONTACT = [RS.DECLINED, RS.CANCELLED, RS.CANCELLATION_REQUESTED]
CHANNELS = [Channel.ZORGDOMEIN, Channel.KIS, Channel.WEB, Channel.API]
FOLLOW_UP_SOON = datetime.timedelta(days=7)


def _bounds(period: Period) -> tuple[datetime.datetime, datetime.datetime]:
    """The period as aware datetimes [start, after end) in the local time zone."""
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(period.start, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(period.after_end, datetime.time.min, tzinfo=tz)
    return start, end


def _in(field: str, period: Period) -> Q:
    return Q(**{f"{field}__gte": period.start, f"{field}__lte": period.end})


def _received_in(period: Period, prefix: str = "") -> Q:
    start, end = _bounds(period)
    return Q(**{f"{prefix}received_at__gte": start, f"{prefix}received_at__lt": end})


# -- first contact ----------------------------------------------------------------------------
def _first_contact_counts(period: Period, today: datetime.date) -> dict:
    contacted = Q(first_contact_at__isnull=False)
    on_time = contacted & Q(first_contact_at__date__lte=F("first_contact_due"))
    waiting_too_long = Q(first_contact_at__isnull=True, first_contact_due__lt=today) & ~Q(
        state__in=NOT_NEEDING_CONTACT
    )
    # Counting received_at (never null) rather than the id: the query then reads only columns of
    # the index referral_practice_received (Django allows no count(*) with a filter).
    return {
        "referrals": Count("received_at"),
        "within_target": Count("received_at", filter=on_time),
        "late": Count("received_at", filter=contacted & ~on_time),
        "not_contacted": Count("received_at", filter=waiting_too_long),
        "median_hours": Median(
            SecondsBetween("received_at", "first_contact_at") / Value(3600.0),
            filter=contacted,
        ),
    }


def _with_measured(row: dict) -> dict:
    row["measured"] = row["within_target"] + row["late"] + row["not_contacted"]
    return row


# -- the zorggroep ----------------------------------------------------------------------------
def zorggroep_practices(zorggroep) -> list[dict]:
    return list(
        Practice.objects.filter(zorggroep=zorggroep, is_active=True)
        .order_by("name", "pk")
        .values("pk", "name")
    )


def referrals_by_practice_and_channel(zorggroep, period: Period) -> dict[int, dict[str, int]]:
    rows = (
        Referral.objects.filter(_received_in(period), practice_id__in=_practices_of(zorggroep))
        .order_by()
        .values("practice_id", "channel")
        .annotate(n=Count("*"))  # from the index alone (see referrals_per_month)
    )
    out: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        out[row["practice_id"]][row["channel"]] += row["n"]
    return out


def referrals_per_month(*, months: list[datetime.date], **scope) -> dict[datetime.date, dict]:
    """Referrals per month and channel over the trend months (the chart above the table)."""
    first = months[0]
    tz = timezone.get_current_timezone()
    last = months[-1]
    after = (last.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    rows = (
        Referral.objects.filter(
            received_at__gte=datetime.datetime.combine(first, datetime.time.min, tzinfo=tz),
            received_at__lt=datetime.datetime.combine(after, datetime.time.min, tzinfo=tz),
            **scope,
        )
        .annotate(month=TruncMonth("received_at"))
        .order_by()
        .values("month", "channel")
        # count(*), not count(id): every column the query reads is then in the index
        # referral_practice_received, so PostgreSQL can answer it from the index alone.
        .annotate(n=Count("*"))
    )
    out: dict[datetime.date, dict] = {m: defaultdict(int) for m in months}
    for row in rows:
        month = row["month"]
        month = month.date() if isinstance(month, datetime.datetime) else month
        if month in out:
            out[month][row["channel"]] += row["n"]
    return out


def practices_without_referrals(zorggroep, quarter: Period) -> list[dict]:
    referred = Referral.objects.filter(_received_in(quarter), practice_id=OuterRef("pk"))
    return list(
        Practice.objects.filter(zorggroep=zorggroep, is_active=True)
        .filter(~Exists(referred))
        .order_by("name", "pk")
        .values("pk", "name")
    )


def first_contact_by_practice(zorggroep, period: Period, today: datetime.date):
    """Per practice, and for the whole zorggroep (a median does not add up): two queries."""
    scope = Referral.objects.filter(_received_in(period), practice_id__in=_practices_of(zorggroep))
    counts = _first_contact_counts(period, today)
    per_practice = {
        row["practice_id"]: _with_measured(row)
        for row in scope.order_by().values("practice_id").annotate(**counts)
    }
    total = _with_measured(scope.order_by().aggregate(**counts))
    return per_practice, total


def _in_care(period: Period) -> Q:
    return Q(intake_date__isnull=False, intake_date__lte=period.end) & (
        Q(end_date__isnull=True) | Q(end_date__gte=period.start)
    )


def _referrer_key():
    """Who referred: the account, else the referrer's AGB code, else the name on the referral."""
    return Coalesce(
        Cast("referral__referred_by_id", CharField()),
        NullIf(F("referral__referrer_agb"), Value("")),
        NullIf(F("referral__referrer_name"), Value("")),
        output_field=CharField(),
    )


def _outcome_counts(period: Period, today: datetime.date) -> dict:
    ended = _in("end_date", period) & Q(state__in=ENDED_STATES)
    end_of_treatment = ended & ~Q(state__in=[T.STOPPED_UNMOTIVATED, T.DROPPED_OUT])
    quit_ = end_of_treatment & Q(end_result=Outcome.SMOKE_FREE)
    follow_up = _in("follow_up_due", period) & Q(follow_up_due__lte=today)
    follow_up_quit = follow_up & Q(follow_up_result=FU.SMOKE_FREE)
    escalated = Exists(
        Escalation.objects.filter(
            trajectory_id=OuterRef("pk"),
            created_at__gte=_bounds(period)[0],
            created_at__lt=_bounds(period)[1],
        )
    )
    in_care = _in_care(period)
    return {
        "started": Count("pk", filter=_in("intake_date", period)),
        "ended": Count("pk", filter=ended),
        "end_of_treatment": Count("pk", filter=end_of_treatment),
        "quit_self_reported": Count("pk", filter=quit_),
        "quit_co_validated": Count("pk", filter=quit_ & Q(end_co_ppm__lt=CO_VALIDATED_BELOW)),
        "stopped": Count("pk", filter=ended & Q(state=T.STOPPED_UNMOTIVATED)),
        "dropped_out": Count("pk", filter=ended & Q(state=T.DROPPED_OUT)),
        "follow_up_count": Count("pk", filter=follow_up),
        "follow_up_quit": Count("pk", filter=follow_up_quit),
        "follow_up_co_validated": Count(
            "pk", filter=follow_up_quit & Q(follow_up_co_ppm__lt=CO_VALIDATED_BELOW)
        ),
        "follow_up_not_reached": Count(
            "pk",
            filter=follow_up & (Q(follow_up_result=FU.NOT_REACHED) | Q(follow_up_result="")),
        ),
        "in_care": Count("pk", filter=in_care),
        "escalated": Count("pk", filter=in_care & Q(escalated)),
        "referrers": Count(_referrer_key(), filter=in_care, distinct=True),
        "referrers_escalating": Count(
            _referrer_key(), filter=in_care & Q(escalated), distinct=True
        ),
    }


def _relevant_trajectories(period: Period) -> Q:
    """Every trajectory a figure of the period can count, as ranges an index can answer: started,
    ended or due for the 12-month call in the period, or in care across the whole period (started
    before it and not ended, or ended after it)."""
    return (
        _in("intake_date", period)
        | _in("end_date", period)
        | _in("follow_up_due", period)
        | Q(end_date__isnull=True, intake_date__lt=period.start)
        | Q(end_date__gt=period.end, intake_date__lt=period.start)
    )


def _practices_of(zorggroep):
    """The zorggroep's practices as a subquery (a semi-join on the practice id, not a join per
    practice)."""
    return Practice.objects.filter(zorggroep=zorggroep).values("pk")


def _practice_ids(zorggroep) -> list[int]:
    """The zorggroep's practices as a list of ids: the planner then filters the period's rows once
    instead of looking up the period's rows practice by practice."""
    return list(Practice.objects.filter(zorggroep=zorggroep).values_list("pk", flat=True))


def outcomes_by_practice(
    zorggroep, period: Period, today: datetime.date, practice_ids=None
) -> dict[int, dict]:
    if practice_ids is None:
        practice_ids = _practice_ids(zorggroep)
    rows = (
        Trajectory.objects.filter(_relevant_trajectories(period), practice_id__in=practice_ids)
        .order_by()
        .values("practice_id")
        .annotate(**_outcome_counts(period, today))
    )
    return {row["practice_id"]: row for row in rows}


def escalations_by_practice(zorggroep, period: Period) -> dict[int, dict]:
    start, end = _bounds(period)
    rows = (
        Escalation.objects.filter(
            created_at__gte=start,
            created_at__lt=end,
            trajectory__practice_id__in=_practices_of(zorggroep),
        )
        .order_by()
        .values("trajectory__practice_id")
        .annotate(
            escalations=Count("pk"),
            open=Count("pk", filter=Q(status=Escalation.Status.OPEN)),
            returned=Count("pk", filter=Q(status=Escalation.Status.RETURNED)),
            care_stopped=Count("pk", filter=Q(status=Escalation.Status.STOPPED)),
        )
    )
    return {row.pop("trajectory__practice_id"): row for row in rows}


def group_meetings(zorggroep, period: Period) -> list[dict]:
    """The relapse-prevention meetings in the period at the zorggroep's practices, with attendance."""
    start, end = _bounds(period)
    enrolled = GroupParticipant.objects.filter(
        group_id=OuterRef("group_id"), joined_at__number__lte=OuterRef("number")
    )
    return list(
        GroupMeeting.objects.filter(
            starts_at__gte=start, starts_at__lt=end, group__location__practice__zorggroep=zorggroep
        )
        .order_by("starts_at", "pk")
        .values(
            "pk",
            "number",
            "starts_at",
            "theme",
            "group_id",
            location=F("group__location__name"),
            practice=F("group__location__practice__name"),
        )
        .annotate(
            present=Count("attendances", filter=Q(attendances__status=Attendance.Status.PRESENT)),
            absent_notice=Count(
                "attendances", filter=Q(attendances__status=Attendance.Status.ABSENT_NOTICE)
            ),
            no_show=Count("attendances", filter=Q(attendances__status=Attendance.Status.NO_SHOW)),
        )
        .annotate(
            enrolled=Coalesce(
                _count_subquery(enrolled),
                Value(0),
                output_field=IntegerField(),
            )
        )
    )


def _count_subquery(qs):
    from django.db.models import Subquery

    return Subquery(
        qs.order_by().values("group_id").annotate(n=Count("pk")).values("n")[:1],
        output_field=IntegerField(),
    )


def group_participants(zorggroep, period: Period) -> dict:
    """Participants of the groups of the period's year(s): joined, and still taking part."""
    years = list(range(period.start.year, period.end.year + 1))
    return GroupParticipant.objects.filter(
        group__year__in=years, group__location__practice__zorggroep=zorggroep
    ).aggregate(
        participants=Count("pk"),
        active=Count("pk", filter=Q(left_on__isnull=True)),
        groups=Count("group", distinct=True),
    )


def budget_by_month(zorggroep, year: int) -> tuple[object, dict[int, object]]:
    """The year's budget and what was committed per month (by the month the care ended)."""
    amount = (
        KetenzorgBudget.objects.filter(zorggroep=zorggroep, year=year)
        .values_list("amount", flat=True)
        .first()
    )
    rows = (
        committed_lines(zorggroep_ids=[zorggroep.pk], year=year)
        .annotate(month=TruncMonth("end_date"))
        .order_by()
        .values("month")
        .annotate(total=Sum("amount"))
    )
    return amount, {row["month"].month: row["total"] for row in rows}


def payers_by_practice(zorggroep, period: Period) -> dict[int, dict]:
    """Ended trajectories of the period: invoiced to the zorggroep or claimed from an insurer.
    Counts only: what insurers pay stays with the provider."""
    from billing.budget import COMMITTED_STATES

    invoiced = InvoiceLine.objects.filter(
        trajectory_id=OuterRef("pk"),
        kind=InvoiceLine.Kind.ORIGINAL,
        invoice__state__in=COMMITTED_STATES,
    )
    claims = Claim.objects.filter(trajectory_id=OuterRef("pk")).exclude(
        status=Claim.Status.SUPERSEDED
    )
    rows = (
        Trajectory.objects.filter(
            _in("end_date", period),
            state__in=ENDED_STATES,
            practice_id__in=_practices_of(zorggroep),
        )
        .order_by()
        .values("practice_id")
        .annotate(
            ended=Count("pk"),
            invoiced=Count("pk", filter=Q(Exists(invoiced))),
            claimed=Count("pk", filter=Q(Exists(claims))),
            claim_accepted=Count(
                "pk", filter=Q(Exists(claims.filter(status=Claim.Status.ACCEPTED)))
            ),
            claim_rejected=Count(
                "pk", filter=Q(Exists(claims.filter(status=Claim.Status.REJECTED)))
            ),
        )
    )
    return {row["practice_id"]: row for row in rows}


# -- the provider -------------------------------------------------------------------------------
def provider_referrals_by_coach(provider_id: int, period: Period, today, coach_id=None):
    scope = Referral.objects.filter(provider_id=provider_id)
    if coach_id is not None:
        scope = scope.filter(coach_id=coach_id)
    received = _received_in(period)
    overdue = Q(first_contact_at__isnull=True, first_contact_due__lt=today, state__in=OPEN_STATES)
    counts = {
        key: Count("pk", filter=received & condition)
        for key, condition in {
            "new": Q(),
            "within_target": Q(first_contact_at__isnull=False)
            & Q(first_contact_at__date__lte=F("first_contact_due")),
        }.items()
    }
    counts["overdue_first_contact"] = Count("pk", filter=overdue)
    counts["waiting"] = Count("pk", filter=Q(state=RS.RECEIVED))
    rows = (
        scope.filter(received | overdue | Q(state=RS.RECEIVED))
        .order_by()
        .values("coach_id")
        .annotate(**counts)
    )
    return {row["coach_id"]: row for row in rows}


def provider_trajectories_by_coach(provider_id: int, period: Period, today, coach_id=None):
    scope = Trajectory.objects.filter(provider_id=provider_id)
    if coach_id is not None:
        scope = scope.filter(coach_id=coach_id)
    calls_due = Q(state__in=FOLLOW_UP_STATES, follow_up_due__lte=today + FOLLOW_UP_SOON)
    counts = _outcome_counts(period, today)
    for key in ("referrers", "referrers_escalating"):
        counts.pop(key)
    counts["in_progress"] = Count("pk", filter=Q(state__in=ACTIVE_STATES))
    counts["calls_due"] = Count("pk", filter=calls_due)
    rows = (
        scope.filter(
            _relevant_trajectories(period)
            | Q(state__in=ACTIVE_STATES)
            | Q(state__in=FOLLOW_UP_STATES)
        )
        .order_by()
        .values("coach_id")
        .annotate(**counts)
    )
    return {row["coach_id"]: row for row in rows}
