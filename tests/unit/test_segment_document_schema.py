"""What the segment document schema (tests/data) accepts and refuses: the developer guide's
kinds of document are valid, and each rule the guide states refuses a document breaking it, at
the field that breaks it, so that a validation against the schema cannot pass vacuously."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.support.segment_schema import SCHEMA_PATH, schema_problems

Document = dict[str, Any]
TRACE_ID = "1-5759e988-bd862e3fe1be46a994272793"
SEGMENT_ID = "70de5b6f19ff9a0a"
OTHER_ID = "53995c3f42cd8ad8"
EXCEPTION_ID = "0e58d2918e9038e8"
# Every symbol the guide allows in a segment's name, with Unicode letters, digits and spaces.
NAME_SYMBOLS = "_.:/%&#=+\\-@"


def segment(**fields: Any) -> Document:
    return {
        "name": "User-Management-Microservice",
        "id": SEGMENT_ID,
        "trace_id": TRACE_ID,
        "start_time": 1480615200.010,
        "end_time": 1480615200.090,
        **fields,
    }


def subsegment(**fields: Any) -> Document:
    return {"name": "usermgmt@mysql", "id": OTHER_ID, "start_time": 1.1, "end_time": 1.2, **fields}


def alone(**fields: Any) -> Document:
    """A subsegment sent on its own."""
    return subsegment(type="subsegment", trace_id=TRACE_ID, parent_id=SEGMENT_ID, **fields)


def without(document: Document, *keys: str) -> Document:
    return {key: value for key, value in document.items() if key not in keys}


def embedded(**fields: Any) -> Document:
    return segment(subsegments=[subsegment(**fields)])


def exception(**fields: Any) -> Document:
    return {"id": EXCEPTION_ID, "message": "refused", "type": "ValueError", **fields}


ACCEPTED = {
    "a minimal segment": segment(),
    "an in-progress segment": without(segment(in_progress=True), "end_time"),
    "a closed segment saying it is not in progress": segment(in_progress=False),
    "a name of 200 characters, Unicode letters, digits, spaces and the guide's symbols": segment(
        name=("Usagers été 2 " + NAME_SYMBOLS).ljust(200, "x")
    ),
    "upper-case hexadecimal ids": segment(id=SEGMENT_ID.upper(), trace_id=TRACE_ID.upper()),
    "a served request": segment(
        http={
            "request": {
                "method": "GET",
                "url": "http://usermgmt:8095/" + "p" * 229,  # 250 characters
                "user_agent": "curl/8.5.0",
                "client_ip": "10.0.0.7",
                "x_forwarded_for": True,
            },
            "response": {"status": 200, "content_length": -1},
        }
    ),
    "a subsegment sent alone": alone(
        namespace="remote",
        http={
            "request": {"url": "http://notification:8096/x", "method": "GET", "traced": True},
            "response": {"status": 200, "content_length": 861},
        },
    ),
    "an in-progress subsegment sent alone": without(alone(in_progress=True), "end_time"),
    "nested subsegments, a name of 250 characters, precursors": segment(
        subsegments=[
            subsegment(
                name="n" * 250,
                type="subsegment",
                precursor_ids=[EXCEPTION_ID],
                subsegments=[subsegment(id=EXCEPTION_ID, namespace="aws")],
            )
        ]
    ),
    "where the service runs": segment(
        origin="AWS::EKS::Container",
        service={"version": "V2"},
        user="alice",
        aws={
            "account_id": "123456789012",
            "eks": {"pod": "usermgmt-7d9f", "cluster_name": "demo", "container_id": "c" * 64},
            "ecs": {"container": "usermgmt", "container_id": "c" * 64, "container_arn": "arn:x"},
            "ec2": {
                "instance_id": "i-0b5a4678fc325bg98",
                "instance_size": "t3.small",
                "ami_id": "ami-0abc",
                "availability_zone": "us-west-2c",
            },
            "elastic_beanstalk": {
                "environment_name": "demo",
                "version_label": "v1",
                "deployment_id": 32,
            },
            "cloudwatch_logs": [{"log_group": "demo", "arn": "arn:aws:logs:x"}],
            "xray": {"auto_instrumentation": False, "sdk": "X-Ray for Python", "sdk_version": "2"},
        },
    ),
    "an AWS call": embedded(
        namespace="aws",
        aws={
            "operation": "SendEmail",
            "account_id": "123456789012",
            "region": "us-west-2",
            "request_id": "UBQNSO5AEM8T4FDA4RQDEB94OVTDRVV4K4HIRGVJF66Q9ASUAAJG",
            "queue_url": "https://sqs.us-west-2.amazonaws.com/123456789012/q",
            "table_name": "users",
        },
    ),
    "an SQL query": embedded(
        namespace="remote",
        sql={
            "url": "mysql://usermgmt:3306/usermgmt",
            "connection_string": "Server=usermgmt",
            "sanitized_query": "SELECT * FROM users WHERE username = ?",
            "database_type": "MySQL",
            "database_version": "10.11",
            "driver_version": "pymysql 1.1",
            "user": "usermgmt",
            "preparation": "statement",
        },
    ),
    "a fault and its cause": segment(
        fault=True,
        error=False,
        throttle=False,
        cause={
            "working_directory": "/app",
            "paths": ["/app/services"],
            "exceptions": [
                exception(
                    remote=True,
                    truncated=3,
                    skipped=0,
                    cause=OTHER_ID,
                    stack=[{"path": "usermgmt/store.py", "line": 42, "label": "create"}],
                ),
                {"id": OTHER_ID},
            ],
        },
    ),
    "a cause given by an exception's id": segment(error=True, cause=EXCEPTION_ID),
    "annotations of each type, at their limits": segment(
        annotations={
            "app_version": "V2",
            "users": 3,
            "ratio": 0.5,
            "internal": False,
            "k" * 500: "v" * 1000,
        }
    ),
    "strings of http, aws, sql and cause longer than 250, which the guide does not limit": segment(
        http={"request": {"url": "http://h/" + "p" * 2000, "user_agent": "a" * 300}},
        aws={"eks": {"pod": "p" * 300}},
        cause={"exceptions": [exception(message="m" * 2000, stack=[{"path": "p" * 300}])]},
        subsegments=[subsegment(sql={"sanitized_query": "CREATE TABLE users (" + "c" * 400})],
    ),
    "metadata of any type and size": segment(
        metadata={"default": {"list": [1, {"a": None}]}, "AWS.SDK": "m" * 5000}
    ),
}


@pytest.mark.parametrize("document", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_the_guides_kinds_of_document_are_valid(document: Document) -> None:
    assert schema_problems(document) == []


def request(**fields: Any) -> Document:
    return segment(http={"request": fields})


def thrown(**fields: Any) -> Document:
    return segment(cause={"exceptions": [exception(**fields)]})


def runs_on(resource: str, **fields: Any) -> Document:
    return segment(aws={resource: fields})


LONG = "x" * 251
# (what breaks a rule, the document, where the schema says it does: "" for the document itself)
REFUSED: list[tuple[str, Document | list[Document], str]] = [
    ("a segment name of 201 characters", segment(name="n" * 201), "name"),
    ("a name of 251 characters sent alone", alone(name=LONG), "name"),
    ("an embedded name of 251", embedded(name=LONG), "subsegments/0/name"),
    ("a segment name with a symbol not listed", segment(name="users!"), "name"),
    ("no name", without(segment(), "name"), ""),
    ("no start_time", without(segment(), "start_time"), ""),
    ("a start_time as a string", segment(start_time="1480615200.010"), "start_time"),
    ("neither end_time nor in_progress", without(segment(), "end_time"), ""),
    ("in_progress and an end_time", segment(in_progress=True), ""),
    ("not in progress, no end_time", without(segment(in_progress=False), "end_time"), ""),
    ("a trace id without its version", segment(trace_id=TRACE_ID[2:]), "trace_id"),
    ("a trace id of version 2", segment(trace_id="2" + TRACE_ID[1:]), "trace_id"),
    ("a trace id of 23 digits", segment(trace_id=TRACE_ID[:-1]), "trace_id"),
    ("a trace id's time of 7 digits", segment(trace_id="1-759e988-" + "a" * 24), "trace_id"),
    ("an id of 15 digits", segment(id=SEGMENT_ID[:-1]), "id"),
    ("an id that is not hexadecimal", segment(id="z" * 16), "id"),
    ("a parent id of 17 digits", segment(parent_id=SEGMENT_ID + "a"), "parent_id"),
    ("sent alone without type", without(alone(namespace="remote"), "type"), "namespace"),
    ("sent alone without parent_id", without(alone(), "parent_id"), ""),
    ("sent alone without trace_id", without(alone(), "trace_id"), ""),
    (
        "a subsegment without id",
        segment(subsegments=[without(subsegment(), "id")]),
        "subsegments/0",
    ),
    ("a type other than subsegment", embedded(type="segment"), "subsegments/0/type"),
    ("a namespace not named", embedded(namespace="local"), "subsegments/0/namespace"),
    ("precursors that are not ids", embedded(precursor_ids=["x"]), "subsegments/0/precursor_ids/0"),
    ("an SQL section on a segment", segment(sql={"user": "u"}), "sql"),
    (
        "an SQL preparation not named",
        embedded(sql={"preparation": "p"}),
        "subsegments/0/sql/preparation",
    ),
    ("an SQL user as a number", embedded(sql={"user": 1}), "subsegments/0/sql/user"),
    ("a user of 251 characters", segment(user=LONG), "user"),
    ("a service version of 251", segment(service={"version": LONG}), "service/version"),
    ("an origin that is not a string", segment(origin=1), "origin"),
    ("an origin of 251 characters", segment(origin=LONG), "origin"),
    ("a URL as a list", request(url=["http://h/"]), "http/request/url"),
    ("x_forwarded_for as a string", request(x_forwarded_for="yes"), "http/request/x_forwarded_for"),
    ("traced in a segment's request", request(traced=True), "http/request/traced"),
    ("a status as a string", segment(http={"response": {"status": "200"}}), "http/response/status"),
    (
        "x_forwarded_for in a subsegment",
        embedded(http={"request": {"x_forwarded_for": True}}),
        "subsegments/0/http/request/x_forwarded_for",
    ),
    (
        "a content length of 1.5",
        segment(http={"response": {"content_length": 1.5}}),
        "http/response/content_length",
    ),
    ("a fault as a string", segment(fault="true"), "fault"),
    ("a cause id of 15 characters", segment(cause=EXCEPTION_ID[:-1]), "cause"),
    ("an exception without id", segment(cause={"exceptions": [{"message": "m"}]}), "cause"),
    ("an exception message as an object", thrown(message={}), "cause"),
    ("truncated frames as a string", thrown(truncated="3"), "cause"),
    ("an annotation key with a hyphen", segment(annotations={"app-version": "V2"}), "annotations"),
    ("an annotation key with a space", segment(annotations={"app version": "V2"}), "annotations"),
    ("an annotation key with a dot", segment(annotations={"app.version": "V2"}), "annotations"),
    ("an empty annotation key", segment(annotations={"": "V2"}), "annotations"),
    ("an annotation key of 501", segment(annotations={"k" * 501: "V2"}), "annotations"),
    ("an annotation object", segment(annotations={"user": {"id": 1}}), "annotations/user"),
    ("an annotation array", segment(annotations={"users": [1, 2]}), "annotations/users"),
    ("an annotation null", segment(annotations={"user": None}), "annotations/user"),
    ("an annotation string of 1001", segment(annotations={"a": "a" * 1001}), "annotations/a"),
    ("annotations as a list", segment(annotations=["app_version"]), "annotations"),
    ("metadata that is not an object", segment(metadata="debug"), "metadata"),
    ("an EKS pod as a number", runs_on("eks", pod=1), "aws/eks/pod"),
    ("an ECS container as a number", runs_on("ecs", container=1), "aws/ecs/container"),
    ("an EC2 instance id as a bool", runs_on("ec2", instance_id=True), "aws/ec2/instance_id"),
    (
        "a deployment id as a string",
        runs_on("elastic_beanstalk", deployment_id="32"),
        "aws/elastic_beanstalk/deployment_id",
    ),
    (
        "auto_instrumentation as a string",
        runs_on("xray", auto_instrumentation="no"),
        "aws/xray/auto_instrumentation",
    ),
    ("an AWS operation as a number", embedded(aws={"operation": 1}), "subsegments/0/aws/operation"),
    ("subsegments that are not an array", segment(subsegments={}), "subsegments"),
    ("a document that is not an object", [segment()], ""),
]


@pytest.mark.parametrize(
    ("document", "where"),
    [(document, where) for _, document, where in REFUSED],
    ids=[what for what, _, _ in REFUSED],
)
def test_a_document_breaking_a_rule_of_the_guide_is_refused_there(
    document: Document | list[Document], where: str
) -> None:
    problems = schema_problems(document)
    assert [problem for problem in problems if problem.startswith(f"{where}: ")], problems


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
