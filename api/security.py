"""API keys, scopes and rate limits.

Keys travel in the ``X-API-Key`` header. Three scopes:

- ``read``: health-independent reads (model versions, campaigns, jobs, metrics);
- ``score``: predictions, explanations, offers, file scoring, building campaigns;
- ``admin``: switching the active model and retraining.

``CHURN_API_KEY`` has read + score, ``CHURN_ADMIN_KEY`` every scope. A keys file
(``CHURN_API_KEYS_FILE``, TOML) adds named keys with their own scopes::

    [keys.crm]
    sha256 = "9f86d08..."          # hex SHA-256 of the key, never the key itself
    scopes = ["read", "score"]

``python -m churn api --new-key NAME`` prints a fresh random key and the block to paste.

Keys are kept only as SHA-256 digests and compared with ``hmac.compare_digest`` against every
known digest (no early exit, so timing does not reveal which one nearly matched). A plain SHA-256
is enough here because the keys are long random strings (256 bits from ``secrets``): nobody can
guess one from its digest, so a deliberately slow password hash (bcrypt, scrypt, argon2) would only
add milliseconds to every request. It would matter for human-chosen passwords, which keys are not.

Rate limits are token buckets per key name (and per client address for failed attempts, so
guessing keys is slowed down too): ``rate_per_minute`` requests per minute with bursts of the
same size; an empty bucket answers 429 with ``Retry-After`` in whole seconds.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

READ, SCORE, ADMIN = "read", "score", "admin"
SCOPES = (READ, SCORE, ADMIN)
API_KEY_SCOPES = frozenset({READ, SCORE})
ADMIN_KEY_SCOPES = frozenset(SCOPES)
HEADER = "X-API-Key"


def digest(key: str) -> str:
    """Hex SHA-256 of a key (what is stored and compared)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A fresh random key (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's name and scopes."""

    name: str
    scopes: frozenset


class KeyRing:
    """The known keys, as (name, digest, scopes). Build with `from_settings`."""

    def __init__(self, entries: list[tuple[str, str, frozenset]]):
        self._entries = [(n, bytes.fromhex(d), s) for n, d, s in entries]

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def from_settings(cls, settings) -> "KeyRing":
        """Keys from ``ApiSettings`` (environment keys hashed here, then forgotten) and the
        keys file. Raises ValueError naming the file and entry when the keys file is wrong."""
        entries: list[tuple[str, str, frozenset]] = []
        if settings.api_key:
            entries.append(("CHURN_API_KEY", digest(settings.api_key), API_KEY_SCOPES))
        if settings.admin_key:
            entries.append(("CHURN_ADMIN_KEY", digest(settings.admin_key), ADMIN_KEY_SCOPES))
        if settings.keys_file:
            entries.extend(read_keys_file(settings.keys_file))
        return cls(entries)

    def check(self, key: str | None) -> Principal | None:
        """The principal of ``key``, or None when it is missing or unknown."""
        if not key:
            return None
        presented = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
        found = None
        for name, stored, scopes in self._entries:
            if hmac.compare_digest(presented, stored) and found is None:
                found = Principal(name, scopes)
        return found


def read_keys_file(path) -> list[tuple[str, str, frozenset]]:
    """Named keys of a TOML keys file: [(name, sha256 hex, scopes)].

    Raises ValueError naming the file, the key and the problem.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"CHURN_API_KEYS_FILE {path}: cannot be read ({exc.strerror}).") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"CHURN_API_KEYS_FILE {path}: not valid TOML ({exc}).") from None
    keys = data.get("keys")
    if not isinstance(keys, dict) or not keys:
        raise ValueError(f"CHURN_API_KEYS_FILE {path}: no [keys.NAME] tables; see "
                         "`python -m churn api --new-key NAME`.")
    out = []
    for name, entry in keys.items():
        where = f"CHURN_API_KEYS_FILE {path}, key {name!r}"
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: expected a table with sha256 and scopes.")
        hexd = str(entry.get("sha256", "")).strip().lower()
        if len(hexd) != 64 or any(c not in "0123456789abcdef" for c in hexd):
            raise ValueError(f"{where}: sha256 must be 64 hex digits (the key's SHA-256), "
                             "never the key itself.")
        scopes = entry.get("scopes", [READ, SCORE])
        if not isinstance(scopes, list) or not scopes or any(s not in SCOPES for s in scopes):
            raise ValueError(f"{where}: scopes {scopes!r} must be a list drawn from "
                             f"{', '.join(SCOPES)}.")
        if ADMIN in scopes:
            scopes = list(SCOPES)
        out.append((str(name), hexd, frozenset(scopes)))
    return out


def keys_file_entry(name: str, key: str, scopes=(READ, SCORE)) -> str:
    """The TOML block for one key (what `--new-key` prints)."""
    quoted = ", ".join(f'"{s}"' for s in scopes)
    return f'[keys.{name}]\nsha256 = "{digest(key)}"\nscopes = [{quoted}]\n'


class RateLimiter:
    """Token buckets: ``rate_per_minute`` requests per minute per name, bursts of that size."""

    def __init__(self, rate_per_minute: float, clock=time.monotonic):
        self.capacity = float(rate_per_minute)
        self.per_second = float(rate_per_minute) / 60.0
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, name: str) -> int:
        """Use one request of ``name``'s allowance: 0 when allowed, else the whole seconds to
        wait before the next request would be (``Retry-After``)."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(name, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.per_second)
            if tokens >= 1.0:
                self._buckets[name] = (tokens - 1.0, now)
                return 0
            self._buckets[name] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self.per_second))
