"""Opaque, non-sequential identifiers for everything the platform sends outside (FHIR Task and
feedback Bundle ids): existing rows get a random UUID each, then the column becomes unique."""

import uuid

from django.db import migrations, models


def fill_public_ids(apps, schema_editor):
    """A random public id for every existing row: one UPDATE per table on PostgreSQL (a region's
    million referrals in seconds), rows elsewhere (as carechain 0006 does for patients)."""
    for model_name in ("Referral", "FeedbackLetter"):
        model = apps.get_model("referrals", model_name)
        if schema_editor.connection.vendor == "postgresql":
            table = schema_editor.quote_name(model._meta.db_table)
            # The table name is the model's own, quoted; nothing here comes from outside.
            sql = f"UPDATE {table} SET public_id = gen_random_uuid() WHERE public_id IS NULL"  # noqa: S608
            schema_editor.execute(sql)
            continue
        for pk in model.objects.filter(public_id__isnull=True).values_list("pk", flat=True):
            model.objects.filter(pk=pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("referrals", "0003_letter_interrupted")]

    operations = [
        migrations.AddField(
            model_name="referral",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="feedbackletter",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="referral",
            name="public_id",
            field=models.UUIDField(
                default=uuid.uuid4,
                editable=False,
                help_text="The referral's identifier outside this platform (FHIR Task id).",
                unique=True,
                verbose_name="public identifier",
            ),
        ),
        migrations.AlterField(
            model_name="feedbackletter",
            name="public_id",
            field=models.UUIDField(
                default=uuid.uuid4,
                editable=False,
                help_text="The identifier of this feedback outside this platform (FHIR Bundle id).",
                unique=True,
                verbose_name="public identifier",
            ),
        ),
        migrations.AddIndex(
            model_name="referral",
            index=models.Index(fields=["updated_at", "public_id"], name="referral_changed_idx"),
        ),
    ]
