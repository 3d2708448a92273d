"""Serve the API with uvicorn: what ``python -m churn api`` and ``make api`` run."""
from __future__ import annotations

import logging
import sys

LOCAL = "127.0.0.1"


def serve(host: str = LOCAL, port: int = 8000, *, insecure_local: bool = False,
          log_level: str = "info") -> int:
    """Build the app from the environment and serve it until interrupted.

    With no key configured the API refuses to start (exit 1) unless ``insecure_local``, which
    serves without keys and binds 127.0.0.1 whatever ``host`` says. Returns the exit status.
    """
    import uvicorn

    from api.app import create_app
    from api.settings import ApiSettings

    try:
        settings = ApiSettings.from_env(insecure_local=insecure_local)
        app = create_app(settings)
    except ValueError as exc:
        print(f"api: {exc}", file=sys.stderr)
        return 1
    if insecure_local:
        if host != LOCAL:
            print(f"api: --insecure-local serves {LOCAL} only (not {host}).", file=sys.stderr)
        host = LOCAL
        if not settings.has_keys:
            print("api: no API key configured: every request is accepted (local use only).",
                  file=sys.stderr)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: "
                                                   "%(message)s")
    uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)
    return 0
