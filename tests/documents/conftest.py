"""An attacker's view of the PDF renderer: a listener that records every connection, and a local file a
PDF must never embed."""

import socket
import tempfile
import threading
from pathlib import Path

import pytest

from tests.api.conftest import api, token  # noqa: F401 - the REST fixtures, for the attack through the API

SECRET = "SECRET-FILE-CONTENT-7731"


@pytest.fixture
def listener():
    """A real TCP server on 127.0.0.1: (port, list of first bytes of each connection that arrived)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    arrived: list[bytes] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _addr = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    arrived.append(conn.recv(2048) or b"(connected)")
                except OSError:
                    arrived.append(b"(connected)")
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: image/svg+xml\r\n\r\n<svg/>")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], arrived
    stop.set()
    thread.join(timeout=2)
    server.close()


@pytest.fixture
def secret_file():
    """A local SVG (WeasyPrint draws an SVG's text into the PDF) under a short path, so the URL fits a name."""
    folder = Path(tempfile.mkdtemp(prefix="dx", dir="/tmp"))
    path = folder / "s.svg"
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="40"><text y="20">{SECRET}</text></svg>'
    )
    yield path
    path.unlink()
    folder.rmdir()


def breakout(port: int, tag: str, file_path: Path, end: str = "\r") -> tuple[str, str]:
    """A given and family name that, together, leave the CSS string of the page footer at a bare \\r and
    add a margin box loading a URL on the listener and the local file (the attack of issue 12 §1.2)."""
    given = f"Ayla{end}}} @top-center {{ content: url(http://127.0.0.1:{port}/{tag})"
    family = f'url(file://{file_path}) }} @x {{ content: "'
    assert len(given) <= 100 and len(family) <= 100
    return given, family
