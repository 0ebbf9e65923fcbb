"""The stored English detail codes of the audit log, shown as Dutch to the privacy officer."""

import pytest
from django.utils import translation

from audit.details import readable


@pytest.mark.parametrize(
    "stored, shown",
    [
        ("record_intake", "intake vastgelegd"),
        ("api referral list", "verwijzingenlijst via de REST-API"),
        ("feedback letter intake_done", "terugkoppelbrief: intake gedaan"),
        (
            "API key Ab12Cd34 (feedback) of Praktijk A made, expires 2027-01-01 00:00",
            "API-sleutel Ab12Cd34 (feedback) van Praktijk A aangemaakt, verloopt 2027-01-01 00:00",
        ),
        (
            "API key Ab12Cd34 (claims) of Verzekeraar A revoked",
            "API-sleutel Ab12Cd34 (claims) van Verzekeraar A ingetrokken",
        ),
        (
            "audit log export up to #12: no filter",
            "toegangslogboek geëxporteerd tot en met #12 (geen filter)",
        ),
        (
            "registration by 01234567: no field updated, 1 insurance and 0 enrolment periods sent, "
            "0 stored periods changed",
            "inschrijving door 01234567: geen veld bijgewerkt, 1 verzekerings- en 0 "
            "ketenzorgperioden gestuurd, 0 opgeslagen perioden gewijzigd",
        ),
        ("", ""),
        ("an unknown text", "an unknown text"),
    ],
)
def test_stored_details_read_as_dutch(stored, shown):
    with translation.override("nl"):
        assert readable(stored) == shown


def test_the_object_column_names_the_kind_of_record_in_dutch():
    from audit.details import readable_object

    with translation.override("nl"):
        assert readable_object("carechain.patient") == "patiënt"
        assert readable_object("billing.claim") == "declaratie"
        assert readable_object("gone.model") == "gone.model"
        assert readable_object("") == ""
