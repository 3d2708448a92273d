"""The scoring engine the API serves with: loaded in the background at start-up, swapped when the
active model changes.

A fresh data folder trains first (``Engine.load`` does, as the app's first start does); until the
engine is ready, ``/v1/health/ready`` and every scoring route answer 503 with ``Retry-After``.
The active version is looked up at most every ``check_every`` seconds (``churn.models``'
public ``active_version``, whatever keeps it), so a model switched in the app or the CLI reaches
the API within seconds; the new engine is loaded in the background while the old one serves.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid

log = logging.getLogger("churn.api")


def settle_heap() -> None:
    """Put everything alive after a load (the libraries, the engine's models and frames, some
    hundred thousand objects that live as long as the server) out of the garbage collector's
    reach (`gc.freeze`, after one collection so that no garbage is kept), as the app does
    (``ui.context.settle_heap``): Python's own collections, which run every few hundred
    allocations a request makes, then skip them instead of walking them, which made the
    slowest requests' pauses. An engine replaced later is left frozen (a few tens of MB per
    model switch, which is rare). Unfrozen at exit, so that the interpreter's last collection
    still frees them."""
    import atexit
    import gc

    gc.collect()
    gc.freeze()
    atexit.unregister(gc.unfreeze)
    atexit.register(gc.unfreeze)


class NotReady(Exception):
    """No engine yet (loading or training), or loading failed."""


class EngineHolder:
    def __init__(self, paths, on_load=None, check_every: float = 5.0):
        self.paths = paths
        self.on_load = on_load
        self.check_every = check_every
        self._engine = None
        self._failed: str | None = None
        self._loading = False
        self._lock = threading.Lock()
        self._checked = 0.0

    # --- loading --------------------------------------------------------------------------------
    def start(self) -> None:
        """Load (or train, on a fresh data folder) in a background thread."""
        with self._lock:
            if self._loading:
                return
            self._loading = True
        threading.Thread(target=self._load, name="churn-api-engine", daemon=True).start()

    def _load(self) -> None:
        try:
            self.load_now()
        except Exception:  # noqa: BLE001 - reported by status(); logged in load_now
            pass
        finally:
            with self._lock:
                self._loading = False

    def load_now(self):
        """Load the engine of the active model in this thread; returns it."""
        from churn.scoring import Engine

        try:
            engine = Engine.load(self.paths)
        except Exception as exc:
            ref = uuid.uuid4().hex[:8]
            log.error("the scoring engine could not be loaded (reference %s)", ref, exc_info=exc)
            if self._engine is None:
                self._failed = (f"The model could not be loaded (reference {ref}; details are in "
                                "the server log).")
            raise
        settle_heap()
        self._engine, self._failed = engine, None
        self._checked = time.monotonic()
        if self.on_load is not None:
            self.on_load(engine)
        return engine

    # --- serving --------------------------------------------------------------------------------
    def status(self) -> tuple[bool, str]:
        """(ready, message)."""
        if self._engine is not None:
            return True, self._engine.version
        if self._failed:
            return False, self._failed
        return False, ("The model is loading (a new data folder trains it first, which takes "
                       "about a minute).")

    def get(self):
        """The engine in use; raises NotReady before the first one is loaded."""
        engine = self._engine
        if engine is None:
            raise NotReady(self.status()[1])
        now = time.monotonic()
        if now - self._checked > self.check_every:
            self._checked = now
            self._follow_active(engine)
        return engine

    def _follow_active(self, engine) -> None:
        from churn import models

        try:
            active = models.active_version(self.paths.models_dir)
        except Exception:  # noqa: BLE001 - keep serving the loaded model
            return
        if active and active != engine.version:
            self.start()
