from __future__ import annotations
import asyncio
from pathlib import Path
from wa_inbox.tui.app import InboxApp
from tests.support.tui import world_backend, list_rows, thread_lines
from tests.support.world import running_world, eventually
import time

async def test_smoke(tmp_path: Path) -> None:
    t=time.monotonic()
    async with running_world(tmp_path) as world:
        app = InboxApp(world_backend(world))
        async with app.run_test(size=(120, 32)) as pilot:
            await pilot.pause()
            print("services", app.inbox.services)
            sid = await world.emulator.customer_says("whatsapp:+14155550100", "Hello there", profile_name="Zoe")
            for i in range(20):
                await asyncio.sleep(0.1)
                await pilot.pause()
            print(await world.store.get_message(sid))
            print("rows", time.monotonic()-t, list_rows(app), app.inbox._seq, world.store.committed_seq)
            print([ (w, w.state, w.error) for w in app.workers])
            print(await world.emulator.deliveries())
