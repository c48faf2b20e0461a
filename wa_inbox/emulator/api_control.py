"""The emulator's own control API under /_emulator/: JSON, no auth, for the demo and scripts.

Each route mirrors one Emulator coroutine; a malformed request gets 400 {"error": "..."}.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wa_inbox.emulator.web import emulator_of

Handler = Callable[[Request, dict[str, Any]], Awaitable[Any]]
TUNABLE = frozenset({"status_delay", "create_delay", "duplicate_rate", "reorder", "read_rate"})


def control(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap handler: parse the JSON body, answer its result as JSON, bad input as 400."""

    async def endpoint(request: Request) -> Response:
        try:
            data = json.loads(await request.body() or b"{}")
            if not isinstance(data, dict):
                raise TypeError("expected a JSON object")
            return JSONResponse(await handler(request, data))
        except (KeyError, ValueError, TypeError) as exc:
            return JSONResponse({"error": f"{type(exc).__name__}: {exc}"}, status_code=400)

    return endpoint


@control
async def inbound(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    """{from, body?, media?: [{content_type, base64}], location?, button?, referral?, profile_name?}"""
    media = [(base64.b64decode(m["base64"]), m["content_type"]) for m in data.get("media", [])]
    button = data.get("button")
    sid = await emulator_of(request).customer_says(
        data["from"],
        data.get("body", ""),
        media=media,
        location=data.get("location"),
        button=tuple(button) if button else None,
        referral=data.get("referral"),
        profile_name=data.get("profile_name"),
    )
    return {"sid": sid}


@control
async def configure(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    """{status_delay?: [low, high], create_delay?: [low, high], duplicate_rate?, reorder?, read_rate?}
    -> the new values."""
    unknown = set(data) - TUNABLE
    if unknown:
        raise KeyError(f"not tunable: {sorted(unknown)}")
    for delay in ("status_delay", "create_delay"):
        if delay in data:
            low, high = data[delay]
            data[delay] = (float(low), float(high))
    config = await emulator_of(request).configure(**data)
    return {key: getattr(config, key) for key in sorted(TUNABLE)}


@control
async def fail_next(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    """{code, http_status?, via?: "api"|"callback", times?}"""
    via = data.get("via", "api")
    if via not in ("api", "callback"):
        raise ValueError(f"via must be 'api' or 'callback', not {via!r}")
    status = data.get("http_status")
    await emulator_of(request).fail_next(
        int(data["code"]),
        http_status=None if status is None else int(status),
        via=via,
        times=int(data.get("times", 1)),
    )
    return {"queued": True}


@control
async def sent(request: Request, data: dict[str, Any]) -> list[dict[str, Any]]:
    return await emulator_of(request).sent()


@control
async def deliveries(request: Request, data: dict[str, Any]) -> list[dict[str, Any]]:
    return await emulator_of(request).deliveries()


@control
async def opt_out(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    await emulator_of(request).opt_out(data["address"])
    return {"opted_out": data["address"]}


@control
async def template_verdict(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    """{name, status, reason?}: WhatsApp approves, pauses, rejects, … a template."""
    await emulator_of(request).judge_template(data["name"], data["status"], data.get("reason", ""))
    return {"name": data["name"], "status": data["status"]}


@control
async def service(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    """{sid, inbound_request_url?, inbound_method?, status_callback?, …}: a Messaging Service's settings."""
    sid = data.pop("sid")
    await emulator_of(request).configure_service(sid, **data)
    return {"sid": sid, **data}


@control
async def chatter(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    """{interval: seconds} starts simulated customers; {stop: true} stops them."""
    emulator = emulator_of(request)
    if data.get("stop"):
        await emulator.stop_chatter()
        return {"chatter": "stopped"}
    await emulator.start_chatter(float(data["interval"]))
    return {"chatter": "running", "interval": float(data["interval"])}
