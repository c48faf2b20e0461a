"""Templates by the name agents know them by, as the Content API lists them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from twilio.rest import Client
from twilio.rest.content.v1.content_and_approvals import ContentAndApprovalsInstance

from wa_inbox.domain.templates import TemplateInfo
from wa_inbox.gateway.submission import Refused

_CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")


@dataclass(frozen=True, slots=True)
class TemplateRef:
    sid: str
    name: str | None
    language: str | None
    approval: str | None
    """WhatsApp's verdict ("approved", "pending", "rejected", …); None when given by SID, unchecked."""


async def find_template(client: Client, name_or_sid: str) -> TemplateRef:
    """An HX SID is taken as given (Twilio judges it); a name is looked up in the Content API."""
    if _CONTENT_SID.fullmatch(name_or_sid):
        return TemplateRef(name_or_sid, None, None, None)
    named = [t for t in await list_templates(client) if t.name == name_or_sid]
    if not named:
        raise Refused(
            f"Not sent: there is no template named {name_or_sid!r}; check the name in Twilio's "
            "Content Template Builder, or pass its content SID (HX…)."
        )
    found = min(named, key=lambda t: not t.approved)  # an approved one, if the name is shared
    return TemplateRef(found.sid, found.name, found.language, found.approval)


def _approval(requests: dict[str, object] | None) -> str:
    status = (requests or {}).get("status")
    return str(status) if status else "unsubmitted"


async def list_templates(client: Client) -> list[TemplateInfo]:
    """Every template of the account with its WhatsApp approval, read from ContentAndApprovals."""
    return [_info(c) for c in await client.content.v1.content_and_approvals.list_async()]


def _info(content: ContentAndApprovalsInstance) -> TemplateInfo:
    types: dict[str, Any] = content.types or {}
    no_spec: dict[str, Any] = {}
    kind, spec = next(iter(types.items()), ("twilio/text", no_spec))
    approval: dict[str, Any] = content.approval_requests or {}
    return TemplateInfo(
        sid=content.sid or "",
        name=content.friendly_name or content.sid or "",
        language=content.language or "",
        kind=kind,
        body=str(spec.get("body") or spec.get("title") or ""),
        variables={str(k): str(v) for k, v in (content.variables or {}).items()},
        approval=_approval(approval),
        category=approval.get("category") or None,
        actions=tuple(str(a.get("title", "")) for a in spec.get("actions", []) or []),
        media=tuple(str(m) for m in spec.get("media", []) or []),
        rejection_reason=approval.get("rejection_reason") or None,
        types=types,
    )
