"""The HTTP server bounds its connections: big request headers get 431 early, silent connections are
closed, and past the connection cap the answer is a clean 503."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from gateway.app import create_app
from gateway.core.settings import Settings
from tests.support.server import Server, serving

IDLE_S = 1.0


@pytest.fixture
def server(settings: Settings) -> Iterator[Server]:
    """The real app under uvicorn with the gateway's connection limits (a short idle timeout)."""
    bounded = settings.model_copy(update={"idle_timeout_s": IDLE_S})
    with serving(create_app(bounded)) as running:
        yield running


def connect(server: Server) -> socket.socket:
    host, port = server.socket.getsockname()[:2]
    return socket.create_connection((host, port), timeout=10)


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_request_headers_over_16_kib_get_431_before_they_are_read_in_full(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ")
        sock.sendall(b"a" * 20_000)  # the first 20 KB of what would be a 1 MB header
        answer = read_all(sock)  # answered (and closed) without the rest

    assert answer.startswith(b"HTTP/1.1 431 ")


def test_headers_under_the_limit_are_served(server: Server) -> None:
    response = httpx.get(f"{server.url}/healthz", headers={"x-padding": "a" * 15_000})
    assert response.status_code == 200


def test_headers_just_over_the_limit_in_one_packet_get_431(server: Server) -> None:
    response = httpx.get(f"{server.url}/healthz", headers={"x-padding": "a" * 16_500})
    assert response.status_code == 431


def test_a_silent_connection_is_closed_after_the_idle_timeout(server: Server) -> None:
    with connect(server) as sock:
        started = time.monotonic()
        assert read_all(sock) == b""  # closed by the server, nothing sent
        waited = time.monotonic() - started

    assert IDLE_S * 0.8 <= waited < IDLE_S + 3


def test_a_connection_that_stalls_inside_its_headers_is_closed(server: Server) -> None:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        started = time.monotonic()
        assert read_all(sock) == b""
        waited = time.monotonic() - started

    assert waited < IDLE_S + 3


def test_past_the_connection_cap_the_answer_is_a_clean_503(settings: Settings) -> None:
    capped = settings.model_copy(update={"max_connections": 20})  # idle connections stay open 30 s
    with serving(create_app(capped)) as running:
        held = [connect(running) for _ in range(19)]  # the 20th connection is the one refused
        try:
            for sock in held:  # each answered, so the server counts every one of them
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
            with connect(running) as extra:
                extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                answer = read_all(extra)
        finally:
            for sock in held:
                sock.close()

    assert answer.startswith(b"HTTP/1.1 503 ")
