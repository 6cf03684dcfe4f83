# The Tasks API image: one image for the API (`tasks-api serve`, the
# default), the worker (`tasks-api worker`) and migrations
# (`tasks-api migrate`). docker-compose.yml wires them to MongoDB and
# Redis.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Tesseract with English and orientation/script detection data; PDFs
# are rendered by pypdfium2, so poppler is not needed.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --uid 10001 --user-group --home-dir /app \
        --shell /usr/sbin/nologin app \
    && mkdir -p /app /data \
    && chown app:app /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY adapters ./adapters
COPY entrypoints ./entrypoints
COPY alembic-free-migrations ./alembic-free-migrations
RUN pip install . && rm -rf /root/.cache

USER app
# DATA_DIR holds what the embedded mode keeps on disk (SQLite, files);
# with MONGO_URL and Cloudinary set it stays nearly empty.
ENV PORT=4000 DATA_DIR=/data
EXPOSE 4000

HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '4000'), timeout=4)"]

CMD ["tasks-api", "serve"]
