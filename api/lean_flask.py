"""Flask without the per-request work that gives the same answer every time.

Measured on the step request (issue #16), two pieces of Flask's own work ran on every
request of the API although their outcome never changes for it:

- `ensure_sync` asks `inspect.iscoroutinefunction` about every hook and view, about 17
  times a request: the answer depends on the function only, so it is remembered (keyed by
  the plain function; the bound method of a `MethodView`, made anew each request, is
  looked up by its function).
- The cookie session builds an itsdangerous serializer on every request, and reads seven
  cookie settings at its end, also for the API's bearer-token requests that carry no
  session cookie and never touch the session: such a request now gets its empty session
  directly and nothing is done at its end. A request with the cookie, or one whose view
  reads or changes the session (the web console), goes through Flask's own code as before.
"""

from __future__ import annotations

from collections.abc import Callable
from inspect import iscoroutinefunction
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin

# Hooks, views and error handlers of the app: a few hundred. A callable made per request
# (`after_this_request`) is asked each time once the table is full.
_REMEMBERED = 4096


class LeanSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, skipping the work a cookieless request cannot need."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and (
            "HTTP_COOKIE" not in request.environ
            or not request.cookies.get(self.get_cookie_name(app))
        ):
            return self.session_class()  # what Flask answers for no cookie, unsigned
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.modified and not session.accessed:
            return  # Flask's own save would neither set a cookie nor add a header
        super().save_session(app, session, response)


class LeanFlask(Flask):
    """The app class of permitflow: Flask, remembering which functions are coroutines."""

    session_interface = LeanSessionInterface()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._coroutine: dict[Any, bool] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        key: Any = getattr(func, "__func__", func)
        try:
            is_coroutine = self._coroutine.get(key)
        except TypeError:  # an unhashable callable: asked each time
            is_coroutine, key = None, None
        if is_coroutine is None:
            is_coroutine = iscoroutinefunction(func)
            # Per-request callables (`after_this_request`) do not pile up past the bound.
            if key is not None and len(self._coroutine) < _REMEMBERED:
                self._coroutine[key] = is_coroutine
        if is_coroutine:
            return self.async_to_sync(func)
        return func
