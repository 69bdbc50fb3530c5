"""One batch-calling API of the ElevenLabs shape (Threetone's, ElevenLabs' own), as a bundle of
its tables: `BatchCallingApi`. The vendor modules (`threetone`, `elevenlabs`) each define one
(`API`) from their tables; the emulator serves it, the product plans against it. Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler_apis.model import Model


@dataclass(frozen=True)
class BatchCallingApi:
    vendor: str
    prefix: str
    key_header: str
    """The request header carrying the API key (lower case)."""
    source: str
    batch: Model
    """What submit, cancel and retry answer, and each item of the workspace listing."""
    detailed_batch: Model
    """What `GET {prefix}/{id}` answers: the batch with its recipients."""
    workspace: Model
    submit: Model
    """The submit request: the fields the API takes (any other field is ignored by it)."""
    submit_required: tuple[str, ...]
    whatsapp_required: tuple[str, ...]
    list_parameters: tuple[str, ...]
    filters_by_agent: bool
    """The workspace listing takes `agent_id` and lists only that agent's batches."""
    operations: tuple[tuple[str, str, Model | None], ...]

    @property
    def has_export(self) -> bool:
        return any(path.endswith("/export") for _, path, _ in self.operations)

    def takes(self, field: str) -> bool:
        """Whether the submit request has this (top-level) field."""
        return field in self.submit.names
