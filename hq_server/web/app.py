"""The back office's HTTP server (aiohttp, in the HQ's event loop): login, sessions, CSRF,
security headers, errors, static files; the pages themselves live in the views modules.

Cookies: the session token (HMAC-signed, see sessions.py) is HttpOnly, SameSite=Strict and,
over HTTPS, Secure. Every POST carries a CSRF token bound to the session (the login form's is
bound to a pre-login cookie) and, when the browser sends one, a same-origin Origin header.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from allocator import DomainError, InvalidInput, NotFound, PermissionDenied
from hq_server.app import Hq
from hq_server.web import i18n, sessions, users
from hq_server.web.api import Api
from hq_server.web.html import Frame, e, form, note, page, text_input
from hq_server.web.passwords import DUMMY_HASH, verify_password
from runtime.errors import Unavailable

log = logging.getLogger("einv.web")
STATIC = Path(__file__).with_name("static")
SESSION_COOKIE = "einv_session"
PRE_COOKIE = "einv_pre"
MAX_FORM_BYTES = 64 * 1024
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
OPEN_PATHS = ("/login", "/static/", "/favicon.ico")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Office:
    """What the handlers share: the HQ, the API, the session key, whether cookies are Secure."""

    hq: Hq
    api: Api
    secure: bool
    key: bytes | None = None

    def now(self) -> datetime:
        return self.hq.now()

    async def session_key(self) -> bytes:
        """Made by the first HQ that serves the back office (the leader writes it); any
        replica reads it."""
        if self.key is None:
            try:
                self.key = await self.hq.write(lambda conn, _now: users.ensure_session_key(conn))
            except DomainError:
                self.key = await self.hq.read(users.session_key)
            if self.key is None:
                raise Unavailable("the back office's session key is not made yet: start the leader")
        return self.key


OFFICE = web.AppKey("office", Office)


def office_of(request: web.Request) -> Office:
    return request.app[OFFICE]


def frame_of(request: web.Request) -> Frame:
    found: Frame = request["frame"]
    return found


def html(body: str, status: int = 200) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


# --- middlewares ----------------------------------------------------------------------------


@web.middleware
async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    try:
        response = await handler(request)
    except web.HTTPException as error:
        response = error
    except DomainError as error:
        response = refusal(request, error)
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        response = html("internal error; see the HQ's log", 500)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if office_of(request).secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    took = (time.perf_counter() - started) * 1000
    response.headers["Server-Timing"] = f"app;dur={took:.1f}"  # what bench/web.py reads
    return response


def refusal(request: web.Request, error: DomainError) -> web.Response:
    status = 409
    if isinstance(error, PermissionDenied):
        status = 403
    elif isinstance(error, NotFound):
        status = 404
    elif isinstance(error, InvalidInput):
        status = 400
    elif isinstance(error, Unavailable):
        status = 503
    frame = request.get("frame") or Frame(pick_lang(request), path=request.path)
    title = frame.text("refused") if status == 403 else frame.text("error")
    body = f'<p class="error" data-status="{status}">{e(error)}</p>'
    referer = urlsplit(request.headers.get("Referer", ""))
    back = referer.path if referer.netloc == request.host and referer.path else "/pools"
    body += f'<p><a href="{e(back)}">{e(frame.text("back"))}</a></p>'
    return html(page(frame, title, body), status)


def pick_lang(request: web.Request) -> str:
    return i18n.pick(
        request.query.get("lang"),
        request.cookies.get(i18n.COOKIE),
        request.headers.get("Accept-Language"),
    )


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A valid session for every page but the login and the static files; CSRF on POST."""
    lang = pick_lang(request)
    if request.path.startswith(OPEN_PATHS):
        request["lang"] = lang
        response = await handler(request)
        return remember_lang(request, response, lang)
    office = office_of(request)
    key = await office.session_key()
    now = office.now()
    session = sessions.verify(key, request.cookies.get(SESSION_COOKIE, ""), now)
    user = (
        None
        if session is None
        else await office.hq.read(lambda conn: users.find_user(conn, session.user))
    )
    if session is None or user is None or not current(session, user, now):
        return redirect("/login?" + urlencode({"next": request.path_qs}))
    request["user"] = user
    request["principal"] = user.principal
    request["frame"] = Frame(
        lang,
        user.name,
        user.role.label,
        sessions.csrf_token(key, session.sid),
        request.path,
        {k: v for k, v in request.query.items() if k != "lang"},
    )
    if request.method == "POST":
        submitted = await request.post()
        same_origin(request)
        if not sessions.csrf_ok(key, session.sid, str(submitted.get("csrf", ""))):
            raise PermissionDenied("the form's CSRF token is missing or not this session's")
        request["form"] = submitted
    response = await handler(request)
    return remember_lang(request, response, lang)


def current(session: sessions.Session, user: users.User, now: datetime) -> bool:
    """A session ends with a lock-out and with a password change after it began."""
    changed = int(user.password_changed_at.timestamp())
    return not user.locked(now) and int(session.issued_at.timestamp()) >= changed


