"""A JSON renderer that passes through JSON the database already wrote (``RawJSON``).

Everything else renders exactly as DRF's ``JSONRenderer`` renders it.
"""

from __future__ import annotations

import json

from rest_framework.renderers import JSONRenderer


def _encoded(chunk: str | bytes) -> bytes:
    return chunk if isinstance(chunk, bytes) else chunk.encode()


class RawJSON:
    """Text that is JSON already, in pieces: a list of documents from ``carechain.json_sql``.

    The pieces are ``str`` or UTF-8 ``bytes``; a page of claims arrives from PostgreSQL as bytes
    (``StableCursorPagination.paginate_json``), so its 3 MB are never decoded into a ``str`` and
    encoded back, and the renderer joins every piece of the response once. Python code that reads
    a response's ``data`` (a test, a middleware) still sees the value: indexing, iterating or
    ``len`` parse the text, once.
    """

    __slots__ = ("_value", "chunks")

    def __init__(self, *chunks: str | bytes):
        self.chunks = chunks
        self._value = None

    def encoded(self) -> bytes:
        return b"".join(map(_encoded, self.chunks))

    @property
    def value(self):
        if self._value is None:
            self._value = json.loads(self.encoded())
        return self._value

    def __getitem__(self, key):
        return self.value[key]

    def __iter__(self):
        return iter(self.value)

    def __len__(self) -> int:
        return len(self.value)

    def __eq__(self, other) -> bool:
        return self.value == (other.value if isinstance(other, RawJSON) else other)

    __hash__ = None

    @classmethod
    def array(cls, documents) -> RawJSON:
        return cls("[" + ",".join(documents) + "]")


class RawJSONRenderer(JSONRenderer):
    """A dict whose values may be ``RawJSON`` (a paginated list: next, previous, results)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if not (isinstance(data, dict) and any(isinstance(v, RawJSON) for v in data.values())):
            return super().render(data, accepted_media_type, renderer_context)
        # One join of the pieces: a page of 5,000 claims is 3 MB, copied once here (building it
        # pair by pair copied it four times; as a str, decoding and encoding it twice more).
        pieces = [b"{"]
        for key, value in data.items():
            if len(pieces) > 1:
                pieces.append(b",")
            pieces.append(json.dumps(key, ensure_ascii=self.ensure_ascii).encode())
            pieces.append(b":")
            if isinstance(value, RawJSON):
                pieces.extend(map(_encoded, value.chunks))
            else:
                pieces.append(self._dumps(value).encode())
        pieces.append(b"}")
        return b"".join(pieces)

    def _dumps(self, value) -> str:
        return json.dumps(
            value,
            cls=self.encoder_class,
            ensure_ascii=self.ensure_ascii,
            allow_nan=not self.strict,
            separators=(",", ":") if self.compact else (", ", ": "),
        )
