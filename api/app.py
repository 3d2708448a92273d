"""The FastAPI application: routes under ``/v1``, keys and scopes, limits, metrics, errors.

No logic of its own: every number comes from the ``churn`` functions the app and the CLI use
(``churn.predict`` over ``churn.scoring.Engine``, ``churn.batch.score_file``,
``churn.campaign``, ``churn.models``, ``churn.candidate``). Build with `create_app(settings)`.
"""
from __future__ import annotations

import json
import logging
import math
import time
import uuid
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import anyio

from fastapi import Depends, FastAPI, HTTPException, Path as PathParam, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response

from api import schemas as S
from api.engine import EngineHolder, NotReady
from api.jobs import Jobs
from api.metrics import Metrics
from api.security import ADMIN, HEADER, READ, SCORE, KeyRing, Principal, RateLimiter
from api.settings import ApiSettings

log = logging.getLogger("churn.api")

PREFIX = "/v1"
SCORE_PATH = f"{PREFIX}/score"
NOT_READY_RETRY = 10  # seconds a client should wait while the model loads

MSG_NO_KEY = f"Missing API key: send it in the {HEADER} header."
MSG_BAD_KEY = "Invalid API key."
MSG_SCOPE = "This key does not have the {scope} scope that {method} {route} needs."
MSG_RATE = "Rate limit of {rate:g} requests a minute exceeded for this key; retry in {wait} s."
MSG_TOO_LARGE = "The request body is larger than the limit of {limit}."
MSG_NONE_USABLE = "No customer could be used; see errors."
MSG_INTERNAL = ("Something went wrong on our side; your data are safe. Quote reference {ref} to "
                "your administrator (details are in the server log).")
MSG_SHAPE = "The request does not have the expected shape; see errors."
MSG_MULTIPART = ("Send the CSV file as the raw request body, e.g. curl --data-binary @customers.csv "
                 "-H 'Content-Type: text/csv'.")
MSG_EMPTY_BODY = "The request body is empty; send a CSV file in the IBM Telco layout."


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int):
        super().__init__(413, MSG_TOO_LARGE.format(limit=_size(limit)))


def _size(n: int) -> str:
    mb = n / (1024 * 1024)
    return f"{mb:g} MB" if mb >= 1 else f"{n:,} bytes"


