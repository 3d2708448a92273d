"""Prometheus metrics of one API app (its own ``CollectorRegistry``, so two apps in one process,
as in the tests, never share or collide).

- ``churn_api_requests_total{route, method, status}``: requests by route *template*
  (``/v1/campaigns/{campaign_id}``, never the raw path, so ids do not explode the series);
- ``churn_api_request_seconds{route, method}``: latency histogram;
- ``churn_api_rows_scored_total{route}``: customers scored;
- ``churn_api_validation_errors_total{route}``: problems reported for customers or rows;
- ``churn_api_model_info{version, family}``: 1 for the model in use;
- ``churn_model_health_<figure>{version}``: the Model health page's figures for the latest
  saved batch or campaign control group (``churn.health.current_figures``: status 0/1/2, drift,
  predictions, expected and realised precision/recall/ROC-AUC/ECE and the training figures they
  are compared with), labelled with the active model version. A figure not known yet (NaN, e.g.
  realised ROC-AUC before outcomes) is left out. The report is recomputed only when the model,
  the saved batches or the recorded campaign outcomes change (`HealthCollector`).
"""
from __future__ import annotations

import logging
import threading

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram,
                               generate_latest)
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger("churn.api")
HEALTH_PREFIX = "churn_model_health_"

BUCKETS = (0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class HealthCollector:
    """Prometheus collector of ``churn.health.current_figures`` for a data folder.

    The report is cached under a key of (active version, saved batches, campaign outcomes
    recorded), so a scrape costs a store query unless something changed. Any failure (no model
    yet, a locked store) leaves the health gauges out of that scrape and is logged.
    """

    def __init__(self, paths):
        self.paths = paths
        self._lock = threading.Lock()
        self._key = None
        self._figures: dict = {}

    def _state(self):
        from churn import models
        from churn.store import Store

        version = models.active_version(self.paths.models_dir)
        if version is None:
            return None, None
        store = Store(self.paths.store)
        batches = store.list_batches()
        hist = store.load_campaign_history()
        key = (version, tuple(map(str, batches.get("name", []))),
               tuple(map(str, batches.get("created", []))), 0 if hist is None else len(hist))
        return version, key

    def figures(self) -> tuple[str | None, dict]:
        """(active version, {figure: value}) for the latest row; ({}) when unknown."""
        from churn import health

        with self._lock:
            version, key = self._state()
            if version is None:
                return None, {}
            if key != self._key:
                self._figures = health.current_figures(self.paths.data_dir)
                self._key = key
            return version, self._figures

    def collect(self):
        try:
            version, figures = self.figures()
        except Exception as exc:  # noqa: BLE001 - a scrape never fails on health figures
            log.warning("Model health figures left out of /metrics (%s: %s)",
                        type(exc).__name__, exc)
            return
        for name, value in sorted(figures.items()):
            if value != value:  # NaN: not known yet
                continue
            g = GaugeMetricFamily(f"{HEALTH_PREFIX}{name}",
                                  f"Model health: {name.replace('_', ' ')} (latest batch or "
                                  "campaign; churn.health.current_figures).",
                                  labels=["version"])
            g.add_metric([version], float(value))
            yield g


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, paths=None):
        """paths: the data folder's ``churn.config.Paths`` for the model-health gauges (None:
        none)."""
        self.registry = CollectorRegistry()
        r = self.registry
        if paths is not None:
            self.health = HealthCollector(paths)
            r.register(self.health)
        self.requests = Counter("churn_api_requests", "Requests by route template.",
                                ("route", "method", "status"), registry=r)
        self.latency = Histogram("churn_api_request_seconds", "Request latency in seconds.",
                                 ("route", "method"), buckets=BUCKETS, registry=r)
        self.rows = Counter("churn_api_rows_scored", "Customers scored.", ("route",), registry=r)
        self.validation = Counter("churn_api_validation_errors",
                                  "Problems reported for customers or file rows.", ("route",),
                                  registry=r)
        self.model = Gauge("churn_api_model_info", "The model in use (value 1).",
                           ("version", "family"), registry=r)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def set_model(self, version: str, family: str) -> None:
        self.model.clear()
        self.model.labels(version, family).set(1)

    def render(self) -> bytes:
        return generate_latest(self.registry)
