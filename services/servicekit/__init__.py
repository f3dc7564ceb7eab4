"""What both services share apart from tracing: settings base, logging, errors, start-up."""

from .errors import error_response, install_error_handlers
from .openapi import document_trace_header
from .server import load_settings, serve
from .settings import LogFormat, LogLevel, ServiceSettings
from .state import from_app_state

__all__ = [
    "LogFormat",
    "LogLevel",
    "ServiceSettings",
    "document_trace_header",
    "error_response",
    "from_app_state",
    "install_error_handlers",
    "load_settings",
    "serve",
]
