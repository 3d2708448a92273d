# Churn-retention workbench as a container:
#   docker build -t churn-workbench .
#   docker run --rm -p 8501:8501 -v churn-data:/app/data churn-workbench
# then open http://localhost:8501. Trained models, uploads and campaigns live in /app/data.
# The REST API runs from the same image beside the app (same volume, so the same models; its own
# DuckDB file, because DuckDB allows one writing process per file):
#   docker run --rm -p 8000:8000 -v churn-data:/app/data -e CHURN_API_KEY=... \
#     -e CHURN_ADMIN_KEY=... -e CHURN_API_STORE=/app/data/api.duckdb churn-workbench \
#     python -m churn api --host 0.0.0.0 --port 8000
# then http://localhost:8000/docs. Keys: python -m churn api --new-key NAME.
# One retraining decision as a one-off container on the same volume (exit code = outcome):
#   docker run --rm -v churn-data:/app/data churn-workbench python -m churn retrain --if-drift
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CHURN_DATA_DIR=/app/data

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin app

WORKDIR /app

# Pinned requirements first, so code changes do not reinstall them.
COPY requirements.txt .
RUN pip install --no-input -r requirements.txt

COPY --chown=app:app . .

USER app

# The sample customers, generated at build time, and the churn models trained on them (about a
# minute), so the first page a user opens is ready instead of training.
RUN python -m churn synth --out /app/data/sample \
 && python -m churn train --data /app/data/sample/customers.csv

EXPOSE 8501 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD python -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"

CMD ["python", "-m", "streamlit", "run", "app.py", \
     "--server.address=0.0.0.0", "--server.port=8501", "--server.headless=true", \
     "--browser.gatherUsageStats=false"]
