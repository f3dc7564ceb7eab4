"""Must show 3 (compose): `docker-compose config` accepts docker-compose.yml with and without
`--profile aws`, and the variables it sets are ones the services read, named as in k8s/.
`--profile load` (Locust) is accepted alone and with `aws`, and drives user management. Each
app's tracing SDK is its own variable, the X-Ray SDK unless told, and both SDKs reach the one
local daemon."""

from __future__ import annotations

import re
import tomllib
from typing import Any
from urllib.parse import urlsplit

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from . import composefile, readers
from .composefile import built_from_here, environment
from .dockerfiles import IMAGES, last, stages
from .kube import Obj, containers, image_repository, image_tag, named
from .tools import REPO

EXACT_RELEASE = re.compile(r"^v?\d+\.\d+\.\d+$")
# Set in the cluster only, with the reason.
K8S_ONLY = {
    "EKS_CLUSTER_NAME": "names the EKS cluster in each segment's aws.eks section",
    "AWS_MAIL_SERVER_USERNAME": "SES SMTP credentials; the local sink takes mail without any",
    "AWS_MAIL_SERVER_PASSWORD": "SES SMTP credentials; the local sink takes mail without any",
}
# The same in both: what makes compose a faithful local copy of the cluster.
SAME_VALUES = (
    "PORT",
    "DB_NAME",
    "DB_PORT",
    "NOTIFICATION_SERVICE_HOST",
    "NOTIFICATION_SERVICE_PORT",
    "AWS_XRAY_TRACING_NAME",
    "AWS_XRAY_CONTEXT_MISSING",
    "LOG_LEVEL",
)
APPS = {  # compose service -> k8s Deployment
    "usermgmt": "usermgmt",
    "notification-v1": "notification-v1",
    "notification-v2": "notification-v2",
}
HOST_VARIABLES = ("DB_HOSTNAME", "NOTIFICATION_SERVICE_HOST", "AWS_MAIL_SERVER_HOST")
# The variable that moves each app to OpenTelemetry (TRACING_SDK=otel); unset, the X-Ray SDK.
SDK_VARIABLES = {
    "usermgmt": "USERMGMT_TRACING_SDK",
    "notification-v1": "NOTIFICATION_V1_TRACING_SDK",
    "notification-v2": "NOTIFICATION_V2_TRACING_SDK",
}
OTLP_TRACES_PATH = "/v1/traces"
# Services that only a profile starts, and the profile.
PROFILED = {"aws-xray-daemon": ["aws"], "locust": ["load"]}
LOCUST_DIR = "/mnt/load"

Config = dict[str, Any]
Service = dict[str, Any]


def server_env(objects: list[Obj], deployment: str) -> dict[str, Obj]:
    [server] = list(containers([named(objects, "Deployment", deployment)]))
    return server.env()


def names_on_the_network(config: Config) -> set[str]:
    names = set(config["services"])
    for service in config["services"].values():
        for network in (service.get("networks") or {}).values():
            names |= set((network or {}).get("aliases", []))
    return names


def test_both_profiles_are_accepted(compose: Config, compose_aws: Config) -> None:
    # The fixtures ran `docker-compose [--profile aws] config`; each failed the test if rejected.
    assert {"mysql", "xray-local", "mailpit", *APPS} <= set(compose["services"])
    assert "aws-xray-daemon" in compose_aws["services"]


def test_each_profile_adds_only_its_own_service(compose: Config) -> None:
    profiled = {
        name: svc["profiles"] for name, svc in compose["services"].items() if "profiles" in svc
    }
    assert profiled == PROFILED
    for name, service in compose["services"].items():
        # `docker compose up` without the profile would refuse a dependency on it.
        assert not set(PROFILED) & set(service.get("depends_on") or {}), name
    command = compose["services"]["xray-local"]["command"]
    assert command[command.index("--upstream") + 1] == "aws-xray-daemon:2000"


def test_the_real_daemon_matches_the_cluster_one(compose: Config, base: list[Obj]) -> None:
    daemon = compose["services"]["aws-xray-daemon"]
    [k8s_daemon] = [c for c in containers(base) if c.workload["kind"] == "DaemonSet"]
    assert daemon["image"] == k8s_daemon.spec["image"]
    assert "-o" in daemon["command"], "local mode: no EC2 metadata on a laptop"
    env = environment(daemon)
    assert env["AWS_REGION"] is None, "the region is passed through from the shell"
    assert env["AWS_ACCESS_KEY_ID"] is None and env["AWS_SECRET_ACCESS_KEY"] is None
    assert any(v.endswith(":/aws:ro") for v in daemon["volumes"]), "~/.aws, read-only"
    assert env["AWS_SHARED_CREDENTIALS_FILE"] == "/aws/credentials"


def test_every_variable_set_is_read(compose: Config) -> None:
    for name, service in compose["services"].items():
        repository = image_repository(service["image"])
        unread = readers.unread(repository, set(environment(service)))
        assert not unread, f"service {name} sets variables {repository} never reads: {unread}"


