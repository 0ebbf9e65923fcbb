"""The database connection dropped in the middle of a FHIR delivery: a 503 the sender can retry,
nothing stored, and the retry makes the one referral.

PostgreSQL only: the request's own backend is really terminated (``pg_terminate_backend`` from a
second connection) just as the referral row is written, inside the intake transaction.
"""

import psycopg2
import pytest
from django.db import connection
from rest_framework.test import APIClient

from referrals.models import Referral

from .fhir_samples import (
    appointment_request,
    intake_key,
    outcome_issue,
    post_document,
    stored_counts,
)


def _terminate_own_backend_on(marker: str):
    """An execute wrapper that kills this connection's backend before the first ``marker`` query."""
    fired = []

    def wrapper(execute, sql, params, many, context):
        if not fired and marker in sql:
            fired.append(sql)
            pid = context["connection"].connection.info.backend_pid
            settings = connection.settings_dict
            admin = psycopg2.connect(
                dbname=settings["NAME"],
                user=settings["USER"],
                host=settings["HOST"],
                port=settings["PORT"],
                password=settings["PASSWORD"],
            )
            admin.autocommit = True
            with admin.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            admin.close()
        return execute(sql, params, many, context)

    return wrapper, fired


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_mid_intake_is_a_503_to_retry_and_the_retry_makes_one_referral(
    postgresql_only, chain
):
    key = intake_key(chain.practice_a)
    bundle = appointment_request(practice_agb=chain.practice_a.agb, provider_agb=chain.provider.agb)
    before = stored_counts()
    wrapper, fired = _terminate_own_backend_on('INSERT INTO "referrals_referral"')

    with connection.execute_wrapper(wrapper):
        response = post_document(APIClient(), bundle, key=key)

    assert fired, "the backend was never terminated"
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert outcome_issue(response)["code"] == "transient"
    connection.close()  # the test's own connection was the one terminated
    assert stored_counts() == before  # no patient, referral or document half-written

    retry = post_document(APIClient(), bundle, key=key)

    assert retry.status_code == 201
    assert Referral.objects.count() == before[0] + 1
    assert stored_counts() == (before[0] + 1, before[1] + 1, before[2] + 1)
