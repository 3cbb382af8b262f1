"""The pipelined apply: each instance is read, diffed, checked, written and verified on its own.

Reads, writes and verification use different route handlers, so while one instance is
written the next ones are read, each handler paced at its own bound (issue 14). The plan
that results is the one ``core.make_plan`` would have made (same diff, same waves,
same safety verdict); what changes is when each object's writes may start:

- **Safety.** Nothing is written until the thresholds cannot be crossed any more: the
  changes diffed so far, plus every instance not yet read counted as an update, stay
  under them (``--force`` lifts this, as it lifts the thresholds), and no unread instance
  could still ask to wipe memories. Otherwise writes wait for the last read, and an
  unsafe plan writes nothing at all.
- **Review.** With a reviewed plan (``apply --plan``, or the plan shown before "yes"),
  each object is written only when its fresh change is exactly the reviewed one, live
  fingerprint included; an object that moved is not written and is reported.
- **Order.** Catalog skills are written first, in one import. An instance whose change
  touches an ``agent`` channel or whose tools name ``agent:*`` waits for the last read,
  and so do deletes: they then run in the plan's waves (``engine.apply.run_waves``).
- **Verification.** A change whose every write was confirmed by the engine's answer is
  done; any other is read again (its instance only) and diffed again.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from reconciler import core
from reconciler.engine.client import EngineClient
from reconciler.engine.executor.context import RunContext
from reconciler.engine.lists import read_lists
from reconciler.model.objects import State
from reconciler.model.project import Project
from reconciler.plan.changes import LiveSnapshot, Plan
from reconciler.stream.gate import MOVED, NO_REVIEW, Review
from reconciler.stream.pipeline import Pipeline, Streamed, snapshot

__all__ = ["MOVED", "Review", "Streamed", "apply_pipelined", "plan_pipelined"]


def apply_pipelined(
    client: EngineClient,
    desired: State,
    project: Project,
    policy: core.Policy,
    *,
    secrets: Mapping[str, str],
    supplied: Collection[str] = (),
    review: Review = NO_REVIEW,
    check: Callable[[LiveSnapshot], None] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> Streamed:
    """Read, diff, write and verify instance by instance; the plan comes out at the end."""
    pipe = _pipeline(
        client, desired, project, policy, supplied=supplied, review=review, check=check
    )
    ctx = RunContext(client, secrets, dry_run=False, prune=policy.prune, on_progress=on_progress)
    return pipe.run(ctx)


def plan_pipelined(
    client: EngineClient,
    desired: State,
    project: Project,
    policy: core.Policy,
    *,
    supplied: Collection[str] = (),
    check: Callable[[LiveSnapshot], None] | None = None,
) -> Plan:
    """``core.make_plan``'s plan, each live instance diffed as it arrives and then dropped.

    Peak memory holds the repository and the changes, not a second copy of the fleet.
    """
    pipe = _pipeline(
        client, desired, project, policy, supplied=supplied, review=NO_REVIEW, check=check
    )
    return pipe.plan_only()


def _pipeline(
    client: EngineClient,
    desired: State,
    project: Project,
    policy: core.Policy,
    *,
    supplied: Collection[str],
    review: Review,
    check: Callable[[LiveSnapshot], None] | None,
) -> Pipeline:
    lists = read_lists(client)
    if check is not None:
        check(snapshot(lists, {}))
    return Pipeline(
        client,
        lists,
        desired=desired,
        project=project,
        policy=policy,
        supplied=supplied,
        review=review,
    )
