"""HTML building blocks: escaping, the page layout, tables, forms with their CSRF token.

Pages are strings built from these, every value escaped on the way in (`e`). No script runs
on any page (the Content-Security-Policy allows none): sorting, paging and the language switch
are links, confirmations are pages of their own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

from hq_server.web.i18n import t

NAV = ("pools", "branches", "forecast", "alerts", "reports", "audit")


def e(value: object) -> str:
    return escape(str(value), quote=True)


@dataclass(frozen=True, slots=True)
class Frame:
    """What every page's frame needs: language, the user, the CSRF token, the current path."""

    lang: str
    user: str | None = None
    role: str | None = None
    csrf: str = ""
    path: str = "/"
    query: Mapping[str, str] | None = None

    def text(self, key: str) -> str:
        return t(self.lang, key)

    def link(self, path: str, **params: object) -> str:
        kept = {k: str(v) for k, v in params.items() if v is not None and v != ""}
        return e(path + ("?" + urlencode(kept) if kept else ""))

    def lang_link(self, lang: str) -> str:
        params = dict(self.query or {})
        params["lang"] = lang
        return self.link(self.path, **params)


def page(frame: Frame, title: str, body: str, section: str = "") -> str:
    nav = ""
    if frame.user:
        items = "".join(
            f'<a href="/{key}" class="{"here" if key == section else ""}">{e(frame.text(key))}</a>'
            for key in NAV
        )
        who = (
            f'<span class="who" data-user="{e(frame.user)}">{e(frame.user)} '
            f"({e(frame.role)})</span>"
            + form("/logout", frame, "", frame.text("logout"), css="inline")
        )
        nav = f'<nav>{items}</nav><div class="account">{who}</div>'
    langs = (
        f'<div class="langs"><a href="{frame.lang_link("zh-TW")}" lang="zh-TW">中文</a> · '
        f'<a href="{frame.lang_link("en")}" lang="en">English</a></div>'
    )
    return (
        f'<!doctype html><html lang="{e(frame.lang)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)} · {e(frame.text('app'))}</title>"
        f'<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
        f'<link rel="stylesheet" href="/static/app.css"></head><body>'
        f'<header><a class="brand" href="/pools">{e(frame.text("app"))}</a>{nav}{langs}</header>'
        f"<main><h1>{e(title)}</h1>{body}</main></body></html>"
    )


def table(headers: Iterable[str], rows: Iterable[str], css: str = "", caption: str = "") -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    cap = f"<caption>{e(caption)}</caption>" if caption else ""
    body = "".join(rows)
    return (
        f'<table class="{e(css)}">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def cell(value: object, key: str = "", css: str = "") -> str:
    """A table cell; `key` names the figure (data-k) so a test reads it without parsing text."""
    attrs = (f' data-k="{e(key)}"' if key else "") + (f' class="{e(css)}"' if css else "")
    return f"<td{attrs}>{e(value)}</td>"


def raw_cell(markup: str, key: str = "", css: str = "") -> str:
    attrs = (f' data-k="{e(key)}"' if key else "") + (f' class="{e(css)}"' if css else "")
    return f"<td{attrs}>{markup}</td>"


def hidden(fields: Mapping[str, object]) -> str:
    return "".join(f'<input type="hidden" name="{e(k)}" value="{e(v)}">' for k, v in fields.items())


def form(
    action: str,
    frame: Frame,
    inner: str,
    button: str,
    fields: Mapping[str, object] | None = None,
    css: str = "",
    name: str = "",
) -> str:
    """A POST form carrying the session's CSRF token."""
    named = f' name="{e(name)}"' if name else ""
    return (
        f'<form method="post" action="{e(action)}" class="{e(css)}"{named}>'
        f'<input type="hidden" name="csrf" value="{e(frame.csrf)}">{hidden(fields or {})}'
        f'{inner}<button type="submit">{e(button)}</button></form>'
    )


def number_input(name: str, label: str, value: object = "", minimum: int = 0) -> str:
    return (
        f'<label>{e(label)} <input type="number" name="{e(name)}" value="{e(value)}" '
        f'min="{minimum}" required></label>'
    )


def text_input(name: str, label: str, value: object = "", kind: str = "text") -> str:
    return (
        f'<label>{e(label)} <input type="{e(kind)}" name="{e(name)}" value="{e(value)}" '
        f'autocomplete="{"current-password" if kind == "password" else "off"}" required></label>'
    )


def note(text: str, css: str = "note") -> str:
    return f'<p class="{e(css)}">{e(text)}</p>'
