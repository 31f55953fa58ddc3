"""The real app served over HTTP in a background thread, for end-to-end tests in a browser.

The tool answers on http://localhost:PORT and the demo platform on http://127.0.0.1:PORT: one
server, two sites, so the tool runs in a cross-site iframe as it does under Moodle.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from lti_tool import create_app
from lti_tool.common.store import MemoryStore
from lti_tool.extensions import db

from .conftest import empty_tables


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class QuietHandler(WSGIRequestHandler):
    """No access log on stderr: the test reports what matters."""

    def log_request(self, *args, **kwargs) -> None:
        pass


@dataclass
class LiveServer:
    app: Flask
    server: BaseWSGIServer
    port: int

    @property
    def tool_url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def platform_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def live_server(database_url: str) -> Iterator[LiveServer]:
    """Serve a fresh app on a free port; on exit stop it, empty the tables, release everything."""
    port = free_port()
    app = create_app(
        "test",
        SQLALCHEMY_DATABASE_URI=database_url,
        TOOL_BASE_URL=f"http://localhost:{port}",
        DEMO_PLATFORM_URL=f"http://127.0.0.1:{port}",
        DEMO_PLATFORM=True,
        LTI_STORE=MemoryStore(),
    )
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name=f"live-server-{port}", daemon=True)
    thread.start()
    try:
        yield LiveServer(app=app, server=server, port=port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        app.extensions["lti_http"].close()
        with app.app_context():
            db.session.rollback()
            empty_tables()
            db.session.remove()
            db.engine.dispose()
