"""Ultravox agents: the `Agent` resource type and its normalization table.

Owns what we assume about `/api/agents` (see DESIGN.md): read-only and write-only fields,
documented defaults, server-computed fields, durations, oneof members whose empty object is
meaningful, and PATCH granularity (top-level keys of `callTemplate`, each replaced whole,
`null` clears). If the live API proves an assumption wrong, the table below is the one place
to change. Must not import httpx or deepdiff.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from reconciler.core import fieldpaths as paths
from reconciler.core.domain import (
    JSON,
    DesiredResource,
    LiveResource,
    ResourceKey,
    SourceRef,
    fingerprint,
)
from reconciler.core.normalize import NormalizationTable, normalize
from reconciler.manifests.fields import prevents_destroy
from reconciler.providers.base import Api, ResourceType, read_list

if TYPE_CHECKING:
    from reconciler.core.domain import Change
    from reconciler.core.planning import PlanOptions
from reconciler.providers.ultravox.manifests import DURATIONS, AgentManifest
from reconciler_apis import ultravox as ultravox_api

_DURATIONS = DURATIONS

_MEDIA = ("webRtc", "twilio", "serverWebSocket", "telnyx", "plivo", "exotel", "sip")
_VOICES = ("elevenLabs", "cartesia", "lmnt", "google", "inworld", "respeecher", "generic")

AGENT_TABLE = NormalizationTable(
    read_only=(
        "agentId",
        "publishedRevisionId",
        "created",
        "statistics",
        "callTemplate.name",
        "callTemplate.created",
        "callTemplate.updated",
    ),
    # Never returned by the API, so it cannot be compared; it is sent on create only.
    write_only=("callTemplate.sharedSecrets",),
    # Documented defaults equal their absence: the same table the emulator answers from
    # (reconciler_apis.ultravox, which says where each is documented).
    defaults={f"callTemplate.{d.path}": d.value for d in ultravox_api.CALL_TEMPLATE_DEFAULTS},
    server_computed=("callTemplate.model", "callTemplate.contextSchema"),
    durations=_DURATIONS,
    presence=(
        *(f"callTemplate.medium.{m}" for m in _MEDIA),
        "callTemplate.medium.sip.incoming",
        "callTemplate.firstSpeakerSettings.agent",
        "callTemplate.firstSpeakerSettings.user",
        *(f"callTemplate.externalVoice.{v}" for v in _VOICES),
        *(f"callTemplate.voiceOverrides.{v}" for v in _VOICES),
        "callTemplate.selectedTools[].temporaryTool.client",
        "callTemplate.selectedTools[].temporaryTool.dataConnection",
    ),
    sensitive=(
        "callTemplate.sharedSecrets",
        "callTemplate.externalVoice.generic.headers",
        "callTemplate.selectedTools[].authTokens",
        "callTemplate.medium.sip.outgoing.password",
    ),
    zero_is_default=True,
    patch_root="callTemplate",
)

AGENTS_PATH = "/api/agents"
CALL_TEMPLATE = "callTemplate"


class AgentType(ResourceType):
    kind: ClassVar[str] = "Agent"
    provider: ClassVar[str] = "ultravox"
    order: ClassVar[int] = 10
    manifest_model: ClassVar[type[BaseModel]] = AgentManifest
    export_directory: ClassVar[str] = "agents"
    table: ClassVar[NormalizationTable] = AGENT_TABLE
    normalizes_ahead: ClassVar[bool] = True
    # Every sensitive field is a secret: `${VARIABLE}` only, sent as a reference in plans.
    secret_fields: ClassVar[tuple[str, ...]] = AGENT_TABLE.sensitive

    def to_desired(self, manifest: BaseModel, source: SourceRef) -> DesiredResource:
        assert isinstance(manifest, AgentManifest)
        spec: dict[str, Any] = {"name": manifest.name}
        template = manifest.template_body
        if template is not None:
            spec["callTemplate"] = template
        return DesiredResource(
            key=ResourceKey(self.kind, manifest.name),
            provider=self.provider,
            spec=spec,
            source=source,
            ignore_changes=tuple(manifest.ignoreChanges),
            prevent_destroy=prevents_destroy(manifest.lifecycle),
            previous_names=tuple(manifest.previousNames),
        )

    async def read(
        self,
        api: Api,
        desired: Sequence[DesiredResource],
        known: Sequence[LiveResource] = (),
    ) -> list[LiveResource]:
        return await read_list(api, AGENTS_PATH, self.live_from)

    def live_from(self, item: dict[str, JSON]) -> LiveResource:
        return LiveResource(
            key=ResourceKey(self.kind, str(item.get("name", ""))),
            provider=self.provider,
            id=str(item["agentId"]),
            body=item,
            # Call statistics move with every call made; they are not part of what a plan
            # decided on, so they must not make a saved plan stale.
            digest=fingerprint({k: v for k, v in item.items() if k != "statistics"}),
        )

    def plan(
        self,
        desired: DesiredResource | None,
        live: LiveResource | None,
        options: PlanOptions,
    ) -> Change | None:
        # Imported here: validate loads this kind to read its manifests, and makes no plan.
        from reconciler.core.domain import Action, Change, Request
        from reconciler.core.planning import (
            additions,
            compare,
            patch_body,
            removals,
            update_fields,
        )

        if desired is not None and live is None:
            return Change(
                key=desired.key,
                provider=self.provider,
                action=Action.CREATE,
                fields=additions(desired, self.table, options.forms),
                requests=(Request("POST", AGENTS_PATH, dict(desired.spec), capture="agentId"),),
            )
        if desired is None and live is not None:
            if not options.prune:
                return None
            return Change(
                key=live.key,
                provider=self.provider,
                action=Action.DELETE,
                fields=removals(live, self.table, options.forms),
                requests=(Request("DELETE", f"{AGENTS_PATH}/{live.id}"),),
                resource_id=live.id,
            )
        assert desired is not None and live is not None
        fields = compare(desired, live, self.table, options.forms)
        if not fields:
            return None
        body = patch_body(desired, live, fields, self.table)
        return Change(
            key=desired.key,
            provider=self.provider,
            action=Action.UPDATE,
            # All the PATCH sends: its keys go whole, unchanged parts and defaults too.
            fields=update_fields(desired, live, fields, body, self.table, options.forms),
            requests=(Request("PATCH", f"{AGENTS_PATH}/{live.id}", body),),
            resource_id=live.id,
        )

    def verify(self, change: Change, responses: Sequence[JSON]) -> list[str]:
        """After a PATCH, report any key the plan cleared that the server still holds."""
        from reconciler.core.domain import Action

        if change.action is not Action.UPDATE or not responses or not change.requests:
            return []
        response = responses[-1]
        template = change.requests[0].body.get("callTemplate") if change.requests[0].body else None
        if not isinstance(response, dict) or not isinstance(template, dict):
            return []
        held = normalize(response, self.table)
        return [
            f"{change.key}: the server kept callTemplate.{key} although the plan cleared it"
            for key, value in template.items()
            if value is None and paths.has(held, ("callTemplate", key))
        ]

    def export(self, live: LiveResource, known: Sequence[LiveResource]) -> dict[str, JSON] | None:
        """The manifest of a live agent, normalized as a plan normalizes it (read-only fields,
        documented defaults and proto3 zero values out). Server-computed fields (`model`,
        `contextSchema`) are left to the server, which a plan accepts while a manifest leaves
        them out; secret values become `${VARIABLE}` references (see `secret_variable`)."""
        body = normalize(live.body, self.table)
        for pattern in self.table.server_computed:
            paths.remove(body, paths.parse(pattern))
        _secrets_as_references(body, live.key.name, self.table)
        document: dict[str, JSON] = {"kind": self.kind, "name": live.key.name}
        template = body.get(CALL_TEMPLATE)
        if isinstance(template, dict) and template:
            document[CALL_TEMPLATE] = template
        return document


def secret_variable(agent: str, path: paths.Path) -> str:
    """The environment variable an exported agent reads a secret from: the agent's name and the
    path below `callTemplate`, upper snake case (`SUPPORT_SELECTEDTOOLS_0_AUTHTOKENS_X_KEY`)."""
    segments = [agent, *(str(s) for s in path if s != CALL_TEMPLATE)]
    name = re.sub(r"[^A-Za-z0-9]+", "_", "_".join(segments)).strip("_").upper()
    return name if name[:1].isalpha() else f"AGENT_{name}"


def _secrets_as_references(body: dict[str, Any], agent: str, table: NormalizationTable) -> None:
    """Replace every sensitive value in `body` by `{"$secret": VARIABLE}`, in place.

    A sensitive map (`authTokens`, `headers`) keeps its keys, each value its own variable; a
    value that is neither a string nor a map of strings cannot come from a variable and is
    left out (a plan then shows it, so nothing is hidden).
    """
    for pattern in table.sensitive:
        for path in sorted(paths.expand(body, paths.parse(pattern)), reverse=True):
            parent = paths.get(body, path[:-1])
            value = paths.get(body, path)
            if isinstance(value, str):
                parent[path[-1]] = {"$secret": secret_variable(agent, path)}
            elif isinstance(value, dict):
                parent[path[-1]] = {
                    key: {"$secret": secret_variable(agent, (*path, key))}
                    for key, item in value.items()
                    if isinstance(item, str)
                }
            elif isinstance(parent, dict):
                parent.pop(path[-1])


AGENT = AgentType()
