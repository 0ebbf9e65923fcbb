"""Run a call in several threads at the same moment, each with its own database connection."""

import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection


def at_once(
    call: Callable[[], Any] | Sequence[Callable[[], Any]], times: int = 2, timeout: float = 60
) -> list:
    """Run ``call()`` in ``times`` threads that a barrier releases together; return the results.

    PostgreSQL row locks and unique constraints are only tested by truly simultaneous
    transactions, so each thread gets its own connection (closed in ``finally``). SQLite
    serialises writers, so there the race cannot happen; these tests run on PostgreSQL.

    ``call`` may also be a list of callables, one per thread (``times`` is then ignored).
    Results come back in completion order. If a thread raised, its exception is re-raised
    here; an expected exception is best turned into a result inside the callable.
    """
    calls = list(call) if isinstance(call, Sequence) else [call] * times
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(one: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=timeout)
            results.append(one())
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(one,)) for one in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if any(thread.is_alive() for thread in threads):
        raise TimeoutError(f"a thread was still running after {timeout}s")
    if errors:
        raise errors[0]
    return results
