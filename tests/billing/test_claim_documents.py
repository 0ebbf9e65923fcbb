"""A claim's REST document and FHIR search entry are kept on its row by a PostgreSQL trigger.

Whatever writes the row (create, bulk_create, the answer and correction services, an UPDATE of one
field), the stored JSON is what ``ClaimOutput`` and ``claim_resource`` say, in summer and winter
time; a page built from it is byte for byte the page built whole at read time; and the installed
trigger is the one the document code compiles today, so a change of the document without a
migration that installs it again fails here (billing.claim_documents).
"""

import datetime
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from billing import claim_documents, fhir
from billing import claims as claims_service
from billing.api import documents
from billing.api.serializers import ClaimOutput
from billing.fhir_search import claim_entry_json, claim_entry_json_built
from billing.models import Claim
from carechain.access import Actor
from carechain.models import OrganisationAPIKey
from tests.billing.claims_support import (
    LIST_URL,
    claim_row,
    claims_key,
    many_claim_rows,
)
from tests.billing.test_claims_pull import SEARCH_URL, _varied_claims

BASE = "http://testserver/fhir/Claim/"
LINKS = ("replaces", "replaced_by")


def _assert_documents_are_the_claims(claims) -> None:
    """Each claim's stored documents give exactly what the Python definitions give."""
    assert claims
    listed = claims_service.with_links(Claim.objects.filter(pk__in=[c.pk for c in claims]))
    rows = listed.order_by("pk").annotate(
        served=documents.claim_output_json(),
        built=documents.claim_output_json_built(),
        entry=claim_entry_json(base_url=BASE),
        entry_built=claim_entry_json_built(base_url=BASE),
    )
    for claim in rows:
        expected = json.loads(JSONRenderer().render(ClaimOutput(claim).data))
        own = {key: value for key, value in expected.items() if key not in LINKS}
        assert json.loads(claim.api_document + "}") == own, claim.claim_number
        assert list(json.loads(claim.api_document + "}")) == list(own)  # the key order too
        assert claim.served == claim.built  # byte for byte the document built whole
        assert json.loads(claim.served) == expected
        assert claim.entry == claim.entry_built
        assert json.loads(claim.entry) == json.loads(fhir.claim_search_entry(claim, base_url=BASE))


def _insurer_actor(insurer) -> Actor:
    key, _secret = OrganisationAPIKey.objects.create_key(
        name="documents", organisation=insurer, purpose=OrganisationAPIKey.Purpose.CLAIMS
    )
    return Actor.for_api_key(key, channel="api", ip=None)


# -- every write path keeps them right ------------------------------------------------------------
@pytest.mark.postgres
def test_a_created_claim_has_its_documents(postgresql_only, chain, prestaties):
    _assert_documents_are_the_claims([claim_row(chain, prestaties["programme"])])


@pytest.mark.postgres
def test_claims_made_in_bulk_have_their_documents(postgresql_only, chain, prestaties):
    made = many_claim_rows(chain, list(prestaties.values()), 12)
    assert {claim.api_document for claim in made} == {""}  # the instances are not refreshed
    _assert_documents_are_the_claims(made)


@pytest.mark.postgres
def test_answering_claims_rewrites_their_documents(postgresql_only, chain, prestaties):
    accepted = claim_row(chain, prestaties["programme"])
    rejected = claim_row(chain, prestaties["nrt"])
    claims_service.claim_answer_many(
        actor=_insurer_actor(chain.insurer_a),
        answers=[
            claims_service.ClaimAnswer(accepted.claim_number, "accepted"),
            claims_service.ClaimAnswer(rejected.claim_number, "rejected", "8001", 'Niet "geldig"'),
        ],
    )
    stored = dict(Claim.objects.values_list("claim_number", "api_document"))
    assert '"status" : "accepted"' in stored[accepted.claim_number]
    assert '"rejection_text" : "Niet \\"geldig\\""' in stored[rejected.claim_number]
    _assert_documents_are_the_claims([accepted, rejected])