def same_origin(request: web.Request) -> None:
    origin = request.headers.get("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.host:
        raise PermissionDenied(f"a form from {origin[:80]} may not post here")


def remember_lang(request: web.Request, response: web.StreamResponse, lang: str) -> Any:
    if request.query.get("lang") in i18n.LANGS:
        response.set_cookie(
            i18n.COOKIE,
            lang,
            max_age=365 * 86400,
            httponly=True,
            samesite="Strict",
            secure=office_of(request).secure,
        )
    return response


# --- login ----------------------------------------------------------------------------------


def login_form(frame: Frame, csrf: str, target: str, message: str = "") -> str:
    inner = text_input("user", frame.text("user")) + text_input(
        "password", frame.text("password"), kind="password"
    )
    shown = note(message, "error") if message else ""
    body = shown + form(
        "/login",
        Frame(frame.lang, csrf=csrf),
        inner,
        frame.text("login"),
        {"next": target},
        css="login",
        name="login",
    )
    return page(frame, frame.text("login"), body)


async def login_page(request: web.Request) -> web.StreamResponse:
    office = office_of(request)
    pre = request.cookies.get(PRE_COOKIE) or secrets.token_hex(16)
    frame = Frame(request["lang"], path="/login", query=dict(request.query))
    csrf = sessions.csrf_token(await office.session_key(), "pre:" + pre)
    response = html(login_form(frame, csrf, safe_next(request.query.get("next"))))
    response.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="Strict", secure=office.secure)
    return response


def safe_next(target: str | None) -> str:
    """Only a path of this site (never //host or a scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/pools"
    return target


async def login(request: web.Request) -> web.StreamResponse:
    office = office_of(request)
    key = await office.session_key()
    submitted = await request.post()
    same_origin(request)
    pre = request.cookies.get(PRE_COOKIE, "")
    frame = Frame(request["lang"], path="/login")
    if not pre or not sessions.csrf_ok(key, "pre:" + pre, str(submitted.get("csrf", ""))):
        raise PermissionDenied("the login form expired: load it again")
    name = str(submitted.get("user", "")).strip().lower()[:63]
    password = str(submitted.get("password", ""))[:1024]
    target = safe_next(str(submitted.get("next", "")))
    now = office.now()
    user = await office.hq.read(lambda conn: users.find_user(conn, name))
    csrf = sessions.csrf_token(key, "pre:" + pre)
    if user is not None and user.locked(now):
        return html(login_form(frame, csrf, target, frame.text("locked")), 401)
    digest = user.password_hash if user is not None else DUMMY_HASH
    ok = await asyncio.to_thread(verify_password, password, digest) and user is not None
    if user is None:
        return html(login_form(frame, csrf, target, frame.text("bad_login")), 401)
    after = user
    if not ok or user.failed_attempts:  # a clean success writes nothing: followers log in too
        after = await office.hq.write(lambda conn, n: users.record_login(conn, n, name, ok))
    if not ok:
        message = frame.text("locked") if after and after.locked(now) else frame.text("bad_login")
        return html(login_form(frame, csrf, target, message), 401)
    session = sessions.new_session(name, now)
    response = redirect(target)
    response.set_cookie(
        SESSION_COOKIE,
        sessions.sign(key, session),
        max_age=int(sessions.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="Strict",
        secure=office.secure,
        path="/",
    )
    response.del_cookie(PRE_COOKIE)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    response = redirect("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def favicon(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC / "favicon.svg", headers={"Content-Type": "image/svg+xml"})


async def home(request: web.Request) -> web.StreamResponse:
    return redirect("/pools")


def make_app(office: Office) -> web.Application:
    from hq_server.web import (
        views_branch,
        views_branches,
        views_forecast,
        views_ops,
        views_pools,
    )

    app = web.Application(middlewares=[headers, authenticate], client_max_size=MAX_FORM_BYTES)
    app[OFFICE] = office
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_static("/static/", STATIC, append_version=False)
    app.router.add_get("/", home)
    for module in (views_pools, views_branches, views_branch, views_forecast, views_ops):
        module.add_routes(app.router)
    return app


@dataclass(frozen=True, slots=True)
class WebListen:
    """`--web-listen ADDR`: where the back office listens, and its HTTPS (None: plain HTTP,
    loopback only, with --insecure)."""

    address: str
    tls: ssl.SSLContext | None


class BackOffice:
    """The web server: started and stopped by hq_server.server.serve."""

    def __init__(self, hq: Hq, tls: ssl.SSLContext | None) -> None:
        self.office = Office(hq, Api(hq), secure=tls is not None)
        self.tls = tls
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, address: str) -> int:
        host, _, port = address.rpartition(":")
        self.runner = web.AppRunner(make_app(self.office), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host.strip("[]"), int(port), ssl_context=self.tls)
        try:
            await site.start()
        except OSError as error:
            await self.runner.cleanup()
            raise OSError(f"cannot listen on {address} for the back office: {error}") from None
        self.port = int(self.runner.addresses[0][1])
        return self.port

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def tls_context(certs_dir: Path) -> ssl.SSLContext:
    """HTTPS with the HQ's own certificate (hq.crt, hq.key: the names clients use)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certs_dir / "hq.crt", certs_dir / "hq.key")
    return context
