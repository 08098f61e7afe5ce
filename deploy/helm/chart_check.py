"""make chart-check: lint the Helm chart, render it, and validate every manifest against the Kubernetes schemas.

python -m deploy.helm.chart_check          helm lint, helm template (default and example production values),
                                          kubernetes-validate of each rendered manifest, and the chart's promises
python -m deploy.helm.chart_check helm     only print the path of the pinned Helm binary (built once with Go)

Helm is built from the Go module proxy once (`go install helm.sh/helm/v3/cmd/helm@HELM_VERSION`) into
~/.cache/dealgate/helm-<version>/, like the Kafka jars; HELM=/path/to/helm uses another binary.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CHART = HERE / "dealgate"
EXAMPLE_VALUES = CHART / "examples" / "production-values.yaml"
DEFAULT_RULES = REPO / "services" / "conflict" / "rules" / "default_rules.yaml"
HELM_VERSION = "v3.22.0"
# The oldest Kubernetes the chart supports (Chart.yaml's kubeVersion allows more, these are the ones checked) and
# the newest kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")
# Kinds from CRDs, which the Kubernetes schemas do not hold: checked for their required fields here instead.
CRD_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor"): ("spec.selector", "spec.endpoints")}


class ChartCheckFailed(Exception):
    pass


def cache_dir() -> Path:
    base = os.environ.get("DEALGATE_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or
                                                           os.path.expanduser("~/.cache"), "dealgate")
    return Path(base) / f"helm-{HELM_VERSION}"


def helm_binary() -> Path:
    """HELM, else the cached pinned Helm, else built with Go into the cache (about two minutes, once)."""
    if os.environ.get("HELM"):
        return Path(os.environ["HELM"])
    binary = cache_dir() / "helm"
    if binary.exists():
        return binary
    go = shutil.which("go") or ("/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None)
    if go is None:
        raise ChartCheckFailed(f"Helm {HELM_VERSION} is built once with Go, which is missing: apt-get install -y "
                               "golang-go (or set HELM=/path/to/helm)")
    staging = cache_dir() / "build"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    print(f"building Helm {HELM_VERSION} with {go} from the Go module proxy into {binary} (once) ...", flush=True)
    started = time.monotonic()
    env = {**os.environ, "GOBIN": str(staging), "CGO_ENABLED": "0"}
    subprocess.run([go, "install", f"helm.sh/helm/v3/cmd/helm@{HELM_VERSION}"],  # noqa: S603 - fixed argv
                   check=True, env=env)
    (staging / "helm").rename(binary)
    shutil.rmtree(staging, ignore_errors=True)
    print(f"Helm built in {time.monotonic() - started:.0f}s", flush=True)
    return binary


def helm(*args: str) -> str:
    result = subprocess.run([str(helm_binary()), *args], capture_output=True, text=True)  # noqa: S603 - our args
    if result.returncode != 0:
        raise ChartCheckFailed(f"helm {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def render(values: Path | None, kubernetes_version: str) -> list[dict[str, Any]]:
    args = ["template", "dealgate", str(CHART), "--namespace", "dealgate", "--kube-version", kubernetes_version]
    if values is not None:
        args += ["-f", str(values)]
    return [document for document in yaml.safe_load_all(helm(*args)) if document]


def _field(document: dict[str, Any], dotted: str) -> Any:
    value: Any = document
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def validate_schemas(documents: list[dict[str, Any]], kubernetes_version: str) -> list[str]:
    """kubernetes-validate (strict: unknown fields are errors) on every manifest; the problems found."""
    import kubernetes_validate

    problems = []
    for document in documents:
        name = f"{document.get('kind')}/{_field(document, 'metadata.name')}"
        crd_fields = CRD_KINDS.get((str(document.get("apiVersion")), str(document.get("kind"))))
        if crd_fields is not None:
            problems += [f"{name}: {field} is missing" for field in crd_fields if not _field(document, field)]
            continue
        try:
            kubernetes_validate.validate(document, kubernetes_version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{name} (Kubernetes {kubernetes_version}): {exc.message} at "
                            f"{'.'.join(str(p) for p in exc.path)}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"{name}: no schema for it in Kubernetes {kubernetes_version} ({exc})")
    return problems


def _pod_spec(document: dict[str, Any]) -> dict[str, Any]:
    return _field(document, "spec.template.spec") or {}


def check_promises(documents: list[dict[str, Any]]) -> list[str]:
    """What the chart promises beyond the schemas: hardened pods, probes, an HPA per API and a PDB per Deployment."""
    problems = []
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for document in documents:
        by_kind.setdefault(document["kind"], []).append(document)
    deployments = by_kind.get("Deployment", [])
    hpa_targets = {_field(d, "spec.scaleTargetRef.name") for d in by_kind.get("HorizontalPodAutoscaler", [])}
    pdb_selectors = [_field(d, "spec.selector.matchLabels") for d in by_kind.get("PodDisruptionBudget", [])]
    for document in deployments + by_kind.get("Job", []):
        name = f"{document['kind']}/{document['metadata']['name']}"
        pod = _pod_spec(document)
        if not (pod.get("securityContext") or {}).get("runAsNonRoot"):
            problems.append(f"{name}: pod securityContext lacks runAsNonRoot")
        for container in pod.get("containers", []):
            context = container.get("securityContext") or {}
            if not context.get("readOnlyRootFilesystem"):
                problems.append(f"{name}: container {container['name']} has a writable root filesystem")
            if (context.get("capabilities") or {}).get("drop") != ["ALL"]:
                problems.append(f"{name}: container {container['name']} does not drop all capabilities")
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{name}: container {container['name']} allows privilege escalation")
            if not (container.get("resources") or {}).get("limits"):
                problems.append(f"{name}: container {container['name']} has no resource limits")
    for document in deployments:
        name = document["metadata"]["name"]
        labels = _field(document, "spec.template.metadata.labels") or {}
        if not any(selector and selector.items() <= labels.items() for selector in pdb_selectors):
            problems.append(f"Deployment/{name}: no PodDisruptionBudget selects its pods")
        if labels.get("dealgate.io/role") == "api":
            container = _pod_spec(document)["containers"][0]
            if _field(container, "readinessProbe.httpGet.path") != "/readyz":
                problems.append(f"Deployment/{name}: readiness probe is not /readyz")
            if _field(container, "livenessProbe.httpGet.path") != "/healthz":
                problems.append(f"Deployment/{name}: liveness probe is not /healthz")
            if name not in hpa_targets:
                problems.append(f"Deployment/{name}: no HorizontalPodAutoscaler")
    for job in by_kind.get("Job", []):
        hooks = set(str(_field(job, "metadata.annotations") and job["metadata"]["annotations"].get("helm.sh/hook"))
                    .split(","))
        if not {"pre-install", "pre-upgrade"} <= hooks:
            problems.append(f"Job/{job['metadata']['name']}: not a pre-install and pre-upgrade hook")
    if not by_kind.get("NetworkPolicy"):
        problems.append("no NetworkPolicy")
    return problems


def check_rules(documents: list[dict[str, Any]]) -> list[str]:
    """The rules ConfigMap holds rules the conflict service accepts (the same parser it starts with)."""
    from services.conflict.domain.rules import RulesError, RulesOfEngagement

    problems = []
    maps = [d for d in documents if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-rules")]
    if len(maps) != 1:
        return [f"expected one rules ConfigMap, found {len(maps)}"]
    try:
        RulesOfEngagement.from_dict(yaml.safe_load(maps[0]["data"]["rules.yaml"]))
    except (RulesError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        problems.append(f"ConfigMap/{maps[0]['metadata']['name']}: the conflict service would refuse its rules: {exc}")
    return problems


def check() -> Iterator[str]:
    """Every step, yielding a line per step done; raises ChartCheckFailed naming every problem found."""
    # A link, so the chart ships the service's own defaults (helm package stores the file it points to).
    chart_rules = CHART / "files" / "default_rules.yaml"
    if chart_rules.resolve() != DEFAULT_RULES.resolve():
        raise ChartCheckFailed(f"{chart_rules.relative_to(REPO)} must be a link to {DEFAULT_RULES.relative_to(REPO)}")
    for values in (None, EXAMPLE_VALUES):
        label = "default values" if values is None else str(values.relative_to(REPO))
        helm("lint", "--strict", str(CHART), *(["-f", str(values)] if values else []))
        yield f"helm lint --strict ({label}): ok"
        for kubernetes_version in KUBERNETES_VERSIONS:
            documents = render(values, kubernetes_version)
            problems = (validate_schemas(documents, kubernetes_version) + check_promises(documents)
                        + check_rules(documents))
            if problems:
                raise ChartCheckFailed(f"helm template ({label}, Kubernetes {kubernetes_version}):\n  "
                                       + "\n  ".join(problems))
            kinds: dict[str, int] = {}
            for document in documents:
                kinds[document["kind"]] = kinds.get(document["kind"], 0) + 1
            yield (f"helm template ({label}) valid for Kubernetes {kubernetes_version}: {len(documents)} manifests ("
                   + ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items())) + ")")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv == ["helm"]:
            print(helm_binary())
            return 0
        started = time.monotonic()
        for line in check():
            print(line, flush=True)
    except (ChartCheckFailed, subprocess.CalledProcessError) as exc:
        print(f"chart-check FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"chart-check: ok in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
