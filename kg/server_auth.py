"""HTTP authentication for the sparql:URL store: the scheme the server asks for, then sent with every request."""

from __future__ import annotations

from collections.abc import Generator

import httpx


class ServerAuth(httpx.Auth):
    """HTTP Basic or Digest authentication, whichever the server's first 401 asks for, then sent with every request.
    A body is then sent once, with its credentials: Virtuoso answers a PUT without them by 401 before reading its
    body and closes the connection, which cuts off any upload larger than the socket's buffers."""

    def __init__(self, user: str, password: str) -> None:
        self._schemes: dict[str, httpx.Auth] = {"basic": httpx.BasicAuth(user, password), "digest": httpx.DigestAuth(user, password)}
        self.scheme: httpx.Auth | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.scheme is None:
            response = yield request
            asked = response.headers.get("www-authenticate", "").partition(" ")[0].lower()
            if response.status_code != 401 or asked not in self._schemes:
                return
            self.scheme = self._schemes[asked]
        yield from self.scheme.auth_flow(request)  # (Digest answers its first 401 by its challenge, then preemptively)
