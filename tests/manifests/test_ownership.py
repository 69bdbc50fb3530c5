"""Issue 12, the manifests: `kind: Ownership` documents and `previousNames`, with file:line
errors like every document; environments narrow or widen the claims through `overrides`."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.core.domain import SourceRef
from reconciler.core.errors import ManifestError
from reconciler.manifests.environment import load_environment
from reconciler.manifests.loader import load_manifests
from reconciler.providers import registry


def _write(tmp_path: Path, text: str, name: str = "manifests.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def test_an_ownership_document_is_read_and_is_no_resource(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        kind: Ownership
        name: acme
        description: the acme team's agents and campaigns
        claims:
          Agent: ["acme_*"]
          ScheduledBatch: ["*"]
          BatchCall: ["*"]
        ---
        kind: Agent
        name: acme_support
        """,
    )
    loaded = load_manifests([str(path)], registry.kinds())
    assert [str(d.key) for d in loaded.desired] == ["Agent/acme_support"]
    assert loaded.ownership is not None
    assert loaded.ownership.name == "acme"
    assert loaded.ownership.claims == {
        "Agent": ("acme_*",),
        "ScheduledBatch": ("*",),
        "BatchCall": ("*",),
    }
    assert loaded.ownership.sources == (SourceRef(str(path), 1),)


def test_ownership_errors_name_file_and_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        kind: Agent
        name: acme_support
        ---
        kind: Ownership
        name: acme
        claims:
          Agent: ["acme_*"]
          Agnet: ["*"]
          ScheduledBatch: [42]
        colour: blue
        ---
        kind: Ownership
        name: acme
        claims: {}
        ---
        kind: Ownership
        name: other
        """,
    )
    with pytest.raises(ManifestError) as caught:
        load_manifests([str(path)], registry.kinds())
    messages = [str(d) for d in caught.value.diagnostics]
    assert messages == [
        f'{path}:8: claims.Agnet: unknown kind "Agnet"; did you mean "Agent"?',
        f"{path}:9: claims.ScheduledBatch[0]: expected a string, got 42 (quote it to make it "
        "a string)",
        f"{path}:10: colour: unknown field",
        f'{path}:12: duplicate Ownership "acme" (first defined at {path}:4)',
        f"{path}:16: claims: required field is missing",
    ]


def test_a_claim_is_a_name_pattern(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        kind: Ownership
        name: acme
        claims:
          Agent: ["acme/*", ""]
        """,
    )
    with pytest.raises(ManifestError) as caught:
        load_manifests([str(path)], registry.kinds())
    assert [d.line for d in caught.value.diagnostics] == [4, 4]


def test_environment_overrides_narrow_or_widen_the_claims(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        kind: Ownership
        name: acme
        claims:
          Agent: ["acme_*"]
          ScheduledBatch: ["*"]
        """,
        "manifests/ownership.yaml",
    )
    _write(
        tmp_path,
        """
        overrides:
          Ownership/acme:
            claims:
              Agent: ["acme_*", "legacy_*"]
              ScheduledBatch: null
        """,
        "manifests/environments/prod.yaml",
    )
    folder = [str(path.parent)]
    prod = load_environment(folder, "prod", [p.name for p in registry.PROVIDERS])
    loaded = load_manifests(folder, registry.kinds(), {}, prod)
    assert loaded.ownership is not None
    assert loaded.ownership.claims == {"Agent": ("acme_*", "legacy_*")}
    plain = load_manifests(folder, registry.kinds())
    assert plain.ownership is not None
    assert plain.ownership.claims == {"Agent": ("acme_*",), "ScheduledBatch": ("*",)}


def test_previous_names_reach_the_desired_resource(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        kind: Agent
        name: acme_new
        previousNames: [acme_old, acme_older]
        """,
    )
    (agent,) = load_manifests([str(path)], registry.kinds()).desired
    assert agent.previous_names == ("acme_old", "acme_older")


def test_previous_names_must_be_free(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        kind: Agent
        name: acme_a
        previousNames:
          - acme_a
          - acme_b
          - acme_gone
        ---
        kind: Agent
        name: acme_b
        ---
        kind: Agent
        name: acme_c
        previousNames: [acme_gone]
        ---
        kind: Agent
        name: acme_d
        previousNames: ["not a name"]
        """,
    )
    with pytest.raises(ManifestError) as caught:
        load_manifests([str(path)], registry.kinds())
    text = "\n".join(str(d) for d in caught.value.diagnostics)
    assert f"{path}:4: previousNames: 'acme_a' is the resource's own name" in text
    assert f"{path}:5: previousNames: 'acme_b' is the name of another Agent" in text
    assert f"{path}:13: previousNames: 'acme_gone' is also a previous name of Agent/acme_a" in text
    assert f"{path}:17: previousNames[0]: " in text  # not a name: the model refuses it
