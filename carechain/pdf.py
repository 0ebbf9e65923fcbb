"""HTML to PDF with WeasyPrint, with the font set-up kept for the life of the process.

``HTML(...).write_pdf()`` without a ``font_config`` builds a new ``FontConfiguration`` (a fresh
Pango font map) for every document, so every letter looks its fonts up again and shapes its
text with cold caches: on a one-page letter that is 10-15 % of the render. One configuration per
thread (Pango's font map is not thread-safe; a Celery prefork child has one thread, a web
worker in eager mode several) gives the same bytes, as long as no document brings ``@font-face``
rules of its own (ours use the system's DejaVu fonts only).
"""

from __future__ import annotations

import threading

from django.conf import settings

_local = threading.local()


def font_config():
    from weasyprint.text.fonts import FontConfiguration

    config = getattr(_local, "font_config", None)
    if config is None:
        config = _local.font_config = FontConfiguration()
    return config


def html_to_document(html: str):
    """WeasyPrint's laid-out ``Document`` of ``html`` (pages that can be joined with others'),
    relative URLs (images, style sheets) resolving against BASE_DIR."""
    from weasyprint import HTML

    return HTML(string=html, base_url=str(settings.BASE_DIR)).render(font_config=font_config())


def html_to_pdf(html: str) -> bytes:
    """The PDF of ``html``; relative URLs (images, style sheets) resolve against BASE_DIR."""
    return html_to_document(html).write_pdf()
