"""Must show 2, across objects: selectors that match pod labels, Service ports that match
container ports, the ALB Ingress, and every pod sending its segments to a daemon on its own
node (xray-service with internalTrafficPolicy: Local) or in its own pod (the sidecar); with the
CloudWatch agent, both SDKs' traffic to the agent on the pod's own node, and each app on the
SDK its overlay names."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
import yaml

from .kube import (
    Container,
    Obj,
    build_names,
    cluster_config,
    containers,
    image_repository,
    label,
    named,
    of_kind,
    pod_template,
    workloads,
)

BUILDS = build_names()
DAEMON_IMAGE = "amazon/aws-xray-daemon"
AGENT_IMAGE = "public.ecr.aws/cloudwatch-agent/cloudwatch-agent"
# What the apps send to on their node: the X-Ray daemon, or the agent that replaces it.
NODE_AGENT_IMAGES = (DAEMON_IMAGE, AGENT_IMAGE)
DAEMON_PORT = 2000
OTLP_PORT = 4318
OTLP_TRACES_PATH = "/v1/traces"
AGENT_CONFIG = "cwagentconfig.json"
# The tracing SDK of each app Deployment, by build; any other build runs the X-Ray SDK.
OTEL_APPS = {
    "otel": {"usermgmt", "notification-v1", "notification-v2"},
    "otel-canary": {"notification-v2"},
    **{name: {"notification-v2"} for name in BUILDS if name.startswith("otel-canary-")},
}
ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
XRAY_WRITE_POLICY = "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"


def pod_labels(workload: Obj) -> dict[str, str]:
    labels: dict[str, str] = pod_template(workload)["metadata"].get("labels", {})
    return labels


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def selected(objects: list[Obj], service: Obj) -> list[Obj]:
    return [w for w in workloads(objects) if selects(service["spec"]["selector"], pod_labels(w))]


def apps(objects: list[Obj]) -> list[Container]:
    return [
        c for c in containers(objects) if image_repository(c.spec["image"]) not in NODE_AGENT_IMAGES
    ]


def daemons(objects: list[Obj]) -> list[Container]:
    return [c for c in containers(objects) if image_repository(c.spec["image"]) == DAEMON_IMAGE]


def agents(objects: list[Obj]) -> list[Container]:
    return [c for c in containers(objects) if image_repository(c.spec["image"]) == AGENT_IMAGE]


def node_agents(objects: list[Obj]) -> list[Container]:
    return [
        c for c in containers(objects) if image_repository(c.spec["image"]) in NODE_AGENT_IMAGES
    ]


def node_local_service(objects: list[Obj], host: str, where: str) -> Obj:
    """The Service a host name in the Service's own namespace names, kept on the sender's node,
    whose pods are a DaemonSet's."""
    service_name, _, namespace = host.partition(".")
    service = named(objects, "Service", service_name)
    assert namespace in ("", service["metadata"]["namespace"]), where
    # Local: kube-proxy delivers only to an endpoint on the sender's node. A headless
    # Service would ignore that and hand out every agent's pod IP.
    assert service["spec"].get("internalTrafficPolicy") == "Local", where
    assert service["spec"].get("clusterIP") != "None", where
    [daemonset] = selected(objects, service)
    assert daemonset["kind"] == "DaemonSet", where
    return service


@pytest.mark.parametrize("name", BUILDS)
def test_workload_selectors_match_their_own_pods_only(
    builds: dict[str, list[Obj]], name: str
) -> None:
    found = workloads(builds[name])
    for workload in found:
        selector = workload["spec"]["selector"]["matchLabels"]
        assert selects(selector, pod_labels(workload)), (
            f"{label(workload)} selects none of its pods"
        )
        for other in found:
            if other is not workload:
                # Two controllers selecting the same pods fight over them (V1 vs V2).
                assert not selects(selector, pod_labels(other)), (
                    f"{label(workload)} claims {label(other)}'s pods"
                )


