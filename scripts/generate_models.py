#!/usr/bin/env python3
"""Generate `reconciler/providers/ultravox/schema.py` from Ultravox's OpenAPI schema.

Owns: cutting the `ultravox.v1.CallTemplate` closure out of the OpenAPI file, the few input
patches listed below, running datamodel-code-generator, and the post-processing of its output.
Nothing in the `reconciler` package imports this script; it needs `datamodel-code-generator`
(pinned: its output changes between releases), PyYAML and ruff.

Usage (from the repository root):

    python scripts/generate_models.py [OPENAPI_YAML] [--output FILE] [--check]

`--check` regenerates into memory and exits 1 if the committed file differs (for CI).

Input patches, each because the generated models must say what the schema says:
- schema names lose their `ultravox.v1.` / `google.protobuf.` prefixes: datamodel-codegen reads
  dotted names as Python module paths and would emit a package instead of one file;
- `format: int32` gets the int32 bounds as `minimum`/`maximum` (the format states the range);
- numeric ranges the schema states only in prose (`PROSE_BOUNDS`) become `minimum`/`maximum`;
  each entry quotes the sentence it comes from and generation fails if that sentence is gone,
  so a changed upstream range cannot silently keep a stale bound.
Output patches: a header, and `serialize_by_alias=True` on every model so that a field whose
API name is a Python keyword (`from`, stored as `from_`) is dumped as `from` even by callers
that forget `by_alias=True`. The output passes `mypy --strict` as generated, so it carries no
`# mypy:` relaxations.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
DEFAULT_INPUT = Path("/work/shared/api/ultravox-openapi.yaml")
DEFAULT_OUTPUT = REPO / "reconciler" / "providers" / "ultravox" / "schema.py"
ROOT_SCHEMA = "ultravox.v1.CallTemplate"
REF_PREFIX = "#/components/schemas/"

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

# (schema, property) -> (bounds as JSON Schema keywords, the sentence of the description that
# states them). OpenAPI 3.0 spells an exclusive bound as a boolean beside minimum/maximum.
PROSE_BOUNDS: dict[tuple[str, str], tuple[dict[str, Any], str]] = {
    ("ultravox.v1.CallTemplate", "temperature"): (
        {"minimum": 0, "maximum": 1},
        "between 0 and 1",
    ),
    ("ultravox.v1.VadSettings", "frameActivationThreshold"): (
        {"minimum": 0.1, "maximum": 1},
        "between 0.1 and 1",
    ),
    ("ultravox.v1.ElevenLabsVoice", "speed"): (
        {"minimum": 0.7, "maximum": 1.2},
        "Must be between 0.7 and 1.2",
    ),
    ("ultravox.v1.CartesiaVoice", "speed"): (
        {"minimum": -1, "maximum": 1},
        "Must be between -1 and 1",
    ),
    ("ultravox.v1.CartesiaVoice_CartesiaGenerationConfig", "volume"): (
        {"minimum": 0.5, "maximum": 2.0},
        "Valid values are between [0.5, 2.0] inclusive",
    ),
    ("ultravox.v1.CartesiaVoice_CartesiaGenerationConfig", "speed"): (
        {"minimum": 0.6, "maximum": 1.5},
        "Valid values are between [0.6, 1.5] inclusive",
    ),
    ("ultravox.v1.LmntVoice", "speed"): (
        {"minimum": 0.25, "maximum": 2},
        "Must be between 0.25 and 2",
    ),
    ("ultravox.v1.GoogleVoice", "speakingRate"): (
        {"minimum": 0.25, "maximum": 2},
        "Must be between 0.25 and 2",
    ),
    ("ultravox.v1.InworldVoice", "speakingRate"): (
        {"minimum": 0.5, "maximum": 1.5},
        "Must be between 0.5 and 1.5",
    ),
    ("ultravox.v1.InworldVoice", "temperature"): (
        {"minimum": 0.0, "maximum": 2.0},
        "Must be between 0.0 and 2.0",
    ),
    ("ultravox.v1.RespeecherVoice", "temperature"): (
        {"minimum": 0.0},
        "must be greater than or equal to 0.0",
    ),
    # topK ("exactly -1 or greater than 0") is not a range; it stays an int32.
    ("ultravox.v1.RespeecherVoice", "topP"): (
        {"minimum": 0, "exclusiveMinimum": True, "maximum": 1.0},
        "must be greater than 0 and less than or equal to 1.0",
    ),
    ("ultravox.v1.RespeecherVoice", "minP"): (
        {"minimum": 0.0, "maximum": 1.0},
        "must be between 0.0 and 1.0, inclusive",
    ),
    ("ultravox.v1.RespeecherVoice", "presencePenalty"): (
        {"minimum": 0, "maximum": 2},
        "must be between 0 and 2, inclusive",
    ),
    ("ultravox.v1.RespeecherVoice", "repetitionPenalty"): (
        {"minimum": 1, "maximum": 2},
        "must be between 1 and 2, inclusive",
    ),
    ("ultravox.v1.RespeecherVoice", "frequencyPenalty"): (
        {"minimum": 0, "maximum": 2},
        "must be between 0 and 2, inclusive",
    ),
}

CODEGEN_OPTIONS = [
    "--input-file-type=openapi",
    "--output-model-type=pydantic_v2.BaseModel",
    "--target-python-version=3.11",
    # Enums as Literal: values validate and dump as the plain strings the API uses.
    "--enum-field-as-literal=all",
    "--extra-fields=forbid",
    # Strict scalars: YAML's implicit typing ("yes" -> bool, "0.4" -> str) must be an error,
    # not a silent coercion, or a dump would no longer be what the user wrote.
    "--strict-types",
    "str",
    "int",
    "float",
    "bool",
    "--use-annotated",
    "--use-standard-collections",
    "--use-union-operator",
    "--use-schema-description",
    "--use-field-description",
    "--collapse-root-models",
    "--disable-timestamp",
    # Annotations as objects, not strings: pydantic then need not evaluate 200 strings when
    # the 52 models are built at import (every command that reads an agent pays for it). The
    # classes come out in dependency order, so no annotation names a class defined later.
    "--disable-future-imports",
    "--formatters",
    "ruff-format",
]


def closure(schemas: Mapping[str, Any], root: str) -> list[str]:
    """`root` and every schema it references, transitively, in discovery order."""
    seen = [root]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    name = value.removeprefix(REF_PREFIX)
                    if name not in seen:
                        seen.append(name)
                        walk(schemas[name])
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(schemas[root])
    return seen


def short_name(name: str) -> str:
    """`ultravox.v1.CallMedium_SipMedium` -> `CallMedium_SipMedium` (see the module docstring)."""
    if name.startswith("ultravox.v1."):
        return name.removeprefix("ultravox.v1.")
    if name.startswith("google.protobuf."):
        return "Protobuf" + name.removeprefix("google.protobuf.")
    if "." in name:
        raise SystemExit(f"generate_models: unexpected dotted schema name {name!r}")
    return name


def patch(node: Any) -> Any:
    """Rename references and add the int32 bounds, recursively."""
    if isinstance(node, dict):
        out = {
            key: REF_PREFIX + short_name(value.removeprefix(REF_PREFIX))
            if key == "$ref"
            else patch(value)
            for key, value in node.items()
        }
        if out.get("format") == "int32":
            out.setdefault("minimum", INT32_MIN)
            out.setdefault("maximum", INT32_MAX)
        return out
    if isinstance(node, list):
        return [patch(item) for item in node]
    return node


def build_input(openapi: Mapping[str, Any]) -> dict[str, Any]:
    """A minimal OpenAPI document holding only the patched CallTemplate closure."""
    schemas = openapi["components"]["schemas"]
    names = closure(schemas, ROOT_SCHEMA)
    patched = {name: patch(schemas[name]) for name in names}
    for (schema, prop), (bounds, sentence) in PROSE_BOUNDS.items():
        field = patched.get(schema, {}).get("properties", {}).get(prop)
        if field is None:
            raise SystemExit(f"generate_models: {schema}.{prop} is gone; update PROSE_BOUNDS")
        description = " ".join(str(field.get("description", "")).split())
        if sentence not in description:
            raise SystemExit(
                f"generate_models: {schema}.{prop} no longer says {sentence!r} "
                f"(now: {description!r}); update PROSE_BOUNDS"
            )
        field.update(bounds)
    return {
        "openapi": str(openapi.get("openapi", "3.0.3")),
        "info": {"title": "Ultravox CallTemplate closure", "version": "generated"},
        "paths": {},
        "components": {"schemas": {short_name(n): patched[n] for n in names}},
    }


def run_codegen(document: Mapping[str, Any]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "calltemplate.json"
        target = Path(tmp) / "schema.py"
        source.write_text(json.dumps(document, indent=1), encoding="utf-8")
        command = [
            sys.executable,
            "-m",
            "datamodel_code_generator",
            "--input",
            str(source),
            "--output",
            str(target),
            *CODEGEN_OPTIONS,
        ]
        # Run outside the repository so its pyproject (which excludes schema.py from ruff)
        # cannot change how the formatter treats the output.
        result = subprocess.run(command, cwd=tmp, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise SystemExit(f"datamodel-codegen failed:\n{result.stderr}")
        return target.read_text(encoding="utf-8")


def postprocess(code: str, source_name: str, source_digest: str) -> str:
    # Drop datamodel-codegen's own header comment (it names a temporary file).
    lines = code.splitlines()
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    body = "\n".join(lines) + "\n"

    configs = body.count('model_config = ConfigDict(\n        extra="forbid",\n')
    classes = len(re.findall(r"^class \w+\(BaseModel\):", body, flags=re.MULTILINE))
    if configs != classes:
        raise SystemExit(
            f"generate_models: {classes} models but {configs} extra='forbid' configs; "
            "the datamodel-codegen output changed shape, adjust postprocess()"
        )
    body = body.replace(
        'model_config = ConfigDict(\n        extra="forbid",\n',
        'model_config = ConfigDict(\n        extra="forbid",\n        serialize_by_alias=True,\n',
    )

    header = f"""# GENERATED FILE - DO NOT EDIT.
