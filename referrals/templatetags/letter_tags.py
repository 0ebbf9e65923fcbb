import datetime

from django import template

register = template.Library()


@register.filter
def nl_date(value) -> str:
    """An ISO date copied into a letter's facts, shown the Dutch way (31-12-2026)."""
    if not value:
        return ""
    try:
        return datetime.date.fromisoformat(str(value)).strftime("%d-%m-%Y")
    except ValueError:
        return str(value)
