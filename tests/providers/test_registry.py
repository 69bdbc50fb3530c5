"""The registry names every kind without importing its type (issue 14); looked up, each name
gives the type of that kind, and every kind appears once."""

from __future__ import annotations

import subprocess
import sys

from reconciler.providers import registry


def test_each_declared_kind_is_the_kind_of_its_type() -> None:
    for provider in registry.PROVIDERS:
        assert provider.kinds == tuple(rt.kind for rt in provider.resource_types), provider.name
    kinds = registry.kinds()
    assert sorted(kinds) == sorted(rt.kind for rt in registry.resource_types())
    for kind in kinds:
        assert kinds[kind].kind == kind


def test_a_shared_type_is_one_object() -> None:
    threetone = registry.provider("threetone").resource_types
    elevenlabs = registry.provider("elevenlabs").resource_types
    assert [id(rt) for rt in threetone] == [id(rt) for rt in elevenlabs]


def test_the_registry_imports_no_resource_type() -> None:
    probe = (
        "import sys\n"
        "from reconciler.providers import registry\n"
        "names = sorted(registry.kinds())\n"
        "keys = {p.settings.api_key_env for p in registry.PROVIDERS}\n"
        "loaded = [m for m in ('reconciler.providers.ultravox.agents', "
        "'reconciler.providers.ultravox.batches', 'reconciler.providers.batchcalling.batch_calls')"
        " if m in sys.modules]\n"
        "print(names, len(keys), loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['Agent', 'BatchCall', 'ScheduledBatch'] 3 []"


def test_the_types_of_some_kinds_are_those_of_all_in_the_same_order() -> None:
    every = registry.resource_types()
    for only in ({"Agent"}, {"BatchCall", "Agent"}, {"ScheduledBatch"}, set()):
        assert registry.resource_types(only) == tuple(rt for rt in every if rt.kind in only)


def test_the_types_of_agents_leave_batch_calling_unimported() -> None:
    probe = (
        "import sys\n"
        "from reconciler.providers import registry\n"
        "kinds = [rt.kind for rt in registry.resource_types({'Agent'})]\n"
        "print(kinds, 'reconciler.providers.batchcalling.batch_calls' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['Agent'] False"
