"""The plan → apply → verify cycle the CLI runs, and a census of the engine's named objects."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from reconciler import core
from reconciler.engine.client import EngineClient, EngineConfig
from reconciler.engine.report import ApplyReport
from reconciler.model.objects import State
from reconciler.plan.changes import Plan
from reconciler.sandbox.server import SandboxServer
from tests.reliability.states import PROJECT, SECRETS_ENV


def client_for(server: SandboxServer, scale: float, *, timeout_s: float = 5.0) -> EngineClient:
    """A client paced for a sandbox running `scale` times faster than real time."""
    config = EngineConfig(
        url=server.url, token=server.token, rate_window_s=60.0 / scale, timeout_s=timeout_s
    )
    return EngineClient(config)


def plan_for(
    client: EngineClient,
    desired: State,
    *,
    prune: bool = True,
    env: Mapping[str, str] = SECRETS_ENV,
    only: Collection[str] | None = None,
) -> Plan:
    """Read the engine and diff it against `desired`, as `polyant-gitops plan` does."""
    policy = core.Policy(prune=prune, only=only, force=True)  # thresholds tested elsewhere
    supplied = core.supplied_vars(desired, env)
    return core.make_plan(client, desired, PROJECT, policy, supplied=supplied).plan


def apply_state(
    client: EngineClient,
    desired: State,
    *,
    prune: bool = True,
    env: Mapping[str, str] = SECRETS_ENV,
    check: bool = True,
) -> ApplyReport:
    """plan + apply (+ verify), as `polyant-gitops apply` does."""
    plan = plan_for(client, desired, prune=prune, env=env)
    report = core.apply(client, plan, secrets=env, prune=prune)
    if check:
        supplied = core.supplied_vars(desired, env)
        core.verify(client, report, desired, PROJECT, core.Policy(prune=prune), supplied=supplied)
    return report


def settle(server: SandboxServer, client: EngineClient, offset: int = 0) -> None:
    """Wait until the sandbox logged every request the client sent (it logs after answering)."""
    deadline = time.monotonic() + 3.0
    sent = client.stats.reads + client.stats.writes - offset
    while len(server.requests) < sent and time.monotonic() < deadline:
        time.sleep(0.005)


@dataclass
class Census:
    """Named objects on the engine, counted, so duplicates and losses both show."""

    instances: Counter[str]
    sources: Counter[str]  # "slug/source"
    definitions: Counter[str]  # "slug/source/definition"
    tasks: Counter[str]  # "slug/task"
    skills: Counter[str]  # active catalog skills

    def without(self, slug: str) -> Census:
        """The census leaving one instance out (the seeded demo-agent, never managed)."""
        keep = f"{slug}/"
        return Census(
            instances=Counter({k: v for k, v in self.instances.items() if k != slug}),
            sources=Counter({k: v for k, v in self.sources.items() if not k.startswith(keep)}),
            definitions=Counter(
                {k: v for k, v in self.definitions.items() if not k.startswith(keep)}
            ),
            tasks=Counter({k: v for k, v in self.tasks.items() if not k.startswith(keep)}),
            skills=self.skills,
        )

    def duplicates(self) -> list[str]:
        """Every name that exists more than once."""
        groups = (self.instances, self.sources, self.definitions, self.tasks, self.skills)
        return sorted(name for group in groups for name, n in group.items() if n > 1)


def census(server: SandboxServer) -> Census:
    """Count the engine's instances, sources, definitions, tasks and skills by name."""
    store = server.store
    sources: Counter[str] = Counter()
    definitions: Counter[str] = Counter()
    for inst in list(store.instances.values()):
        for src in store.data[inst.id].sources.values():
            sources[f"{inst.slug}/{src.name}"] += 1
            definitions.update(f"{inst.slug}/{src.name}/{d.name}" for d in src.definitions.values())
    return Census(
        instances=Counter(i.slug for i in store.instances.values()),
        sources=sources,
        definitions=definitions,
        tasks=Counter(f"{t.instance_key}/{t.name}" for t in store.tasks.values()),
        skills=Counter(s.slug for s in store.skills.values() if s.status == "active"),
    )


def expected(desired: State) -> Census:
    """The census a converged engine shows for `desired` (demo-agent aside)."""
    sources: Counter[str] = Counter()
    definitions: Counter[str] = Counter()
    tasks: Counter[str] = Counter()
    for slug, inst in desired.instances.items():
        for src in inst.event_sources or []:
            sources[f"{slug}/{src.name}"] += 1
            definitions.update(f"{slug}/{src.name}/{d.name}" for d in src.definitions)
        tasks.update(f"{slug}/{t.name}" for t in inst.scheduled_tasks or [])
    return Census(
        instances=Counter(list(desired.instances)),
        sources=sources,
        definitions=definitions,
        tasks=tasks,
        skills=Counter(list(desired.skills)),
    )
