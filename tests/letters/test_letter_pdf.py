"""The worker keeps WeasyPrint's font set-up between letters: the letter must come out the same."""

import threading

from django.conf import settings
from weasyprint import HTML

from carechain import pdf
from referrals import letters
from tests import factories


def test_a_letter_rendered_with_the_kept_font_set_up_is_the_plain_weasyprint_letter(db):
    referral = factories.ReferralFactory()
    letter = letters.letter_queue(referral=referral, kind="accepted", moment={})
    html = letters.render_letter_html(letter)
    plain = HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
    assert pdf.html_to_pdf(html) == plain
    assert pdf.html_to_pdf(html) == plain  # the second letter on the same set-up too


def test_each_thread_has_its_own_font_set_up():
    """Pango's font map is not thread-safe; web workers render in threads in eager mode."""
    here = pdf.font_config()
    there = []
    thread = threading.Thread(target=lambda: there.append(pdf.font_config()))
    thread.start()
    thread.join()
    assert pdf.font_config() is here and there[0] is not here
