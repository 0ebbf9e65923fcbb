from django.db import migrations, models


def install(apps, schema_editor):
    from billing import claim_documents

    claim_documents.install(schema_editor)


def uninstall(apps, schema_editor):
    from billing import claim_documents

    claim_documents.uninstall(schema_editor)


class Migration(migrations.Migration):
    """A claim's REST document and FHIR search entry, kept on the row by a PostgreSQL trigger
    (billing.claim_documents); every existing row is written once.

    The trigger's SQL is compiled from today's document code when this runs. A later change of a
    document gets a migration of its own calling ``claim_documents.install`` again
    (tests/billing/test_claim_documents.py fails until it exists).
    """

    dependencies = [
        ("billing", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="claim",
            name="api_document",
            field=models.TextField(default="", editable=False),
        ),
        migrations.AddField(
            model_name="claim",
            name="fhir_entry",
            field=models.TextField(default="", editable=False),
        ),
        migrations.RunPython(install, uninstall),
    ]
