"""The API's settings, read once from the environment (every one has a safe default).

| variable | meaning | default |
|---|---|---|
| ``CHURN_API_KEY`` | key with the read and score scopes | none |
| ``CHURN_ADMIN_KEY`` | key with every scope (read, score, admin) | none |
| ``CHURN_API_KEYS_FILE`` | TOML file of named keys, stored as SHA-256 hashes (`api.security`) | none |
| ``CHURN_API_RATE_LIMIT`` | requests per minute per key (burst up to the same number) | 600 |
| ``CHURN_API_MAX_BODY_MB`` | largest JSON body (predict, explain, ...) | 4 |
| ``CHURN_API_MAX_UPLOAD_MB`` | largest CSV body of ``POST /v1/score`` | 200 |
| ``CHURN_API_SYNC_MAX_MB`` | CSV uploads above this size become background jobs | 2 |
| ``CHURN_API_STORE`` | DuckDB file for saved campaigns and batches | the data folder's |
| ``CHURN_API_MAX_JOBS`` | finished jobs kept (older ones and their files are removed) | 50 |
| ``CHURN_API_SCORING_THREADS`` | predict, explain and recommend requests computed at once (the others queue) | the CPU count |
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

MB = 1024 * 1024


def _number(env: dict, name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = env.get(name)
    if raw is None or not str(raw).strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number; expected e.g. {default:g}.") from None
    if not value > minimum:
        raise ValueError(f"{name}={raw!r} must be more than {minimum:g}.")
    return value


@dataclass(frozen=True)
class ApiSettings:
    """Everything the API is configured with (see the module docstring for the variables).

    api_key / admin_key: plain keys from the environment (hashed by `api.security.KeyRing`
    as soon as the app is built; never logged). keys_file: optional TOML file of hashed keys.
    rate_per_minute: requests per minute per key. max_body_bytes / max_upload_bytes: body limits
    (JSON routes / CSV upload), bytes. sync_max_bytes: CSV uploads above this size are scored as a
    background job. store: DuckDB file (None: the data folder's). max_jobs: finished jobs kept.
    scoring_threads: predict / explain / recommend requests computed at once; more wait their
    turn (the work holds Python's GIL, so more threads than cores only slow every request).
    insecure_local: no key needed (only ever bound to 127.0.0.1; see `api.server`).
    data_dir: the data folder (None: ``churn.config.paths()``).
    """

    api_key: str | None = None
    admin_key: str | None = None
    keys_file: Path | None = None
    rate_per_minute: float = 600.0
    max_body_bytes: int = 4 * MB
    max_upload_bytes: int = 200 * MB
    sync_max_bytes: int = 2 * MB
    store: Path | None = None
    max_jobs: int = 50
    scoring_threads: int = 2
    insecure_local: bool = False
    data_dir: Path | None = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict | None = None, **overrides) -> "ApiSettings":
        """Settings from ``env`` (default ``os.environ``); keyword arguments win.

        Raises ValueError naming the variable when a value is not usable.
        """
        env = dict(os.environ if env is None else env)
        keys_file = env.get("CHURN_API_KEYS_FILE") or None
        store = env.get("CHURN_API_STORE") or None
        values = dict(
            api_key=env.get("CHURN_API_KEY") or None,
            admin_key=env.get("CHURN_ADMIN_KEY") or None,
            keys_file=Path(keys_file) if keys_file else None,
            rate_per_minute=_number(env, "CHURN_API_RATE_LIMIT", 600.0),
            max_body_bytes=int(_number(env, "CHURN_API_MAX_BODY_MB", 4.0) * MB),
            max_upload_bytes=int(_number(env, "CHURN_API_MAX_UPLOAD_MB", 200.0) * MB),
            sync_max_bytes=int(_number(env, "CHURN_API_SYNC_MAX_MB", 2.0) * MB),
            store=Path(store) if store else None,
            max_jobs=int(_number(env, "CHURN_API_MAX_JOBS", 50.0, minimum=0.5)),
            scoring_threads=int(_number(env, "CHURN_API_SCORING_THREADS",
                                        float(os.cpu_count() or 1), minimum=0.5)),
        )
        values.update(overrides)
        return cls(**values)

    @property
    def has_keys(self) -> bool:
        return bool(self.api_key or self.admin_key or self.keys_file)
