"""HTTP helpers the server and its pages share: refusals with their status, content negotiation, and strict
query strings."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qs

import mimeparse
from starlette.requests import Request


class Refused(Exception):
    """A request the protocol refuses, with its status and message."""

    def __init__(self, status: int, message: str, **headers: str) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


def form_fields(text: str, where: str) -> dict[str, list[str]]:
    """An application/x-www-form-urlencoded string (query string or body) as lists of values; UTF-8 strictly."""
    try:
        return parse_qs(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise Refused(400, f"the {where} is not UTF-8 once percent-decoded") from None


def negotiate(accept: str | None, offered: list[str]) -> str | None:
    """The offered media type the Accept header prefers (the last offered on a tie), None if it accepts none."""
    try:
        return mimeparse.best_match(offered, accept or "*/*") or None
    except (ValueError, mimeparse.MimeTypeParseException):  # a malformed Accept header: treat as */*
        return offered[-1]


def single_value(params: dict[str, list[str]], name: str) -> str | None:
    """The one value of parameter `name` (None if absent); Refused (400) if it is given more than once."""
    values = params.get(name, [])
    if len(values) > 1:
        raise Refused(400, f"the request has {len(values)} '{name}' parameters; one is allowed")
    return values[0] if values else None


def query_parameters(request: Request, names: Sequence[str]) -> dict[str, str]:
    """The query string's parameters among `names` (others are ignored): Refused (400) for a query string that is
    not UTF-8 once percent-decoded (Starlette would pass U+FFFD on) or that repeats one of them (which one holds?)."""
    params = form_fields(request.url.query, "query string")
    return {name: value for name in names if (value := single_value(params, name)) is not None}
