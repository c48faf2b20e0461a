"""Routes at Twilio's v2010 paths: Messages (create, list, fetch) and their Media."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from wa_inbox.emulator.paging import PageRequest, v2010_envelope
from wa_inbox.emulator.resources import media_json, message_json
from wa_inbox.emulator.state import MessageFilter
from wa_inbox.emulator.web import authenticate_account, emulator_of, read_form

FILTER_KEYS = ("To", "From", "DateSent", "DateSent<", "DateSent>")


async def create_message(request: Request) -> Response:
    user = authenticate_account(request)
    form = await read_form(request)
    emulator = emulator_of(request)
    await emulator.in_transit()
    message = emulator.create_message(form, user)
    return JSONResponse(message_json(message), status_code=201)


async def list_messages(request: Request) -> Response:
    """Newest first, filtered, paged like Twilio (PageSize, Page, PageToken)."""
    authenticate_account(request)
    query = request.query_params
    found = emulator_of(request).world.query(MessageFilter.from_query(query))
    paging = PageRequest.from_query(query)
    page = paging.cut(found, lambda m: m.sid)
    filters = [(key, query[key]) for key in FILTER_KEYS if query.get(key)]
    records = [message_json(m) for m in page.items]
    return JSONResponse(v2010_envelope("messages", records, request.url.path, filters, paging, page))


async def fetch_message(request: Request) -> Response:
    authenticate_account(request)
    message = emulator_of(request).world.message(request.path_params["sid"])
    return JSONResponse(message_json(message))


async def list_media(request: Request) -> Response:
    authenticate_account(request)
    media = emulator_of(request).world.media_of(request.path_params["message_sid"])
    paging = PageRequest.from_query(request.query_params)
    page = paging.cut(media, lambda m: m.sid)
    records = [media_json(m) for m in page.items]
    return JSONResponse(v2010_envelope("media_list", records, request.url.path, [], paging, page))


async def fetch_media(request: Request) -> Response:
    authenticate_account(request)
    params = request.path_params
    media = emulator_of(request).world.one_media(params["message_sid"], params["sid"])
    return JSONResponse(media_json(media))


async def media_content(request: Request) -> Response:
    """Like api.twilio.com: authenticated, then 307 to a short-lived unauthenticated URL."""
    authenticate_account(request)
    params = request.path_params
    location = emulator_of(request).media_location(params["message_sid"], params["sid"])
    return RedirectResponse(location, status_code=307)


async def media_cdn(request: Request) -> Response:
    """The stand-in for mms.twiliocdn.com: the bytes, while the token is valid."""
    world = emulator_of(request).world
    media = world.cdn_media(request.path_params["token"], datetime.now(UTC))
    if media is None or media.data is None:
        return PlainTextResponse("Request has expired", status_code=403)
    return Response(media.data, media_type=media.content_type)
