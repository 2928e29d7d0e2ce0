# outagebot: `docker build -t outagebot .` then
# `docker run -e OUTAGEBOT_TOKEN=… -v outagebot-data:/data outagebot` (long polling, SQLite), or
# with OUTAGEBOT_WEBHOOK_URL/SECRET, OUTAGEBOT_WEBHOOK_LISTEN=0.0.0.0 and a postgresql:// database
# as one of several replicas (docs/deploy.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    OUTAGEBOT_DATABASE=/data/outagebot.sqlite3 \
    OUTAGEBOT_REPORT_KEY_FILE=/var/lib/outagebot/reporter.key

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin outagebot \
    && mkdir -p /data && chown outagebot /data \
    && mkdir -p -m 0700 /var/lib/outagebot && chown outagebot /var/lib/outagebot
# The reporter key stays out of the /data volume, so a copy of the volume cannot tell who reported.
# It is made anew when the container is; that costs at most the current hour's report limit.
# Replicas: set OUTAGEBOT_REPORT_SALT (the same on each) instead.

USER outagebot
VOLUME ["/data"]
EXPOSE 8443
CMD ["outagebot", "run"]
