"""The error answers every API operation can give, added to the OpenAPI schema in one place.

Views document the answers that belong to what they do (a 409 for a state that does not allow an
action, a 404 for a referral out of scope). The answers below come from the layers in front of
every view: authentication (401), permissions and CSRF (403), throttling (429), the parser (400 for
a body that is not JSON, 413, 415), the filters (400) and the cursor pagination (404 for a cursor
that is not one). A client reading the schema, and schemathesis checking the API against it,
should find them on each operation they apply to.

It also marks, on every path (FHIR too), the optional query parameters as ``allowEmptyValue`` (an
empty filter filters nothing, an empty cursor is the first page, an empty ``format`` is the
default) and free-text parameters as free of NUL characters.
"""

ERROR_COMPONENT = "ErrorOutput"
ERROR_SCHEMA = {
    "type": "object",
    "description": "The body of an error answer (401, 403, 404, 409, 413, 415, 429).",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
BAD_INPUT_SCHEMA = {"type": "object", "additionalProperties": {}}

_ERROR = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}


def _response(description: str, schema: dict, headers: dict | None = None) -> dict:
    response = {"content": {"application/json": {"schema": schema}}, "description": description}
    if headers:
        response["headers"] = headers
    return response


UNAUTHENTICATED = _response(
    "No credentials, or an unknown, revoked or expired API key.",
    _ERROR,
    {
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "description": "`Api-Key`: how to authenticate.",
        }
    },
)
DENIED = _response("Your organisation, key purpose or role may not do this.", _ERROR)
NOT_FOUND = _response("Nothing here that you may see (or a cursor that is not one).", _ERROR)
BAD_INPUT = _response(
    "Bad input: field errors `{field: [message, ...]}` (`detail` for a body that is not JSON); "
    "nothing was saved.",
    BAD_INPUT_SCHEMA,
)
TOO_LARGE = _response("The request body is larger than this server accepts.", _ERROR)
UNSUPPORTED = _response("The request body is not `application/json`.", _ERROR)
THROTTLED = _response(
    "Too many requests from this key or person; try again after `Retry-After` seconds.",
    _ERROR,
    {
        "Retry-After": {
            "schema": {"type": "integer"},
            "description": "Seconds to wait before the next request.",
        }
    },
)

HTTP_METHODS = {"get", "put", "patch", "post", "delete", "head", "options", "trace"}


def _common_errors(operation: dict, path_item: dict) -> dict[str, dict]:
    parameters = [*path_item.get("parameters", []), *operation.get("parameters", [])]
    locations = {parameter.get("in") for parameter in parameters}
    names = {parameter.get("name") for parameter in parameters}
    has_body = "requestBody" in operation
    errors = {"401": UNAUTHENTICATED, "403": DENIED, "429": THROTTLED}
    if has_body or "query" in locations:
        errors["400"] = BAD_INPUT
    if "path" in locations or "cursor" in names:
        errors["404"] = NOT_FOUND
    if has_body:
        errors["413"] = TOO_LARGE
        errors["415"] = UNSUPPORTED
    return errors


# PostgreSQL text cannot hold NUL, and Django's and DRF's text fields refuse it (a 400): a free-text
# query or path parameter says so in its schema.
NO_NUL = "^[^\\x00]*$"


def _no_nul_in_free_text(parameter: dict) -> None:
    schema = parameter.get("schema")
    if not isinstance(schema, dict) or schema.get("type") != "string":
        return
    if not ({"enum", "format", "pattern"} & set(schema)):
        schema["pattern"] = NO_NUL


def document_common_errors(result, generator, request, public):
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    prefix = "/api/"
    touched = False
    for path, path_item in result.get("paths", {}).items():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            for parameter in operation.get("parameters", []):
                _no_nul_in_free_text(parameter)
                # django-filter and DRF's paging read an empty value as "not given" (no filter,
                # the first page, the default page size): say so, OpenAPI 3.0 has the keyword.
                # (A list parameter such as ``state`` is left out: "state=" is a choice of "".)
                if (
                    parameter.get("in") == "query"
                    and not parameter.get("required")
                    and parameter.get("schema", {}).get("type") != "array"
                ):
                    parameter.setdefault("allowEmptyValue", True)
            if not path.startswith(prefix):
                continue  # FHIR documents its own errors: OperationOutcomes, in its media type
            responses = operation.setdefault("responses", {})
            for code, response in _common_errors(operation, path_item).items():
                if code not in responses:
                    responses[code] = response
                    touched = True
            operation["responses"] = dict(sorted(responses.items()))
    if touched:
        schemas = result.setdefault("components", {}).setdefault("schemas", {})
        if ERROR_COMPONENT not in schemas:
            schemas[ERROR_COMPONENT] = ERROR_SCHEMA
            result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result
