from django import template

from audit.details import readable

register = template.Library()


@register.filter
def audit_detail(detail: str) -> str:
    """The stored detail as readable text in the active language (see audit.details)."""
    return readable(detail)
