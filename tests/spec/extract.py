"""Regenerate the OpenAPI subsets in this folder from a twilio/twilio-oai checkout.

Usage: python tests/spec/extract.py PATH/TO/twilio-oai/spec/json

Keeps only the operations wa-inbox uses (and every schema they reference), drops the bulky
`examples`, and leaves everything else verbatim so the files stay comparable with upstream.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
ORIGIN = "twilio/twilio-oai @ d50069b44ea8 (2026-04-14)"
API = "/2010-04-01/Accounts/{AccountSid}"
SUBSETS: dict[str, dict[str, list[str]]] = {
    "twilio_api_v2010.json": {
        f"{API}/Messages.json": ["get", "post"],
        f"{API}/Messages/{{Sid}}.json": ["get"],
        f"{API}/Messages/{{MessageSid}}/Media.json": ["get"],
        f"{API}/Messages/{{MessageSid}}/Media/{{Sid}}.json": ["get"],
    },
    "twilio_content_v1.json": {
        "/v1/Content": ["get"],
        "/v1/Content/{Sid}": ["get"],
        "/v1/Content/{Sid}/ApprovalRequests": ["get"],
        "/v1/ContentAndApprovals": ["get"],
    },
}
EXTRA_SCHEMAS = {"twilio_content_v1.json": ["types"]}
"""Schemas kept although no kept operation references them (the `types` of a template)."""


def strip_examples(node: Any) -> Any:
    """Drop `examples`/`example` recursively: they are most of the bytes and none of the rules."""
    if isinstance(node, dict):
        return {k: strip_examples(v) for k, v in node.items() if k not in ("examples", "example")}
    if isinstance(node, list):
        return [strip_examples(v) for v in node]
    return node


def refs_in(node: Any) -> set[str]:
    """Names of every `#/components/schemas/X` reference inside node."""
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[1]} if "$ref" in node else set()
        return found.union(*(refs_in(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(refs_in(v) for v in node))
    return set()


def closure(schemas: dict[str, Any], roots: set[str]) -> dict[str, Any]:
    """The named schemas plus everything they reference, transitively."""
    keep: dict[str, Any] = {}
    todo = set(roots)
    while todo:
        name = todo.pop()
        keep[name] = schemas[name]
        todo |= refs_in(schemas[name]) - keep.keys()
    return dict(sorted(keep.items()))


def subset(spec: dict[str, Any], wanted: dict[str, list[str]], extra: list[str]) -> dict[str, Any]:
    """The kept operations of spec with the schemas they need."""
    paths = {
        path: {method: strip_examples(spec["paths"][path][method]) for method in methods}
        for path, methods in wanted.items()
    }
    schemas = closure(spec["components"]["schemas"], refs_in(paths) | set(extra))
    return {
        "openapi": spec["openapi"],
        "info": {"title": spec["info"]["title"], "x-origin": ORIGIN},
        "paths": paths,
        "components": {"schemas": strip_examples(schemas)},
    }


def main(source_dir: Path) -> None:
    for name, wanted in SUBSETS.items():
        spec = json.loads((source_dir / name).read_text())
        small = subset(spec, wanted, EXTRA_SCHEMAS.get(name, []))
        target = HERE / name.replace(".json", ".subset.json")
        target.write_text(json.dumps(small, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
