"""The worklist's table rows (``carechain.templatetags.list_tags`` says why in Python)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from carechain.templatetags.list_tags import safe_join, text

register = template.Library()


@register.simple_tag
def worklist_table_rows(rows: list[dict]) -> SafeString:
    """The ``<tr>`` of each row of ``referrals.queries.worklist_rows``, as the page showed them."""
    ketenzorg = f' <span class="badge">{text(gettext("ketenzorg"))}</span>'
    overdue = f' <span class="badge warn">{text(gettext("overdue"))}</span>'
    return safe_join(_row(row, ketenzorg, overdue) for row in rows)


def _row(row: dict, ketenzorg: str, overdue: str) -> str:
    note = row["call_note"]
    note = f'<br><small class="muted">{text(note)}</small>' if note else ""
    return (
        f'\n<tr class="{"overdue" if row["overdue"] else ""}">\n'
        f"  <td>{text(row['received'])}<br>"
        f'<small class="muted">{text(row["received_since"])}</small></td>\n'
        f'  <td><a href="{text(row["url"])}">{text(row["patient"])}</a></td>\n'
        f"  <td>{text(row['practice'])}</td>\n"
        f"  <td>{text(row['channel'])}{ketenzorg if row['ketenzorg'] else ''}</td>\n"
        f"  <td>{text(row['best_time_to_call'])}{note}</td>\n"
        f'  <td><span class="badge state-{text(row["state"])}">{text(row["state_label"])}</span>\n'
        "</td>\n"
        f"  <td>{text(row['coach'] or '–')}</td>\n"
        f"  <td>{text(row['first_contact_due'])}{overdue if row['overdue'] else ''}</td>\n"
        f"  <td>{text(row['failed_attempts'])}</td>\n"
        "</tr>\n"
    )
