"""The project's processes, started on this machine: for `make run`, the benchmarks, the
soak and the integration tests alike.

One definition of how each process is started (`services`: command, environment, readiness)
and of the machinery around it (`processes`: log files, readiness polling, always stopping;
`ports`: free loopback ports; `polling`: waiting with a deadline). Installed with the project
(`make install`), so scripts import it without touching sys.path; images leave it out.
"""

from .polling import poll_until
from .ports import free_tcp_port, free_udp_port, refusing_port, silent_port
from .processes import ProcessExited, ProcessGroup, ServiceProcess
from .services import (
    NOTIFICATION_HEALTH,
    NOTIFICATION_READINESS,
    SAMPLE_ALL_RULES,
    USERMGMT_HEALTH,
    USERMGMT_READINESS,
    XRAY_LOCAL_HEALTH,
    start_notification,
    start_smtp_sink,
    start_usermgmt,
    start_xray_local,
    tracing_env,
)

__all__ = [
    "NOTIFICATION_HEALTH",
    "NOTIFICATION_READINESS",
    "SAMPLE_ALL_RULES",
    "USERMGMT_HEALTH",
    "USERMGMT_READINESS",
    "XRAY_LOCAL_HEALTH",
    "ProcessExited",
    "ProcessGroup",
    "ServiceProcess",
    "free_tcp_port",
    "free_udp_port",
    "poll_until",
    "refusing_port",
    "silent_port",
    "start_notification",
    "start_smtp_sink",
    "start_usermgmt",
    "start_xray_local",
    "tracing_env",
]
