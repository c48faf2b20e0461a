# syntax=docker/dockerfile:1
# wa-inbox's server image: `wa-inbox serve` on port 8080, as an unprivileged user, no secrets inside.
#   docker build -t wa-inbox .
#   docker run --env-file .env -p 8080:8080 -v wa-inbox-data:/var/lib/wa-inbox wa-inbox
#   docker run --env-file .env wa-inbox db migrate        (any other command: the entry point is wa-inbox)
# Settings: the environment (README "Settings"), and /etc/wa-inbox/wa-inbox.toml if mounted there.
# The base image is pinned by tag; pin it by digest too (FROM python:…@sha256:…) where you build.

ARG PYTHON_IMAGE=python:3.11.15-slim-trixie

# --- build: wa-inbox's wheel and the wheels of everything it needs --------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY styles ./styles
COPY wa_inbox ./wa_inbox
RUN pip wheel --wheel-dir /wheels .

# --- runtime: the wheels installed, nothing built, nothing fetched --------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    XDG_CONFIG_HOME=/etc \
    XDG_DATA_HOME=/var/lib
# The wheels are mounted from the build stage, not copied: no layer keeps them.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels /wheels/wa_inbox-*.whl
# A fixed numeric user, so that Kubernetes' runAsNonRoot can check it and volumes can be owned by it.
RUN groupadd --system --gid 10001 wa-inbox \
    && useradd --system --no-log-init --uid 10001 --gid wa-inbox \
        --home-dir /var/lib/wa-inbox --no-create-home --shell /usr/sbin/nologin wa-inbox \
    && install -d -m 0700 -o wa-inbox -g wa-inbox /var/lib/wa-inbox /var/lib/wa-inbox/media
USER 10001:10001
# XDG_DATA_HOME=/var/lib puts the SQLite database (when WA_INBOX_DB is not a server's URL) at
# /var/lib/wa-inbox/inbox.db and `[media] storage_dir` at /var/lib/wa-inbox/media: both on this volume.
VOLUME ["/var/lib/wa-inbox"]
WORKDIR /var/lib/wa-inbox
EXPOSE 8080
# 200 only while the database takes a real commit (see README "How it keeps its promises").
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["wa-inbox"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
