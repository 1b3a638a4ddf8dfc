"""Structural checks of terraform/ with python-hcl2 (no terraform binary needed).

Every module directory (terraform/modules/* and terraform/examples/*) has main.tf,
versions.tf, variables.tf, outputs.tf and README.md; versions.tf pins required_version and
every provider's source and version; every variable has a description and a type; every
output has a description, and an output whose value comes from a secret (a sensitive
variable, random_password/random_bytes, a Secret's data, a sensitive module output) is
`sensitive = true`; the README names every variable and output; every example calls its
module by relative path, and every module has an example.

Usage: terraform_lint.py TERRAFORM_DIR   (exit 1 and one line per problem on failure)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import hcl2

REQUIRED_FILES = ("main.tf", "versions.tf", "variables.tf", "outputs.tf", "README.md")
SECRET_SOURCES = re.compile(r"random_password\.|random_bytes\.|\.data\[|\.result\b")


def unquote(value):
    """python-hcl2 keeps the quotes of string literals and labels."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def blocks(parsed: dict, kind: str):
    """(label, body) of every `kind "label" { ... }` block."""
    for entry in parsed.get(kind, []):
        for label, body in entry.items():
            yield unquote(label), body


class Module:
    def __init__(self, path: Path, root: Path):
        self.path = path
        self.rel = path.relative_to(root.parent)
        self.files: dict[str, dict] = {}
        self.variables: dict[str, dict] = {}
        self.outputs: dict[str, dict] = {}
        self.module_calls: dict[str, dict] = {}
        self.terraform_blocks: list[dict] = []
        self.problems: list[str] = []
        for tf in sorted(path.glob("*.tf")):
            try:
                with tf.open() as handle:
                    parsed = hcl2.load(handle)
            except Exception as err:  # a parse error names the file, whatever its type
                self.problems.append(f"{self.rel}/{tf.name}: does not parse: {err}")
                continue
            self.files[tf.name] = parsed
            for name, body in blocks(parsed, "variable"):
                self.variables[name] = body
            for name, body in blocks(parsed, "output"):
                self.outputs[name] = body
            for name, body in blocks(parsed, "module"):
                self.module_calls[name] = body
            self.terraform_blocks.extend(parsed.get("terraform", []))

    def sensitive_variables(self) -> set[str]:
        return {name for name, body in self.variables.items() if body.get("sensitive") is True}

    def sensitive_outputs(self) -> set[str]:
        return {name for name, body in self.outputs.items() if body.get("sensitive") is True}


def check_module(module: Module, modules_by_path: dict[Path, Module]) -> list[str]:
    problems = list(module.problems)
    rel = module.rel
    for required in REQUIRED_FILES:
        if not (module.path / required).is_file():
            problems.append(f"{rel}: {required} is missing")

    # versions.tf: required_version and pinned providers.
    versions = module.files.get("versions.tf", {})
    terraform = versions.get("terraform", [{}])[0] if versions.get("terraform") else {}
    if not terraform.get("required_version"):
        problems.append(f"{rel}/versions.tf: terraform.required_version is missing")
    providers = terraform.get("required_providers", [{}])
    providers = providers[0] if isinstance(providers, list) and providers else {}
    providers = {k: v for k, v in providers.items() if not k.startswith("__")}
    if not providers:
        problems.append(f"{rel}/versions.tf: terraform.required_providers is empty")
    for name, spec in providers.items():
        if not isinstance(spec, dict) or not spec.get("source") or not spec.get("version"):
            problems.append(f"{rel}/versions.tf: provider {name} needs source and version")

    for name, body in module.variables.items():
        if not unquote(body.get("description", "")):
            problems.append(f"{rel}: variable {name} has no description")
        if "type" not in body:
            problems.append(f"{rel}: variable {name} has no type")

    sensitive_vars = module.sensitive_variables()
    for name, body in module.outputs.items():
        if not unquote(body.get("description", "")):
            problems.append(f"{rel}: output {name} has no description")
        value = str(body.get("value", ""))
        secret = bool(SECRET_SOURCES.search(value)) or any(
            re.search(rf"\bvar\.{re.escape(v)}\b", value) for v in sensitive_vars
        )
        for call_name, call in module.module_calls.items():
            target = modules_by_path.get((module.path / unquote(call.get("source", ""))).resolve())
            if target is None:
                continue
            for out in target.sensitive_outputs():
                if re.search(rf"\bmodule\.{re.escape(call_name)}\.{re.escape(out)}\b", value):
                    secret = True
        if secret and body.get("sensitive") is not True:
            problems.append(f"{rel}: output {name} carries a secret but is not sensitive = true")

    readme = module.path / "README.md"
    if readme.is_file():
        text = readme.read_text()
        for kind, names in (("variable", module.variables), ("output", module.outputs)):
            for name in names:
                if f"`{name}`" not in text:
                    problems.append(f"{rel}/README.md: {kind} `{name}` is not documented")
    return problems


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "terraform").resolve()
    module_dirs = sorted(p for p in (root / "modules").iterdir() if p.is_dir())
    example_dirs = sorted(p for p in (root / "examples").iterdir() if p.is_dir())
    modules = {p.resolve(): Module(p, root) for p in module_dirs + example_dirs}
    problems: list[str] = []
    for module in modules.values():
        problems.extend(check_module(module, modules))

    called: set[Path] = set()
    for example_dir in example_dirs:
        example = modules[example_dir.resolve()]
        if not example.module_calls:
            problems.append(f"{example.rel}: calls no module")
        for name, call in example.module_calls.items():
            source = unquote(call.get("source", ""))
            if not source.startswith("../"):
                problems.append(f"{example.rel}: module {name} source {source!r} is not a relative path")
                continue
            target = (example_dir / source).resolve()
            if target not in {p.resolve() for p in module_dirs}:
                problems.append(f"{example.rel}: module {name} source {source!r} is not a module of terraform/modules")
                continue
            called.add(target)
            # Every argument of the call is a variable of the module, and every required one is set.
            target_module = modules[target]
            arguments = {k for k in call if k not in {"source", "version", "providers", "depends_on", "count", "for_each"} and not k.startswith("__")}
            for argument in sorted(arguments - set(target_module.variables)):
                problems.append(f"{example.rel}: module {name} sets unknown variable {argument}")
            required = {v for v, body in target_module.variables.items() if "default" not in body}
            for missing in sorted(required - arguments):
                problems.append(f"{example.rel}: module {name} leaves required variable {missing} unset")
    for module_dir in module_dirs:
        if module_dir.resolve() not in called:
            problems.append(f"{modules[module_dir.resolve()].rel}: no example under terraform/examples calls it")

    for problem in problems:
        print(f"  {problem}")
    counts = (
        f"{len(modules)} module directories, "
        f"{sum(len(m.variables) for m in modules.values())} variables, "
        f"{sum(len(m.outputs) for m in modules.values())} outputs"
    )
    if problems:
        print(f"terraform structure: {len(problems)} problem(s) in {counts}")
        return 1
    print(f"terraform structure: ok ({counts})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
