"""Relapse-prevention groups (terugvalpreventie): who may do what, and the use cases.

The POH-GGZ (practice nurse for mental health) of a GP practice runs eight group meetings a year in
a room of the practice, each with its own theme (cravings, social pressure, ...). A quitter may join
at any meeting (rolling intake) and leaves the group once smoking again: the group is for staying
smoke-free together, not for quitting. The POH-GGZ of the location's practice plans the meetings and
records attendance; the provider's coaches add their quitters and follow how they attend.
Every change of a participant's data leaves an audit row here; the pages (views_groups.py) audit
what they show. Reads for the pages live in queries_groups.py.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.services import audit_record
from carechain.access import Actor
from carechain.models import Location, Membership, Role

from .access import trajectories_for
from .models import (
    Attendance,
    Contact,
    ContactKind,
    GroupMeeting,
    GroupParticipant,
    RelapsePreventionGroup,
    SmokingStatus,
    Trajectory,
)
from .models import TrajectoryState as T

MEETINGS = RelapsePreventionGroup.MEETINGS_PER_YEAR
NOT_JOINABLE_STATES = [T.STOPPED_UNMOTIVATED, T.DROPPED_OUT, T.CLOSED]

# A meeting as given to group_create/group_update: (starts_at, theme, facilitating POH-GGZ or its id)
MeetingInput = tuple[datetime.datetime, str, object]

# Proposed when the POH-GGZ plans a new year: the second Tuesday of these months at 19:00,
# skipping the summer and December holidays.
_DEFAULT_MONTHS = (1, 2, 4, 5, 6, 9, 10, 11)
_DEFAULT_TIME = datetime.time(19, 0)


def default_themes() -> list[str]:
    return [
        _("Getting to know each other: why I stay smoke-free"),
        _("Coping with cravings"),
        _("Social pressure: saying no to a cigarette"),
        _("Stress and emotions without smoking"),
        _("Weight, exercise and new habits"),
        _("Parties, holidays and alcohol"),
        _("A slip is not a relapse"),
        _("Looking back and staying smoke-free"),
    ]


def default_meetings(year: int) -> list[tuple[datetime.datetime, str]]:
    """A proposal the POH-GGZ edits before saving: eight dates spread over the year, eight themes."""
    tz = timezone.get_current_timezone()
    proposal = []
    for month, theme in zip(_DEFAULT_MONTHS, default_themes(), strict=True):
        first = datetime.date(year, month, 1)
        second_tuesday = first + datetime.timedelta(days=(1 - first.weekday()) % 7 + 7)
        proposal.append((datetime.datetime.combine(second_tuesday, _DEFAULT_TIME, tz), theme))
    return proposal


# -- access ---------------------------------------------------------------------------------------
def group_filter(actor: Actor) -> Q:
    """The POH-GGZ sees the groups at their practice's rooms; a coach those at their provider's."""
    condition = Q(pk__in=[])
    practice_ids = actor.org_ids(Role.POH_GGZ)
    if practice_ids:
        condition |= Q(location__practice_id__in=practice_ids)
    provider_ids = actor.org_ids(Role.COACH)
    if provider_ids:
        condition |= Q(location__provider_id__in=provider_ids)
    return condition


def groups_for(actor: Actor) -> QuerySet[RelapsePreventionGroup]:
    return RelapsePreventionGroup.objects.filter(group_filter(actor))


def participant_filter(actor: Actor) -> Q:
    """Participants this actor sees by name. The coaches of the provider see everyone they
    brought; the POH-GGZ of the group's practice sees her own practice's patients, and those of
    other practices only in a shared zorggroep group with the patient's recorded consent. Everyone
    else in the group is a count on her pages (``named_participants``)."""
    condition = Q(pk__in=[])
    provider_ids = actor.org_ids(Role.COACH)
    if provider_ids:
        condition |= Q(group__location__provider_id__in=provider_ids)
    practice_ids = actor.org_ids(Role.POH_GGZ)
    if practice_ids:
        condition |= Q(group__location__practice_id__in=practice_ids) & (
            Q(trajectory__practice_id__in=practice_ids)
            | Q(group__is_zorggroep_shared=True, sharing_consent_at__isnull=False)
        )
    return condition


def participants_for(actor: Actor) -> QuerySet[GroupParticipant]:
    return GroupParticipant.objects.filter(participant_filter(actor))


def names_participant(actor: Actor, participant: GroupParticipant) -> bool:
    """``participant_filter`` for one participant already loaded (with group, location and
    trajectory), so a page of prefetched rows needs no further query."""
    group = participant.group
    if group.location.provider_id in actor.org_ids(Role.COACH):
        return True
    practice_ids = actor.org_ids(Role.POH_GGZ)
    return group.location.practice_id in practice_ids and (
        participant.trajectory.practice_id in practice_ids
        or (group.is_zorggroep_shared and participant.sharing_consent_at is not None)
    )


def named_participants(actor: Actor, participants) -> tuple[list, int]:
    """(the participants shown by name, how many others there are)."""
    named = [p for p in participants if names_participant(actor, p)]
    return named, len(participants) - len(named)


def runs_group(actor: Actor, group: RelapsePreventionGroup) -> bool:
    """The POH-GGZ of the location's practice plans the meetings and records attendance."""
    return group.location.practice_id in actor.org_ids(Role.POH_GGZ)


