"""Request plumbing shared by the routes: the Emulator, Basic auth and form bodies."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl

from starlette.requests import Request

from wa_inbox.emulator.emulator import Emulator
from wa_inbox.emulator.resources import TwilioError
from wa_inbox.emulator.validation import FormParams


def emulator_of(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


def authenticate(request: Request) -> str:
    """The Basic-auth user, if it is the account SID with its token or the API key; else 20003."""
    config = emulator_of(request).config
    accepted = {(config.account_sid, config.auth_token)}
    if config.api_key_sid and config.api_key_secret:
        accepted.add((config.api_key_sid, config.api_key_secret))
    credentials = _basic_credentials(request.headers.get("Authorization", ""))
    if credentials not in accepted:
        raise TwilioError(20003)
    return credentials[0]


def authenticate_account(request: Request) -> str:
    """As authenticate, and the AccountSid in the path must be this account."""
    user = authenticate(request)
    if request.path_params["account_sid"] != emulator_of(request).config.account_sid:
        raise TwilioError(20003)
    return user


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    user, _, password = decoded.partition(":")
    return user, password


async def read_form(request: Request) -> FormParams:
    """An x-www-form-urlencoded body as a multi-dict (repeated keys such as MediaUrl kept)."""
    form: dict[str, list[str]] = {}
    for key, value in parse_qsl((await request.body()).decode(), keep_blank_values=True):
        form.setdefault(key, []).append(value)
    return form
