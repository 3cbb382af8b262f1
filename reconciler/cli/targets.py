"""--instance / --skill targeting: plan, apply and drift only the objects the globs name.

Like Terraform's -target: a targeted instance brings the catalog skills it assigns (they
must exist before the assignment), a targeted skill comes alone. The plan says it is
targeted, and a saved plan records the patterns so `apply --plan` applies exactly them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace

from reconciler.errors import ArgumentError
from reconciler.model.objects import State
from reconciler.plan.changes import Notice, Plan

TARGET_KEY = "targeted"


@dataclass(frozen=True)
class Targets:
    """The --instance and --skill patterns of one run (both empty = not targeted)."""

    instances: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.instances or self.skills)

    def as_list(self) -> list[str]:
        """The form a saved plan stores: 'instance:PATTERN' and 'skill:PATTERN'."""
        return [f"instance:{p}" for p in self.instances] + [f"skill:{p}" for p in self.skills]

    @classmethod
    def from_list(cls, items: Iterable[str]) -> Targets:
        """Read back what `as_list` wrote."""
        pairs = [item.split(":", 1) for item in items]
        return cls(
            instances=tuple(p for kind, p in pairs if kind == "instance"),
            skills=tuple(p for kind, p in pairs if kind == "skill"),
        )

    def describe(self) -> str:
        """'instances helpdesk, ops-*; skills faq-*' for the plan's notice."""
        parts = [f"instances {', '.join(self.instances)}"] if self.instances else []
        parts += [f"skills {', '.join(self.skills)}"] if self.skills else []
        return "; ".join(parts)


def matching(patterns: Collection[str], names: Iterable[str], *, what: str) -> set[str]:
    """Names matched by any glob; a pattern matching nothing is a usage error (a typo)."""
    pool = sorted(set(names))
    found: set[str] = set()
    for pattern in patterns:
        hits = fnmatch.filter(pool, pattern)
        if not hits:
            raise ArgumentError(
                f"--{what} {pattern!r} matches no {what} in the repository or on the engine"
            )
        found.update(hits)
    return found


def targets_instance(targets: Targets, slug: str) -> bool:
    """Whether an --instance glob names this slug (a targeted run loads only those folders)."""
    return any(fnmatch.fnmatch(slug, pattern) for pattern in targets.instances)


def instance_slugs(targets: Targets, universe: Iterable[str]) -> set[str]:
    """The instances a targeted run reads and diffs (none when only skills are targeted)."""
    if not targets.instances:
        return set()
    return matching(targets.instances, universe, what="instance")


def narrow(plan: Plan, targets: Targets, desired: State, live: State) -> Plan:
    """Keep only the targeted objects' changes (and the skills targeted instances assign)."""
    instances = {c.slug for c in plan.changes if c.kind == "instance"}
    skills = matching(targets.skills, set(desired.skills) | set(live.skills), what="skill")
    for slug in instances:
        instance = desired.instances.get(slug)
        if instance is not None:
            skills.update(a.slug for a in instance.skills or [])
    kept = tuple(
        c for c in plan.changes if c.kind == "instance" or (c.kind == "skill" and c.slug in skills)
    )
    message = (
        f"this plan covers only {targets.describe()}; other changes may be pending "
        "(plan without --instance/--skill to see everything)"
    )
    return replace(
        plan,
        changes=kept,
        notices=(Notice("warning", TARGET_KEY, message), *plan.notices),
        targets=tuple(targets.as_list()),
    )
