"""A JSON renderer that passes through JSON the database already wrote (``RawJSON``).

Everything else renders exactly as DRF's ``JSONRenderer`` renders it.
"""

from __future__ import annotations

import json

from rest_framework.renderers import JSONRenderer


class RawJSON:
    """Text that is JSON already: a list of documents from ``carechain.json_sql``."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    @classmethod
    def array(cls, documents) -> RawJSON:
        return cls("[" + ",".join(documents) + "]")


class RawJSONRenderer(JSONRenderer):
    """A dict whose values may be ``RawJSON`` (a paginated list: next, previous, results)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if not (isinstance(data, dict) and any(isinstance(v, RawJSON) for v in data.values())):
            return super().render(data, accepted_media_type, renderer_context)
        parts = []
        for key, value in data.items():
            text = value.text if isinstance(value, RawJSON) else self._dumps(value)
            parts.append(f"{json.dumps(key, ensure_ascii=self.ensure_ascii)}:{text}")
        return ("{" + ",".join(parts) + "}").encode()

    def _dumps(self, value) -> str:
        return json.dumps(
            value,
            cls=self.encoder_class,
            ensure_ascii=self.ensure_ascii,
            allow_nan=not self.strict,
            separators=(",", ":") if self.compact else (", ", ": "),
        )