@pytest.mark.parametrize("name", BUILDS)
def test_service_ports_reach_container_ports(builds: dict[str, list[Obj]], name: str) -> None:
    objects = builds[name]
    for service in of_kind(objects, "Service"):
        if service["spec"].get("type") == "ExternalName":
            continue
        targets = selected(objects, service)
        assert targets, f"{label(service)} selects no pods"
        for workload in targets:
            pods = list(containers([workload]))
            for port in service["spec"]["ports"]:
                target = port.get("targetPort", port["port"])
                protocol = port.get("protocol", "TCP")
                assert any(c.port(target, protocol) for c in pods), (
                    f"{label(service)} port {port.get('name')} -> {target}/{protocol}: "
                    f"no such container port in {label(workload)}"
                )


@pytest.mark.parametrize("name", BUILDS)
def test_apps_listen_where_their_ports_and_probes_say(
    builds: dict[str, list[Obj]], name: str
) -> None:
    for app in apps(builds[name]):
        http = app.port("http")
        assert http, f"{app.where}: no port named http"
        assert app.env()["PORT"]["value"] == str(http["containerPort"]), app.where
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert app.spec[probe]["httpGet"]["port"] == "http", f"{app.where} {probe}"


@pytest.mark.parametrize("name", BUILDS)
def test_notification_versions_share_one_service(builds: dict[str, list[Obj]], name: str) -> None:
    objects = builds[name]
    service = named(objects, "Service", "notification-clusterip-service")
    assert service["spec"]["selector"] == {"app": "notification"}
    assert {label(w) for w in selected(objects, service)} == {
        "Deployment/notification-v1",
        "Deployment/notification-v2",
    }
    caller = named(objects, "Deployment", "usermgmt")
    [server] = [c for c in containers([caller]) if c.spec["name"] == "server"]
    assert server.env()["NOTIFICATION_SERVICE_HOST"]["value"] == service["metadata"]["name"]
    assert server.env()["NOTIFICATION_SERVICE_PORT"]["value"] == str(
        service["spec"]["ports"][0]["port"]
    )