def test_apps_use_the_names_and_values_of_k8s(
    compose: Config, builds: dict[str, list[Obj]]
) -> None:
    """Compose runs V1 and V2 side by side, sending to a daemon that takes both SDKs: the
    OpenTelemetry canary overlay, whose agent does the same."""
    canary = builds["otel-canary"]
    for service, deployment in APPS.items():
        local = environment(compose["services"][service])
        cluster = server_env(canary, deployment)
        assert set(local) == set(cluster) - set(K8S_ONLY), f"{service} vs k8s {deployment}"
        for variable in SAME_VALUES:
            if variable in cluster:
                assert local[variable] == cluster[variable]["value"], f"{service}: {variable}"


def test_every_app_runs_the_xray_sdk_unless_told(compose: Config) -> None:
    """With no variable set, compose runs today's tracing: the X-Ray SDK everywhere."""
    for name in SDK_VARIABLES:
        assert environment(compose["services"][name])["TRACING_SDK"] == "xray", name


@pytest.mark.parametrize("moved", list(SDK_VARIABLES))
def test_one_variable_moves_one_app_to_opentelemetry(moved: str) -> None:
    """NOTIFICATION_V2_TRACING_SDK=otel runs V2 on OpenTelemetry and leaves the others alone."""
    config = composefile.resolve(variables={SDK_VARIABLES[moved]: "otel"})
    for name in SDK_VARIABLES:
        expected = "otel" if name == moved else "xray"
        assert environment(config["services"][name])["TRACING_SDK"] == expected, name


def published_tcp_targets(service: Service) -> set[int]:
    """The container ports a service publishes over TCP, as either Compose writes them: v1 as
    `127.0.0.1:4318:4318/tcp`, v2 as a mapping."""
    found = set()
    for port in service.get("ports", []):
        if isinstance(port, dict):
            if port.get("protocol", "tcp") == "tcp":
                found.add(int(port["target"]))
            continue
        target, _, protocol = str(port).rpartition(":")[2].partition("/")
        if protocol in ("", "tcp"):
            found.add(int(target))
    return found


def test_both_sdks_reach_the_one_local_daemon(compose: Config) -> None:
    """Segments and sampling (AWS_XRAY_DAEMON_ADDRESS) and OTLP spans go to xray-local, on the
    port its --bind-otlp listens on, which compose publishes: one map from both."""
    daemon = compose["services"]["xray-local"]
    command = daemon["command"]
    otlp_port = int(command[command.index("--bind-otlp") + 1].rpartition(":")[2])
    assert otlp_port in published_tcp_targets(daemon)
    for name in SDK_VARIABLES:
        env = environment(compose["services"][name])
        url = urlsplit(env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] or "")
        assert (url.scheme, url.hostname, url.port, url.path) == (
            "http",
            "xray-local",
            otlp_port,
            OTLP_TRACES_PATH,
        ), name
        assert (env["AWS_XRAY_DAEMON_ADDRESS"] or "").rpartition(":")[0] == url.hostname, name


def test_usermgmt_signs_in_as_the_user_mysql_creates(compose: Config) -> None:
    mysql = environment(compose["services"]["mysql"])
    usermgmt = environment(compose["services"]["usermgmt"])
    assert usermgmt["DB_HOSTNAME"] == "mysql" and usermgmt["DB_PORT"] == "3306"
    assert usermgmt["DB_NAME"] == mysql["MYSQL_DATABASE"]
    assert usermgmt["DB_USERNAME"] == mysql["MYSQL_USER"]
    assert usermgmt["DB_PASSWORD"] == mysql["MYSQL_PASSWORD"]
    assert "mysql-data:/var/lib/mysql:rw" in compose["services"]["mysql"]["volumes"]
    assert "mysql-data" in compose["volumes"]


def test_every_host_named_is_on_the_network(compose: Config) -> None:
    reachable = names_on_the_network(compose)
    for name in APPS:
        env = environment(compose["services"][name])
        hosts = [env[v] for v in HOST_VARIABLES if v in env]
        hosts.append((env["AWS_XRAY_DAEMON_ADDRESS"] or "").rpartition(":")[0])
        hosts.append(urlsplit(env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] or "").hostname or "")
        for host in hosts:
            assert host in reachable, f"{name}: nothing answers to {host!r}"


def test_both_versions_answer_to_the_name_usermgmt_calls(compose: Config) -> None:
    target = environment(compose["services"]["usermgmt"])["NOTIFICATION_SERVICE_HOST"]
    for version in ("V1", "V2"):
        service = compose["services"][f"notification-{version.lower()}"]
        assert target in service["networks"]["default"]["aliases"]
        assert service["build"]["args"] == {"APP_VERSION": version}
        assert (
            environment(service)["AWS_XRAY_TRACING_NAME"] == f"{version}-Notification-Microservice"
        )


