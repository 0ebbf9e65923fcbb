import uuid

from django.db import migrations, models


def fill_public_ids(apps, schema_editor):
    """Give every existing patient a random public id: one UPDATE on PostgreSQL, rows elsewhere."""
    Patient = apps.get_model("carechain", "Patient")
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(Patient._meta.db_table)
        schema_editor.execute(f"UPDATE {table} SET public_id = gen_random_uuid()")
        return
    for pk in Patient.objects.filter(public_id__isnull=True).values_list("pk", flat=True):
        Patient.objects.filter(pk=pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("carechain", "0005_api_key_feedback_purpose")]

    operations = [
        migrations.AddField(
            model_name="patient",
            name="public_id",
            field=models.UUIDField(editable=False, null=True, verbose_name="public identifier"),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="patient",
            name="public_id",
            field=models.UUIDField(
                default=uuid.uuid4,
                editable=False,
                help_text="The patient's identifier outside this platform (the REST API's id).",
                unique=True,
                verbose_name="public identifier",
            ),
        ),
    ]
