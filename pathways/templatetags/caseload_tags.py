"""The caseload's table rows (``carechain.templatetags.list_tags`` says why in Python)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from carechain.templatetags.list_tags import safe_join, text

register = template.Library()


@register.simple_tag
def caseload_table_rows(rows: list[dict], is_planner: bool) -> SafeString:
    """The ``<tr>`` of each row of ``pathways.queries.caseload_rows``, as the page showed them."""
    ketenzorg = f' <span class="badge">{text(gettext("ketenzorg"))}</span>'
    overdue = f' <span class="badge warn">{text(gettext("overdue"))}</span>'
    return safe_join(_row(row, is_planner, ketenzorg, overdue) for row in rows)


def _row(row: dict, is_planner: bool, ketenzorg: str, overdue: str) -> str:
    coach = f"<td>{text(row['coach'] or '–')}</td>" if is_planner else ""
    return (
        f'\n<tr class="{"overdue" if row["overdue"] else ""}">\n'
        f'  <td><a href="{text(row["url"])}">{text(row["patient"])}</a><br>'
        f'<small class="muted">{text(row["birth_date"])}</small></td>\n'
        f"  <td>{text(row['practice'])}{ketenzorg if row['ketenzorg'] else ''}</td>\n"
        f'  <td><span class="badge tstate-{text(row["state"])}">{text(row["state_label"])}</span>'
        "</td>\n"
        f"  <td>{text(row['days_in_state'])}</td>\n"
        f"  <td>{text(row['latest_status'] or '–')}</td>\n"
        f"  <td>{text(row['action_label'])}</td>\n"
        f"  <td>{text(row['due'] or '–')}{overdue if row['overdue'] else ''}</td>\n"
        f"  {coach}\n"
        "</tr>\n"
    )
