"""One pipelined apply: the shared diff run, the safety bound, the writes made so far."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

from reconciler import core
from reconciler.engine.apply import report_of, run_change, run_waves
from reconciler.engine.client import EngineClient
from reconciler.engine.duplicates import delete_duplicates
from reconciler.engine.executor.change import ChangeRun
from reconciler.engine.executor.context import RunContext
from reconciler.engine.executor.skills import import_skills
from reconciler.engine.lists import Lists, read_skills
from reconciler.engine.read import read_instance
from reconciler.engine.report import ApplyReport
from reconciler.errors import EngineError
from reconciler.model.engineline import with_bundle_version
from reconciler.model.managed import normalize, normalize_skill
from reconciler.model.objects import Instance, State
from reconciler.model.project import Project
from reconciler.plan import diff, differ, engineaware, safety
from reconciler.plan.changes import Change, Duplicate, LiveSnapshot, Plan
from reconciler.plan.differ import Differ
from reconciler.stream.bound import independent, may_wipe, stamped, within_thresholds
from reconciler.stream.gate import Gate, Review


@dataclass
class Streamed:
    """The plan the pipeline made and what applying it did."""

    plan: Plan
    report: ApplyReport
    refused: list[str] = field(default_factory=list)  # one line per object left unwritten
    stopped: bool = False  # a read failed part-way: the plan is partial, the report is not


def snapshot(lists: Lists, instances: Mapping[str, Instance]) -> LiveSnapshot:
    """The lists read so far as a live snapshot (instances added as they are read)."""
    skills = {k: normalize_skill(v) for k, v in sorted((lists.catalog or {}).items())}
    state = State.model_construct(instances=dict(instances), skills=skills)
    return LiveSnapshot(state=state, instance_slugs=sorted(lists.dtos), engine=lists.caps)


class Pipeline:
    """One pipelined apply: the shared diff run, the safety bound, the runs made so far."""

    def __init__(
        self,
        client: EngineClient,
        lists: Lists,
        *,
        desired: State,
        project: Project,
        policy: core.Policy,
        supplied: Collection[str],
        review: Review,
    ) -> None:
        self.client, self.lists, self.policy = client, lists, policy
        self.gate = Gate(review)
        self.desired, self.supplied = desired, supplied
        self.ctx: RunContext | None = None  # None: plan only, nothing is written
        fitted, self.unmanaged = engineaware.fit_desired(desired, lists.caps)
        listed = snapshot(lists, {})  # the lists alone: instances are diffed as they arrive
        self.diff = Differ(
            project, policy.env, policy.prune, frozenset(supplied), normalize(fitted), listed.state
        )
        self.skills = diff.skill_changes(self.diff, scoped=policy.only is not None)
        self.world = diff.world(self.diff, self.skills)
        self.managed = safety.managed_count(listed, project, policy.env, fitted)
        self.lock = self.gate.lock
        self.changes: list[Change] = []
        self.done: dict[str, ChangeRun] = {}
        self.dupes: list[Duplicate] = []
        self.versions: set[str] = set()
        self.unconverged: set[str] = set()
        self.recheck: list[ChangeRun] = []  # run while reading, verified at the end
        self.pending: list[Change] = []  # diffed, may run before the last read, not yet run
        self.claimed: set[str] = set()  # keys taken from `pending` to run
        self.broken: list[tuple[str, EngineError]] = []  # instances whose read failed
        self.released = False
        self.wipes = False  # a change diffed so far asks to wipe memories without confirmWipe
        self.unread = self._existing()

    @property
    def writer(self) -> RunContext:
        """The run's write context (only ``run`` writes; ``plan_only`` never gets here)."""
        assert self.ctx is not None, "a plan-only pipeline never writes"
        return self.ctx

    def _existing(self) -> set[str]:
        """Live instances in scope that the repo also declares: each may become an update."""
        return {s for s in self._live() if s in self.diff.want.instances}

    def _live(self) -> list[str]:
        scope, only = self.diff.scope, self.policy.only
        return [s for s in sorted(self.lists.dtos) if scope.has_instance(s) and _in(s, only)]

    def plan_only(self) -> Plan:
        """Every instance read and diffed, none kept: the plan ``core.make_plan`` makes."""
        self._read_all()
        if self.broken:
            raise min(self.broken, key=lambda b: b[0])[1]
        core.refuse_duplicates(self._duplicates(), prune=self.policy.prune)
        return self._plan()

    def _read_all(self) -> None:
        created = self._creates()
        with self.lock:
            self._ready()
        jobs = [partial(self._diffed, slug, None) for slug in created]
        self.client.parallel(jobs + [partial(self._one, slug) for slug in self._live()])

    def run(self, ctx: RunContext) -> Streamed:
        """Every instance through the pipeline, then what had to wait, then the plan."""
        self.ctx = ctx
        self._read_all()
        plan = self._plan()
        if self.broken:
            return self._stopped(ctx, plan)
        if plan.unsafe:
            return Streamed(plan, report_of(ctx, []))  # the bound kept every write back
        self.gate.check_whole(plan)
        if not self.released:
            self.released = self._release()
        waiting = [c for c in plan.changes if self._waiting(c) and self.gate.allowed(c)]
        late = run_waves(ctx, replace(plan, changes=tuple(waiting)))
        report = report_of(ctx, [*self.done.values(), *late])
        removed = delete_duplicates(self.client, list(plan.duplicates), dry_run=False)
        report.results += self.gate.failed + removed
        report.calls_made += len(removed)
        report.non_converged = sorted(self.unconverged | self._verify_late(late))
        return Streamed(plan, report, self.gate.refused)

    def _stopped(self, ctx: RunContext, plan: Plan) -> Streamed:
        """A read failed: report what was written, name what could not be read, stop."""
        for slug, exc in sorted(self.broken, key=lambda b: b[0]):
            # An engine may echo what it was sent: blank any secret value this run handled.
            error = ctx.scrub(str(exc))
            reason = f"could not be read ({error}): nothing more was written; run apply again"
            self.gate.refuse(f"instance/{slug}", "update", reason)
        report = report_of(ctx, list(self.done.values()))
        report.results += self.gate.failed
        found = self._verify_late([]) if self.recheck else set()
        report.non_converged = sorted(self.unconverged | found)
        return Streamed(plan, report, self.gate.refused, stopped=True)

    def _waiting(self, change: Change) -> bool:
        """Not written yet, and not held back (duplicates, a moved review)."""
        key = change.key
        return key not in self.done and key not in self.claimed and not self.gate.refused_key(key)

    def _verify_late(self, late: list[ChangeRun]) -> set[str]:
        """The changes run after the reads, and the catalog's, verified as ``core.verify`` does."""
        skills = [r for r in self.done.values() if r.change.kind == "skill"]
        report = report_of(self.writer, [*late, *skills, *self.recheck])
        policy, supplied = self.policy, self.supplied
        found = core.verify(
            self.client, report, self.desired, self.diff.project, policy, supplied=supplied
        )
        return set(found)

    def _creates(self) -> list[str]:
        """Desired instances the engine lacks: created without a read (diffed against none)."""
        out: list[str] = []
        for slug in self.diff.want.instances:
            if not self.diff.scope.has_instance(slug):
                differ.out_of_scope(self.diff, "instance", slug)
            elif slug not in self.lists.dtos and _in(slug, self.policy.only):
                out.append(slug)
        for slug in sorted(set(self.policy.only or ()) - set(self.diff.want.instances)):
            if slug not in self.lists.dtos:
                message = (
                    "asked for, but this instance is neither in the repository nor on the engine"
                )
                self.diff.note("warning", f"instance/{slug}", message)
        return out

    def _one(self, slug: str) -> None:
        """Read one live instance, diff it, and write it when nothing stands in the way."""
        dupes: list[Duplicate] = []
        try:
            got = read_instance(self.client, self.lists, slug, dupes=dupes)
            live = got[0] if got is not None else None
            if live is not None:
                self._archived(live)
        except EngineError as exc:
            # The plan can no longer be whole: what was written stays reported, no more is.
            with self.lock:
                self.broken.append((slug, exc))
            return
        with self.lock:
            if got is not None:
                self.versions.add(got[1])
            self.dupes += dupes
        self._diffed(slug, live, dupes)

    def _archived(self, live: Instance) -> None:
        """Assigned skills the catalog export leaves out, read once each."""
        with self.lock:
            missing = {a.slug for a in live.skills or []} - set(self.diff.have.skills)
            if missing:
                found = read_skills(self.client, missing, self.lists)
                self.diff.have.skills.update({k: normalize_skill(v) for k, v in found.items()})

    def _diffed(self, slug: str, live: Instance | None, dupes: Sequence[Duplicate] = ()) -> None:
        held = bool(dupes) and not self.policy.prune and self.ctx is not None
        with self.lock:
            changes = [stamped(c) for c in differ.instance(self.diff, slug, live, self.world)]
            self.changes += changes
            self.unread.discard(slug)
            probe = engineaware.review(Plan(changes=tuple(changes)), self.lists.caps)
            self.wipes = self.wipes or probe.unsafe
            if not held:
                self.pending += [c for c in changes if independent(c)]
            ready = self._ready()
        if held:
            # Extra copies would run or live on unseen: this instance waits for --prune.
            self.gate.refuse_duplicates(slug, changes[0].action if changes else "update", dupes)
        for change in ready:
            if self.gate.allowed(change):
                self._run(change)

    def _ready(self) -> list[Change]:
        """Under the lock: the diffed changes that may be written now, each claimed once
        (changes diffed before the bound allowed writing go out as soon as it does)."""
        if self.ctx is not None and not self.released and self._bound_safe():
            self.released = self._release()
        if not self.released or self.wipes or self.broken:
            return []
        ready, self.pending = self.pending, []
        self.claimed.update(c.key for c in ready)
        return ready

    def _bound_safe(self) -> bool:
        """No threshold can be crossed, whatever the unread instances turn out to be."""
        if self.gate.review.whole_only:
            return False
        # --force lifts the thresholds, never the refusal to wipe memories.
        if self.wipes or any(may_wipe(self.diff.want.instances[s]) for s in self.unread):
            return False
        if self.policy.force:
            return True
        if not self.diff.may_delete and self.policy.prune:
            return False  # an empty repository with --prune is refused as a whole
        known = [*self.skills, *self.changes]
        unread, gone = len(self.unread), self._deletes_to_come()
        return within_thresholds(self.diff.project, self.managed, known, unread, gone)

    def _deletes_to_come(self) -> int:
        seen = {c.slug for c in self.changes}
        prunes = self.policy.prune and self.diff.project.prune.instances and self.diff.may_delete
        gone = [s for s in self._live() if s not in self.diff.want.instances and s not in seen]
        return len(gone) if prunes else 0

    def _release(self) -> bool:
        """Writes may start: the catalog skills go first, in one import."""
        runs = [ChangeRun(self.writer, c) for c in self._skills() if self.gate.allowed(c)]
        import_skills(self.writer, [r for r in runs if r.change.action != "delete"])
        self.done.update({r.key: r for r in runs if r.change.action != "delete"})
        return True

    def _skills(self) -> list[Change]:
        return [replace(c, wave=diff.wave_of(c)) for c in self.skills]

    def _run(self, change: Change) -> None:
        run = run_change(self.writer, change)
        with self.lock:
            self.done[change.key] = run
        result = run.result()
        if not result.calls or result.settled:
            return
        if self.world.changing:
            # Pins follow skills this run imported: only a fresh catalog read can judge.
            with self.lock:
                self.recheck.append(run)
        elif not self._read_back(change.slug):
            with self.lock:
                self.unconverged.add(change.key)

    def _read_back(self, slug: str) -> bool:
        """Converged; an instance that cannot be read back counts as not converged."""
        try:
            return self._converged(slug)
        except EngineError:
            return False

    def _converged(self, slug: str) -> bool:
        """Read the instance again and diff it: nothing left to change."""
        lists = replace(self.lists, notes=type(self.lists.notes)())
        got = read_instance(self.client, lists, slug, dupes=[])
        with self.lock:
            again = replace(self.diff, notices=[])
            return not differ.instance(again, slug, got[0] if got else None, self.world)

    def _duplicates(self) -> list[Duplicate]:
        return sorted(self.dupes, key=lambda d: (d.instance, d.label, d.name, d.path))

    def _plan(self) -> Plan:
        """The plan of everything diffed, judged as ``core.make_plan`` judges it."""
        caps = self.lists.caps
        for version in sorted(self.versions):
            caps = with_bundle_version(caps, version)
        for message in caps.warnings():
            self.lists.notes.warn("engine", message)
        self.diff.notices[:0] = self.lists.notes.sorted()  # the read's notices first
        changes = [*self.skills, *self.changes]
        plan = diff.finish(
            self.diff, changes, only=self.policy.only, live_instances=bool(self._live())
        )
        dupes = self._duplicates()
        plan = replace(
            plan,
            environment=self.policy.env,
            engine_url=self.client.url,
            duplicates=tuple(dupes) if self.policy.prune else (),
        )
        project, force = self.diff.project, self.policy.force
        plan = safety.check_safety(plan, project, managed_count=self.managed, force=force)
        plan = replace(plan, notices=(*self.unmanaged, *plan.notices))
        return engineaware.review(plan, caps)


def _in(slug: str, only: Collection[str] | None) -> bool:
    return only is None or slug in only