@pytest.mark.postgres
def test_a_resubmission_rewrites_both_versions_and_the_page_links_them(
    postgresql_only, chain, prestaties, planner
):
    rejected = claim_row(chain, prestaties["programme"], status="rejected", rejection_code="8001")
    corrected = claims_service.claim_resubmit(
        actor=Actor.for_user(planner), claim_id=rejected.pk, amount=Decimal("250.00")
    )
    rejected.refresh_from_db()
    assert rejected.status == Claim.Status.SUPERSEDED
    assert '"status" : "superseded"' in rejected.api_document
    _assert_documents_are_the_claims([rejected, corrected])
    links = {
        claim.claim_number: (claim.replaces, claim.replaced_by)
        for claim in claims_service.with_links(Claim.objects.all())
    }
    assert links == {
        rejected.claim_number: (None, corrected.claim_number),
        corrected.claim_number: (rejected.claim_number, None),
    }


@pytest.mark.postgres
def test_an_update_of_one_field_rewrites_the_documents(postgresql_only, chain, prestaties):
    claim = claim_row(chain, prestaties["programme"])
    Claim.objects.filter(pk=claim.pk).update(patient_name="Zoë \u00e9\u00e9n\n\t🚭", amount="1.5")
    claim.refresh_from_db()
    assert '"patient_name" : "Zoë één\\n\\t🚭"' in claim.api_document
    assert '"amount" : "1.50"' in claim.api_document
    _assert_documents_are_the_claims([claim])


@pytest.mark.postgres
def test_moments_are_stored_in_summer_and_winter_time(postgresql_only, chain, prestaties):
    """Answered in January (+01:00) and July (+02:00), created a microsecond before midnight of
    new year, changed as summer time begins, answered as it ends."""
    claims = _varied_claims(chain, prestaties)
    stored = {c.pk: c.api_document for c in Claim.objects.filter(pk__in=[c.pk for c in claims])}
    winter, summer, rejected, _corrected = claims
    assert '"answered_at" : "2026-01-15T10:30:00+01:00"' in stored[winter.pk]
    assert '"created_at" : "2026-01-01T00:59:59.999999+01:00"' in stored[winter.pk]
    assert '"answered_at" : "2026-07-02T00:15:03.120000+02:00"' in stored[summer.pk]
    assert '"updated_at" : "2026-03-29T03:00:00+02:00"' in stored[summer.pk]
    assert '"answered_at" : "2026-10-25T02:30:00+01:00"' in stored[rejected.pk]
    _assert_documents_are_the_claims(claims)


@pytest.mark.postgres
def test_a_value_written_into_the_documents_is_overwritten(postgresql_only, chain, prestaties):
    claim = claim_row(chain, prestaties["programme"])
    Claim.objects.filter(pk=claim.pk).update(api_document='{"forged" : 1', fhir_entry="x")
    _assert_documents_are_the_claims([claim])


@pytest.mark.postgres
def test_a_claim_number_that_is_no_fhir_id_is_built_at_read_time(
    postgresql_only, chain, prestaties
):
    claim = claim_row(chain, prestaties["programme"], claim_number="SMR 1/odd")
    claim.refresh_from_db()
    assert claim.fhir_entry == ""
    listed = claims_service.with_links(Claim.objects.all())
    entry = json.loads(listed.annotate(e=claim_entry_json(base_url=BASE)).get().e)
    assert "fullUrl" not in entry and "id" not in entry["resource"]
    _assert_documents_are_the_claims([claim])


