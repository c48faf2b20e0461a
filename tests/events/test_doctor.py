"""The relay's backlog and lag where an operator looks: a line of `wa-inbox doctor` (and so of the
inbox's health panel) with the events waiting and the oldest one's age, failing with its fix when the
oldest has waited too long."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.cli import run_cli
from tests.support.receiver import BUSINESS, CUSTOMER
from tests.support.store import record, sid
from tests.support.tui import running_app, static_text, until
from tests.support.world import running_world
from wa_inbox.config import EventSettings, Settings
from wa_inbox.doctor import EVENTS, Outcome, check_event_backlog
from wa_inbox.domain.events import inbound_event
from wa_inbox.domain.models import InboundMessage
from wa_inbox.running.services import Backend, Services
from wa_inbox.store import Store, open_store
from wa_inbox.tui.screens.health import HealthScreen

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KAFKA = "kafka.example.com:9093"


def with_events(settings: Settings) -> Settings:
    return settings.model_copy(update={"events": EventSettings(kafka_bootstrap=KAFKA)})


def settings_for(db_path: Path) -> Settings:
    return Settings.model_validate({"store": {"path": db_path}, "events": {"kafka_bootstrap": KAFKA}})


async def waiting_event(store: Store, n: int, at: datetime) -> None:
    message = InboundMessage(sid(n), CUSTOMER, BUSINESS, "hi")
    event = inbound_event(message, {"MessageSid": [sid(n)]}, at)
    await store.ingest_inbound(message, record(sid(n), at=at), event=event)


async def test_no_backlog_passes(tmp_path: Path) -> None:
    result = await check_event_backlog(settings_for(tmp_path / "inbox.db"), lambda: NOW)

    assert (result.name, result.outcome) == (EVENTS, Outcome.PASSED)
    assert result.detail == f"0 events waiting for Kafka at {KAFKA}"


async def test_a_short_backlog_passes_with_its_count_and_age(tmp_path: Path) -> None:
    async with open_store(tmp_path / "inbox.db") as store:
        await waiting_event(store, 1, NOW - timedelta(seconds=42))
        await waiting_event(store, 2, NOW - timedelta(seconds=3))

    result = await check_event_backlog(settings_for(tmp_path / "inbox.db"), lambda: NOW)

    assert result.outcome is Outcome.PASSED
    assert result.detail == f"2 events waiting for Kafka at {KAFKA}, the oldest for 42 s"


async def test_an_old_backlog_fails_with_the_last_error_and_the_fix(tmp_path: Path) -> None:
    async with open_store(tmp_path / "inbox.db") as store:
        await waiting_event(store, 1, NOW - timedelta(minutes=12))
        pending = await store.pending_events(10)
        await store.record_event_failure([p.id for p in pending], "KafkaConnectionError: Unable to bootstrap")

    result = await check_event_backlog(settings_for(tmp_path / "inbox.db"), lambda: NOW)

    assert result.outcome is Outcome.FAILED
    assert result.detail == (
        f"1 event waiting for Kafka at {KAFKA}, the oldest for 12 min"
        " (last error: KafkaConnectionError: Unable to bootstrap)"
    )
    assert result.fix is not None and "wa-inbox serve" in result.fix


async def test_the_doctor_command_prints_the_event_stream_line_when_it_is_on(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        on = await run_cli(world.settings, "doctor", env={"WA_INBOX_KAFKA_BOOTSTRAP": KAFKA})

    assert on.status == 0, on.stdout
    lines = on.stdout.splitlines()
    assert len(lines) == 7 and f"✓ event stream: 0 events waiting for Kafka at {KAFKA}" in lines


async def test_the_health_panel_shows_the_backlog(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world:
        await waiting_event(world.store, 1, datetime.now(UTC) - timedelta(hours=3))

        @contextlib.asynccontextmanager
        async def backend() -> AsyncIterator[Services]:
            yield Services.of(with_events(world.settings), world.store, world.outbox, world.receiver_url)

        started: Backend = backend
        async with running_app(started) as (app, pilot):
            await pilot.press("f3")
            assert isinstance(app.screen, HealthScreen)
            await until(pilot, lambda: "(r checks again" in static_text(app, "#health-results"), seconds=15)
            lines = static_text(app, "#health-results").splitlines()

    assert f"✗ event stream: 1 event waiting for Kafka at {KAFKA}, the oldest for 3 h" in lines
