"""Realistic examples for the referral API's schema (fictitious patient, public test BSN)."""

from drf_spectacular.utils import OpenApiExample

CREATE_REQUEST = OpenApiExample(
    "Referral by a practice's system",
    request_only=True,
    value={
        "practice_agb": "01051234",
        "external_id": "HIS-2025-000187",
        "referrer_name": "dr. A. Jansen",
        "referrer_agb": "01012345",
        "patient": {
            "bsn": "123456782",
            "initials": "M.",
            "first_name": "Marieke",
            "name_prefix": "de",
            "last_name": "Vries",
            "birth_date": "1968-03-14",
            "gender": "female",
            "phone": "06-12345678",
            "email": "m.devries@example.nl",
            "address": "Kerkstraat 12",
            "postal_code": "1234 AB",
            "city": "Alkmaar",
        },
        "reason": "Wil stoppen na longaanval; COPD GOLD 2. Eerder gestopt met pleisters, na 3 "
        "maanden teruggevallen.",
        "cigarettes_per_day": 20,
        "years_smoked": 30,
        "earlier_quit_attempts": 2,
        "motivation": "motivated",
        "ketenzorg_programme": "copd",
        "best_time_to_call": "morning",
        "call_note": "Niet op woensdag",
        "consent_data_exchange": True,
    },
)

PATIENT_ID = "a7c4e2d9-1b3f-4c8a-8e65-0d9f2b71c3e4"
COACH_ID = "5d1e9a3c-7f20-4b6e-a8c4-2e9b0f61d7a5"

DETAIL = {
    "id": "3f2b8c1e-6a4d-4f7e-9b21-5c8d0e7a4f19",
    "state": "accepted",
    "bser_status_code": "3.0",
    "bser_status_display": "Referral Accepted",
    "channel": "api",
    "external_id": "HIS-2025-000187",
    "received_at": "2025-03-03T09:12:44+01:00",
    "first_contact_due": "2025-03-05",
    "first_contact_overdue": False,
    "patient": {
        "id": PATIENT_ID,
        "bsn": "123456782",
        "initials": "M.",
        "first_name": "Marieke",
        "name_prefix": "de",
        "last_name": "Vries",
        "full_name": "Marieke de Vries",
        "birth_date": "1968-03-14",
        "gender": "female",
        "phone": "06-12345678",
        "email": "m.devries@example.nl",
        "address": "Kerkstraat 12",
        "postal_code": "1234 AB",
        "city": "Alkmaar",
    },
    "practice": {"agb": "01051234", "name": "Huisartsenpraktijk De Linde"},
    "provider": {"agb": "73730001", "name": "SineFuma"},
    "coach": {"id": COACH_ID, "name": "Sanne Bakker"},
    "motivation": "motivated",
    "pack_years": 30.0,
    "is_ketenzorg": True,
    "referrer_name": "dr. A. Jansen",
    "referrer_agb": "01012345",
    "reason": "Wil stoppen na longaanval; COPD GOLD 2.",
    "cigarettes_per_day": 20,
    "years_smoked": 30,
    "earlier_quit_attempts": 2,
    "ketenzorg_programme": "copd",
    "best_time_to_call": "morning",
    "call_note": "Niet op woensdag",
    "consent_data_exchange": True,
    "state_changed_at": "2025-03-03T14:02:10+01:00",
    "decline_reason": "",
    "cancel_reason": "",
    "status_note": "",
    "first_contact_at": None,
    "updated_at": "2025-03-03T14:02:10+01:00",
    "history": [
        {
            "at": "2025-03-03T09:12:44+01:00",
            "by_label": "AbC123de (Huisartsenpraktijk De Linde HIS)",
            "action": "received",
            "from_state": "",
            "to_state": "received",
            "note": "Referral received via REST API.",
        },
        {
            "at": "2025-03-03T14:02:10+01:00",
            "by_label": "Sanne Bakker",
            "action": "accept",
            "from_state": "received",
            "to_state": "accepted",
            "note": "",
        },
    ],
    "contact_attempts": [],
    "documents": [],
}

DETAIL_RESPONSE = OpenApiExample("Accepted referral", response_only=True, value=DETAIL)

CONTACT_ATTEMPT_REQUEST = OpenApiExample(
    "Voicemail left",
    request_only=True,
    value={"method": "phone", "result": "voicemail", "note": "Teruggebeld verzocht na 17:00."},
)

DECLINE_REQUEST = OpenApiExample(
    "Outside the region",
    request_only=True,
    value={"reason": "not_in_region", "note": "Patiënt woont in Groningen; verwezen naar collega."},
)

CANCELLATION_REQUEST = OpenApiExample(
    "Patient changed their mind",
    request_only=True,
    value={"reason": "Patiënt wil toch eerst zelf proberen te stoppen."},
)

CREATED = {
    **DETAIL,
    "state": "received",
    "bser_status_code": "2.0",
    "bser_status_display": "Referral Created",
    "coach": None,
    "state_changed_at": DETAIL["received_at"],
    "updated_at": DETAIL["received_at"],
    "history": DETAIL["history"][:1],
}

CREATED_RESPONSE = OpenApiExample(
    "New referral", response_only=True, status_codes=["201", "200"], value=CREATED
)

LIST_RESPONSE = OpenApiExample(
    "A referral in the list",
    response_only=True,
    value={
        key: value
        for key, value in CREATED.items()
        if key
        in {
            "id",
            "state",
            "bser_status_code",
            "bser_status_display",
            "channel",
            "external_id",
            "received_at",
            "first_contact_due",
            "first_contact_overdue",
            "practice",
            "provider",
            "coach",
            "motivation",
            "pack_years",
            "is_ketenzorg",
        }
    }
    | {
        "patient": {
            "id": PATIENT_ID,
            "bsn": "123456782",
            "full_name": "Marieke de Vries",
            "birth_date": "1968-03-14",
        }
    },
)

ASSIGN_REQUEST = OpenApiExample(
    "Assign a coach",
    request_only=True,
    value={"coach": COACH_ID},
    description="The coach's id as GET /api/coaches/ lists it.",
)
