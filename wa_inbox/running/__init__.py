"""The composition root: where the parts are put together into running services, and the only place
that knows every part.

The features (`receiver/`, `gateway/`, `store/`, `domain/`) know nothing of one another's start-up; here
they are wired into what runs: `sockets` (a bound socket, uvicorn inside the current event loop),
`inbox` (the receiver, the media downloader, the sender, template sync, retention and, with `events`,
the event relay, as `serve`, the embedded inbox and the demo start them) and `services` (what the TUI
runs on, however it was started: embedded, attached or the demo). The front ends (`cli/`, `tui/`) start
services from here; nothing here imports `tui/`, and nothing in the features imports this package.
"""
