"""Requests that pass an endpoint's input validation, made from the OpenAPI document alone.

The security matrix calls every route as every role. A permission checked inside a service
runs after FastAPI has validated the path, query and body, so a role without it would see a
422 instead of the 403 under test unless the request is well-formed: these are.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

Schema = dict[str, Any]

# Tried in order against a string's ``pattern``; the first that matches is sent.
_CANDIDATES = (
    "example",
    "example-1",
    "1",
    "2024",
    "2024-05",
    "ru",
    "W12345",
    "+77011234567",
    "A1",
)
_ALTERNATIVES = re.compile(r"\^\(\??:?([\w|-]+)\)\$")


@dataclass(frozen=True, kw_only=True)
class ExampleRequest:
    """One request to one route: what ``TestClient.request`` needs."""

    method: str
    url: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    data: dict[str, str] | None = None
    files: list[tuple[str, tuple[str, bytes]]] | None = None

    def send(self, client: Any, headers: dict[str, str], *, endless: bool = False) -> Any:
        """Send it with ``headers``; returns the response.

        ``endless`` responses (server-sent events) are closed as soon as their status and
        headers arrive, their body unread.
        """
        if endless:
            with client.stream(self.method, self.url, params=self.params, headers=headers) as r:
                return r
        return client.request(
            self.method,
            self.url,
            params=self.params,
            headers=headers,
            json=self.json,
            data=self.data,
            files=self.files,
        )


def example_request(spec: Schema, path: str, method: str) -> ExampleRequest:
    """A request for ``method path``: path parameters, required query parameters and a body.

    Example:
        >>> spec = {"paths": {"/a/{n}": {"get": {"parameters": [
        ...     {"name": "n", "in": "path", "required": True, "schema": {"type": "integer"}}]}}}}
        >>> example_request(spec, "/a/{n}", "get").url
        '/a/1'
    """
    operation = spec["paths"][path][method]
    url, params = path, {}
    for parameter in operation.get("parameters", []):
        value = example_value(spec, parameter.get("schema", {}))
        if parameter["in"] == "path":
            url = re.sub(r"\{" + parameter["name"] + r"(:path)?\}", str(value), url)
        elif parameter["in"] == "query" and parameter.get("required"):
            params[parameter["name"]] = value
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        body = example_value(spec, content["application/json"]["schema"])
        return ExampleRequest(method=method.upper(), url=url, params=params, json=body)
    if "multipart/form-data" in content:
        form = _resolve(spec, content["multipart/form-data"]["schema"])
        data: dict[str, str] = {}
        files: list[tuple[str, tuple[str, bytes]]] = []
        for name in form.get("required", []):
            value = example_value(spec, form["properties"][name])
            for one in value if isinstance(value, list) else [value]:
                if isinstance(one, bytes):
                    files.append((name, (f"{name}.bin", one)))
                else:
                    data[name] = one if isinstance(one, str) else json.dumps(one)
        return ExampleRequest(
            method=method.upper(), url=url, params=params, data=data, files=files or None
        )
    return ExampleRequest(method=method.upper(), url=url, params=params)


def example_value(spec: Schema, schema: Schema) -> Any:
    """A value ``schema`` accepts: required fields only, the first of each choice."""
    schema = _resolve(spec, schema)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if schema.get("default") is not None:
        return schema["default"]
    for choice in ("anyOf", "oneOf", "allOf"):
        if choice in schema:
            options = [s for s in schema[choice] if _resolve(spec, s).get("type") != "null"]
            return example_value(spec, options[0])
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        fields = schema.get("properties", {})
        return {name: example_value(spec, fields[name]) for name in schema.get("required", [])}
    if kind == "array":
        if "prefixItems" in schema:
            return [example_value(spec, item) for item in schema["prefixItems"]]
        return [example_value(spec, schema.get("items", {}))] * max(schema.get("minItems", 1), 1)
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 2))
        middle = (low + high) / 2
        return int(middle) if kind == "integer" and low < int(middle) <= high else middle
    if kind == "boolean":
        return False
    if kind == "string":
        return _example_string(schema)
    return "example"


def _example_string(schema: Schema) -> str | bytes:
    if schema.get("format") == "binary" or "contentMediaType" in schema:
        return b"example file"
    formats = {
        "date-time": "2024-05-01T10:00:00Z",
        "date": "2024-05-01",
        "uuid": "00000000-0000-0000-0000-000000000000",
        "email": "someone@example.org",
    }
    if schema.get("format") in formats:
        return formats[schema["format"]]
    pattern = schema.get("pattern")
    if pattern:
        named = _ALTERNATIVES.fullmatch(pattern)
        options = [*(named.group(1).split("|") if named else []), *_CANDIDATES]
        return next((o for o in options if re.search(pattern, o)), "example")
    text = "an example for the security tests"
    return text[: schema.get("maxLength", len(text))].ljust(schema.get("minLength", 0), "x")


def _resolve(spec: Schema, schema: Schema) -> Schema:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema
