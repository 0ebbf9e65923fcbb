"""Sets ``Trajectory.follow_up_reminder_open`` for every trajectory that has an open follow-up
call reminder: what the scan would have set had it kept the flag from the start. One UPDATE."""

from django.db import migrations

FILL = (
    "UPDATE pathways_trajectory SET follow_up_reminder_open = TRUE WHERE id IN ("
    "SELECT trajectory_id FROM reminders_reminder WHERE kind = 'follow_up_call' "
    "AND resolved_at IS NULL AND trajectory_id IS NOT NULL)"
)


class Migration(migrations.Migration):
    dependencies = [
        ("reminders", "0003_scan_index_only"),
        ("pathways", "0008_scan_work_indexes"),
    ]

    operations = [migrations.RunSQL(FILL, reverse_sql=migrations.RunSQL.noop)]
