"""Apply a kustomization to the current kubectl context, running the images `make push` pushed.

`make deploy [OVERLAY=sidecar]` and `make canary V1=3 V2=1 [OVERLAY=otel-canary]` run this. The
manifests name the images `xray-fastapi/<name>:dev`; a throwaway kustomization wraps the chosen
one and points each image at the registry and tag given (and, for the canary, sets the replica
counts given on k8s/overlays/canary or k8s/overlays/otel-canary), after checking what
kustomize would otherwise fail on obscurely (a missing secret file) or what would deploy but
not work (example values).

    python scripts/k8s_deploy.py --registry R --tag T [--overlay NAME] [--canary V1 V2]
                                 [--dry-run]   # print the manifests instead of applying them

With --canary, --overlay names one of the canary overlays (CANARY_OVERLAYS): the replica
counts apply to it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
K8S = REPO / "k8s"
BASE = K8S / "base"
OVERLAYS = K8S / "overlays"
CANARY = OVERLAYS / "canary"
# The overlays that run V1 and V2 side by side, whose replica counts `make canary` sets: the
# X-Ray SDK everywhere, or V2 on OpenTelemetry (docs/migration.md).
CANARY_OVERLAYS = ("canary", "otel-canary")
CANARY_DEPLOYMENTS = ("notification-v1", "notification-v2")
# More pods than this of one version is a typo, not a canary step.
MAX_REPLICAS = 50
SECRETS = BASE / "secrets"
SITE_ENV = BASE / "site.env"
# Every image the manifests build from this repository (tests/deploy keeps this list honest).
IMAGES = ("xray-fastapi/usermgmt", "xray-fastapi/notification-v1", "xray-fastapi/notification-v2")
# What site.env ships with; deploying them gives pods that start but an account that is not yours.
EXAMPLE_MARKERS = ("111122223333", "example.com")


class DeployError(Exception):
    """Something to fix before deploying; the message says what and how."""


def shown(path: Path) -> Path:
    """As typed from the repository root, where `make` runs this."""
    return path.relative_to(REPO)


def kustomization_dir(overlay: str | None, canary: tuple[int, int] | None) -> Path:
    if canary is not None:
        check_canary(*canary)
        if overlay is None:
            return CANARY
        if overlay not in CANARY_OVERLAYS:
            raise DeployError(
                f"--canary sets V1/V2 replicas on a canary overlay: {', '.join(CANARY_OVERLAYS)}; "
                f"{overlay!r} is not one"
            )
    if overlay is None:
        return BASE
    path = OVERLAYS / overlay
    if not (path / "kustomization.yaml").is_file():
        names = ", ".join(sorted(p.name for p in OVERLAYS.iterdir() if p.is_dir()))
        raise DeployError(f"no overlay {overlay!r} in {OVERLAYS}; there are: {names}")
    return path


def check_canary(v1: int, v2: int) -> None:
    if not (0 <= v1 <= MAX_REPLICAS and 0 <= v2 <= MAX_REPLICAS):
        raise DeployError(f"V1={v1} V2={v2}: each count is a number of pods, 0 to {MAX_REPLICAS}")
    if v1 + v2 == 0:
        raise DeployError("V1=0 V2=0 would leave no notification pod: give one version pods")


def missing_secret_files() -> list[Path]:
    return [
        example.with_suffix("")
        for example in sorted(SECRETS.glob("*.example"))
        if not example.with_suffix("").is_file()
    ]


def example_site_values() -> list[str]:
    """The site.env settings still holding the example's values."""
    names = []
    for line in SITE_ENV.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#") and any(m in value for m in EXAMPLE_MARKERS):
            names.append(name.strip())
    return names


def check_registry(registry: str, tag: str) -> None:
    # `make` builds the registry from AWS_ACCOUNT_ID and AWS_REGION: an unset one leaves a gap.
    if not registry or registry.startswith(".") or ".." in registry or registry.endswith("."):
        raise DeployError(
            f"registry {registry!r} is incomplete: set AWS_ACCOUNT_ID and AWS_REGION "
            "(or REGISTRY) as for `make push`"
        )
    if not tag or tag == "latest":
        raise DeployError(f"tag {tag!r}: deploy the exact tag `make push` pushed (TAG=...)")


def wrapper_kustomization(
    target: Path,
    directory: Path,
    *,
    images: tuple[str, str] | None = None,
    replicas: tuple[int, int] | None = None,
) -> str:
    """`target` with each image of this repository at `images` (registry, tag) and, for the
    canary, V1 and V2 at `replicas` pods."""
    # kustomize refuses absolute paths to other kustomizations, not relative ones.
    lines = [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "resources:",
        f"  - {os.path.relpath(target, directory)}",
    ]
    if images is not None:
        registry, tag = images
        lines.append("images:")
        for image in IMAGES:
            lines += [
                f"  - name: {image}",
                f"    newName: {registry}/{image}",
                f"    newTag: {tag}",
            ]
    if replicas is not None:
        lines.append("replicas:")
        for name, count in zip(CANARY_DEPLOYMENTS, replicas, strict=True):
            lines += [f"  - name: {name}", f"    count: {count}"]
    return "\n".join(lines) + "\n"


def run(
    target: Path,
    registry: str,
    tag: str,
    *,
    dry_run: bool,
    replicas: tuple[int, int] | None = None,
) -> int:
    check_registry(registry, tag)
    missing = missing_secret_files()
    if missing:
        steps = "; ".join(f"cp {shown(p)}.example {shown(p)}" for p in missing)
        raise DeployError(f"missing secret files (git ignores them): {steps}; then edit them")
    examples = example_site_values()
    if examples and not dry_run:
        raise DeployError(
            f"{shown(SITE_ENV)} still has example values for {', '.join(examples)}: set your own"
        )
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise DeployError("kubectl is not on PATH: install it (docs/eks.md, step 1)")
    with tempfile.TemporaryDirectory(prefix="k8s-deploy-") as directory:
        Path(directory, "kustomization.yaml").write_text(
            wrapper_kustomization(
                target, Path(directory), images=(registry, tag), replicas=replicas
            )
        )
        command = (
            [kubectl, "kustomize", directory] if dry_run else [kubectl, "apply", "-k", directory]
        )
        return subprocess.run(command, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--registry", required=True, help="e.g. 111122223333.dkr.ecr.us-east-1.amazonaws.com"
    )
    parser.add_argument("--tag", required=True, help="the tag `make push` pushed")
    parser.add_argument("--overlay", help="a folder of k8s/overlays (default: k8s/base)")
    parser.add_argument(
        "--canary",
        nargs=2,
        type=int,
        metavar=("V1", "V2"),
        help="replica counts, on k8s/overlays/canary or the canary overlay --overlay names",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the manifests, apply nothing")
    args = parser.parse_args(argv)
    canary = (args.canary[0], args.canary[1]) if args.canary else None
    try:
        target = kustomization_dir(args.overlay, canary)
        return run(target, args.registry, args.tag, dry_run=args.dry_run, replicas=canary)
    except DeployError as exc:
        print(f"k8s_deploy: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
