"""What both services share apart from tracing: settings base, logging, errors, start-up."""

from .app import service_app
from .errors import error_response, install_error_handlers
from .openapi import document_trace_header
from .server import load_settings, serve
from .settings import LogFormat, LogLevel, ServiceSettings
from .state import attach_resources, resources_dependency

__all__ = [
    "LogFormat",
    "LogLevel",
    "ServiceSettings",
    "attach_resources",
    "document_trace_header",
    "error_response",
    "install_error_handlers",
    "load_settings",
    "resources_dependency",
    "serve",
    "service_app",
]
