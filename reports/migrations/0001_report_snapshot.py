import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("carechain", "0006_patient_public_id"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReportSnapshot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("period_key", models.CharField(max_length=10, verbose_name="period")),
                ("today", models.DateField(verbose_name="computed for the day")),
                ("computed_at", models.DateTimeField(verbose_name="computed at")),
                ("seconds", models.FloatField(default=0, verbose_name="seconds to compute")),
                ("version", models.PositiveSmallIntegerField(verbose_name="version of the figures")),
                ("figures", models.JSONField(verbose_name="figures")),
                (
                    "zorggroep",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="report_snapshots",
                        to="carechain.zorggroep",
                    ),
                ),
            ],
            options={
                "verbose_name": "report snapshot",
                "verbose_name_plural": "report snapshots",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("zorggroep", "period_key"), name="report_snapshot_one_per_period"
                    )
                ],
            },
        ),
    ]