def coaches_for_group(actor: Actor, group: RelapsePreventionGroup) -> bool:
    """A coach of the location's provider adds quitters and follows attendance."""
    return group.location.provider_id in actor.org_ids(Role.COACH)


def _get_group(actor: Actor, group_id, *, lock: bool = False) -> RelapsePreventionGroup:
    qs = groups_for(actor).select_related("location")
    if lock:
        qs = qs.select_for_update(of=("self",))
    try:
        return qs.get(pk=group_id)
    except (RelapsePreventionGroup.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def _get_participant(actor: Actor, participant_id) -> GroupParticipant:
    try:
        return (
            GroupParticipant.objects.select_for_update(of=("self",))
            .select_related("group__location", "joined_at", "trajectory__patient")
            .filter(participant_filter(actor))
            .get(pk=participant_id)
        )
    except (GroupParticipant.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def today_starts() -> datetime.datetime:
    return datetime.datetime.combine(
        timezone.localdate(), datetime.time.min, timezone.get_current_timezone()
    )


def meeting_day(meeting: GroupMeeting) -> datetime.date:
    return timezone.localdate(meeting.starts_at)


def expected_at(participant: GroupParticipant, meeting: GroupMeeting, joined_number: int) -> bool:
    """A participant is expected from the meeting they joined at until the day they left."""
    if meeting.number < joined_number:
        return False
    return participant.left_on is None or participant.left_on >= meeting_day(meeting)


# -- planning the year ----------------------------------------------------------------------------
def _check_meetings(
    *, year: int, practice_id: int, meetings: Sequence[MeetingInput]
) -> tuple[list[tuple[datetime.datetime, str, int]], dict[str, list[str]]]:
    """Exactly eight meetings in the year, in order, each with a theme and a POH-GGZ of the practice.

    Errors are keyed like the page's formset fields ("meetings-2-starts_at" is the third meeting).
    """
    errors: dict[str, list[str]] = {}
    rows = list(meetings)
    if len(rows) != MEETINGS:
        errors["meetings"] = [
            _("A relapse-prevention group has exactly %(n)d meetings a year, not %(given)d.")
            % {"n": MEETINGS, "given": len(rows)}
        ]
        return [], errors
    given_ids = {getattr(row[2], "pk", row[2]) for row in rows}
    poh_ggz_ids = set(
        Membership.objects.filter(
            organisation_id=practice_id,
            role=Role.POH_GGZ,
            is_active=True,
            user__is_active=True,
            user_id__in=[i for i in given_ids if isinstance(i, int)],
        ).values_list("user_id", flat=True)
    )
    cleaned = []
    previous: datetime.datetime | None = None
    for index, (starts_at, theme, facilitator) in enumerate(rows):
        number = index + 1
        key = f"meetings-{index}-%s"
        if not isinstance(starts_at, datetime.datetime):
            errors[key % "starts_at"] = [_("Give the date and time of this meeting.")]
        else:
            if timezone.is_naive(starts_at):
                starts_at = timezone.make_aware(starts_at)
            if timezone.localtime(starts_at).year != year:
                errors[key % "starts_at"] = [
                    _("Meeting %(number)d must lie in %(year)d.") % {"number": number, "year": year}
                ]
            elif previous is not None and starts_at <= previous:
                errors[key % "starts_at"] = [
                    _("Meeting %(number)d must come after meeting %(before)d.")
                    % {"number": number, "before": number - 1}
                ]
            previous = starts_at
        theme = (theme or "").strip()
        if not theme:
            errors[key % "theme"] = [_("Give the theme of this meeting.")]
        elif len(theme) > 200:
            errors[key % "theme"] = [_("Keep the theme under 200 characters.")]
        facilitator_id = getattr(facilitator, "pk", facilitator)
        if facilitator_id not in poh_ggz_ids:
            errors[key % "facilitator"] = [
                _("Choose a POH-GGZ of the practice to facilitate this meeting.")
            ]
        cleaned.append((starts_at, theme, facilitator_id))
    return cleaned, errors


def _check_name(name: str, errors: dict[str, list[str]]) -> str:
    name = (name or "").strip()
    if len(name) > 100:
        errors["name"] = [_("Keep the name under 100 characters.")]
    return name


@transaction.atomic
def group_create(
    *,
    actor: Actor,
    location: Location,
    year: int,
    meetings: Sequence[MeetingInput],
    name: str = "",
    is_zorggroep_shared: bool = False,
) -> RelapsePreventionGroup:
    """Plan a year of relapse prevention at one of the practice's rooms: all eight meetings at once."""
    if not actor.has_role(Role.POH_GGZ):
        raise PermissionDenied
    try:
        location = Location.objects.select_for_update().get(pk=getattr(location, "pk", location))
    except (Location.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if location.practice_id not in actor.org_ids(Role.POH_GGZ):
        raise Http404
    errors: dict[str, list[str]] = {}
    if not location.is_active:
        errors["location"] = [_("This room is no longer in use.")]
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        errors["year"] = [_("Give a year between 2000 and 2100.")]
        raise ValidationError(errors)
    if RelapsePreventionGroup.objects.filter(location=location, year=year).exists():
        errors["year"] = [
            _("This room already has a relapse-prevention group in %(year)d.") % {"year": year}
        ]
    name = _check_name(name, errors)
    cleaned, meeting_errors = _check_meetings(
        year=year, practice_id=location.practice_id, meetings=meetings
    )
    errors.update(meeting_errors)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            group = RelapsePreventionGroup.objects.create(
                location=location, year=year, name=name, is_zorggroep_shared=is_zorggroep_shared
            )
    except IntegrityError:
        raise ValidationError(
            {
                "year": _("This room already has a relapse-prevention group in %(year)d.")
                % {"year": year}
            }
        ) from None
    GroupMeeting.objects.bulk_create(
        GroupMeeting(
            group=group, number=number, starts_at=starts_at, theme=theme, facilitator_id=user_id
        )
        for number, (starts_at, theme, user_id) in enumerate(cleaned, start=1)
    )
    return group


@transaction.atomic
def group_update(
    *, actor: Actor, group_id, meetings: Sequence[MeetingInput], name: str = ""
) -> RelapsePreventionGroup:
    """Move meetings, change themes or facilitators; the numbering 1..8 stays."""
    group = _get_group(actor, group_id, lock=True)
    if not runs_group(actor, group):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    name = _check_name(name, errors)
    cleaned, meeting_errors = _check_meetings(
        year=group.year, practice_id=group.location.practice_id, meetings=meetings
    )
    errors.update(meeting_errors)
    if errors:
        raise ValidationError(errors)
    if group.name != name:
        group.name = name
        group.save(update_fields=["name"])
    existing = {m.number: m for m in group.meetings.all()}
    for number, (starts_at, theme, user_id) in enumerate(cleaned, start=1):
        meeting = existing.get(number) or GroupMeeting(group=group, number=number)
        meeting.starts_at, meeting.theme, meeting.facilitator_id = starts_at, theme, user_id
        meeting.save()
    return group


# -- rolling intake -------------------------------------------------------------------------------
def latest_status_after_intake():
    """The smoking status of the latest contact after the intake.

    The intake contact always records "smoking": it describes the patient before the quit date, so
    it says nothing about smoking again.
    """
    return Subquery(
        Contact.objects.filter(trajectory=OuterRef("pk"))
        .exclude(kind=ContactKind.INTAKE)
        .order_by("-date", "-pk")
        .values("smoking_status")[:1]
    )


def _join_refusal(trajectory: Trajectory, latest_status: str | None) -> str | None:
    today = timezone.localdate()
    if trajectory.state in NOT_JOINABLE_STATES:
        return _("This trajectory has ended (%(state)s); the patient cannot join a group.") % {
            "state": trajectory.get_state_display()
        }
    if trajectory.quit_date is None:
        return _("The patient has no quit date yet; the group is for people who have quit.")
    if trajectory.quit_date > today:
        return _("The patient quits on %(date)s; they can join from that day.") % {
            "date": trajectory.quit_date.strftime("%d-%m-%Y")
        }
    if latest_status == SmokingStatus.SMOKING:
        return _("The latest contact records that the patient smokes; the group is for quitters.")
    return None


@transaction.atomic
def group_join(*, actor: Actor, group_id, trajectory_id, meeting_id) -> GroupParticipant:
    """A quitter of the provider joins at any meeting of the year that has not yet passed."""
    group = _get_group(actor, group_id, lock=True)
    if not coaches_for_group(actor, group):
        raise PermissionDenied
    try:
        trajectory = (
            trajectories_for(actor)
            .select_for_update(of=("self",))
            .annotate(latest_smoking_status=latest_status_after_intake())
            .get(pk=trajectory_id)
        )
    except (Trajectory.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    errors: dict[str, list[str]] = {}
    if trajectory.provider_id != group.location.provider_id:
        errors["trajectory"] = [_("Choose a patient of the provider of this group's room.")]
    else:
        refusal = _join_refusal(trajectory, trajectory.latest_smoking_status)
        if refusal:
            errors["trajectory"] = [refusal]
        elif GroupParticipant.objects.filter(group=group, trajectory=trajectory).exists():
            errors["trajectory"] = [_("This patient is or was already in this group.")]
    try:
        meeting = group.meetings.get(pk=meeting_id)
    except (GroupMeeting.DoesNotExist, ValueError, TypeError):
        errors["meeting"] = [_("Choose a meeting of this group.")]
    else:
        if meeting_day(meeting) < timezone.localdate():
            errors["meeting"] = [
                _("Meeting %(number)d has already taken place; choose today's or a later one.")
                % {"number": meeting.number}
            ]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            participant = GroupParticipant.objects.create(
                group=group, trajectory=trajectory, joined_at=meeting
            )
    except IntegrityError:
        raise ValidationError(
            {"trajectory": _("This patient is or was already in this group.")}
        ) from None
    audit_record(
        who=actor,
        action=AuditEvent.Action.CREATE,
        patient_id=trajectory.patient_id,
        obj=participant,
        detail=f"joined relapse-prevention group {group.pk} at meeting {meeting.number}",
    )
    return participant


@transaction.atomic
def group_leave(*, actor: Actor, participant_id, reason: str) -> GroupParticipant:
    """The participant leaves today, e.g. because they smoke again; their attendance stays."""
    participant = _get_participant(actor, participant_id)
    group = participant.group
    if not (runs_group(actor, group) or coaches_for_group(actor, group)):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for leaving the group.")})
    if len(reason) > 200:
        raise ValidationError({"reason": _("Keep the reason under 200 characters.")})
    if participant.left_on is not None:
        raise ValidationError(
            _("This participant already left the group on %(date)s.")
            % {"date": participant.left_on.strftime("%d-%m-%Y")},
            code="already_left",
        )
    participant.left_on = timezone.localdate()
    participant.left_reason = reason
    participant.save(update_fields=["left_on", "left_reason"])
    audit_record(
        who=actor,
        action=AuditEvent.Action.CHANGE,
        patient_id=participant.trajectory.patient_id,
        obj=participant,
        detail="left relapse-prevention group",
    )
    return participant


# -- attendance -----------------------------------------------------------------------------------
@transaction.atomic
def attendance_record(*, actor: Actor, meeting_id, participant_id, status: str) -> Attendance:
    """Record (or correct) one participant's attendance at one meeting; safe to repeat."""
    participant = _get_participant(actor, participant_id)
    group = participant.group
    if not runs_group(actor, group):
        raise PermissionDenied
    try:
        meeting = group.meetings.get(pk=meeting_id)
    except (GroupMeeting.DoesNotExist, ValueError, TypeError):
        raise ValidationError({"meeting": _("Choose a meeting of this group.")}) from None
    if status not in Attendance.Status.values:
        raise ValidationError({"status": _("Choose present, absent with notice or no-show.")})
    if meeting.number < participant.joined_at.number:
        raise ValidationError(
            {
                "status": _(
                    "%(patient)s joined at meeting %(joined)d; attendance counts from there."
                )
                % {
                    "patient": participant.trajectory.patient,
                    "joined": participant.joined_at.number,
                }
            }
        )
    if participant.left_on is not None and participant.left_on < meeting_day(meeting):
        raise ValidationError(
            {
                "status": _("%(patient)s left the group on %(date)s, before this meeting.")
                % {
                    "patient": participant.trajectory.patient,
                    "date": participant.left_on.strftime("%d-%m-%Y"),
                }
            }
        )
    if status != Attendance.Status.ABSENT_NOTICE and meeting_day(meeting) > timezone.localdate():
        raise ValidationError(
            {"status": _("Present or no-show can be recorded from the day of the meeting.")}
        )
    attendance, _created = Attendance.objects.update_or_create(
        meeting=meeting, participant=participant, defaults={"status": status}
    )
    audit_record(
        who=actor,
        action=AuditEvent.Action.CHANGE,
        patient_id=participant.trajectory.patient_id,
        obj=attendance,
        detail=f"attendance meeting {meeting.number}: {status}",
    )
    return attendance


# -- consent to be named in a shared group ----------------------------------------------------------
@transaction.atomic
def participant_record_sharing_consent(*, actor: Actor, participant_id) -> GroupParticipant:
    """The coach records that the patient agrees to be seen by name by the POH-GGZ of the
    (other) practice that runs the shared zorggroep group."""
    participant = _get_participant(actor, participant_id)
    if not coaches_for_group(actor, participant.group):
        raise PermissionDenied
    if not participant.group.is_zorggroep_shared:
        raise ValidationError(
            _("Consent to be named applies only to a shared group of the zorggroep.")
        )
    if participant.sharing_consent_at is None:
        participant.sharing_consent_at = timezone.now()
        participant.sharing_consent_by = actor.user
        participant.save(update_fields=["sharing_consent_at", "sharing_consent_by"])
        audit_record(
            who=actor,
            action=AuditEvent.Action.CHANGE,
            patient_id=participant.trajectory.patient_id,
            obj=participant,
            detail="consent: named in shared group",
        )
    return participant
