"""Validators for the Dutch identifiers the chain runs on.

BSN (burgerservicenummer, citizen service number): 9 digits passing the 11-proef.
AGB code (Vektis register of care providers): 8 digits. UZOVI code (insurer register): 4 digits.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.nl import bsn as stdnum_bsn

# ASCII digits only: \d would also pass Arabic-Indic or full-width digits ("０１０５１２３４").
_DIGITS = re.compile(r"[0-9]+")


def normalise_bsn(value: str) -> str:
    return stdnum_bsn.compact(str(value or ""))


def validate_bsn(value: str) -> None:
    try:
        stdnum_bsn.validate(value)
    except InvalidChecksum:
        raise ValidationError(
            _("This BSN fails the 11-proef (check digit test); check for a typing error."),
            code="bsn_checksum",
        ) from None
    except (InvalidLength, InvalidFormat):
        raise ValidationError(_("A BSN consists of exactly 9 digits."), code="bsn_format") from None


def _validate_digits(value: str, length: int, message) -> None:
    if not (isinstance(value, str) and len(value) == length and _DIGITS.fullmatch(value)):
        raise ValidationError(message, code="invalid", params={"value": value})


def validate_agb(value: str) -> None:
    _validate_digits(value, 8, _("An AGB code consists of exactly 8 digits."))


def validate_uzovi(value: str) -> None:
    _validate_digits(value, 4, _("A UZOVI code consists of exactly 4 digits."))
