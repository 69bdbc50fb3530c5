"""Saved plans: writing them (0600, no secret value), reading them (bounded), and proving that
the one about to be applied is what its manifests produce.

A saved plan is a file, and files can be edited: an added DELETE, a changed body, another base
URL. So `apply --plan` never sends the file's requests as such. It re-reads the manifests the
plan records (`manifests`: paths, `--prune`, `--target`, and the environment), plans them
again against the live account, and applies only when that plan is the saved one: the same
live objects (else it is stale), the same endpoints, the same changes and requests (else it
was edited or corrupted). Then it applies the plan it just made, which is identical.

Owns the `manifests` record of a saved plan and these checks; the JSON form itself is
`reconciler.core.planfile`'s. Reads and writes files; must not import httpx or click.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.core.domain import JSON, Plan, Read, ResourceKey
from reconciler.core.errors import ConfigError, ReconcilerError, StalePlanError
from reconciler.core.jsontext import indented, write_indented
from reconciler.core.limits import DEFAULTS, Limits
from reconciler.core.masking import REDACTOR
from reconciler.core.origins import check_file_base_url
from reconciler.core.planfile import plan_from_json, plan_to_json
from reconciler.core.planning import PlanOptions
from reconciler.providers import registry
from reconciler.runtime.apply import ApplyReport, ChangeResult, Stop, check_secrets
from reconciler.runtime.engine import (
    NO_HOOKS,
    ClientHooks,
    Session,
    Workspace,
    plan_workspace,
    run_apply,
    trusted_base_urls,
)

MANIFESTS = "manifests"
"""The key of a saved plan that records what it was made from."""


class UnverifiedPlanError(ReconcilerError):
    """A saved plan that is not what its manifests produce now: edited, corrupted, or made
    from other manifests. Nothing was sent."""


@dataclass(frozen=True)
class Recorded:
    """What a plan was made from, besides its environment: manifest paths (relative to the
    working directory when inside it), `--prune`, `--target`."""

    paths: tuple[str, ...]
    prune: bool = False
    targets: tuple[str, ...] = ()

    def to_json(self) -> dict[str, JSON]:
        return {"paths": list(self.paths), "prune": self.prune, "targets": list(self.targets)}

    @classmethod
    def made(cls, paths: Sequence[str], prune: bool, targets: Sequence[ResourceKey]) -> Recorded:
        here = Path.cwd().resolve()
        shown = []
        for text in paths:
            absolute = Path(text).resolve()
            shown.append(
                absolute.relative_to(here).as_posix() or "."
                if absolute.is_relative_to(here)
                else str(absolute)
            )
        return cls(tuple(shown), prune, tuple(str(t) for t in targets))


def write_plan(plan: Plan, recorded: Recorded, out: str) -> None:
    """Save `plan` for `apply --plan`: readable by its owner only (it holds phone numbers), and
    never a secret value (secrets are `{"$secret": NAME}` references; the run's redactor masks
    anything else it knows, which a later apply would then refuse as edited)."""
    _write(plan, recorded, out, _open(out))


def start_writing(plan: Plan, recorded: Recorded, out: str) -> Callable[[], None]:
    """`write_plan`, by a forked process while this one goes on when the plan is large (a
    campaign of 100,000 recipients: ~1 s of encoding); returns the function that waits for it
    and raises what `write_plan` would have. A file that cannot be opened is refused at once;
    a small plan, a platform without `fork` or a process running threads: written here."""
    fd = _open(out)
    if not _large(plan) or not hasattr(os, "fork") or threading.active_count() != 1:
        _write(plan, recorded, out, fd)
        return _written
    readable, writable = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the forked process; tests compare the file it writes)
        code = 1
        try:
            os.close(readable)
            try:
                _write(plan, recorded, out, fd)
                code = 0
            except ConfigError as problem:
                os.write(writable, str(problem).encode())
        finally:
            os._exit(code)  # no atexit, no flush of the output buffers it shares
    os.close(writable)
    os.close(fd)

    def wait() -> None:
        with os.fdopen(readable, "rb") as handle:
            message = handle.read().decode(errors="replace")
        _, status = os.waitpid(pid, 0)
        if message:
            raise ConfigError(message)
        if status != 0:  # it died (a signal, memory): written here, as always
            write_plan(plan, recorded, out)

    return wait


def _written() -> None:
    """Waiting for a plan written already."""


LARGE_PLAN_ITEMS = 10_000
"""From how many items in the lists of its request bodies (a batch's calls) a plan is written
by a second process."""


def _large(plan: Plan) -> bool:
    items = 0
    for change in plan.changes:
        for request in change.requests:
            if isinstance(request.body, dict):
                items += sum(len(v) for v in request.body.values() if isinstance(v, list))
    return items >= LARGE_PLAN_ITEMS


def _open(out: str) -> int:
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
        except OSError:
            os.close(fd)
            raise
    except OSError as exc:
        raise ConfigError(f"cannot write plan to {out}: {exc.strerror or exc}") from exc
    return fd


def _write(plan: Plan, recorded: Recorded, out: str, fd: int) -> None:
    """The plan's JSON text into `fd` (closed after)."""
    try:
        try:
            data = {**plan_to_json(plan), MANIFESTS: recorded.to_json()}
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                fd = -1
                if REDACTOR.single_line:
                    # Streamed: a plan of 100,000 recipients is ~45 MB of text, never whole.
                    write_indented(data, lambda chunk: handle.write(REDACTOR.secrets(chunk)))
                    handle.write("\n")
                else:
                    handle.write(REDACTOR.secrets(indented(data) + "\n"))
        finally:
            if fd >= 0:
                os.close(fd)
    except OSError as exc:
        raise ConfigError(f"cannot write plan to {out}: {exc.strerror or exc}") from exc


def read_plan(
    file: str, limits: Limits = DEFAULTS, *, allow_outside_files: bool = False
) -> tuple[Plan, Recorded | None]:
    """A saved plan and what it records, refused with a clear error when it is not one (too
    large, too deep, not JSON, malformed, naming manifests outside the working directory)."""
    try:
        with open(file, "rb") as handle:
            raw = handle.read(limits.max_file_bytes + 1)
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read a saved plan: {exc.strerror or exc}") from exc
    if len(raw) > limits.max_file_bytes:
        raise ConfigError(
            f"{file}: cannot read a saved plan: larger than {limits.max_file_bytes:,} bytes "
            f"(the limit; raise it with {Limits.ENV['max_file_bytes']})"
        )
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ConfigError(f"{file}: cannot read a saved plan: {reason}") from None
    if _depth(data) > limits.max_depth:
        raise ConfigError(f"{file}: cannot read a saved plan: nested deeper than the limit")
    plan = plan_from_json(data, file)
    record = data.get(MANIFESTS) if isinstance(data, dict) else None
    if record is None:
        return plan, None
    return plan, _recorded(record, file, allow_outside_files)


def _recorded(record: Any, file: str, allow_outside: bool) -> Recorded:
    malformed = ConfigError(f"{file}: malformed saved plan (manifests); plan again")
    if not isinstance(record, dict):
        raise malformed
    paths, prune, targets = record.get("paths"), record.get("prune", False), record.get("targets")
    if not (
        isinstance(paths, list)
        and paths
        and all(isinstance(p, str) and p and "\0" not in p for p in paths)
        and isinstance(prune, bool)
        and isinstance(targets or [], list)
        and all(isinstance(t, str) for t in targets or [])
    ):
        raise malformed
    here = Path.cwd().resolve()
    for text in paths:
        if not allow_outside and not Path(text).resolve().is_relative_to(here):
            raise ConfigError(
                f"{file}: the plan records manifests outside the working directory ({text!r}); "
                "run apply where the plan was made (--allow-outside-files permits it)"
            )
    return Recorded(tuple(paths), prune, tuple(targets or ()))


async def verified_plan(
    saved: Plan, recorded: Recorded | None, workspace: Workspace, session: Session
) -> Plan:
    """The plan the recorded manifests produce now, when it is `saved`; else
    `StalePlanError` (the live objects changed) or `UnverifiedPlanError` (the file differs
    from what the manifests produce: edited, corrupted, or the manifests changed)."""
    if recorded is None:
        raise UnverifiedPlanError(
            "the saved plan does not record the manifests it was made from (an older "
            "reconciler made it), so it cannot be checked; nothing was sent. Run `reconciler "
            "plan --out` again."
        )
    try:
        targets = [ResourceKey.parse(t) for t in recorded.targets]
    except ValueError as exc:
        raise ConfigError(f"the saved plan's targets are malformed: {exc}") from None
    desired = workspace.desired()
    fresh = await plan_workspace(
        workspace, desired, PlanOptions(prune=recorded.prune), targets, session
    )
    stale = stale_reasons(saved.reads, fresh.reads)
    if stale:
        raise StalePlanError(
            "the plan is stale: the live account changed since it was made; nothing was sent:\n"
            + "\n".join(f"  - {r}" for r in stale)
            + "\nRun `reconciler plan` again and review the new plan."
        )
    differences = plan_differences(saved, fresh)
    if differences:
        raise UnverifiedPlanError(
            "the saved plan is not what its manifests produce against the unchanged live "
            "account (the file was edited or corrupted, or the manifests changed since); "
            "nothing was sent:\n"
            + "\n".join(f"  - {d}" for d in differences)
            + "\nRun `reconciler plan` again and review the new plan."
        )
    return fresh


def stale_reasons(saved: Sequence[Read], fresh: Sequence[Read]) -> list[str]:
    """How the live objects a saved plan read differ from those read now."""
    now = {r.key: r for r in fresh}
    reasons = []
    for read in saved:
        current = now.get(read.key)
        if current is None:
            continue  # not read now: the manifests changed, which `plan_differences` reports
        if read.digest is None and current.digest is not None:
            reasons.append(f"{read.key} now exists (id {current.id}); the plan would create it")
        elif read.digest is not None and current.digest is None:
            reasons.append(f"{read.key} (id {read.id}) no longer exists")
        elif current.digest is not None and (
            current.id != read.id or current.digest != read.digest
        ):
            reasons.append(f"{read.key} (id {current.id}) changed since the plan was made")
    return reasons


def plan_differences(saved: Plan, fresh: Plan) -> list[str]:
    """What differs between a saved plan and the plan made now, resource by resource."""
    found: list[str] = []
    if saved.environment != fresh.environment:
        found.append(
            f"it was made for environment {saved.environment!r}, the manifests now give "
            f"{fresh.environment!r}"
        )
    for name in sorted(set(saved.endpoints) | set(fresh.endpoints)):
        was, now = dict(saved.endpoints.get(name, {})), dict(fresh.endpoints.get(name, {}))
        if was and now and was != now:
            found.append(
                f"{name}: the file says {was.get('baseUrl')} (key from "
                f"${was.get('apiKeyEnv')}), the manifests' environment says "
                f"{now.get('baseUrl')} (key from ${now.get('apiKeyEnv')})"
            )
    mine, theirs = _changes(saved), _changes(fresh)
    for key in sorted(set(mine) | set(theirs)):
        if key not in theirs:
            found.append(f"{key}: the file has a change the manifests do not produce")
        elif key not in mine:
            found.append(f"{key}: the manifests produce a change the file does not have")
        elif mine[key] != theirs[key]:
            fields = sorted(set(mine[key]) | set(theirs[key]))
            what = [k for k in fields if mine[key].get(k) != theirs[key].get(k)]
            found.append(f"{key}: its {', '.join(what)} differ from what the manifests produce")
    return found


def _changes(plan: Plan) -> dict[str, dict[str, Any]]:
    # Through JSON text, so both sides are compared in the form the file holds.
    changes = json.loads(json.dumps(plan_to_json(plan)["changes"], sort_keys=True))
    out: dict[str, dict[str, Any]] = {}
    for change in changes:
        key = f"{change.get('kind')}/{change.get('name')}"
        if key in out:
            out[key + " (twice)"] = change
        else:
            out[key] = change
    return out


async def apply_saved(
    saved: Plan,
    recorded: Recorded | None,
    environ: Mapping[str, str],
    *,
    concurrency: int,
    on_result: Callable[[ChangeResult], None],
    on_check: Callable[[], None] = lambda: None,
    hooks: ClientHooks = NO_HOOKS,
    limits: Limits = DEFAULTS,
    allow_outside_files: bool = False,
    stop: Stop | None = None,
) -> ApplyReport:
    """Apply a saved plan, exactly, or nothing (see the module's docstring); `stop` stops it
    between changes (a signal)."""
    check_saved_endpoints(saved, environ)
    check_secrets(saved, environ)
    if recorded is None:
        raise UnverifiedPlanError(
            "the saved plan does not record the manifests it was made from (an older "
            "reconciler made it), so it cannot be checked; nothing was sent. Run `reconciler "
            "plan --out` again."
        )
    workspace = Workspace.open(
        recorded.paths,
        environ,
        saved.environment,
        hooks,
        limits=limits,
        allow_outside_files=allow_outside_files,
    )
    # The clients carry as many requests at once as changes are applied at once.
    async with workspace.session(concurrency=concurrency) as session:
        on_check()
        fresh = await verified_plan(saved, recorded, workspace, session)
        return await run_apply(
            session,
            fresh,
            check_stale=False,
            concurrency=concurrency,
            on_result=on_result,
            stop=stop,
        )


def check_saved_endpoints(saved: Plan, environ: Mapping[str, str]) -> None:
    """A saved plan's endpoints are never connected to (the plan is made again from the
    manifests' own settings), but one the operator does not allow is refused outright: a plan
    file is a file, and a pull request could have written it."""
    known = {p.name: p for p in registry.PROVIDERS}
    for name, values in saved.endpoints.items():
        provider = known.get(name)
        if provider is None:
            raise ConfigError(f"the saved plan names an unknown provider {name!r} (endpoints)")
        url = values.get("baseUrl")
        if url:
            check_file_base_url(
                url,
                trusted=trusted_base_urls(provider, environ),
                environ=environ,
                where=f"the saved plan's endpoints.{name}.baseUrl",
            )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest
