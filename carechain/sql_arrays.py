"""Lists of ids sent to PostgreSQL as one array parameter (``= ANY(%s::bigint[])``, ``unnest``)."""

from __future__ import annotations

from collections.abc import Iterable


def bigint_array(ids: Iterable[int]) -> str:
    """The ids as one array literal (``'{1,2,3}'``) for a ``%s::bigint[]`` parameter.

    psycopg2 sends a Python list as ``ARRAY[1,2,3]``, which PostgreSQL parses element by element:
    7 ms for the ~1,700 patients of a claims page against 0.5 ms for the literal (and 3 ms for the
    driver to write the list out), docs/explain/claims_pull.md.
    """
    return "{" + ",".join(map(str, ids)) + "}"
