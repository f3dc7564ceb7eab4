"""What the resource says about where a service runs: awsxrayexporter's aws.go (makeAws),
determineAwsOrigin (segment.go) and service.go (makeService).

The resource part is worked out once per ResourceSpans (`Resource`); `make_aws` adds what
each span says (`aws.operation`, `aws.region`, ...). `cloud.platform: aws_eks` gives the
origin `AWS::EKS::Container`; it or `k8s.cluster.name` gives the `aws.eks` block.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .annotations import ResourceEntries, Rules
from .values import Attributes, as_str

ORIGINS = {
    "aws_app_runner": "AWS::AppRunner::Service",
    "aws_eks": "AWS::EKS::Container",
    "aws_elastic_beanstalk": "AWS::ElasticBeanstalk::Environment",
    "aws_ec2": "AWS::EC2::Instance",
}
ECS_ORIGINS = {"ec2": "AWS::ECS::EC2", "fargate": "AWS::ECS::Fargate"}
# Span attributes the aws block takes (and metadata then does not), by the field they fill.
SPAN_FIELDS = {
    "aws.account_id": "account_id",
    "aws.region": "region",
    "aws.request_id": "request_id",
    "aws.requestId": "request_id",
    "aws.queue_url": "queue_url",
    "aws.queue.url": "queue_url",
    "aws.table_name": "table_name",
    "aws.table.name": "table_name",
}
OPERATIONS = ("aws.operation", "rpc.method")
# Every span attribute makeAws reads.
AWS_KEYS = frozenset((*SPAN_FIELDS, *OPERATIONS, "messaging.url", "aws.dynamodb.table_names"))


@dataclass(frozen=True)
class Resource:
    attributes: Attributes
    origin: str | None
    aws: dict[str, Any] | None  # the resource's part of the aws block; None when not AWS
    service: dict[str, Any] | None
    language: str
    entries: ResourceEntries  # what it adds to its segments' annotations and metadata

    @classmethod
    def of(cls, attributes: Attributes, rules: Rules) -> Resource:
        get = attributes.get
        cloud = as_str(get("cloud.provider"))
        return cls(
            attributes=attributes,
            entries=ResourceEntries.of(attributes, rules.keys, rules.index_all_attributes),
            origin=_origin(attributes),
            aws=_resource_aws(attributes) if cloud in ("", "aws") else None,
            service=_service(attributes),
            language=as_str(get("telemetry.sdk.language")),
        )


def make_aws(
    resource: Resource, attributes: Attributes
) -> tuple[Attributes, dict[str, Any] | None]:
    """(the attributes left over, the aws block or None when the resource is not on AWS)."""
    if AWS_KEYS.isdisjoint(attributes):  # the block is the resource's alone
        return attributes, None if resource.aws is None else dict(resource.aws)
    filtered: Attributes = {}
    fields: dict[str, Any] = {}
    for key, value in attributes.items():
        field = SPAN_FIELDS.get(key)
        if field is not None:
            if field != "account_id" or value is not None:
                fields[field] = as_str(value)
        elif key not in OPERATIONS:
            filtered[key] = value
    if resource.aws is None:
        return filtered, None
    operation = attributes.get("aws.operation", attributes.get("rpc.method"))
    if operation is not None:
        fields["operation"] = as_str(operation)
    # "Favor Semantic Conventions for specific SQS and DynamoDB attributes."
    if "messaging.url" in attributes:
        fields["queue_url"] = as_str(attributes["messaging.url"])
    tables = attributes.get("aws.dynamodb.table_names")
    if type(tables) is list and len(tables) == 1:
        fields["table_name"] = as_str(tables[0])
    elif type(tables) is list and len(tables) > 1:
        fields["table_name"] = ""
        fields["table_names"] = [as_str(table) for table in tables]
    elif type(tables) is str:
        fields["table_name"] = tables
    block = dict(resource.aws)
    if "account_id" in fields:  # the span's account replaces the resource's, "" removes it
        block.pop("account_id", None)
    for name in (
        "account_id",
        "operation",
        "region",
        "request_id",
        "queue_url",
        "table_name",
        "table_names",
    ):
        if fields.get(name):
            block[name] = fields[name]
    return filtered, block


def _origin(attributes: Attributes) -> str | None:
    """determineAwsOrigin: from cloud.platform, and only for AWS (or an unnamed provider)."""
    if as_str(attributes.get("cloud.provider", "aws")) != "aws":
        return None
    platform = as_str(attributes.get("cloud.platform"))
    if platform == "aws_ecs":
        launch = attributes.get("aws.ecs.launchtype")
        return ECS_ORIGINS.get(as_str(launch), "AWS::ECS::Container")
    return ORIGINS.get(platform)


def _resource_aws(attributes: Attributes) -> dict[str, Any]:
    get = attributes.get

    def text(key: str) -> str:
        return as_str(get(key))

    platform = text("cloud.platform")
    block: dict[str, Any] = {}
    if platform == "aws_elastic_beanstalk" and text("service.instance.id"):
        deployment = text("service.instance.id")
        block["elastic_beanstalk"] = {
            "environment_name": text("service.namespace") or None,
            "version_label": text("service.version") or None,
            "deployment_id": int(deployment) if deployment.isdigit() else 0,
        }
    groups = _log_groups(get("aws.log.group.arns"), arns=True) or _log_groups(
        get("aws.log.group.names"), arns=False
    )
    if groups:
        block["cloudwatch_logs"] = groups
    if platform == "aws_ecs":
        ecs = {
            "container": text("container.name"),
            "container_id": text("container.id"),
            "task_arn": text("aws.ecs.task.arn"),
            "task_family": text("aws.ecs.task.family"),
            "cluster_arn": text("aws.ecs.cluster.arn"),
            "container_arn": text("aws.ecs.container.arn"),
            "availability_zone": text("cloud.availability_zone"),
            "launch_type": text("aws.ecs.launchtype"),
        }
        block["ecs"] = {key: value for key, value in ecs.items() if value}
    if platform == "aws_ec2" or text("host.id"):
        block["ec2"] = {
            "instance_id": text("host.id") or None,
            "availability_zone": text("cloud.availability_zone") or None,
            "instance_size": text("host.type") or None,
            "ami_id": text("host.image.id") or None,
        }
    if platform == "aws_eks" or text("k8s.cluster.name"):
        block["eks"] = {
            "cluster_name": text("k8s.cluster.name") or None,
            # The exporter puts the pod's name here, under "pod".
            "pod": text("k8s.pod.name") or None,
            "container_id": text("container.id") or None,
        }
    name, language = text("telemetry.sdk.name"), text("telemetry.sdk.language")
    xray: dict[str, Any] = {}
    sdk = f"{name} for {language}" if name and language else name
    if sdk:
        xray["sdk"] = sdk
    if text("telemetry.sdk.version"):
        xray["sdk_version"] = text("telemetry.sdk.version")
    auto = text("telemetry.auto.version") or text("telemetry.distro.version")
    xray["auto_instrumentation"] = bool(auto)
    block["xray"] = xray
    if text("cloud.account.id"):
        block["account_id"] = text("cloud.account.id")
    return block


def _log_groups(value: Any, *, arns: bool) -> list[dict[str, str]]:
    """Log groups from a list, or from one string separated by '&' (how
    OTEL_RESOURCE_ATTRIBUTES carries several)."""
    if type(value) is str:
        items = [item for item in value.split("&") if item]
    elif type(value) is list:
        items = [as_str(item) for item in value]
    else:
        return []
    if not arns:
        return [{"log_group": item} for item in items]
    # The log group's name is the seventh part of its ARN.
    return [{"log_group": _seventh(item), "arn": item} for item in items]


def _seventh(arn: str) -> str:
    parts = arn.split(":")
    return parts[6] if len(parts) >= 7 else arn


def _service(attributes: Attributes) -> dict[str, Any] | None:
    """makeService: the service's version, or the container image's tag."""
    version = attributes.get("service.version", attributes.get("container.image.tag"))
    if version is None:
        return None
    return {"version": version} if as_str(version) else {}
