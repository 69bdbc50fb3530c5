"""The `kind: Ownership` manifest document: what a repository (or directory) owns.

```yaml
kind: Ownership
name: acme
claims:                      # per kind: name patterns (shell-style) this repository owns
  Agent: ["acme_*"]
  ScheduledBatch: ["*"]
  BatchCall: ["*"]
```

Owns the document's model (`OwnershipManifest`, unknown fields refused like every manifest)
and its conversion to the core's plain data (`reconciler.core.ownership.Ownership`). It is a
manifest document but not a resource: no API object, never planned, never sent. Which kinds
may be claimed is the loader's to check (it knows the registered kinds). Pure pydantic: must
not import httpx, deepdiff, click or any provider.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from reconciler.core.domain import SourceRef
from reconciler.core.ownership import Ownership
from reconciler.manifests.fields import NAME_PATTERN

CLAIM_PATTERN = r"^[A-Za-z0-9_*?\[\]!~.-]{1,100}$"
"""A claim: a shell-style pattern (`*`, `?`, `[...]`, `[!...]`) over resource names."""

Claim = Annotated[StrictStr, Field(pattern=CLAIM_PATTERN)]


class OwnershipManifest(BaseModel):
    """One `kind: Ownership` document."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["Ownership"]
    name: Annotated[StrictStr, Field(pattern=NAME_PATTERN)]
    """The owner (a team, a repository); shown in plans."""
    description: StrictStr | None = None
    """Free text for the reader of the manifest."""
    claims: dict[StrictStr, list[Claim]]
    """Per resource kind, the name patterns (shell-style, as Python's `fnmatch`, case
    sensitive) of the live objects this repository owns: `--prune` deletes a live object
    absent from the manifests only when a claim matches its kind and name."""

    def to_ownership(self, source: SourceRef) -> Ownership:
        return Ownership(
            name=self.name,
            claims={kind: tuple(patterns) for kind, patterns in self.claims.items()},
            sources=(source,),
        )
