# Notification: `python -m notification`, listening on $PORT (8096). One Dockerfile for every
# version, as Istio's Bookinfo builds reviews v1-v3: the version is a build argument.
#   docker build -f docker/notification.Dockerfile --build-arg APP_VERSION=V2 -t notification:v2 .

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
        --constraint docker/constraints.txt ".[notification]"
COPY services/ services/
RUN /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check \
        --no-deps --force-reinstall .

FROM python:3.11.15-slim-bookworm
# A numeric UID, so Kubernetes can check runAsNonRoot without a runAsUser of its own.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
# Declared after the dependency layers: building V2 after V1 reuses all of them.
ARG APP_VERSION=V1
LABEL org.opencontainers.image.title="notification" \
      org.opencontainers.image.version="${APP_VERSION}"
# The version is baked in: a V2 Deployment cannot run V1 because of a stale env var.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8096 \
    APP_VERSION=${APP_VERSION}
USER 10001:10001
EXPOSE 8096
# slim has no curl: ask with the interpreter the service already needs, on $PORT.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['PORT'] + '/notification/health-status', timeout=2)"]
CMD ["python", "-m", "notification"]
