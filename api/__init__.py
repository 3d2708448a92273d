"""The workbench's REST API (FastAPI): the same numbers as the app and the CLI, for CRM and
call-centre systems. `api.app.create_app` builds it; `python -m churn api` serves it (uvicorn).

No logic lives here: routes validate the request's shape, check the key's scope, call one `churn`
function and serialise what it returns. See README.md, "REST API".
"""
