# syntax=docker/dockerfile:1
# The Virtuoso API service image for Cloud Run (deploy/README.md): the `gcp` extra, a non-root user,
# `virtuoso-api serve` on $PORT. Checked by hadolint in the test command (tests/deploy/test_dockerfile.py).

# -- build: a wheel of the project and a virtualenv with it and the Google Cloud libraries -----------
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# The virtualenv is copied whole into the runtime stage: no compiler, pip cache or sources there.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir ".[gcp]"

# -- runtime -----------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime
ARG UID=10001
# HOST: Cloud Run sends traffic to the container's interface, not its loopback. PORT: Cloud Run sets
# it (8080); the default only serves `docker run -p 8080:8080`. DATA_DIR: the outbox and the local
# files the GCP flags leave (Cloud Run's disk is memory and goes with the instance; see deploy/README.md).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/var/lib/virtuoso-api
RUN groupadd --system --gid "${UID}" virtuoso \
    && useradd --system --uid "${UID}" --gid virtuoso --home-dir /nonexistent --shell /usr/sbin/nologin virtuoso \
    && mkdir -p /var/lib/virtuoso-api \
    && chown virtuoso:virtuoso /var/lib/virtuoso-api
COPY --from=build /opt/venv /opt/venv
# Numeric, so a runtime that checks for a non-root user (runAsNonRoot) can see it is not 0.
USER ${UID}:${UID}
WORKDIR /var/lib/virtuoso-api
EXPOSE 8080
# Exec form: the service is PID 1 and gets Cloud Run's SIGTERM itself. It then stops taking requests,
# gives open ones SHUTDOWN_DRAIN_SECONDS, and flushes the outbox within SHUTDOWN_FLUSH_SECONDS, inside
# Cloud Run's 10-second window before SIGKILL.
CMD ["virtuoso-api", "serve"]
