"""Which environment variables each image's program reads, so that every variable a manifest or
docker-compose.yml sets can be checked against it (a misspelt name is otherwise ignored)."""

from __future__ import annotations

from pydantic_settings import BaseSettings

from notification.settings import Settings as NotificationSettings
from tracing.config import TracingSettings
from usermgmt.settings import Settings as UsermgmtSettings

# Python's own variables, set by the Dockerfiles' ENV lines.
PYTHON_RUNTIME = frozenset({"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"})
# The AWS SDK for Go (in the X-Ray daemon): region and credentials.
AWS_SDK = frozenset(
    {
        "AWS_REGION",
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_SDK_LOAD_CONFIG",
    }
)
# The CloudWatch agent: the AWS SDK's variables, and RUN_WITH_IRSA, which makes it take its
# credentials from the pod's IAM role (IRSA) rather than look for an EC2 instance.
CLOUDWATCH_AGENT = AWS_SDK | {"RUN_WITH_IRSA"}
# The official mysql image's initialisation variables.
MYSQL_IMAGE = frozenset({"MYSQL_DATABASE", "MYSQL_USER", "MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD"})
# Variables a container may set only to be expanded into another one's value as $(NAME), with
# the reason; none is used today (the daemon is found by a Service name, not $(HOST_IP)).
HELPER_VARIABLES: dict[str, str] = {}


def settings_variables(*classes: type[BaseSettings]) -> frozenset[str]:
    names = set()
    for settings_class in classes:
        for field in settings_class.model_fields.values():
            if isinstance(field.validation_alias, str):
                names.add(field.validation_alias)
    return frozenset(names)


USERMGMT = settings_variables(UsermgmtSettings, TracingSettings)
NOTIFICATION = settings_variables(NotificationSettings, TracingSettings)

# By image repository: what the program in it reads.
READS_BY_IMAGE = {
    "xray-fastapi/usermgmt": USERMGMT | PYTHON_RUNTIME,
    "xray-fastapi/notification-v1": NOTIFICATION | PYTHON_RUNTIME,
    "xray-fastapi/notification-v2": NOTIFICATION | PYTHON_RUNTIME,
    "xray-fastapi/xray-local": PYTHON_RUNTIME,  # flags and config.yaml only
    "amazon/aws-xray-daemon": AWS_SDK,
    "public.ecr.aws/cloudwatch-agent/cloudwatch-agent": CLOUDWATCH_AGENT,
    "mysql": MYSQL_IMAGE,
    "axllent/mailpit": frozenset(),
    # load/locustfile.py's own; compose gives Locust's options on its command line.
    "locustio/locust": frozenset({"LOAD_RATE", "LOAD_EMAIL", "LOAD_SUMMARY_JSON"}),
}


def reads(repository: str) -> frozenset[str]:
    if repository not in READS_BY_IMAGE:
        raise AssertionError(
            f"no list of the variables {repository} reads: add it to READS_BY_IMAGE in {__file__}"
        )
    return READS_BY_IMAGE[repository]


def unread(repository: str, names: set[str]) -> set[str]:
    """The names among `names` that the image's program never reads and are not helpers."""
    return names - reads(repository) - set(HELPER_VARIABLES)