def test_healthy_dependencies_have_a_healthcheck(compose: Config) -> None:
    for name, service in compose["services"].items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            if rule.get("condition") != "service_healthy":
                continue
            target = compose["services"][dependency]
            if "healthcheck" in target:
                continue
            image = IMAGES[image_repository(target["image"])]
            assert last(stages(image.dockerfile)[-1], "HEALTHCHECK"), (
                f"{name} waits on {dependency}"
            )


def test_published_ports_stay_on_this_machine(compose: Config) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            host_ip = port.get("host_ip") if isinstance(port, dict) else port.split(":")[0]
            assert host_ip == "127.0.0.1", f"{name} publishes {port} beyond loopback"


def test_every_published_port_can_be_moved(compose: Config) -> None:
    """A second stack (tests/containers runs one) must not need the ports of the first."""
    for name, entries in composefile.published_ports().items():
        for entry in entries:
            assert composefile.PUBLISHED.match(str(entry)), (
                f"{name} publishes {entry!r}: write it 127.0.0.1:${{NAME_PORT:-<port>}}:<port>"
            )
    published = {
        str(port["published"]) if isinstance(port, dict) else port.split(":")[1]
        for service in compose["services"].values()
        for port in service.get("ports", [])
    }
    defaults = {str(port) for port in composefile.port_variables().values()}
    assert published == defaults, "with no variable set, every port is today's"


def test_built_services_use_the_image_table(compose: Config) -> None:
    for name, service in built_from_here(compose).items():
        image = IMAGES[image_repository(service["image"])]
        assert REPO / service["build"]["dockerfile"] == image.dockerfile, name
        assert (service["build"].get("args") or {}) == image.build_args, name


def test_third_party_images_are_pinned(compose: Config) -> None:
    for name, service in compose["services"].items():
        if "build" not in service:
            assert EXACT_RELEASE.match(image_tag(service["image"]) or ""), (
                f"{name}: {service['image']}"
            )


def test_daemons_mount_the_configuration_k8s_uses(compose: Config) -> None:
    config = REPO / "k8s" / "base" / "xray-daemon-config.yaml"
    for name in ("xray-local", "aws-xray-daemon"):
        mounts = compose["services"][name]["volumes"]
        assert any(m.startswith(f"{config}:/etc/xray/config.yaml") for m in mounts), name
        assert "/etc/xray/config.yaml" in compose["services"][name]["command"], name


# --- --profile load: Locust ---------------------------------------------------------------


def option(command: list[str], *names: str) -> str:
    """The value after the first of `names` in a command line."""
    for index, arg in enumerate(command[:-1]):
        if arg in names:
            return command[index + 1]
    raise AssertionError(f"no {' or '.join(names)} in {command}")


@pytest.mark.parametrize("profiles", [("load",), ("aws", "load")], ids=["load", "aws+load"])
def test_the_load_profile_is_accepted(profiles: tuple[str, ...]) -> None:
    config = composefile.resolve(*profiles)  # fails the test if docker-compose rejects it
    assert {"locust", "usermgmt", *APPS} <= set(config["services"])


def test_locust_runs_the_repositorys_locustfile_read_only(compose: Config) -> None:
    locust = compose["services"]["locust"]
    mounts = [volume.rsplit(":", 2) for volume in locust["volumes"]]
    assert [str(REPO / "load"), LOCUST_DIR, "ro"] in mounts
    locustfile = option(locust["command"], "-f", "--locustfile")
    assert locustfile.startswith(f"{LOCUST_DIR}/")
    assert (REPO / "load" / locustfile.removeprefix(f"{LOCUST_DIR}/")).is_file()


def test_locust_targets_usermgmt_by_its_compose_name(compose: Config) -> None:
    locust = compose["services"]["locust"]
    host = option(locust["command"], "-H", "--host")
    usermgmt_port = environment(compose["services"]["usermgmt"])["PORT"]
    assert host == f"http://usermgmt:{usermgmt_port}"
    assert "usermgmt" in names_on_the_network(compose)
    assert locust["depends_on"] == {"usermgmt": {"condition": "service_healthy"}}


def test_locust_starts_at_once_with_its_web_ui_on_loopback(compose: Config) -> None:
    locust = compose["services"]["locust"]
    assert "--autostart" in locust["command"] and "--headless" not in locust["command"]
    assert "127.0.0.1:8089:8089/tcp" in locust["ports"]
    for name in ("--users", "--spawn-rate", "--rate"):
        assert float(option(locust["command"], name)) > 0, name


def test_the_locust_image_is_a_version_the_load_extra_allows(compose: Config) -> None:
    """`make load` (the `load` extra) and the compose profile run the same Locust."""
    image = compose["services"]["locust"]["image"]
    assert image_repository(image) == "locustio/locust"
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extra = project["optional-dependencies"].get("load")
    assert extra, "pyproject.toml has no `load` extra (locust) for `make load`"
    [locust] = [r for r in map(Requirement, extra) if r.name == "locust"]
    assert Version(image_tag(image) or "") in locust.specifier, (image, str(locust))
