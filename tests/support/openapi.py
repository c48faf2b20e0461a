"""Twilio's OpenAPI subsets (tests/spec) as JSON Schema, for checking shapes both ways."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SPEC = Path(__file__).parents[1] / "spec"
API = json.loads((SPEC / "twilio_api_v2010.subset.json").read_text())
CONTENT = json.loads((SPEC / "twilio_content_v1.subset.json").read_text())
ACCOUNT = "/2010-04-01/Accounts/{AccountSid}"
RFC_2822 = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000")
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time-rfc-2822")
def _rfc2822(value: object) -> bool:
    """Exactly Twilio's style, e.g. 'Tue, 14 Apr 2026 12:00:00 +0000'."""
    return not isinstance(value, str) or RFC_2822.fullmatch(value) is not None


@FORMATS.checks("date-time", raises=ValueError)
def _iso8601(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value) is not None


def as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 to JSON Schema: `nullable: true` becomes an allowed null."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    schema = {key: as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if not node.get("nullable"):
        return schema
    if "type" not in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    schema["type"] = [schema["type"], "null"]
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    return schema


def pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def check(doc: dict[str, Any], ref: str, instance: Any) -> None:
    root = as_json_schema(doc) | {"$ref": ref}
    Draft202012Validator(root, format_checker=FORMATS).validate(instance)
