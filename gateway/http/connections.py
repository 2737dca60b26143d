"""Connection limits of the HTTP server (uvicorn with httptools), one set per worker process.

- Request headers (request line included) over DEAL_DESK_MAX_HEADER_BYTES are refused with 431 as soon as
  that many bytes arrived without the headers ending: a huge header is never read in full.
- A connection that sends nothing, or does not finish its request headers, within DEAL_DESK_IDLE_TIMEOUT_S
  is closed; so is a keep-alive connection idle that long after a response (uvicorn's own keep-alive timer).
- At most DEAL_DESK_MAX_CONNECTIONS connections (or requests in flight) per worker: uvicorn answers 503
  beyond that.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.core.settings import Settings

REFUSAL = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
           b"content-length: 34\r\nconnection: close\r\n\r\nRequest header fields too large.\r\n")


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bound on request-header bytes and on the wait for headers."""

    max_header_bytes: ClassVar[int] = 16_384
    idle_timeout_s: ClassVar[float] = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_bytes = 0  # of the current request, its headers not yet complete
        self._in_headers = True
        self._too_large = False
        self._idle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._wait_for_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._in_headers:
            self._header_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self._too_large:  # raised by on_headers_complete, wrapped by the parser
                self._refuse()
                return
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self._in_headers and self._header_bytes > self.max_header_bytes:
            self._refuse()  # that many bytes and the headers still go on

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        self._wait_for_headers()

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._stop_waiting()
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.max_header_bytes:
            self._too_large = True
            raise HeadersTooLarge()  # stops the parser before the request reaches the app
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._header_bytes = 0
        super().on_message_complete()

    def _refuse(self) -> None:
        self.logger.warning("Request header fields too large.")
        self.transport.write(REFUSAL)
        self.transport.close()

    def _wait_for_headers(self) -> None:
        if self._idle is None:
            self._idle = asyncio.get_running_loop().call_later(self.idle_timeout_s, self._close_idle)

    def _stop_waiting(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def _close_idle(self) -> None:
        self._idle = None
        if not self.transport.is_closing():
            self.transport.close()


class HeadersTooLarge(Exception):
    """The request's headers are larger than allowed."""


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The connection limits of `settings` as uvicorn options (and this process's protocol bounds)."""
    configure(settings)
    return {"http": BoundedHttpToolsProtocol, "limit_concurrency": settings.max_connections,
            "timeout_keep_alive": settings.idle_timeout_s}


def configure(settings: Settings) -> None:
    """Bound this process's connections as `settings` say (each worker process calls it)."""
    BoundedHttpToolsProtocol.max_header_bytes = settings.max_header_bytes
    BoundedHttpToolsProtocol.idle_timeout_s = settings.idle_timeout_s
