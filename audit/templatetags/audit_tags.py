from django import template

from audit.details import readable, readable_object

register = template.Library()


@register.filter
def audit_detail(detail: str) -> str:
    """The stored detail as readable text in the active language (see audit.details)."""
    return readable(detail)


@register.filter
def audit_object(label: str) -> str:
    """The stored object type as the model's name in the active language (see audit.details)."""
    return readable_object(label)
