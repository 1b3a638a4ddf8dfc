"""Lint and render the Helm chart offline with helm-python-sdk (Helm v4 as a library).

For every case (a name, values files, and values set on top) it runs `helm lint --strict`
against Kubernetes 1.30 and renders the templates as `helm template` would, drops NOTES.txt
and empty documents, and writes one file per object:

    OUT/<case>/builtin/<kind>-<name>.yaml   objects of Kubernetes' own API groups
    OUT/<case>/custom/<kind>-<name>.yaml    custom resources (ServiceMonitor, ...)

Built-in objects are validated with kubernetes-validate afterwards; custom resources have no
schema there. The chart's crds/ files (when present) are copied to OUT/crds/.

Usage: render_chart.py CHART OUT   (exit 1 on a lint error, a render error or a schema error)
"""

from __future__ import annotations

import copy
import shutil
import sys
from pathlib import Path

import helm_python as helm
import yaml

RELEASE = "authstack"
NAMESPACE = "authstack-system"
KUBE_VERSION = "v1.30.0"

# What a real install must supply and the defaults leave empty.
REQUIRED = {
    "masterKey": {"existingSecret": "authstack-master-key"},
    "controlPlane": {
        "database": {"existingSecret": "authstack-database"},
        "gatewayUrl": "https://api.authstack.example",
    },
}


def merge(base: dict, override: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def cases(chart: Path) -> dict[str, dict]:
    production = helm.values_from_yaml((chart / "ci" / "production-values.yaml").read_text())
    return {
        # The chart's defaults plus the three values every install must set.
        "default": REQUIRED,
        "production": merge(REQUIRED, production),
        # What the region Terraform module installs: the operator alone, no secrets needed.
        "operator-only": {"controlPlane": {"enabled": False}, "gateway": {"enabled": False}},
    }


def is_builtin(api_version: str) -> bool:
    """Core (v1), unqualified groups (apps/v1) and *.k8s.io groups are Kubernetes' own."""
    if "/" not in api_version:
        return True
    group = api_version.split("/", 1)[0]
    return "." not in group or group.endswith(".k8s.io")


def lint(chart: Path, name: str, values: dict) -> list[str]:
    report = helm.lint(
        chart, values, strict=True, namespace=NAMESPACE, kube_version=KUBE_VERSION
    )
    problems = [f"lint {m['path']}: {m['error']}" for m in report["messages"] if m["severity"] >= 2]
    problems += [f"lint: {e}" for e in report["errors"] if not any(e in p for p in problems)]
    infos = [m["error"] for m in report["messages"] if m["severity"] < 2]
    if infos:
        print(f"  {name}: lint notes: {'; '.join(infos)}")
    return problems


def render(chart: Path, out: Path, name: str, values: dict) -> tuple[int, list[str]]:
    with helm.Chart.load(chart) as loaded:
        rendered = loaded.render(values=values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    target = out / name
    count = 0
    custom: list[str] = []
    for template, text in sorted(rendered.items()):
        if template.endswith("NOTES.txt"):
            continue
        for document in yaml.safe_load_all(text):
            if not document:
                continue
            kind = document["kind"]
            api_version = document["apiVersion"]
            object_name = document["metadata"]["name"]
            folder = "builtin" if is_builtin(api_version) else "custom"
            if folder == "custom":
                custom.append(f"{kind} ({api_version})")
            path = target / folder / f"{kind.lower()}-{object_name}.yaml"
            if path.exists():
                raise SystemExit(f"{name}: two objects render as {path.name}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"# Source: {template}\n" + yaml.safe_dump(document, sort_keys=False))
            count += 1
    return count, custom


def main() -> int:
    chart = Path(sys.argv[1])
    out = Path(sys.argv[2])
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    failed = False
    for name, values in cases(chart).items():
        problems = lint(chart, name, values)
        try:
            count, custom = render(chart, out, name, values)
        except helm.HelmError as err:
            problems.append(f"render: {err}")
            count, custom = 0, []
        if problems:
            failed = True
            print(f"FAIL helm {name}: " + "\n  ".join(problems))
            continue
        note = f"; custom resources not schema-validated: {', '.join(custom)}" if custom else ""
        print(f"  helm {name}: lint ok, {count} objects rendered to {out / name}{note}")

    crds = sorted((chart / "crds").glob("*.yaml")) if (chart / "crds").is_dir() else []
    if crds:
        (out / "crds").mkdir()
        for crd in crds:
            shutil.copy(crd, out / "crds" / crd.name)
        print(f"  helm crds: {len(crds)} CRD file(s) copied for validation")
    else:
        print("  helm crds: charts/authstack/crds/ is empty (written by the operator's crdgen)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