@pytest.mark.parametrize("name", BUILDS)
def test_ingress_is_an_alb_for_a_service_beside_it(builds: dict[str, list[Obj]], name: str) -> None:
    objects = builds[name]
    [ingress] = of_kind(objects, "Ingress")
    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    assert ingress["spec"]["ingressClassName"] == "alb"
    notes = ingress["metadata"]["annotations"]
    listen = json.loads(notes["alb.ingress.kubernetes.io/listen-ports"])
    assert {"HTTPS": 443} in listen and notes["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert notes["alb.ingress.kubernetes.io/certificate-arn"].startswith("arn:aws:acm:")
    assert notes["external-dns.alpha.kubernetes.io/hostname"]
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            service = named(objects, "Service", backend["name"])
            # An Ingress cannot reach a Service in another namespace.
            assert service["metadata"]["namespace"] == ingress["metadata"]["namespace"]
            assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
            for workload in selected(objects, service):
                for app in apps([workload]):
                    readiness = app.spec["readinessProbe"]["httpGet"]["path"]
                    # The ALB's own check must ask what Kubernetes asks.
                    assert notes["alb.ingress.kubernetes.io/healthcheck-path"] == readiness
                    assert path["path"] and readiness.startswith(path["path"])


@pytest.mark.parametrize("name", BUILDS)
def test_every_app_sends_to_a_daemon_on_its_own_node(
    builds: dict[str, list[Obj]], name: str
) -> None:
    objects = builds[name]
    for app in apps(objects):
        address = app.env()["AWS_XRAY_DAEMON_ADDRESS"]["value"]
        in_pod = [
            c
            for c in containers([app.workload])
            if image_repository(c.spec["image"]) == DAEMON_IMAGE
        ]
        if in_pod:
            assert address == f"127.0.0.1:{DAEMON_PORT}", app.where
            assert in_pod[0].sidecar, f"{app.where}: the daemon must be a native sidecar"
            continue
        host, _, port = address.partition(":")
        assert port == str(DAEMON_PORT), app.where
        node_local_service(objects, host, app.where)


@pytest.mark.parametrize("name", BUILDS)
def test_daemonset_reaches_every_node_and_updates_safely(
    builds: dict[str, list[Obj]], name: str
) -> None:
    for daemonset in of_kind(builds[name], "DaemonSet"):
        spec = daemonset["spec"]
        tolerations = pod_template(daemonset)["spec"]["tolerations"]
        assert {"operator": "Exists"} in tolerations, "a taint would leave a node without daemon"
        rolling = spec["updateStrategy"]["rollingUpdate"]
        assert spec["updateStrategy"]["type"] == "RollingUpdate" and rolling["maxUnavailable"] == 1
        [daemon] = node_agents([daemonset])
        for protocol in ("UDP", "TCP"):
            port = daemon.port(DAEMON_PORT, protocol)
            assert port is not None, f"{daemon.where}: no {protocol} port {DAEMON_PORT}"
            # Reached through xray-service only: a hostPort would open it to anything that
            # reaches the node's address, TCP proxy (signing with the daemon's role) included.
            assert "hostPort" not in port and not daemon.pod.get("hostNetwork"), daemon.where
        # One daemon per node, always: a surge would run two on a node while it updates.
        assert rolling.get("maxSurge", 0) == 0


@pytest.mark.parametrize("name", BUILDS)
def test_daemons_use_the_shared_configuration(builds: dict[str, list[Obj]], name: str) -> None:
    objects = builds[name]
    for daemon in daemons(objects):
        command = daemon.spec["command"]
        assert command[:2] == ["/xray", "-c"], f"{daemon.where}: /xray exists in every image"
        [mount] = [
            m for m in daemon.spec["volumeMounts"] if command[2].startswith(m["mountPath"] + "/")
        ]
        [volume] = [v for v in daemon.pod["volumes"] if v["name"] == mount["name"]]
        config_map = named(objects, "ConfigMap", volume["configMap"]["name"])
        config = yaml.safe_load(config_map["data"][command[2].rsplit("/", 1)[1]])
        assert config["Version"] == 2
        # Every interface of its pod: the apps come through xray-service to the pod's address.
        assert config["Socket"] == {"UDPAddress": "0.0.0.0:2000", "TCPAddress": "0.0.0.0:2000"}
        ports = {p["protocol"]: p["containerPort"] for p in daemon.spec.get("ports", [])}
        assert ports.get("TCP", DAEMON_PORT) == int(
            config["Socket"]["TCPAddress"].rsplit(":", 1)[1]
        )
        assert daemon.env()["AWS_REGION"]["value"] == cluster_config()["metadata"]["region"]
        # 0 would mean 1% of the node's memory: more than the limit on a large node.
        limit_mib = int(daemon.spec["resources"]["limits"]["memory"].removesuffix("Mi"))
        assert 0 < config["TotalBufferSizeMB"] <= limit_mib // 4, daemon.where


@pytest.mark.parametrize("name", BUILDS)
def test_only_daemons_get_the_xray_role(builds: dict[str, list[Obj]], name: str) -> None:
    """The IRSA role sits on the ServiceAccount of each pod that runs a daemon, and it is a role
    k8s/eksctl/cluster.yaml creates for exactly that ServiceAccount with X-Ray write access."""
    objects = builds[name]
    roles = {
        (sa["metadata"]["namespace"], sa["metadata"]["name"]): sa
        for sa in cluster_config()["iam"]["serviceAccounts"]
        if XRAY_WRITE_POLICY in sa.get("attachPolicyARNs", [])
    }
    with_daemon = {daemon.pod["serviceAccountName"] for daemon in node_agents(objects)}
    for account in of_kind(objects, "ServiceAccount"):
        key = (account["metadata"]["namespace"], account["metadata"]["name"])
        arn = account["metadata"].get("annotations", {}).get(ROLE_ANNOTATION)
        if key[1] not in with_daemon:
            assert arn is None, f"{label(account)} runs no daemon but gets an AWS role"
            continue
        assert key in roles, f"cluster.yaml creates no X-Ray role for {label(account)}"
        assert roles[key]["roleOnly"] is True, "kustomize owns the ServiceAccount itself"
        assert arn and arn.rsplit("/", 1)[1] == roles[key]["roleName"], label(account)


@pytest.mark.parametrize("name", BUILDS)
def test_each_app_runs_the_sdk_its_overlay_names(builds: dict[str, list[Obj]], name: str) -> None:
    """TRACING_SDK is set on every app, `xray` unless the overlay moves it to OpenTelemetry."""
    otel = OTEL_APPS.get(name, set())
    for app in apps(builds[name]):
        expected = "otel" if app.workload["metadata"]["name"] in otel else "xray"
        assert app.env()["TRACING_SDK"]["value"] == expected, f"{name}: {app.where}"


@pytest.mark.parametrize("name", BUILDS)
def test_opentelemetry_apps_export_to_the_agent_on_their_node(
    builds: dict[str, list[Obj]], name: str
) -> None:
    """An app on OpenTelemetry sends OTLP/HTTP spans to the agent on its node, and polls the
    sampling rules from the same agent, through the same Service."""
    objects = builds[name]
    for app in apps(objects):
        env = app.env()
        endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", {}).get("value")
        if env["TRACING_SDK"]["value"] != "otel":
            # Set beside the agent, so that moving an app is one variable; never elsewhere.
            assert endpoint is None or agents(objects), f"{app.where}: no OTLP receiver"
            continue
        assert endpoint, f"{app.where}: OpenTelemetry without an endpoint"
        url = urlsplit(endpoint)
        assert url.scheme == "http" and url.path == OTLP_TRACES_PATH, app.where
        assert url.port == OTLP_PORT, app.where
        service = node_local_service(objects, url.hostname or "", app.where)
        port = [p for p in service["spec"]["ports"] if p["port"] == OTLP_PORT]
        assert [p.get("protocol", "TCP") for p in port] == ["TCP"], app.where
        [agent] = [c for w in selected(objects, service) for c in node_agents([w])]
        assert image_repository(agent.spec["image"]) == AGENT_IMAGE, "only the agent takes OTLP"
        assert agent.port(port[0]["targetPort"], "TCP"), app.where
        sampler_host = env["AWS_XRAY_DAEMON_ADDRESS"]["value"].rpartition(":")[0]
        assert node_local_service(objects, sampler_host, app.where) is service, app.where


@pytest.mark.parametrize("name", BUILDS)
def test_the_agent_listens_where_its_ports_say_and_writes_to_the_clusters_region(
    builds: dict[str, list[Obj]], name: str
) -> None:
    objects = builds[name]
    for agent in agents(objects):
        [mount] = [m for m in agent.spec["volumeMounts"] if m["mountPath"] == "/etc/cwagentconfig"]
        [volume] = [v for v in agent.pod["volumes"] if v["name"] == mount["name"]]
        config_map = named(objects, "ConfigMap", volume["configMap"]["name"])
        config = json.loads(config_map["data"][AGENT_CONFIG])
        region = cluster_config()["metadata"]["region"]
        assert config["agent"]["region"] == region, "the region is cluster.yaml's"
        assert agent.env()["AWS_REGION"]["value"] == region
        assert agent.env()["RUN_WITH_IRSA"]["value"] == "True", "credentials from the role"
        collected = config["traces"]["traces_collected"]
        # Every interface of its pod: the apps come through the Service to the pod's address.
        assert collected["xray"]["bind_address"] == f"0.0.0.0:{DAEMON_PORT}"
        assert collected["xray"]["tcp_proxy"]["bind_address"] == f"0.0.0.0:{DAEMON_PORT}"
        assert collected["otlp"] == {"http_endpoint": f"0.0.0.0:{OTLP_PORT}"}
        for number, protocol in ((DAEMON_PORT, "UDP"), (DAEMON_PORT, "TCP"), (OTLP_PORT, "TCP")):
            port = agent.port(number, protocol)
            assert port is not None, f"{agent.where}: no {protocol} port {number}"
            assert "hostPort" not in port and not agent.pod.get("hostNetwork"), agent.where
        # The image writes its translated configuration beside its binary: only there, and in
        # scratch space, may it write, on volumes of its own.
        written = {m["mountPath"] for m in agent.spec["volumeMounts"] if not m.get("readOnly")}
        assert written == {
            "/opt/aws/amazon-cloudwatch-agent/etc",
            "/opt/aws/amazon-cloudwatch-agent/var",
            "/opt/aws/amazon-cloudwatch-agent/logs",
            "/tmp",
        }
        assert not daemons(objects), "one node-local agent: the daemon goes with the agent"
