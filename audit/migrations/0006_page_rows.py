import django.db.models.deletion
from django.db import migrations, models

# The patients of a page row refuse UPDATE and DELETE like the log (the function is 0004's).
CREATE = """
CREATE TRIGGER audit_auditeventpatient_append_only
    BEFORE UPDATE OR DELETE ON audit_auditeventpatient
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
"""
DROP = "DROP TRIGGER IF EXISTS audit_auditeventpatient_append_only ON audit_auditeventpatient;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    """One audit row per page of a bulk pull, naming every patient on it (audit.services)."""

    dependencies = [("audit", "0005_parallel_chains")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="object_ids",
            field=models.TextField(blank=True, verbose_name="object ids"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="patient_count",
            field=models.PositiveIntegerField(default=0, verbose_name="patients on the page"),
        ),
        migrations.CreateModel(
            name="AuditEventPatient",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "event_id",
                        "patient_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("patient_id", models.BigIntegerField(verbose_name="patient id")),
                (
                    "event",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="patients",
                        to="audit.auditevent",
                    ),
                ),
            ],
            options={
                "verbose_name": "patient on an audited page",
                "verbose_name_plural": "patients on audited pages",
                "indexes": [
                    models.Index(fields=["patient_id", "event"], name="audit_page_patient")
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
