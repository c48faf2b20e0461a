"""The duties one replica runs (template sync, media downloads, retention, auto-assignment) follow the
sender lease: started when this process takes it, stopped when it loses it, started again when it
takes it back."""

from __future__ import annotations

import asyncio
import contextlib

from wa_inbox.gateway.lease import Leadership


async def test_a_duty_runs_only_while_the_lease_is_held() -> None:
    leadership = Leadership()
    started, stopped = [], []

    async def duty() -> None:
        started.append(len(started))
        try:
            await asyncio.Event().wait()
        finally:
            stopped.append(len(stopped))

    runner = asyncio.create_task(leadership.run_duty("duty", duty))
    await asyncio.sleep(0.01)
    assert started == []  # standing by: another replica runs it

    leadership.gained()
    await asyncio.sleep(0.01)
    assert (started, stopped) == ([0], [])

    leadership.lost()
    await asyncio.sleep(0.01)
    assert (started, stopped) == ([0], [0])

    leadership.gained()
    await asyncio.sleep(0.01)
    assert started == [0, 1]

    runner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await runner
    assert stopped == [0, 1]


async def test_a_duty_that_fails_waits_for_the_next_lease_instead_of_spinning() -> None:
    leadership = Leadership()
    calls = 0

    async def failing() -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("broken")

    leadership.gained()
    runner = asyncio.create_task(leadership.run_duty("failing", failing))
    await asyncio.sleep(0.05)
    assert calls == 1

    leadership.lost()
    leadership.gained()
    await asyncio.sleep(0.05)
    assert calls == 2
    runner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await runner
