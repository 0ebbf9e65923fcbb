"""A demo letter campaign in progress at De Linde, made through the real services (idempotent)."""

import random

from carechain.access import Actor
from carechain.demo import make_bsn
from carechain.models import Role

from . import answers, generation, services
from .models import Answer, Campaign

STREETS = ["Kade", "Molenstraat", "Nieuwe Markt", "Brugstraat", "Kerkstraat", "Vlaanderenstraat"]
NAMES = [
    ("Ans", "", "Verhoeven"),
    ("Kees", "van", "Dongen"),
    ("Ria", "", "Smulders"),
    ("Piet", "de", "Bruijn"),
    ("Marian", "", "Hendrickx"),
    ("Johan", "van der", "Heijden"),
    ("Lies", "", "Adriaansen"),
    ("Gerrit", "", "Koevoets"),
    ("Noor", "el", "Amrani"),
    ("Sandra", "", "Vermeulen"),
    ("Tom", "", "Roks"),
    ("Fatma", "", "Yilmaz"),
    ("Henk", "van", "Gastel"),
    ("Ingrid", "", "Lauwerijssen"),
    ("Erik", "de", "Wit"),
    ("Mieke", "", "Jochems"),
]


def demo_csv(seed: int = 12) -> bytes:
    """A HIS export as Dutch Excel writes it: ';', Windows-1252, dd-mm-jjjj."""
    rng = random.Random(seed)
    lines = [
        "BSN;Voorletters;Voornaam;Tussenvoegsel;Achternaam;Geboortedatum;Adres;Postcode;Woonplaats"
    ]
    for first, prefix, last in NAMES:
        lines.append(
            ";".join(
                [
                    make_bsn(rng),
                    f"{first[0]}.",
                    first,
                    prefix,
                    last,
                    f"{rng.randint(1, 28):02d}-{rng.randint(1, 12):02d}-{rng.randint(1950, 1995)}",
                    f"{rng.choice(STREETS)} {rng.randint(1, 120)}",
                    f"47{rng.randint(0, 9)}{rng.randint(0, 9)} {rng.choice(['AB', 'CK', 'LM', 'RT'])}",
                    "Roosendaal",
                ]
            )
        )
    lines.append("123456789;J.;Jan;;Fout;31-02-1970;Straat 1;4701AB;Roosendaal")
    lines.append(";;Riek;;Zonder;01-01-1960;Dorp 2;4702 CD;Roosendaal")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def seed(chain) -> None:
    practice = chain.practices[0]
    if Campaign.objects.filter(practice=practice).exists():
        return
    poh = practice.memberships.filter(role=Role.POH_S).select_related("user").first()
    if poh is None:
        return
    actor = Actor.for_user(poh.user)
    campaign = services.campaign_create(actor=actor, name="Brievenactie najaar")
    services.campaign_upload_list(
        actor=actor, campaign_id=campaign.pk, raw=demo_csv(), filename="his-export-rokers.csv"
    )
    free = list(services.eligible_patients(actor, campaign)[:2])
    services.campaign_add_patients(
        actor=actor, campaign_id=campaign.pk, patient_ids=[p.pk for p in free]
    )
    generation.campaign_generate_letters(actor=actor, campaign_id=campaign.pk)
    for (
        chunk
    ) in campaign.chunks.all():  # now, not after the seed's commit: the answers need letters
        generation.chunk_render(chunk_id=chunk.pk)
    invitees = list(campaign.invitees.order_by("pk"))
    answers.invitee_answer_public(
        code=invitees[0].response_code,
        answer=Answer.YES,
        phone="06-12345678",
        best_time_to_call="morning",
        consent=True,
    )
    answers.invitee_answer_public(code=invitees[1].response_code, answer=Answer.NO)
    registered = [i for i in invitees if i.patient_id]
    if registered:
        answers.invitee_record_phone_answer(
            actor=actor, invitee_id=registered[0].pk, answer=Answer.YES, consent=True
        )
        answers.invitee_refer(actor=actor, invitee_id=registered[0].pk, consent_data_exchange=True)
