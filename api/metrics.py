"""Prometheus metrics of one API app (its own ``CollectorRegistry``, so two apps in one process,
as in the tests, never share or collide).

- ``churn_api_requests_total{route, method, status}``: requests by route *template*
  (``/v1/campaigns/{campaign_id}``, never the raw path, so ids do not explode the series);
- ``churn_api_request_seconds{route, method}``: latency histogram;
- ``churn_api_rows_scored_total{route}``: customers scored;
- ``churn_api_validation_errors_total{route}``: problems reported for customers or rows;
- ``churn_api_model_info{version, family}``: 1 for the model in use.
"""
from __future__ import annotations

from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram,
                               generate_latest)

BUCKETS = (0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self):
        self.registry = CollectorRegistry()
        r = self.registry
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
