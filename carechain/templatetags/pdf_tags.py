"""Template filters for the PDFs WeasyPrint renders (letters, invoices, the access report)."""

from django import template
from django.utils.safestring import mark_safe

register = template.Library()

_PLAIN = frozenset(" .,-:()/·")


@register.filter
def css_string(value) -> str:
    """The value as the inside of a double-quoted CSS string, such as a page footer's ``content``.

    HTML escaping is wrong there (CSS shows ``&amp;`` as it is) and does not stop a quote from
    ending the string: every character but letters, digits and a few signs becomes a CSS escape.
    """
    text = "" if value is None else str(value)
    return mark_safe(  # noqa: S308 - nothing but letters, digits and escapes is left
        "".join(c if c.isalnum() or c in _PLAIN else f"\\{ord(c):x} " for c in text)
    )
