"""What an OPTIONS request answers: the view's name, its media types and where the schema is.

DRF's ``SimpleMetadata`` describes the fields of ``view.get_serializer()``; viewsets that pick an
input serializer per action (referrals, claims) have no single serializer, and it crashed (500)
on them. The OpenAPI schema at /api/schema/ is the one description of every request and response,
so OPTIONS points there instead of describing a second, partial copy.
"""

import contextlib

from django.urls import NoReverseMatch, reverse
from rest_framework.metadata import BaseMetadata


class SchemaMetadata(BaseMetadata):
    def determine_metadata(self, request, view):
        metadata = {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }
        with contextlib.suppress(NoReverseMatch):
            metadata["schema"] = request.build_absolute_uri(reverse("api-schema"))
        return metadata
