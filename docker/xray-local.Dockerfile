# Local X-Ray daemon: segments on UDP 2000, the X-Ray API and the service map on TCP 2000,
# OpenTelemetry spans (OTLP/HTTP) on TCP 4318.
# Build from the repository root: docker build -f docker/xray-local.Dockerfile -t xray-local .

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
        --constraint docker/constraints.txt ".[xray-local]"
COPY services/ services/
RUN /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check \
        --no-deps --force-reinstall .

FROM python:3.11.15-slim-bookworm
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
EXPOSE 2000/udp 2000/tcp 4318/tcp
# The port is the one in CMD's -t; a `command:` that moves it must move this check too.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:2000/health', timeout=2)"]
CMD ["python", "-m", "xray_local", "-b", "0.0.0.0:2000", "-t", "0.0.0.0:2000", "--bind-otlp", "0.0.0.0:4318"]
