"""Joins the two index migrations of the worklist (0008_worklist_index) and the daily scan's first
contacts (0008_referral_first_contact_due_index), written side by side."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0008_referral_first_contact_due_index"),
        ("referrals", "0008_worklist_index"),
    ]

    operations = []
