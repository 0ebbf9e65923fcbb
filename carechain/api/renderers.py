"""A JSON renderer that passes through JSON the database already wrote (``RawJSON``).

Everything else renders exactly as DRF's ``JSONRenderer`` renders it.
"""

from __future__ import annotations

import json

from rest_framework.renderers import JSONRenderer


class RawJSON:
    """Text that is JSON already: a list of documents from ``carechain.json_sql``.

    The renderer writes the text as it is. Python code that reads a response's ``data`` (a test, a
    middleware) still sees the value: indexing, iterating or ``len`` parse the text, once.
    """

    __slots__ = ("_value", "text")

    def __init__(self, text: str):
        self.text = text
        self._value = None

    @property
    def value(self):
        if self._value is None:
            self._value = json.loads(self.text)
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
        # One join of the pieces: a page of 5,000 claims is 3 MB of text, copied once here and
        # once by encode() (building it pair by pair copied it four times).
        pieces = ["{"]
        for key, value in data.items():
            if len(pieces) > 1:
                pieces.append(",")
            pieces.append(json.dumps(key, ensure_ascii=self.ensure_ascii))
            pieces.append(":")
            pieces.append(value.text if isinstance(value, RawJSON) else self._dumps(value))
        pieces.append("}")
        return "".join(pieces).encode()

    def _dumps(self, value) -> str:
        return json.dumps(
            value,
            cls=self.encoder_class,
            ensure_ascii=self.ensure_ascii,
            allow_nan=not self.strict,
            separators=(",", ":") if self.compact else (", ", ": "),
        )
