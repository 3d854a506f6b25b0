"""What the apps' web servers answer besides the app: Streamlit's internal endpoints hidden, and
pages that close ending quietly in the log.

Both apps are served as ``st.App`` objects (``apps/lens_app.py``, ``apps/studio/app.py``) with
:func:`middleware` in front: Streamlit 1.67 has no setting that turns ``/_stcore/metrics`` off,
and it would tell anyone on the network how many sessions run and what they cache.
"""

from __future__ import annotations

import logging
import re
from typing import Any

#: Internal endpoints no visitor needs (``/_stcore/health`` stays: proxies and probes use it).
HIDDEN = re.compile(r"/_stcore/(metrics|agent|script-health-check)(/|$)")
#: Where a page's WebSocket closing under a send is logged: Streamlit's sender, and uvicorn (for
#: the exception Streamlit's endpoint lets out when the close is seen while a message is handled).
_CLOSED_PAGE_LOGGERS = ("streamlit.web.server.starlette.starlette_websocket", "uvicorn.error")


class HideInternalEndpoints:
    """ASGI middleware answering 404 (or refusing the WebSocket) on :data:`HIDDEN` paths."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and HIDDEN.search(scope.get("path", "")):
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 404,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                }
            )
            await send({"type": "http.response.body", "body": b"Not Found"})
            return
        await self.app(scope, receive, send)


class ClosedPageFilter(logging.Filter):
    """Drops the traceback of a message sent to (or read from) a page that has just closed.

    Streamlit 1.67 catches the "closed" exception it expects (``WebSocketDisconnect``) but not
    Starlette's ``WebSocketDisconnected``, raised when a send or a read races the close: its
    sender logs "Error sending websocket payload", and when the close is noticed while a message
    from the page is handled, its endpoint tries to close the socket again and uvicorn logs
    "Exception in ASGI application". Both are a visitor leaving; any other error is still logged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not (exc is not None and _is_closed_socket(exc))


def _is_closed_socket(exc: BaseException) -> bool:
    from starlette.websockets import WebSocketDisconnect, WebSocketDisconnected

    return isinstance(exc, (WebSocketDisconnected, WebSocketDisconnect))


def quiet_closed_pages() -> None:
    """Install :class:`ClosedPageFilter` (once) on the loggers that report a closed page."""
    for name in _CLOSED_PAGE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ClosedPageFilter) for f in logger.filters):
            logger.addFilter(ClosedPageFilter())


def middleware() -> list[Any]:
    """The middleware an app's ``st.App`` gets (and the closed-page filter, installed now)."""
    from starlette.middleware import Middleware

    quiet_closed_pages()
    return [Middleware(HideInternalEndpoints)]
