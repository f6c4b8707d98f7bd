"""OpenAPI post-processing: document the error answers every endpoint can give, so that the
schema tells clients (and schemathesis) the whole truth, not only the 2xx path. And the API
token scheme: ragbase's TokenAuthentication is knox's, documented as knox's."""
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme


class TokenScheme(KnoxTokenScheme):
    target_class = "ragbase.api_tokens.TokenAuthentication"

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# A serializer's 400 maps field names to lists of messages ({"q": ["This field is required."]}).
VALIDATION_ERROR_SCHEMA = {"type": "object", "additionalProperties": True}

STANDARD_ERRORS = {
    "401": ("Not authenticated.", ERROR_SCHEMA),
    "403": ("Not allowed (or a missing CSRF token with session authentication).", ERROR_SCHEMA),
    "429": ("Too many requests: throttled.", ERROR_SCHEMA),
}


def _json(description, schema):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def add_error_responses(result, generator, request, public):
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            wanted = dict(STANDARD_ERRORS)
            if method in ("post", "put", "patch") or any(p.get("in") == "query" for p in operation.get("parameters", [])):
                wanted["400"] = ("Invalid parameters: errors by field.", VALIDATION_ERROR_SCHEMA)
            if "{" in path:
                wanted["404"] = ("Not found (or not yours).", ERROR_SCHEMA)
            if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
                wanted["413"] = ("Upload refused, nothing stored: a file over INGEST_MAX_FILE_BYTES, "
                                 "or past the uploader's storage quota.", ERROR_SCHEMA)
            for status, (description, schema) in wanted.items():
                if not responses.get(status) or not responses[status].get("content"):
                    responses[status] = _json(description, schema)
    return result
