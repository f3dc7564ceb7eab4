"""`python -m xray_local [flags]` runs the daemon; `python -m xray_local map` prints the map."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .config import (
    API_TOKEN_VARIABLE,
    DEFAULT_ADDRESS,
    DEFAULT_OTLP_ADDRESS,
    DEFAULT_OTLP_MAX_BODY_BYTES,
    LOG_LEVELS,
    OFF,
    Address,
    ConfigError,
    FileConfig,
    OtlpSettings,
    Settings,
    api_token,
    load_config_file,
)
from .store import Retention

log = logging.getLogger("xray_local")

DEFAULT_KEEP_TRACES = 10_000
DEFAULT_KEEP_MINUTES = 60.0
DEFAULT_KEEP_MEGABYTES = 256
IGNORED = "ignored_"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def daemon_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m xray_local",
        description=(
            "A local AWS X-Ray: the daemon's UDP intake and an OTLP intake, plus the X-Ray "
            "API, sampling rules and a live service map, with no AWS account. "
            "`python -m xray_local map --help` for the terminal map."
        ),
    )
    add = parser.add_argument
    add("-b", "--bind", metavar="HOST:PORT", help=f"UDP address for segments ({DEFAULT_ADDRESS})")
    add(
        "-t",
        "--bind-tcp",
        metavar="HOST:PORT",
        help=f"TCP address: API and page ({DEFAULT_ADDRESS})",
    )
    add(
        "--bind-otlp",
        metavar="HOST:PORT",
        help=f"TCP address for OTLP/HTTP spans, or 'off' ({DEFAULT_OTLP_ADDRESS})",
    )
    add("-c", "--config", metavar="PATH", type=Path, help="the X-Ray daemon's config.yaml")
    add("--upstream", metavar="HOST:PORT", help="also relay every datagram to this real daemon")
    add(
        "--keep-traces",
        type=_positive_int,
        default=DEFAULT_KEEP_TRACES,
        metavar="N",
        help=f"keep the last N traces (default {DEFAULT_KEEP_TRACES})",
    )
    add(
        "--keep-minutes",
        type=_positive_float,
        default=DEFAULT_KEEP_MINUTES,
        metavar="T",
        help=f"keep traces for T minutes (default {DEFAULT_KEEP_MINUTES:g})",
    )
    add(
        "--keep-megabytes",
        type=_positive_int,
        default=DEFAULT_KEEP_MEGABYTES,
        metavar="M",
        help=f"keep at most about M MB of traces (default {DEFAULT_KEEP_MEGABYTES})",
    )
    add(
        "-s",
        "--sampling-rules",
        metavar="PATH",
        type=Path,
        help="sampling rules JSON (X-Ray API or SDK local shape); default: sample everything",
    )
    add(
        "--max-document-bytes",
        type=_positive_int,
        default=64 * 1024,
        metavar="N",
        help="refuse segment documents larger than this (default 65536, X-Ray's limit)",
    )
    add(
        "--otlp-max-body-bytes",
        type=_positive_int,
        default=DEFAULT_OTLP_MAX_BODY_BYTES,
        metavar="N",
        help="refuse OTLP/HTTP bodies larger than this, once inflated "
        f"(default {DEFAULT_OTLP_MAX_BODY_BYTES})",
    )
    add(
        "--indexed-attribute",
        action="append",
        default=[],
        metavar="KEY",
        dest="indexed_attributes",
        help="make this span attribute an annotation, as awsxrayexporter's indexed_attributes "
        "(repeatable)",
    )
    add(
        "--index-all-attributes",
        action="store_true",
        help="make every span attribute an annotation (awsxrayexporter's index_all_attributes)",
    )
    add(
        "--api-token-file",
        metavar="PATH",
        type=Path,
        help=f"require the token in this file for the API's trace operations (or set "
        f"{API_TOKEN_VARIABLE}); default: no token",
    )
    add("-l", "--log-level", choices=list(LOG_LEVELS), help="dev, debug, info, warn, error, prod")
    add("-f", "--log-file", metavar="PATH", type=Path, help="log to this file as well")
    add("-v", "--version", action="version", version=f"xray_local {__version__}")
    ignored = parser.add_argument_group("accepted for drop-in use, ignored (they concern AWS)")
    for short, long in (
        ("-n", "--region"),
        ("-r", "--role-arn"),
        ("-a", "--resource-arn"),
        ("-p", "--proxy-address"),
        ("-m", "--buffer-memory"),
    ):
        ignored.add_argument(short, long, metavar="VALUE", dest=_ignored(long))
    ignored.add_argument("-o", "--local-mode", action="store_true", dest=_ignored("--local-mode"))
    return parser


def settings_from(args: argparse.Namespace) -> tuple[Settings, list[str]]:
    """Flags over config file over defaults, and the AWS-only settings given (ignored);
    ConfigError when something is invalid."""
    file = load_config_file(args.config) if args.config else FileConfig()
    ignored = [
        "--" + name[len(IGNORED) :].replace("_", "-")
        for name, value in vars(args).items()
        if name.startswith(IGNORED) and value
    ]
    ignored += [f"{key} (config file)" for key in file.ignored]
    udp = Address.parse(args.bind or file.udp or DEFAULT_ADDRESS, "UDP address")
    tcp = Address.parse(args.bind_tcp or file.tcp or DEFAULT_ADDRESS, "TCP address")
    otlp_text = args.bind_otlp or file.otlp or DEFAULT_OTLP_ADDRESS
    otlp = None if otlp_text.strip().lower() == OFF else Address.parse(otlp_text, "OTLP address")
    if otlp is not None and otlp.port and otlp.port == tcp.port:
        raise ConfigError(
            f"the OTLP address {otlp} and the TCP address {tcp} need different ports "
            "(or --bind-otlp off)"
        )
    upstream = None
    if args.upstream:
        upstream = Address.parse(args.upstream, "--upstream", allow_port_zero=False)
    level = args.log_level or file.log_level or "prod"
    log_file = args.log_file or (Path(file.log_file) if file.log_file else None)
    settings = Settings(
        udp=udp,
        tcp=tcp,
        otlp=OtlpSettings(
            address=otlp,
            max_body_bytes=args.otlp_max_body_bytes,
            indexed_attributes=tuple(args.indexed_attributes),
            index_all_attributes=args.index_all_attributes,
        ),
        upstream=upstream,
        retention=Retention(
            max_traces=args.keep_traces,
            max_age_seconds=args.keep_minutes * 60,
            max_bytes=args.keep_megabytes * 1024 * 1024,
        ),
        sampling_rules=args.sampling_rules,
        max_document_bytes=args.max_document_bytes,
        log_level=LOG_LEVELS[level],
        log_file=log_file,
        api_token=_api_token(args.api_token_file),
    )
    return settings, ignored


def _api_token(path: Path | None) -> str | None:
    """From --api-token-file (kept out of `ps`, unlike a flag), else the environment."""
    if path is not None:
        try:
            return api_token(path.read_text(), f"--api-token-file {path}")
        except OSError as exc:
            raise ConfigError(
                f"cannot read --api-token-file {path}: {exc.strerror or exc}"
            ) from None
    value = os.environ.get(API_TOKEN_VARIABLE)
    return api_token(value, API_TOKEN_VARIABLE) if value else None


def configure_logging(settings: Settings) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    if settings.log_file is not None:
        handlers.append(logging.FileHandler(settings.log_file))
    logging.basicConfig(level=settings.log_level, format=LOG_FORMAT, handlers=handlers, force=True)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["map"]:
        from .mapview import main as map_main

        return map_main(argv[1:])
    parser = daemon_parser()
    args = parser.parse_args(argv)
    try:
        settings, ignored = settings_from(args)
    except ConfigError as exc:
        parser.error(str(exc))
    configure_logging(settings)
    if ignored:
        log.info("ignoring settings that only concern AWS: %s", ", ".join(ignored))
    from .daemon import run

    return run(settings)


def _ignored(flag: str) -> str:
    return IGNORED + flag.lstrip("-").replace("-", "_")


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text!r}")
    return int(text)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
    return value
