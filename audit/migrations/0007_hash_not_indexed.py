from django.db import migrations, models


class Migration(migrations.Migration):
    """Drop the two indexes on the random ``hash`` (unique, and its LIKE twin): no query looks a row
    up by its hash, and each row written touched a random page of both (docs/explain/audit_log.md).
    The chain's integrity is the links and ``audit_verify``, not uniqueness."""

    dependencies = [("audit", "0006_page_rows")]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(editable=False, max_length=64),
        ),
    ]
