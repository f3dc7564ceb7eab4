"""The local X-Ray daemon (`python -m xray_local`) as a real process on loopback ports: UDP
segments, the X-Ray API and page on TCP, and OTLP/HTTP spans on a TCP port of its own."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import boto3
import httpx

from devstack import (
    XRAY_LOCAL_HEALTH,
    ProcessGroup,
    ServiceProcess,
    free_tcp_port,
    free_udp_port,
    poll_until,
)
from devstack import start_xray_local as start_daemon

from .xray_documents import Document, datagram

HEALTH_PATH = XRAY_LOCAL_HEALTH
OTLP_TRACES_PATH = "/v1/traces"


def xray_client(base_url: str, access_key: str = "x") -> Any:
    """boto3's X-Ray client pointed at a local daemon's API, exactly as a user would make it."""
    return boto3.client(
        "xray",
        endpoint_url=base_url,
        region_name="us-east-1",
        aws_access_key_id=access_key,
        aws_secret_access_key="x",
    )


@dataclass
class LocalXRay:
    process: ServiceProcess
    udp_port: int
    tcp_port: int
    otlp_port: int | None = None  # None: started with --bind-otlp off

    @property
    def udp_address(self) -> str:
        return f"127.0.0.1:{self.udp_port}"

    @property
    def tcp_address(self) -> str:
        return f"127.0.0.1:{self.tcp_port}"

    @property
    def daemon_address(self) -> str:
        """What a service's AWS_XRAY_DAEMON_ADDRESS says to use this daemon for both."""
        return f"tcp:{self.tcp_address} udp:{self.udp_address}"

    @property
    def base_url(self) -> str:
        return f"http://{self.tcp_address}"

    @property
    def otlp_traces_url(self) -> str:
        """Where an OTLP/HTTP span exporter sends (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)."""
        if self.otlp_port is None:
            raise RuntimeError("this daemon was started without OTLP/HTTP (--bind-otlp off)")
        return f"http://127.0.0.1:{self.otlp_port}{OTLP_TRACES_PATH}"

    def otel_env(self) -> dict[str, str]:
        """The standard variables that point an OpenTelemetry SDK's OTLP/HTTP trace exporter
        here, and AWS's UDP exporter and X-Ray sampler at the daemon address."""
        return {
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": self.otlp_traces_url,
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
            "AWS_XRAY_DAEMON_ADDRESS": self.daemon_address,
        }

    def post_otlp(
        self, body: bytes, content_type: str = "application/x-protobuf", **headers: str
    ) -> httpx.Response:
        """POST a raw OTLP/HTTP body to /v1/traces (for bodies no exporter would send)."""
        return httpx.post(
            self.otlp_traces_url,
            content=body,
            headers={"content-type": content_type, **headers},
            timeout=10,
        )

    def client(self, access_key: str = "x") -> Any:
        """boto3's X-Ray client pointed here (the daemon's API token, when it has one, is the
        access key)."""
        return xray_client(self.base_url, access_key)

    def send(self, items: Iterable[Document | bytes]) -> int:
        """Send documents (wrapped in the daemon header) or raw datagrams; returns how many."""
        count = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for item in items:
                sock.sendto(
                    item if isinstance(item, bytes) else datagram(item),
                    ("127.0.0.1", self.udp_port),
                )
                count += 1
        return count

    def stats(self) -> dict[str, Any]:
        response = httpx.get(f"{self.base_url}/stats", timeout=5)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def wait_for_datagrams(self, count: int, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until the daemon has read `count` datagrams in all; returns its counters."""

        def received() -> dict[str, Any] | None:
            stats = self.stats()
            return stats if stats["intake"]["datagrams"] >= count else None

        return poll_until(received, f"xray_local to receive {count} datagrams", timeout=timeout)

    def log_text(self) -> str:
        return self.process.log_text()


def start_xray_local(
    group: ProcessGroup, *flags: str, name: str = "xray-local", otlp: bool = True
) -> LocalXRay:
    """Start the daemon on free loopback ports (OTLP/HTTP too, unless `otlp` is false) and
    wait until GET /health answers."""
    udp_port, tcp_port = free_udp_port(), free_tcp_port()
    otlp_port = free_tcp_port() if otlp else None
    off = () if otlp else ("--bind-otlp", "off")
    process = start_daemon(
        group, *off, *flags, udp_port=udp_port, tcp_port=tcp_port, otlp_port=otlp_port, name=name
    )
    return LocalXRay(process, udp_port, tcp_port, otlp_port)
