"""PostgreSQL connections dropped mid-request during FHIR intake: the client gets a 5xx (a 503 with
an OperationOutcome and Retry-After) it can retry, the retry creates exactly one referral, and
nothing is half-written.

gunicorn (2 workers, persistent connections, as production runs it) serves the product on a
loopback port against this scenario's own throwaway database. A client posts distinct ZorgDomein
and KIS bundles from several threads and sends each again after a 5xx or a dropped connection,
until it is answered 200/201. Meanwhile the fault thread terminates the web server's backends
(``pg_terminate_backend`` on ``pg_stat_activity`` rows of the throwaway database and the web
server's ``application_name`` only, never another database's) at random moments, so requests
lose their connection before, inside and after their transaction.

Counted afterwards in the database, per bundle: no referral (lost), more than one (doubled); and
half-written intake: a patient without a referral, a referral without its document, its
"received" event or its audit row; the audit chains must still verify.
"""

from __future__ import annotations

import collections
import http.client
import random
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
for _path in (ROOT, ROOT / "benchmarks"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

APPLICATION_NAME = "smr_fault_intake_web"
MAX_ATTEMPTS = 20


def run(bounded: bool) -> dict:
    import os

    from harness import setup_django, throwaway_database
    from intake_load import (
        KIS_PATH,
        ZD_PATH,
        build_world,
        fhir_headers,
        gunicorn,
        kis_bodies,
        zorgdomein_bodies,
    )

    items_per_channel, clients = (60, 4) if bounded else (300, 8)
    rng = random.Random(13)  # noqa: S311 - which bundle goes first, not a secret
    with throwaway_database():
        setup_django()
        from django.db import connection, connections

        database = connection.settings_dict["NAME"]
        world = build_world()
        work = [
            (ZD_PATH, world.practice_key, body, "zd")
            for body in zorgdomein_bodies(world, items_per_channel, rng)
        ] + [
            (KIS_PATH, world.zorggroep_key, body, "kis")
            for body in kis_bodies(world, items_per_channel, rng)
        ]
        rng.shuffle(work)
        connections.close_all()

        url = os.environ["DATABASE_URL"]
        web_url = (
            url + ("&" if urlparse(url).query else "?") + f"application_name={APPLICATION_NAME}"
        )
        statuses: collections.Counter = collections.Counter()
        retries = collections.Counter()
        answered: dict[int, int] = {}
        stop = threading.Event()
        terminated = [0]

        def kill_backends() -> None:
            import psycopg2

            admin = psycopg2.connect(url)
            admin.autocommit = True
            try:
                with admin.cursor() as cursor:
                    while not stop.wait(rng.uniform(0.05, 0.4)):
                        cursor.execute(
                            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) "
                            "FROM pg_stat_activity "
                            "WHERE datname = %s AND application_name = %s AND pid <> pg_backend_pid()",
                            [database, APPLICATION_NAME],
                        )
                        terminated[0] += cursor.fetchone()[0]
            finally:
                admin.close()

        with gunicorn(workers=2, extra_env={"DATABASE_URL": web_url, "LOG_LEVEL": "ERROR"}) as port:
            queue = iter(enumerate(work))
            lock = threading.Lock()

            def deliver(conn, index: int, path: str, key: str, body: bytes):
                """Post one bundle until it is answered, as a sender retries a 5xx."""
                status = 0
                for attempt in range(MAX_ATTEMPTS):
                    try:
                        conn.request("POST", path, body=body, headers=fhir_headers(key))
                        response = conn.getresponse()
                        response.read()
                        status = response.status
                        if response.will_close:
                            conn.close()
                    except (OSError, http.client.HTTPException):
                        status = 0
                        conn.close()
                    with lock:
                        statuses[status] += 1
                        if attempt:
                            retries[index] += 1
                    if status not in (0, 500, 502, 503, 504):
                        break
                    time.sleep(0.05 * (attempt + 1))
                answered[index] = status

            def client() -> None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                while True:
                    with lock:
                        item = next(queue, None)
                    if item is None:
                        break
                    index, (path, key, body, _channel) = item
                    deliver(conn, index, path, key, body)
                conn.close()

            killer = threading.Thread(target=kill_backends)
            killer.start()
            threads = [threading.Thread(target=client) for _ in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            stop.set()
            killer.join()
            # A sender whose retries all fell in the storm of faults still has its bundle and
            # sends it again later, as ZorgDomein and a KIS do: once the faults stop.
            unanswered = [i for i, status in answered.items() if status not in (200, 201)]
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for index in unanswered:
                path, key, body, _channel = work[index]
                deliver(conn, index, path, key, body)
            conn.close()

        counts = _count(work)
        final = collections.Counter(answered.values())
        return {
            "fault": "PostgreSQL backends terminated mid-request during FHIR intake",
            "faults_injected": terminated[0],
            "items": len(work),
            "lost": counts["lost"],
            "doubled": counts["doubled"],
            "half_written": counts["half_written"],
            "audit_chains_verify": counts["audit_ok"],
            "answers_seen": dict(sorted(statuses.items())),
            "final_answers": dict(sorted(final.items())),
            "requests_retried": len(retries),
            "sent_again_after_the_faults": len(unanswered),
            "ok": counts["half_written"] == 0
            and counts["audit_ok"]
            and set(final) <= {200, 201}
            and statuses.keys() <= {0, 200, 201, 500, 502, 503, 504},
        }


def _count(work: list[tuple]) -> dict:
    import json

    from audit.models import AuditEvent
    from audit.services import audit_verify_chain
    from carechain.models import Patient
    from referrals.models import Channel, Referral, ReferralDocument, ReferralEvent

    per_item = collections.Counter()
    for _path, _key, body, channel in work:
        bundle = json.loads(body)
        if channel == "zd":
            composition = bundle["entry"][0]["resource"]
            external_id, kind = composition["identifier"]["value"], Channel.ZORGDOMEIN
        else:
            request = next(
                e["resource"]
                for e in bundle["entry"]
                if e["resource"]["resourceType"] == "ServiceRequest"
            )
            external_id, kind = request["identifier"][0]["value"], Channel.KIS
        found = Referral.objects.filter(channel=kind, external_id=external_id).count()
        per_item["lost" if found == 0 else "doubled" if found > 1 else "one"] += 1
    referral_ids = set(Referral.objects.values_list("pk", flat=True))
    half_written = (
        Patient.objects.filter(referrals__isnull=True).count()
        + len(referral_ids - set(ReferralDocument.objects.values_list("referral_id", flat=True)))
        + len(
            referral_ids
            - set(
                ReferralEvent.objects.filter(action="received").values_list(
                    "referral_id", flat=True
                )
            )
        )
        + len(
            {str(pk) for pk in referral_ids}
            - set(
                AuditEvent.objects.filter(
                    action="create", object_type="referrals.referral"
                ).values_list("object_id", flat=True)
            )
        )
    )
    return {
        "lost": per_item["lost"],
        "doubled": per_item["doubled"],
        "half_written": half_written,
        "audit_ok": audit_verify_chain(checkpoint=False) == [],
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(bounded="--bounded" in sys.argv), indent=2))
