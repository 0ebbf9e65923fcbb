import uuid

from django.db import migrations, models


def fill_public_ids(apps, schema_editor):
    """Give every existing user a random public id: one UPDATE on PostgreSQL, rows elsewhere."""
    User = apps.get_model("carechain", "User")
    if schema_editor.connection.vendor == "postgresql":
        table = schema_editor.quote_name(User._meta.db_table)
        schema_editor.execute(f"UPDATE {table} SET public_id = gen_random_uuid()")
        return
    for pk in User.objects.filter(public_id__isnull=True).values_list("pk", flat=True):
        User.objects.filter(pk=pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [("carechain", "0006_patient_public_id")]

    operations = [
        migrations.AddField(
            model_name="user",
            name="public_id",
            field=models.UUIDField(editable=False, null=True, verbose_name="public identifier"),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="user",
            name="public_id",
            field=models.UUIDField(
                default=uuid.uuid4,
                editable=False,
                help_text=(
                    "The person's identifier outside this platform (the REST API names a coach "
                    "by it)."
                ),
                unique=True,
                verbose_name="public identifier",
            ),
        ),
    ]
