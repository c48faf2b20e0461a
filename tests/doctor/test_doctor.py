"""`wa-inbox doctor` against the emulator and a real receiver: green when set up right, and each fault
reported with its fix and a non-zero exit status."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.support.cli import run_cli
from tests.support.world import running_world
from wa_inbox.config import Settings
from wa_inbox.doctor import (
    CLOCK,
    CREDENTIALS,
    DATABASE,
    SELF_TEST,
    SELF_TEST_SID,
    WEBHOOKS,
    CheckResult,
    Outcome,
    check_database,
    check_env_file,
    run_checks,
)
from wa_inbox.domain.errors import describe
from wa_inbox.store import MessageQuery
from wa_inbox.testing import EmulatedInbox

STALE_TUNNEL = "https://old-tunnel.ngrok.app/twilio/inbound"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[EmulatedInbox]:
    async with running_world(tmp_path) as running:
        yield running


def by_name(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {result.name: result for result in results}


def with_token(settings: Settings, token: str) -> Settings:
    """As if TWILIO_AUTH_TOKEN were wrong: it authenticates REST calls and signs webhooks."""
    twilio = settings.twilio.model_copy(update={"auth_token": SecretStr(token)})
    return settings.model_copy(update={"twilio": twilio, "webhook_auth_token": SecretStr(token)})


async def test_a_correct_setup_is_all_green_and_leaves_the_inbox_alone(world: EmulatedInbox) -> None:
    results = await run_checks(world.settings)
    assert [(r.name, r.outcome) for r in results if r.outcome is not Outcome.PASSED] == []
    assert len(results) == 6
    assert await world.store.list_conversations() == []
    assert await world.store.list_messages(MessageQuery()) == []
    assert await world.store.get_message(SELF_TEST_SID) is None


async def test_the_cli_prints_a_line_per_check_and_exits_zero(world: EmulatedInbox) -> None:
    run = await run_cli(world.settings, "doctor")
    assert run.status == 0, run.stdout
    lines = run.stdout.splitlines()
    assert len(lines) == 6 and all(line.startswith("✓ ") for line in lines)


async def test_a_wrong_webhook_url_is_reported_with_its_fix(world: EmulatedInbox) -> None:
    sid = world.settings.twilio.messaging_service_sid
    assert sid is not None
    await world.emulator.configure_service(sid, inbound_request_url=STALE_TUNNEL, inbound_method="GET")

    webhooks = by_name(await run_checks(world.settings))[WEBHOOKS]
    assert webhooks.outcome is Outcome.FAILED
    assert STALE_TUNNEL in webhooks.detail and "GET" in webhooks.detail
    expected = world.receiver_url + world.settings.webhooks.inbound_path
    assert webhooks.fix is not None and f"POST {expected}" in webhooks.fix

    run = await run_cli(world.settings, "doctor")
    assert run.status == 1
    assert f"✗ {WEBHOOKS}: " in run.stdout and f"  → {webhooks.fix}" in run.stdout


async def test_a_wrong_token_fails_the_credentials_and_the_signed_self_test(world: EmulatedInbox) -> None:
    checks = by_name(await run_checks(with_token(world.settings, "0" * 32)))
    credentials, self_test = checks[CREDENTIALS], checks[SELF_TEST]
    assert credentials.outcome is Outcome.FAILED and "20003" in credentials.detail
    info = describe(20003)
    assert info is not None and credentials.fix == info.action
    assert self_test.outcome is Outcome.FAILED and "403" in self_test.detail
    assert self_test.fix is not None and "TWILIO_AUTH_TOKEN" in self_test.fix
    assert checks[WEBHOOKS].outcome is Outcome.SKIPPED
    assert checks[CLOCK].outcome is Outcome.PASSED  # Twilio dates its refusals too

    run = await run_cli(world.settings, "doctor", env={"TWILIO_AUTH_TOKEN": "0" * 32})
    assert run.status == 1
    assert f"✗ {CREDENTIALS}" in run.stdout and f"✗ {SELF_TEST}" in run.stdout


async def test_without_credentials_what_needs_twilio_is_not_checked(world: EmulatedInbox) -> None:
    twilio = world.settings.twilio.model_copy(update={"account_sid": None})
    checks = by_name(await run_checks(world.settings.model_copy(update={"twilio": twilio})))
    credentials = checks[CREDENTIALS]
    assert credentials.outcome is Outcome.FAILED
    assert credentials.fix is not None and credentials.fix.startswith("TWILIO_ACCOUNT_SID is not set")
    assert (checks[WEBHOOKS].outcome, checks[CLOCK].outcome) == (Outcome.SKIPPED, Outcome.SKIPPED)
    assert checks[SELF_TEST].outcome is Outcome.PASSED  # the receiver needs only the token


async def test_a_database_path_that_is_a_folder(world: EmulatedInbox, tmp_path: Path) -> None:
    run = await run_cli(world.settings, "doctor", env={"WA_INBOX_DB": str(tmp_path)})
    assert run.status == 1
    (line,) = [line for line in run.stdout.splitlines() if line.startswith(f"✗ {DATABASE}")]
    assert str(tmp_path) in line
    assert "  → Point WA_INBOX_DB" in run.stdout


async def test_a_database_another_writer_holds(world: EmulatedInbox) -> None:
    holder = sqlite3.connect(world.settings.store.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    asyncio.get_running_loop().call_later(2.5, holder.execute, "ROLLBACK")  # after the check gave up
    try:
        database = await check_database(world.settings)
    finally:
        holder.close()
    assert database.outcome is Outcome.FAILED
    assert database.fix is not None and "write lock" in database.fix


def test_an_env_file_others_can_read(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("TWILIO_AUTH_TOKEN=secret\n")
    os.chmod(env, 0o644)
    shared = check_env_file(env)
    assert (shared.outcome, shared.fix) == (Outcome.FAILED, f"Run `chmod 600 {env}`: it holds secrets.")
    os.chmod(env, 0o600)
    assert check_env_file(env).outcome is Outcome.PASSED
    assert check_env_file(tmp_path / "absent").outcome is Outcome.PASSED


async def test_a_clock_minutes_off_twilio_s(world: EmulatedInbox) -> None:
    late = await run_checks(world.settings, now=lambda: datetime.now(UTC) + timedelta(minutes=5))
    clock = by_name(late)[CLOCK]
    assert clock.outcome is Outcome.FAILED and clock.detail.startswith("this clock is +30")
    assert clock.fix is not None and "time synchronisation" in clock.fix