# Pydantic v2 models of Ultravox's `{ROOT_SCHEMA}` and every schema it references,
# generated by scripts/generate_models.py with datamodel-code-generator from
# {source_name} (sha256 {source_digest}).
# Regenerate from the repository root with:
#     python scripts/generate_models.py [path/to/ultravox-openapi.yaml]
# Check that this file is current with:
#     python scripts/generate_models.py --check
"""
    docstring = (
        '"""Generated models of `ultravox.v1.CallTemplate` (see the header; do not edit).\n\n'
        "Field names are the API's camelCase names; a name that is a Python keyword or shadows a\n"
        "pydantic attribute (`from`, `schema`) is stored under a trailing underscore with the API\n"
        "name as alias. Must not import anything but pydantic and typing.\n"
        '"""\n\n'
    )
    return header + docstring + body


def generate(source: Path) -> str:
    raw = source.read_bytes()
    # The C loader when PyYAML has it: same result, ten times faster on this 260 kB file.
    openapi = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    code = run_codegen(build_input(openapi))
    return postprocess(code, source.name, hashlib.sha256(raw).hexdigest())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("openapi", nargs="?", type=Path, default=DEFAULT_INPUT)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="fail if the output is stale")
    args = parser.parse_args(argv)

    code = generate(args.openapi)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != code:
            print(f"{args.output} is stale; run scripts/generate_models.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(code, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
