"""Helpers of the campaign tests: HIS export files as GP information systems write them."""

from __future__ import annotations

from campaigns import services
from carechain.access import Actor

HEADER = [
    "BSN",
    "Voorletters",
    "Voornaam",
    "Tussenvoegsel",
    "Achternaam",
    "Geboortedatum",
    "Adres",
    "Postcode",
    "Woonplaats",
]


def row(
    bsn,
    last_name="Vries",
    *,
    first="Jan",
    prefix="de",
    birth="31-12-1965",
    address="Dorpsstraat 12",
    postcode="4701 AB",
    city="Roosendaal",
):
    return [bsn, f"{first[:1]}.", first, prefix, last_name, birth, address, postcode, city]


def his_export(rows, *, delimiter=";", encoding="utf-8", bom=False, header=HEADER) -> bytes:
    text = "\r\n".join(delimiter.join(cells) for cells in [header, *rows]) + "\r\n"
    raw = text.encode(encoding)
    return (b"\xef\xbb\xbf" + raw) if bom else raw


def upload(user, campaign, rows, **kwargs):
    return services.campaign_upload_list(
        actor=Actor.for_user(user),
        campaign_id=campaign.pk,
        raw=his_export(rows, **kwargs),
        filename="export.csv",
    )
