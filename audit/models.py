"""Append-only log of every access to patient data, in the spirit of NEN 7513.

Rows hold copies (names, roles, organisation) rather than foreign keys, so the log survives changes
and deletions elsewhere and never blocks them. Each row carries the hash of the previous row: any
later change or deletion breaks the chain, which ``manage.py audit_verify`` detects. There are
several chains side by side (``chain``), so that simultaneous writers need not wait for each other
(see ``audit.services``). On PostgreSQL
a trigger (see the migration) additionally refuses UPDATE and DELETE.

A row names one patient (``patient_id``), or, for a page of a bulk pull, every patient on the page
through ``AuditEventPatient`` (``patient_count`` of them) and every object in ``object_ids``; the
row's hash covers that list too (``audit.services`` explains why a page is one row).
"""

import hashlib
import json

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _encode(payload: dict) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=True)


def _json_scalar(value) -> str:
    """``json.dumps(value)`` (ASCII), without the encoder's set-up for the common values of an
    audit row's varying fields: a whole number, null, a string of letters and digits."""
    kind = type(value)
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    if kind is str and value.isascii() and value.isalnum():
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=True)


def _digest(payload: dict) -> str:
    return hashlib.sha256(_encode(payload).encode()).hexdigest()


# Placeholders of AuditEvent.chain_hashes: no audit row's values contain NUL characters (they are
# refused at the edge), so these cannot collide with one; chain_hashes checks it all the same.
_PREV, _PATIENT, _OBJECT = "\x00prev\x00", "\x00patient\x00", "\x00object\x00"
_MARKS = (_PREV, _PATIENT, _OBJECT)


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit row through the ORM."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The audit log is append-only.")

    def delete(self):
        raise AppendOnlyError("The audit log is append-only.")


class AppendOnlyModel(models.Model):
    """Rows that are written once and never changed or deleted through the ORM (on PostgreSQL a
    trigger refuses it in the database too, see the migrations)."""

    objects = AuditQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise AppendOnlyError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The audit log is append-only.")


