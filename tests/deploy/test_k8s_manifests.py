"""`deploy/k8s/`: every manifest valid against the Kubernetes schemas (`kubernetes-validate`, strict:
an unknown field is an error), and wired together as the product needs: the Secret's keys, the
settings in the ConfigMap, the shared media volume, the probes on `/healthz`, the migrate Job."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from tests.deploy.files import DOCKERFILE, K8S, load_yaml
from wa_inbox.config import load_settings

VERSIONS = ["1.30.0", kubernetes_validate.latest_version()]
"""The oldest Kubernetes the manifests are for (the preStop sleep action), and the newest known."""
MANIFESTS = sorted(path for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")


def resources() -> dict[str, dict[str, Any]]:
    """Every resource of the manifests by kind (one of each)."""
    found: dict[str, dict[str, Any]] = {}
    for path in MANIFESTS:
        resource = load_yaml(path)
        assert resource["kind"] not in found, f"a second {resource['kind']} in {path.name}"
        found[resource["kind"]] = resource
    return found


def test_there_is_each_resource_the_deployment_needs() -> None:
    assert set(resources()) == {
        "ConfigMap",
        "Deployment",
        "Job",
        "PersistentVolumeClaim",
        "PodDisruptionBudget",
        "Secret",
        "Service",
    }


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
def test_every_manifest_is_valid_for_kubernetes(path: Path, version: str) -> None:
    validated = kubernetes_validate.validate(load_yaml(path), version, strict=True)
    assert validated == version.rpartition(".")[0]


def test_the_validator_rejects_what_kubernetes_would(tmp_path: Path) -> None:
    """So that the test above passing means the schemas were applied, strictly."""
    deployment = resources()["Deployment"]
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="readinessProbes"):
        kubernetes_validate.validate(deployment, VERSIONS[-1], strict=True)


def test_kustomization_applies_every_manifest_but_the_example_secret() -> None:
    kustomization = load_yaml(K8S / "kustomization.yaml")
    applied = {path.name for path in MANIFESTS if not path.name.endswith(".example.yaml")}
    assert sorted(kustomization["resources"]) == sorted(applied)
    images = {image["name"] for image in kustomization["images"]}
    for kind in ("Deployment", "Job"):
        for container in pod(kind)["containers"]:
            assert container["image"].partition(":")[0] in images


def pod(kind: str) -> dict[str, Any]:
    return dict(resources()[kind]["spec"]["template"]["spec"])


def container(kind: str) -> dict[str, Any]:
    (only,) = pod(kind)["containers"]
    return dict(only)


def secret_refs(kind: str) -> dict[str, tuple[str, str]]:
    """Environment variable -> (Secret, key) of the pod's container."""
    return {
        variable["name"]: (ref["name"], ref["key"])
        for variable in container(kind).get("env", [])
        if (ref := variable.get("valueFrom", {}).get("secretKeyRef"))
    }


def test_secrets_come_from_the_secret_and_nowhere_else() -> None:
    secret = resources()["Secret"]
    keys = {(secret["metadata"]["name"], key) for key in secret["stringData"]}
    serve, migrate = secret_refs("Deployment"), secret_refs("Job")
    assert {"WA_INBOX_DB", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY_SECRET"} <= set(serve)
    assert set(serve.values()) <= keys
    assert migrate == {"WA_INBOX_DB": serve["WA_INBOX_DB"]}
    for kind in ("Deployment", "Job"):
        plain = {v["name"]: v.get("value", "") for v in container(kind).get("env", []) if "value" in v}
        assert not re.search(r"TOKEN|SECRET|PASSWORD|_DB$", " ".join(plain)), plain
    config = resources()["ConfigMap"]["data"]["wa-inbox.toml"]
    assert not re.search(r"(?m)^\s*(auth_token|api_key_secret|path)\s*=", config)


def test_the_configmap_is_valid_settings_for_replicas(tmp_path: Path) -> None:
    toml = tmp_path / "wa-inbox.toml"
    toml.write_text(resources()["ConfigMap"]["data"]["wa-inbox.toml"])
    settings = load_settings(toml, env={})

    assert settings.store.migrate == "never"
    mounts = {mount["name"]: mount["mountPath"] for mount in container("Deployment")["volumeMounts"]}
    assert str(settings.media.storage_dir) == mounts["media"]
    environment = {v["name"]: v.get("value") for v in container("Deployment")["env"]}
    assert environment["WA_INBOX_CONFIG"] == f"{mounts['config']}/{toml.name}"
    volumes = {volume["name"]: volume for volume in pod("Deployment")["volumes"]}
    assert volumes["config"]["configMap"]["name"] == resources()["ConfigMap"]["metadata"]["name"]


def test_every_replica_mounts_one_shared_media_volume() -> None:
    volumes = {volume["name"]: volume for volume in pod("Deployment")["volumes"]}
    claim = resources()["PersistentVolumeClaim"]
    assert volumes["media"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert resources()["Deployment"]["spec"]["replicas"] > 1


def test_serve_listens_where_the_probes_and_the_service_look() -> None:
    serve = container("Deployment")
    args = serve["args"]
    assert args[0] == "serve" and args[args.index("--host") + 1] == "0.0.0.0"
    (port,) = serve["ports"]
    assert str(port["containerPort"]) == args[args.index("--port") + 1]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert serve[probe]["httpGet"] == {"path": "/healthz", "port": port["name"]}, probe
    readiness, liveness = serve["readinessProbe"], serve["livenessProbe"]
    # A database outage takes a replica out of the Service long before it restarts it.
    assert (
        readiness["periodSeconds"] * readiness["failureThreshold"]
        < liveness["periodSeconds"] * liveness["failureThreshold"]
    )
    service = resources()["Service"]
    assert service["spec"]["ports"][0]["targetPort"] == port["name"]
    labels = resources()["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()


def test_the_disruption_budget_covers_the_replicas() -> None:
    deployment, budget = resources()["Deployment"], resources()["PodDisruptionBudget"]
    assert budget["spec"]["selector"] == deployment["spec"]["selector"]
    assert budget["spec"]["maxUnavailable"] < deployment["spec"]["replicas"]
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_the_job_migrates_with_the_same_image() -> None:
    job = container("Job")
    assert job["args"] == ["db", "migrate"]
    assert job["image"] == container("Deployment")["image"]
    assert pod("Job")["restartPolicy"] == "Never"


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
def test_pods_run_unprivileged_on_a_read_only_root(kind: str) -> None:
    dockerfile_user = re.findall(r"(?m)^USER (\d+):(\d+)$", DOCKERFILE.read_text())[-1]
    security = pod(kind)["securityContext"]
    assert security["runAsNonRoot"] is True
    assert (str(security["runAsUser"]), str(security["runAsGroup"])) == dockerfile_user
    assert pod(kind)["automountServiceAccountToken"] is False
    this = container(kind)
    assert this["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert {"/tmp"} <= {mount["mountPath"] for mount in this["volumeMounts"]}
    assert set(this["resources"]) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(this["resources"]["requests"]) & set(this["resources"]["limits"])


def test_the_secret_example_holds_placeholders_only() -> None:
    values = resources()["Secret"]["stringData"].values()
    assert all("replace-with" in value or re.fullmatch(r"SKx+", value) for value in values)
