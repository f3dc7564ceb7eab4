# User management: `python -m usermgmt`, listening on $PORT (8095).
# Build from the repository root: docker build -f docker/usermgmt.Dockerfile -t usermgmt .

FROM python:3.11.15-slim-bookworm AS build
WORKDIR /src
RUN python -m venv /opt/venv
# Where pip finds packages. Unset, pip's default: the public index. Behind a mirror, or from a
# local wheelhouse: --build-arg PIP_INDEX_URL=... or PIP_FIND_LINKS=...; the image is the same.
ARG PIP_INDEX_URL
ARG PIP_FIND_LINKS
# Dependencies first, from pyproject.toml alone, so a code change reuses this layer.
# README.md is only the package's long description: a stub here keeps an edit of the docs
# from rebuilding the dependency layer.
COPY pyproject.toml ./
COPY docker/constraints.txt docker/
RUN mkdir services && touch README.md \
    && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check \
        --constraint docker/constraints.txt ".[usermgmt]"
COPY services/ services/
RUN /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check \
        --no-deps --force-reinstall .

FROM python:3.11.15-slim-bookworm
# A numeric UID, so Kubernetes can check runAsNonRoot without a runAsUser of its own.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app \
    && install --directory --owner app --group app /data
COPY --from=build /opt/venv /opt/venv
# SQLITE_PATH is only used without DB_HOSTNAME/DATABASE_URL (docker run with no database).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8095 \
    SQLITE_PATH=/data/usermgmt.db
WORKDIR /data
USER 10001:10001
EXPOSE 8095
# slim has no curl: ask with the interpreter the service already needs, on $PORT.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['PORT'] + '/usermgmt/health-status', timeout=2)"]
CMD ["python", "-m", "usermgmt"]