class AuditEvent(AppendOnlyModel):
    class Action(models.TextChoices):
        VIEW = "view", _("view")
        LIST = "list", _("list / search hit")
        CREATE = "create", _("create")
        CHANGE = "change", _("change")
        PRINT = "print", _("print / download")
        EXPORT = "export", _("export")
        LOGIN = "login", _("login")
        LOGIN_FAILED = "login_failed", _("failed login")
        LOCKOUT = "lockout", _("account locked")
        SECURITY = "security", _("security change")

    class Channel(models.TextChoices):
        WEB = "web", _("web")
        API = "api", _("REST API")
        FHIR = "fhir", _("FHIR")
        ADMIN = "admin", _("admin")
        TASK = "task", _("background task")

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    user_id = models.BigIntegerField(_("user id"), null=True, blank=True, db_index=True)
    username = models.CharField(_("user"), max_length=150, blank=True)
    api_key = models.CharField(_("API key"), max_length=150, blank=True)
    roles = models.CharField(_("roles"), max_length=200, blank=True)
    organisation = models.CharField(_("organisation"), max_length=300, blank=True)
    patient_id = models.BigIntegerField(_("patient id"), null=True, blank=True, db_index=True)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=60, blank=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    # A page of a bulk pull: how many patients it names (AuditEventPatient), the objects' keys.
    patient_count = models.PositiveIntegerField(_("patients on the page"), default=0)
    object_ids = models.TextField(_("object ids"), blank=True)
    chain = models.PositiveSmallIntegerField(_("chain"), default=0, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    # Not indexed: nothing looks a row up by its hash (docs/explain/audit_log.md).
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["chain", "-id"], name="audit_chain_newest")]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username or self.api_key} {self.action}"

    @property
    def object_count(self) -> int:
        return self.object_ids.count(",") + 1 if self.object_ids else 0

    def compute_hash(self, patients: list[int] | None = None) -> str:
        """``patients``: the ids a page row names (``AuditEventPatient``), ascending."""
        return _digest(self._hash_payload(patients))

    def _hash_payload(self, patients: list[int] | None = None) -> dict:
        payload = {
            "prev": self.prev_hash,
            "at": self.at.isoformat(),
            "action": self.action,
            "channel": self.channel,
            "user_id": self.user_id,
            "username": self.username,
            "api_key": self.api_key,
            "roles": self.roles,
            "organisation": self.organisation,
            "patient_id": self.patient_id,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "detail": self.detail,
            "ip": self.ip,
        }
        if self.patient_count or self.object_ids or patients:
            # Only page rows carry these keys, so the rows written before them hash as they did.
            payload["patient_count"] = self.patient_count
            payload["patients"] = list(patients or [])
            payload["object_ids"] = self.object_ids
        return payload

    @classmethod
    def chain_hashes(
        cls, constant: dict, rows: list[tuple[int | None, str]], *, prev: str
    ) -> list[str]:
        """The hashes ``compute_hash`` gives rows that differ only in patient id and object id,
        each linked to the one before (the first to ``prev``).

        ``constant`` holds the other fields. The JSON of one row is made once with placeholders
        and filled in per row, which gives the same bytes as ``json.dumps`` of each row's payload
        (tests/audit/test_audit_log.py) at a fraction of the cost on a page of hundreds of rows.
        """
        row = cls(**constant, prev_hash=_PREV, object_id=_OBJECT)
        payload = row._hash_payload()
        payload["patient_id"] = _PATIENT
        template = _encode(payload)
        marks = {mark: json.dumps(mark) for mark in _MARKS}
        hashes = []
        if any(template.count(encoded) != 1 for encoded in marks.values()):
            # A placeholder among the row's own values: hash each row the slow way.
            for patient_id, object_id in rows:
                row.prev_hash, row.patient_id, row.object_id = prev, patient_id, object_id
                prev = row.compute_hash()
                hashes.append(prev)
            return hashes
        parts, rest = [], template
        for mark in sorted(_MARKS, key=lambda mark: template.index(marks[mark])):
            before, _found, rest = rest.partition(marks[mark])
            parts.append((before, mark))
        # The three pieces between the placeholders, and where each value goes.
        (first, first_mark), (second, second_mark), (third, third_mark) = parts
        slot = {first_mark: 0, second_mark: 1, third_mark: 2}
        prev_slot, patient_slot, object_slot = slot[_PREV], slot[_PATIENT], slot[_OBJECT]
        values = [None, None, None]
        sha256 = hashlib.sha256
        for patient_id, object_id in rows:
            values[prev_slot] = _json_scalar(prev)
            values[patient_slot] = _json_scalar(patient_id)
            values[object_slot] = _json_scalar(object_id)
            text = f"{first}{values[0]}{second}{values[1]}{third}{values[2]}{rest}"
            prev = sha256(text.encode("ascii")).hexdigest()
            hashes.append(prev)
        return hashes


class AuditEventPatient(AppendOnlyModel):
    """One patient named by a page row of the log (a page of an insurer's claims pull).

    The per-patient index of the log for such rows: the patient's access report and the privacy
    officer's search find a page row through its patients here. No foreign-key constraint, as the
    log itself has none; the hash of the event covers its patients, so ``audit_verify`` notices a
    row taken away from or added to an event.
    """

    pk = models.CompositePrimaryKey("event_id", "patient_id")
    event = models.ForeignKey(
        AuditEvent,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the primary key (event, patient) starts with it
        related_name="patients",
    )
    patient_id = models.BigIntegerField(_("patient id"))

    class Meta:
        indexes = [models.Index(fields=["patient_id", "event"], name="audit_page_patient")]
        verbose_name = _("patient on an audited page")
        verbose_name_plural = _("patients on audited pages")

    def __str__(self) -> str:
        return f"#{self.event_id} patient {self.patient_id}"


class AuditCheckpoint(AppendOnlyModel):
    """The newest row of one chain that a full verification saw, kept beside the log.

    Removing the newest rows of the log breaks no link between the rows that remain; the next
    verification notices it because a checkpoint names a row that is gone. Append-only like the log
    (the same PostgreSQL trigger), and written to the worker log too, for a copy outside the database.
    """

    at = models.DateTimeField(_("time"), default=timezone.now)
    chain = models.PositiveSmallIntegerField(_("chain"), default=0)
    last_event_id = models.BigIntegerField(_("last row"))
    last_hash = models.CharField(_("hash of the last row"), max_length=64)
    rows = models.BigIntegerField(_("rows"))

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} #{self.last_event_id}"