def _finite(obj):
    """A JSON-safe copy: numpy numbers as Python numbers, NaN and infinities as null."""
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _route_template(scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


# --- middleware: body limits, metrics, the last line of defence ---------------------------------
class ApiMiddleware:
    """Pure ASGI middleware: 413 for bodies over the limit (the declared Content-Length and the
    bytes actually streamed), request count and latency per route template, and a catch-all
    that logs any unexpected exception with a reference code and answers 500 without a
    traceback."""

    def __init__(self, app, settings: ApiSettings, metrics: Metrics):
        self.app, self.settings, self.metrics = app, settings, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        limit = (self.settings.max_upload_bytes if scope["path"] == SCORE_PATH
                 else self.settings.max_body_bytes)
        state = {"status": 500, "started": False}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                state["status"], state["started"] = message["status"], True
            await send(message)

        try:
            declared = dict(scope.get("headers") or []).get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                await _send_json(send_wrapper, 413, {"detail": MSG_TOO_LARGE.format(
                    limit=_size(limit))})
                return
            seen = 0

            async def receive_wrapper():
                nonlocal seen
                message = await receive()
                if message["type"] == "http.request":
                    seen += len(message.get("body", b""))
                    if seen > limit:
                        raise BodyTooLarge(limit)
                return message

            await self.app(scope, receive_wrapper, send_wrapper)
        except Exception as exc:  # noqa: BLE001 - nothing unexpected reaches a client raw
            if isinstance(exc, BodyTooLarge) and not state["started"]:
                await _send_json(send_wrapper, 413, {"detail": exc.detail})
            else:
                ref = uuid.uuid4().hex[:8]
                log.error("error on %s %s (reference %s)", scope.get("method"), scope["path"],
                          ref, exc_info=exc)
                if not state["started"]:
                    await _send_json(send_wrapper, 500, {"detail": MSG_INTERNAL.format(ref=ref),
                                                         "reference": ref})
        finally:
            self.metrics.observe(_route_template(scope), scope.get("method", ""),
                                 state["status"], time.perf_counter() - t0)


async def _send_json(send, status: int, body: dict, headers: dict | None = None) -> None:
    import json

    data = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.lower().encode(), str(v).encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


# --- the application ------------------------------------------------------------------------------
def create_app(settings: ApiSettings | None = None, *, load_engine: bool = True) -> FastAPI:
    """The API app. settings: ``ApiSettings.from_env()`` when None. load_engine: start loading
    the scoring engine at start-up (tests may set an engine themselves).

    Raises ValueError when no key is configured and ``insecure_local`` is not set, or when the
    keys file is wrong.
    """
    from churn import config

    settings = settings or ApiSettings.from_env()
    keys = KeyRing.from_settings(settings)
    if not len(keys) and not settings.insecure_local:
        raise ValueError("No API key is configured: set CHURN_API_KEY and CHURN_ADMIN_KEY (or "
                         "CHURN_API_KEYS_FILE), or start with --insecure-local to serve "
                         "127.0.0.1 only without keys.")
    paths = config.paths(settings.data_dir)
    metrics = Metrics(paths)
    holder = EngineHolder(paths, on_load=lambda e: metrics.set_model(
        e.version, str(getattr(e.model, "family", "unknown"))))
    limiter = RateLimiter(settings.rate_per_minute)
    failures = RateLimiter(settings.rate_per_minute)
    jobs = Jobs(paths.data_dir / "api-jobs", settings.max_jobs)

    @asynccontextmanager
    async def lifespan(app):
        if load_engine:
            holder.start()
        yield
        jobs.shutdown()

    app = FastAPI(
        lifespan=lifespan,
        title="Churn-retention workbench API",
        version="1",
        description=(
            "Churn risk, reasons, lifetime value and retention offers for customers in the IBM "
            "Telco layout: the same numbers as the workbench app and `python -m churn`. "
            f"Every route except health needs an API key in the `{HEADER}` header: scope "
            "*read* (models, campaigns, jobs, metrics), *score* (predict, explain, recommend, "
            "score, build campaigns) or *admin* (activate a model version, retrain). "
            "Probabilities are 0..1, contributions are percentage points of churn probability, "
            "money is in dollars."),
        responses={401: {"model": S.ErrorResponse}, 429: {"model": S.ErrorResponse}},
    )
    app.state.settings, app.state.metrics, app.state.engine = settings, metrics, holder
    app.state.jobs, app.state.limiter = jobs, limiter
    app.add_middleware(ApiMiddleware, settings=settings, metrics=metrics)

    # --- errors ---------------------------------------------------------------------------------
    @app.exception_handler(RequestValidationError)
    async def _shape(request: Request, exc: RequestValidationError):
        problems = []
        for e in exc.errors():
            loc = [str(p) for p in e.get("loc", ())]
            row = None
            if len(loc) >= 3 and loc[:2] == ["body", "customers"] and loc[2].isdigit():
                row = int(loc[2])
                loc = loc[3:]
            elif loc and loc[0] in ("body", "query", "path"):
                loc = loc[1:]
            problems.append({"row": row, "column": ".".join(loc) or None, "message": e["msg"]})
        return JSONResponse({"detail": MSG_SHAPE, "errors": problems}, status_code=422)

    @app.exception_handler(NotReady)
    async def _not_ready(request: Request, exc: NotReady):
        return JSONResponse({"detail": str(exc)}, status_code=503,
                            headers={"Retry-After": str(NOT_READY_RETRY)})

    # --- keys and scopes ------------------------------------------------------------------------
    def require(scope: str):
        # async: a hash and a dict look-up, done on the event loop (a plain def would take a
        # worker thread per request just to check the key)
        async def check(request: Request) -> Principal:
            key = request.headers.get(HEADER)
            if settings.insecure_local and not len(keys):
                principal = Principal("local", frozenset((READ, SCORE, ADMIN)))
            else:
                principal = keys.check(key)
                if principal is None:
                    client = request.client.host if request.client else "unknown"
                    wait = failures.take(f"client:{client}")
                    if wait:
                        raise HTTPException(429, MSG_RATE.format(rate=settings.rate_per_minute,
                                                                 wait=wait),
                                            headers={"Retry-After": str(wait)})
                    raise HTTPException(401, MSG_NO_KEY if not key else MSG_BAD_KEY,
                                        headers={"WWW-Authenticate": HEADER})
            wait = limiter.take(principal.name)
            if wait:
                raise HTTPException(429, MSG_RATE.format(rate=settings.rate_per_minute,
                                                         wait=wait),
                                    headers={"Retry-After": str(wait)})
            if scope not in principal.scopes:
                route = _route_template(request.scope)
                raise HTTPException(403, MSG_SCOPE.format(scope=scope, method=request.method,
                                                          route=route))
            return principal
        return check

    read, score, admin = Depends(require(READ)), Depends(require(SCORE)), Depends(require(ADMIN))
    errors = {422: {"model": S.ErrorResponse}, 403: {"model": S.ErrorResponse}}

    def business(s: S.Settings | None):
        from churn.config import BusinessSettings

        if s is None:
            return BusinessSettings()
        if s.medium_risk >= s.high_risk:
            raise HTTPException(422, f"settings.medium_risk ({s.medium_risk:g}) must be below "
                                     f"settings.high_risk ({s.high_risk:g}).")
        return s.business()

    # The scoring routes' work runs in worker threads, at most `scoring_threads` at once: it
    # holds Python's GIL, so twenty requests computed together each take twenty times longer
    # (and switch threads all the time) where queued ones finish one after another.
    scoring: list = []

    async def compute(fn, *args, **kwargs):
        if not scoring:
            scoring.append(anyio.CapacityLimiter(settings.scoring_threads))
        return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs), limiter=scoring[0])

    def records(customers) -> list[dict]:
        return [c.model_dump(exclude_unset=True) for c in customers]

    def count_problems(route: str, problems: list) -> None:
        if problems:
            metrics.validation.labels(route).inc(len(problems))

    # --- health ---------------------------------------------------------------------------------
    @app.get(f"{PREFIX}/health/live", tags=["health"], summary="The process is up")
    def live():
        return {"status": "live"}

    @app.get(f"{PREFIX}/health/ready", tags=["health"], summary="A model is loaded",
             responses={503: {"model": S.ErrorResponse}})
    def ready():
        ok, message = holder.status()
        if not ok:
            return JSONResponse({"status": "not ready", "detail": message}, status_code=503,
                                headers={"Retry-After": str(NOT_READY_RETRY)})
        return {"status": "ready", "model_version": message}

    # --- one customer or a list -----------------------------------------------------------------
    @app.post(f"{PREFIX}/predict", tags=["score"], response_model=S.PredictResponse,
              responses=errors, summary="Churn risk, drivers, lifetime value and best offers")
    async def predict(body: S.CustomersRequest, _: Principal = score):
        """Scores 1 to 1,000 customers. Customers that break the file rules are listed in
        `errors` (position in the list, column, the validator's message) and the others are
        still scored (200); 422 when none can be used."""
        from churn import predict as P

        engine = holder.get()
        out = await compute(P.predict, engine, records(body.customers), business(body.settings))
        count_problems("/v1/predict", out.errors)
        if not out.results:
            return JSONResponse({"detail": MSG_NONE_USABLE, "errors": out.errors},
                                status_code=422)
        metrics.rows.labels("/v1/predict").inc(len(out.results))
        # Returned as is (the core builds exactly PredictResponse's shape; tests check it), so
        # 1,000 customers are not validated a second time on the way out.
        return JSONResponse({"model_version": out.model_version, "results": out.results,
                             "errors": out.errors, "warnings": out.warnings})

    @app.post(f"{PREFIX}/explain", tags=["score"], response_model=S.ExplainResponse,
              responses=errors, summary="The full contribution breakdown of one customer")
    async def explain(body: S.ExplainRequest, _: Principal = score):
        from churn import predict as P

        engine = holder.get()
        result, problems = await compute(P.explain_record, engine,
                                         body.customer.model_dump(exclude_unset=True))
        count_problems("/v1/explain", problems)
        if result is None:
            return JSONResponse({"detail": MSG_NONE_USABLE, "errors": problems}, status_code=422)
        metrics.rows.labels("/v1/explain").inc()
        return {"model_version": engine.version, **result}

    @app.post(f"{PREFIX}/recommend", tags=["score"], response_model=S.RecommendResponse,
              responses=errors, summary="Ranked offers with the rule part and the learned part")
    async def recommend(body: S.RecommendRequest, _: Principal = score):
        from churn import predict as P

        engine = holder.get()
        results, problems = await compute(P.recommend, engine, records(body.customers),
                                          business(body.settings), top=body.top)
        count_problems("/v1/recommend", problems)
        if not results:
            return JSONResponse({"detail": MSG_NONE_USABLE, "errors": problems}, status_code=422)
        metrics.rows.labels("/v1/recommend").inc(len(results))
        return JSONResponse({"model_version": engine.version, "results": results,
                             "errors": problems})

    # --- files ----------------------------------------------------------------------------------
    def job_links(job) -> dict:
        base = f"{PREFIX}/jobs/{job.id}"
        links = {"status": base}
        if job.kind == "score":
            links.update(scores=f"{base}/scores", rejects=f"{base}/rejects")
        return links

    def job_body(job) -> dict:
        return {"id": job.id, "kind": job.kind, "status": job.status, "created": job.created,
                "started": job.started, "finished": job.finished, "message": job.message,
                "result": job.result, "links": job_links(job)}

    def score_work(source: Path, engine):
        from churn import batch

        def work(job) -> dict:
            result = batch.score_file(source, job.folder / "scores.csv", engine=engine)
            source.unlink(missing_ok=True)
            if result.problem:
                count_problems(SCORE_PATH, [1])
                raise ValueError(result.problem)
            count_problems(SCORE_PATH, [None] * result.rejected)
            metrics.rows.labels(SCORE_PATH).inc(result.scored)
            job.files = {"scores": result.out, "rejects": result.rejects}
            return {"rows": result.rows, "scored": result.scored, "rejected": result.rejected,
                    "seconds": round(result.seconds, 2), "warnings": result.warnings[:20]}
        return work

    @app.post(SCORE_PATH, tags=["score"], status_code=200,
              responses={200: {"content": {"text/csv": {}},
                               "description": "The scored customers (CSV); rejected rows at "
                                              "the `rejects` link."},
                         202: {"model": S.JobStatus, "description": "A large file: a job."},
                         413: {"model": S.ErrorResponse}, **errors},
              summary="Score a CSV file (large files become a job)",
              openapi_extra={"requestBody": {"required": True, "content": {
                  "text/csv": {"schema": {"type": "string", "format": "binary"}}}}})
    async def score_file(request: Request, principal: Principal = score):
        """The CSV as the raw body (IBM Telco layout; Churn optional). Files up to the sync
        limit are answered at once with the scored CSV (`X-Rows`, `X-Scored`, `X-Rejected`
        headers; the rejected rows with their reasons at the `Link` rel="rejects"). Larger files
        answer 202 with a job id and a status URL."""
        if request.headers.get("content-type", "").startswith("multipart/"):
            raise HTTPException(415, MSG_MULTIPART)
        engine = holder.get()
        job = jobs.new("score", principal.name)
        source = job.folder / "upload.csv"
        size = 0
        try:
            with open(source, "wb") as fh:
                async for chunk in request.stream():
                    size += len(chunk)
                    fh.write(chunk)
        except BaseException:  # too large, or the client went away: nothing is kept
            jobs.discard(job)
            raise
        if size == 0:
            jobs.discard(job)
            raise HTTPException(422, MSG_EMPTY_BODY)
        work = score_work(source, engine)
        if size > settings.sync_max_bytes:
            jobs.start(job, work)
            return JSONResponse(job_body(job), status_code=202,
                                headers={"Location": job_links(job)["status"]})
        await run_in_threadpool(jobs.run, job, work)
        if job.status != "done":
            raise HTTPException(422, job.message or "The file could not be scored.")
        r = job.result
        return FileResponse(job.files["scores"], media_type="text/csv", filename="scores.csv",
                            headers={"X-Rows": str(r["rows"]), "X-Scored": str(r["scored"]),
                                     "X-Rejected": str(r["rejected"]), "X-Job-Id": job.id,
                                     "Link": f'<{job_links(job)["rejects"]}>; rel="rejects"'})

    def own_job(job_id: str, principal: Principal):
        job = jobs.get(job_id)
        if job is None or (job.owner != principal.name and ADMIN not in principal.scopes):
            raise HTTPException(404, f"No job {job_id}: it never existed, belongs to another "
                                     "key, or was removed (jobs are kept in memory until the "
                                     "server restarts).")
        return job

    @app.get(f"{PREFIX}/jobs/{{job_id}}", tags=["jobs"], response_model=S.JobStatus,
             responses={404: {"model": S.ErrorResponse}}, summary="A job's status and result")
    def job_status(job_id: str, principal: Principal = read):
        return job_body(own_job(job_id, principal))

    def job_file(job_id: str, principal: Principal, which: str):
        job = own_job(job_id, principal)
        if job.status != "done" or which not in job.files:
            raise HTTPException(409, f"Job {job_id} is {job.status}; its files are ready when "
                                     "it is done.")
        return FileResponse(job.files[which], media_type="text/csv",
                            filename=f"{which}.csv")

    @app.get(f"{PREFIX}/jobs/{{job_id}}/scores", tags=["jobs"], summary="Scored customers (CSV)",
             response_class=FileResponse)
    def job_scores(job_id: str, principal: Principal = read):
        return job_file(job_id, principal, "scores")

    @app.get(f"{PREFIX}/jobs/{{job_id}}/rejects", tags=["jobs"],
             summary="Rejected rows with their reasons (CSV)", response_class=FileResponse)
    def job_rejects(job_id: str, principal: Principal = read):
        return job_file(job_id, principal, "rejects")

    # --- campaigns ------------------------------------------------------------------------------
    def store():
        from churn.store import Store

        try:
            return Store(settings.store or paths.store)
        except Exception as exc:  # noqa: BLE001 - typically the app holds the database
            log.warning("store unavailable: %s", exc)
            raise HTTPException(503, "The workbench database cannot be opened (DuckDB allows one "
                                     "writing process per file, and the app may hold it). Give "
                                     "the API its own file with CHURN_API_STORE.") from None

    def customers_of(dataset: str, engine, *, need_target: bool = False):
        """The customers of a data set: "sample" (for decisions: the sample's active base when
        it exists, as the CLI's campaign command) or a saved batch."""
        from churn import schema

        if dataset == "sample":
            frame = engine.customers
            active_csv = getattr(paths, "active_csv", None)
            if not need_target and active_csv is not None and active_csv.exists():
                from churn.validate import load_customers

                frame = load_customers(active_csv)
        else:
            try:
                frame = store().load_batch(dataset)
            except (ValueError, KeyError):
                raise HTTPException(404, f'No saved batch called "{dataset}"; use "sample" or '
                                         "the name of a batch saved on Upload & score.") from None
            frame = frame.drop(columns=[c for c in ("row",) if c in frame.columns])
        if need_target and schema.TARGET not in frame.columns:
            raise HTTPException(422, f'"{dataset}" has no Churn column, so a model cannot '
                                     "learn from it.")
        return frame

    def campaign_summary(cid: int, name: str, camp) -> dict:
        return {"id": int(cid), "name": name, "customers": camp.customers,
                "treated": camp.treated, "held_out": camp.held_out, "warning": camp.warning,
                "budget": float(camp.settings.get("budget", 0.0)), "spent": camp.spent,
                "expected_saved_revenue": camp.expected_saved_revenue,
                "expected_net_value": camp.expected_net_value,
                "model_version": camp.settings.get("model_version"),
                "links": {"json": f"{PREFIX}/campaigns/{cid}?format=json",
                          "csv": f"{PREFIX}/campaigns/{cid}?format=csv",
                          "results": f"{PREFIX}/campaigns/{cid}/results"}}

    @app.post(f"{PREFIX}/campaigns", tags=["campaigns"], response_model=S.CampaignSummary,
              status_code=201, responses={**errors, 404: {"model": S.ErrorResponse}},
              summary="Build and save a budgeted retention campaign")
    def create_campaign(body: S.CampaignRequest, _: Principal = score):
        from churn import campaign, population

        engine = holder.get()
        bs = business(body.settings)
        frame = population.active(customers_of(body.dataset, engine))
        scored, ranked = campaign.campaign_inputs(engine, frame, bs)
        try:
            camp = campaign.build_campaign(
                scored, ranked, body.budget,
                tiers=[t.value for t in body.tiers] if body.tiers else None,
                segment=body.segment, min_clv=body.min_clv, offers_allowed=body.offers_allowed,
                control_share=body.control_share, seed=body.seed,
                business_settings=bs, model_version=engine.version,
                extra_settings={"dataset": body.dataset, "source": "api"})
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        cid = campaign.save_campaign(store(), camp, body.name)
        return campaign_summary(cid, body.name, camp)

    @app.get(f"{PREFIX}/campaigns", tags=["campaigns"], summary="Saved campaigns, newest first")
    def list_campaigns(_: Principal = read):
        rows = store().list_campaigns()
        return {"campaigns": [{"id": int(r["id"]), "name": str(r["name"]),
                               "created": str(r["created"]), "customers": int(r["rows"])}
                              for r in rows.to_dict("records")]}

    @app.get(f"{PREFIX}/campaigns/{{campaign_id}}", tags=["campaigns"],
             responses={200: {"content": {"text/csv": {}, "application/json": {}}},
                        404: {"model": S.ErrorResponse}},
             summary="A saved campaign as JSON or as the app's CSV download")
    def get_campaign(request: Request, campaign_id: int = PathParam(ge=1),
                     format: str | None = Query(None, pattern="^(json|csv)$",
                                                description="json or csv (default: by the "
                                                            "Accept header, else json)."),
                     _: Principal = read):
        from churn import campaign

        try:
            camp = campaign.reopen_campaign(store(), campaign_id)
        except ValueError:
            raise HTTPException(404, f"No campaign with id {campaign_id}.") from None
        wants_csv = format == "csv" or (format is None and "text/csv" in
                                        request.headers.get("accept", ""))
        if wants_csv:
            return Response(campaign.to_csv_bytes(camp.rows), media_type="text/csv",
                            headers={"Content-Disposition":
                                     f'attachment; filename="campaign-{campaign_id}.csv"'})
        import json

        rows = json.loads(camp.rows.to_json(orient="records"))
        names = store().list_campaigns()
        name = next((str(n) for i, n in zip(names["id"], names["name"]) if int(i) == campaign_id),
                    "")
        summary = campaign_summary(campaign_id, name, camp)
        return {**summary, "settings": camp.settings, "rows": rows}

    @app.post(f"{PREFIX}/campaigns/{{campaign_id}}/results", tags=["campaigns"],
              responses={**errors, 404: {"model": S.ErrorResponse}},
              summary="Measure what a campaign saved, from its outcomes",
              openapi_extra={"requestBody": {"content": {
                  "application/json": {"schema": S.OutcomesRequest.model_json_schema()},
                  "text/csv": {"schema": {"type": "string", "format": "binary"}}}}})
    async def campaign_results(request: Request, campaign_id: int = PathParam(ge=1),
                               record: bool = Query(False, description="Add the outcomes to "
                                                    "the campaign history (the offer "
                                                    "recommender learns from it)."),
                               _: Principal = score):
        """The outcomes as JSON (`{"outcomes": [{"customerID", "churned", "accepted"}]}`) or as
        a CSV body (the campaign export with churned filled in, or just customerID, churned,
        accepted). Answers `{"uplift", "ci95", "treatment", "control", "by_offer", "by_tier",
        ...}` (`churn.results`: uplift = control churn rate − treatment churn rate, 95%
        Newcombe interval); 422 when the outcomes cannot be read at all."""
        import pandas as pd

        from churn import campaign, results

        body = await request.body()
        db = store()
        try:
            rows = campaign.reopen_campaign(db, campaign_id).rows
        except ValueError:
            raise HTTPException(404, f"No campaign with id {campaign_id}.") from None
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                parsed = S.OutcomesRequest.model_validate_json(body)
            except ValueError as exc:
                raise RequestValidationError(exc.errors()) from None
            frame = pd.DataFrame([{k: "" if v is None else str(v)
                                   for k, v in o.model_dump().items()} for o in parsed.outcomes])
            res = await run_in_threadpool(results.measure, frame, rows, name="The request")
        else:
            res = await run_in_threadpool(results.measure_file, body, rows, name="The file")
        if res.fatal:
            return JSONResponse({"detail": res.fatal, **res.to_dict()}, status_code=422)
        out = res.to_dict()
        if record:
            from datetime import date

            on = str(campaign.reopen_campaign(db, campaign_id).settings.get("date")
                     or date.today())
            history = results.history_rows(res, f"saved-{campaign_id}", on)
            out["recorded"] = int(len(history))
            out["history_rows"] = int(db.append_campaign_history(history))
        return JSONResponse(_finite(out))

    # --- models ---------------------------------------------------------------------------------
    @app.get(f"{PREFIX}/models", tags=["models"], summary="Model versions, newest first")
    def list_models(_: Principal = read):
        from churn import models

        versions = models.jsonable(models.list_versions(paths.models_dir))
        return {"active": models.active_version(paths.models_dir), "versions": versions}

    @app.post(f"{PREFIX}/models/{{version}}/activate", tags=["models"],
              responses={404: {"model": S.ErrorResponse}, 409: {"model": S.ErrorResponse},
                         403: {"model": S.ErrorResponse}},
              summary="Put a model version in use (admin)")
    def activate(version: str, _: Principal = admin):
        from churn import models

        try:
            notes = models.activate(version, paths.models_dir)
        except ValueError as exc:
            raise HTTPException(404, str(exc)) from None
        except models.ModelCacheError as exc:
            raise HTTPException(409, f"Version {version} cannot be used: {exc}.") from None
        engine = holder.load_now()
        out = {"active": engine.version}
        if isinstance(notes, list) and notes:  # e.g. the registry alias could not be moved
            out["warnings"] = [str(n) for n in notes]
        return out

    @app.post(f"{PREFIX}/retrain", tags=["models"], status_code=202,
              response_model=S.JobStatus, responses={**errors, 404: {"model": S.ErrorResponse}},
              summary="Train a new model, compare it, activate only if asked (admin)")
    def retrain(body: S.RetrainRequest, principal: Principal = admin):
        from churn import candidate

        engine = holder.get()
        frame = customers_of(body.dataset, engine, need_target=True)

        def work(job) -> dict:
            out = candidate.train_candidate(frame, paths.models_dir, activate=body.activate)
            if out.activated:
                holder.load_now()
            return out.to_dict()

        job = jobs.new("retrain", principal.name)
        jobs.start(job, work)
        return JSONResponse(job_body(job), status_code=202,
                            headers={"Location": job_links(job)["status"]})

    # --- metrics --------------------------------------------------------------------------------
    @app.get(f"{PREFIX}/metrics", tags=["health"], response_class=Response,
             summary="Prometheus metrics")
    def prometheus(_: Principal = read):
        return Response(metrics.render(), media_type=metrics.content_type)

    return app