# -- the pages read them ---------------------------------------------------------------------------
def _page_sql(queries) -> str:
    """The page's query: the claims with their documents, one page and one row more."""
    (sql,) = [
        q["sql"]
        for q in queries
        if q["sql"].startswith('SELECT "billing_claim"."id"') and " LIMIT " in q["sql"]
    ]
    return sql


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("url", "stored"), [(LIST_URL, "api_document"), (SEARCH_URL, "fhir_entry")]
)
def test_a_page_is_byte_for_byte_the_page_built_whole(
    api, chain, prestaties, postgresql_only, monkeypatch, url, stored
):
    _varied_claims(chain, prestaties)
    headers = claims_key(chain.insurer_a)
    with CaptureQueriesContext(connection) as queries:
        from_stored = api.get(url, **headers)
    assert f'"billing_claim"."{stored}"' in _page_sql(queries)
    monkeypatch.setattr("carechain.json_sql.is_stored_zone", lambda: False)
    with CaptureQueriesContext(connection) as queries:
        built = api.get(url, **headers)
    assert f'"billing_claim"."{stored}"' not in _page_sql(queries)
    assert from_stored.status_code == built.status_code == 200
    assert from_stored.content == built.content


@pytest.mark.postgres
def test_another_time_zone_builds_the_documents_at_read_time(postgresql_only, chain, prestaties):
    from django.utils import timezone

    claim_row(chain, prestaties["programme"])
    with timezone.override("America/Sao_Paulo"):
        listed = claims_service.with_links(Claim.objects.all())
        sql = str(listed.values(d=documents.claim_output_json()).query)
    assert "JSON_BUILD_OBJECT" in sql and "api_document" not in sql


# -- the trigger is the one the code compiles -------------------------------------------------------
def _installed_function() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", [claim_documents.FUNCTION])
        return cursor.fetchone()[0]


@pytest.mark.postgres
def test_the_installed_trigger_is_what_the_document_code_compiles(postgresql_only):
    """Fails when a document changed without a migration calling ``claim_documents.install``."""
    assert _installed_function() == claim_documents.function_sql()


@pytest.mark.postgres
def test_a_changed_claim_output_changes_the_trigger(postgresql_only, monkeypatch):
    """What the test above guards against: a field added to (or dropped from) the output."""
    fields = [name for name in ClaimOutput.Meta.fields if name != "bsn"]
    monkeypatch.setattr(ClaimOutput.Meta, "fields", fields)
    assert _installed_function() != claim_documents.function_sql()


def test_the_links_must_come_after_the_claims_own_fields(monkeypatch):
    monkeypatch.setattr(ClaimOutput.Meta, "fields", ["replaces", *documents.own_fields()])
    with pytest.raises(ImproperlyConfigured):
        documents.claim_output_stored(documents.F)


@pytest.mark.postgres
def test_installing_again_writes_the_documents_of_every_row(postgresql_only, chain, prestaties):
    claims = many_claim_rows(chain, list(prestaties.values()), 6)
    table = Claim._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {claim_documents.TRIGGER}")
        cursor.execute(f"UPDATE {table} SET api_document = '', fhir_entry = ''")  # noqa: S608
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {claim_documents.TRIGGER}")
    assert set(Claim.objects.values_list("api_document", flat=True)) == {""}
    with connection.schema_editor() as editor:
        claim_documents.install(editor)
    _assert_documents_are_the_claims(claims)


def test_the_documents_stay_empty_on_other_databases(db, chain, prestaties):
    claim = claim_row(chain, prestaties["programme"])
    claim.refresh_from_db()
    if connection.vendor == "postgresql":
        assert claim.api_document.startswith('{"claim_number" : ')
    else:
        assert (claim.api_document, claim.fhir_entry) == ("", "")


@pytest.mark.postgres
def test_stored_moments_are_in_the_settings_time_zone(postgresql_only, chain, prestaties, settings):
    claim = claim_row(
        chain,
        prestaties["programme"],
        created_at=datetime.datetime(2026, 7, 1, 12, 0, tzinfo=datetime.UTC),
    )
    claim.refresh_from_db()
    assert settings.TIME_ZONE == "Europe/Amsterdam"
    assert '"created_at" : "2026-07-01T14:00:00+02:00"' in claim.api_document
