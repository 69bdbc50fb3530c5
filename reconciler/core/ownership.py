"""Ownership: what one repository (or directory) of manifests owns in a shared account.

Owns the plain-data form of the manifests' `kind: Ownership` document (per kind, shell-style
name patterns), the one question planning asks of it (`owns`: may `--prune` touch this live
resource?), and the document to suggest when `--prune` is asked for without one. Terraform
deletes only what its state says it created and decK only inside the tags a file selects;
this tool has no state, so a repository says what it owns. Pure: no files, no environment,
no network; must not import pydantic, yaml, click or httpx.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from reconciler.core.domain import ResourceKey, SourceRef

KIND = "Ownership"
"""The `kind` of the manifest document that declares ownership (not a resource: no API
object, never planned, never sent)."""


@dataclass(frozen=True)
class Ownership:
    """Per kind, the name patterns (`fnmatch`, case-sensitive) a repository owns."""

    name: str
    claims: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sources: tuple[SourceRef, ...] = ()
    """Where the Ownership document(s) start (several when a run reads several
    repositories' manifests: their claims add up)."""

    def owns(self, key: ResourceKey) -> bool:
        """Whether a live resource of this kind and name is this repository's to prune."""
        return any(fnmatch.fnmatchcase(key.name, p) for p in self.claims.get(key.kind, ()))

    def __str__(self) -> str:
        return f"{KIND}/{self.name}"


def merged(found: Iterable[Ownership]) -> Ownership | None:
    """Several Ownership documents of one run as one: their claims add up."""
    items = list(found)
    if not items:
        return None
    if len(items) == 1:
        return items[0]
    claims: dict[str, tuple[str, ...]] = {}
    for item in items:
        for kind, patterns in item.claims.items():
            claims[kind] = tuple(dict.fromkeys((*claims.get(kind, ()), *patterns)))
    return Ownership(
        name="+".join(i.name for i in items),
        claims=claims,
        sources=tuple(s for i in items for s in i.sources),
    )


def suggested_claims(keys: Iterable[ResourceKey]) -> dict[str, list[str]]:
    """Claims that cover `keys` (the manifests' resources), for the document a message
    suggests: per kind the shared prefix up to its last `_` or `-` with a `*`, when the names
    share one; else the names themselves."""
    names: dict[str, list[str]] = {}
    for key in sorted(keys):
        names.setdefault(key.kind, []).append(key.name)
    claims: dict[str, list[str]] = {}
    for kind, found in names.items():
        prefix = _shared_prefix(found)
        cut = max(prefix.rfind("_"), prefix.rfind("-"))
        claims[kind] = [prefix[: cut + 1] + "*"] if len(found) > 1 and cut > 0 else found
    return claims


def suggested_name(claims: Mapping[str, Iterable[str]]) -> str:
    """An owner's name for a suggested document: the prefix its first prefix claim shares
    (`acme` for `acme_*`), else `team`."""
    for patterns in claims.values():
        for pattern in patterns:
            if pattern.endswith(("_*", "-*")) and len(pattern) > 2:
                return pattern[:-2]
    return "team"


def _shared_prefix(names: list[str]) -> str:
    first, last = min(names), max(names)
    length = 0
    while length < min(len(first), len(last)) and first[length] == last[length]:
        length += 1
    return first[:length]


def document_text(name: str, claims: Mapping[str, Iterable[str]]) -> str:
    """An Ownership document as YAML text (flow lists of quoted patterns)."""
    lines = [f"kind: {KIND}", f"name: {name}", "claims:"]
    if not claims:
        lines[-1] = "claims: {}"
    for kind, patterns in claims.items():
        shown = ", ".join(f'"{p}"' for p in patterns)
        lines.append(f"  {kind}: [{shown}]")
    return "\n".join(lines) + "\n"
