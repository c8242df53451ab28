"""Accounts, roles and login limits of the web app.

Two roles: users (`POLICYQA_AUTH`) ask questions; administrators (`POLICYQA_ADMINS`) may also
upload and remove documents on /admin. Passwords are compared as UTF-8 bytes in constant time;
failed logins are counted per client and, past the limit, refused for a while.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def parse_auth(value: str, name: str = "POLICYQA_AUTH") -> list[tuple[str, str]]:
    """`user:password[,user2:password2]` or a path to a file with one `user:password` per line."""
    if not value:
        return []
    path = Path(value)
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else value.split(",")
    users = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user or not password:
            raise ValueError(f"{name} entries must look like user:password")
        users.append((user, password))
    return users


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of UTF-8 bytes: `secrets.compare_digest` refuses non-ASCII str."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


@dataclass
class Accounts:
    """Who may log in, and as what."""

    users: list[tuple[str, str]] = field(default_factory=list)
    admins: list[tuple[str, str]] = field(default_factory=list)

    @property
    def login(self) -> bool:
        """Whether the question-answering app needs a login."""
        return bool(self.users or self.admins)

    def check(self, user: str, password: str, admin: bool = False) -> bool:
        """Every entry is compared, so the time taken does not tell which user exists."""
        entries = self.admins if admin else self.users + self.admins
        found = False
        for name, secret in entries:
            found |= same_secret(user, name) & same_secret(password, secret)
        return found

    def basic(self, header: str, admin: bool = False) -> str | None:
        """The user an `Authorization: Basic` header logs in, or None."""
        if header[:6].lower() != "basic ":
            return None
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        user, sep, password = decoded.partition(":")
        if sep and self.check(user, password, admin):
            return user
        return None


class LoginLimiter:
    """Failed logins per client: after `attempts` failures within `window` seconds, that client's
    logins are refused until the oldest failure leaves the window."""

    def __init__(
        self, attempts: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.attempts = attempts
        self.window = window
        self.clock = clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str) -> list[float]:
        now = self.clock()
        kept = [t for t in self._failures.get(client, []) if now - t < self.window]
        if kept:
            self._failures[client] = kept
        else:
            self._failures.pop(client, None)
        return kept

    def blocked(self, client: str) -> bool:
        if self.attempts <= 0:
            return False
        with self._lock:
            return len(self._recent(client)) >= self.attempts

    def failed(self, client: str) -> None:
        with self._lock:
            self._recent(client)
            self._failures.setdefault(client, []).append(self.clock())
            if len(self._failures) > 10_000:  # a flood of addresses must not grow this forever
                oldest = min(self._failures, key=lambda c: self._failures[c][-1])
                self._failures.pop(oldest, None)

    def retry_after(self, client: str) -> int:
        with self._lock:
            recent = self._recent(client)
            if not recent:
                return 0
            return max(1, int(self.window - (self.clock() - recent[0])) + 1)


def client_key(scope: Mapping[str, Any]) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
