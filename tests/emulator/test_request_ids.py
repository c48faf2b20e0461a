"""Like Twilio, every answer of the emulator's REST API carries its own `Twilio-Request-Id: RQ…`."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.support.world import running_world

REQUEST_ID = re.compile(r"RQ[0-9a-f]{32}")


async def test_each_rest_answer_has_its_own_request_id_and_the_emulator_remembers_it(tmp_path: Path) -> None:
    async with running_world(tmp_path) as world, httpx.AsyncClient(timeout=10) as client:
        twilio = world.settings.twilio
        assert twilio.account_sid and twilio.auth_token
        auth = (twilio.account_sid, twilio.auth_token.get_secret_value())
        messages = f"{world.emulator_url}/2010-04-01/Accounts/{twilio.account_sid}/Messages.json"
        listed = await client.get(messages, auth=auth)
        again = await client.get(messages, auth=auth)
        refused = await client.get(messages, auth=("AC" + "0" * 32, "wrong"))
        missing = await client.get(
            messages.replace("Messages.json", "Messages/SM" + "0" * 32 + ".json"), auth=auth
        )
        control = await client.get(f"{world.emulator_url}/_emulator/sent")

    ids = [r.headers.get("twilio-request-id", "") for r in (listed, again, refused, missing)]
    assert [r.status_code for r in (listed, again, refused, missing)] == [200, 200, 401, 404]
    assert all(REQUEST_ID.fullmatch(i) for i in ids) and len(set(ids)) == 4
    remembered = [(a.status, a.request_id) for a in world.emulator.answered if a.request_id in ids]
    assert remembered == [(200, ids[0]), (200, ids[1]), (401, ids[2]), (404, ids[3])]
    assert "twilio-request-id" not in control.headers  # the emulator's own control API is not Twilio's
