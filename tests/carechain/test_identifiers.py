import pytest
from django.core.exceptions import ValidationError

from carechain.validators import validate_agb, validate_bsn, validate_uzovi


@pytest.mark.parametrize("bsn", ["123456782", "111222333"])
def test_bsn_passing_the_11_proef_is_accepted(bsn):
    validate_bsn(bsn)


@pytest.mark.parametrize("bsn", ["123456781", "111222334"])
def test_bsn_failing_the_11_proef_is_refused_with_a_clear_message(bsn):
    with pytest.raises(ValidationError) as exc:
        validate_bsn(bsn)
    assert "11-proef" in exc.value.messages[0]


@pytest.mark.parametrize("bsn", ["12345678A", "1234567890", "abc"])
def test_bsn_of_wrong_shape_is_refused(bsn):
    with pytest.raises(ValidationError) as exc:
        validate_bsn(bsn)
    assert "9" in exc.value.messages[0]


def test_agb_needs_exactly_eight_digits():
    validate_agb("01051234")
    for bad in ("0105123", "010512345", "0105123a", ""):
        with pytest.raises(ValidationError):
            validate_agb(bad)


def test_uzovi_needs_exactly_four_digits():
    validate_uzovi("7119")
    for bad in ("71190", "711", "71a9"):
        with pytest.raises(ValidationError):
            validate_uzovi(bad)
