"""The signed media links: Twilio fetches the files agents send from here, anonymously.

Only a genuine, unexpired link gets a file, and only one recorded as hosted: the link names a file
id, which the store maps to the copy made when the file was attached, so no other file is reachable.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from wa_inbox.domain.medialinks import BadLink, ExpiredLink, verify
from wa_inbox.receiver.slot import StoreSlot

_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}


class MediaLinks:
    """GET /media/{token}/{filename}: 404 unless genuine, 410 once expired or removed by retention, else
    the file's bytes."""

    def __init__(self, key: bytes, slot: StoreSlot) -> None:
        self._key = key
        self._slot = slot

    async def serve(self, request: Request) -> Response:
        params = request.path_params
        try:
            file_id = verify(self._key, params["token"], params["filename"], datetime.now(UTC))
        except BadLink:
            return _not_found()
        except ExpiredLink:
            return PlainTextResponse("This link has expired.", status_code=410)
        hosted = await self._slot.store.get_hosted_file(file_id)
        if hosted is None:
            return _not_found()
        if hosted.removed is not None:  # retention deleted it: gone for good, not a bad link
            return PlainTextResponse(f"This file was {hosted.removed}.", status_code=410)
        try:
            stat = await asyncio.to_thread(os.stat, hosted.path)
        except OSError:  # recorded, but removed from the data dir since
            return _not_found()
        return FileResponse(hosted.path, stat_result=stat, media_type=hosted.content_type, headers=_HEADERS)


def _not_found() -> Response:
    return PlainTextResponse("Not found.", status_code=404)
