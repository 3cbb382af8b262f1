"""Live objects our stricter rules refuse, or the engine cannot even list: notices, no crash."""

from __future__ import annotations

import pytest

from reconciler.engine import EngineClient, read_live
from reconciler.errors import EngineRejected
from reconciler.model.project import Scope
from reconciler.plan.changes import LiveSnapshot
from reconciler.sandbox.server import SandboxServer
from tests.engine.helpers import make_client

SCOPE = Scope()


def _task(client: EngineClient, slug: str, name: str, schedule: dict[str, object]) -> str:
    body = {"name": name, "prompt": "p", "schedule": schedule}
    created = client.post(f"/api/instances/{slug}/scheduled-tasks", body)
    return str(created["task"]["id"])


def _messages(snapshot: LiveSnapshot, key: str) -> str:
    return " | ".join(n.message for n in snapshot.notices if n.key == key)


def test_odd_tasks_sources_and_skills_become_notices(sandbox: SandboxServer) -> None:
    with make_client(sandbox) as client:
        client.post("/api/instances", {"slug": "odd", "name": "Odd"})
        weekly = _task(client, "odd", "Weekly", {"type": "cron", "expression": "0 9 * * 1"})
        # PATCH does not check schedule.type (contract §12.2): an unknown type is stored.
        client.patch(
            f"/api/instances/odd/scheduled-tasks/{weekly}", {"schedule": {"type": "weekly"}}
        )
        _task(client, "odd", "Fast", {"type": "interval", "everyMs": 1000})
        for _ in range(2):
            client.post(
                "/api/instances/odd/event-sources", {"name": "Dup", "sourceType": "webhook"}
            )
        client.post("/api/skills", {"name": "legacy", "content": "x", "requiredEnv": ["OLD_KEY"]})
        snapshot = read_live(client, scope=SCOPE)
    odd = snapshot.state.instances["odd"]
    tasks = {t.name: t for t in odd.scheduled_tasks or []}
    assert tasks["Weekly"].id == weekly and "'weekly'" in str(tasks["Weekly"].schedule)
    assert tasks["Fast"].schedule.model_dump() == {
        "type": "interval",
        "everyMs": 1000,
        "anchorAt": None,
    }
    assert [s.name for s in odd.event_sources or []] == ["Dup"]
    messages = _messages(snapshot, "instance/odd")
    assert "'weekly'" in messages and "60000" in messages
    # The second 'Dup' is a planned delete (issue 15), not a notice.
    assert [(d.label, d.name) for d in snapshot.duplicates] == [("event source", "Dup")]
    assert snapshot.state.skills["legacy"].required_env[0].name == "OLD_KEY"
    assert "'OLD_KEY'" in _messages(snapshot, "skill/legacy")


def test_a_poisoned_task_list_leaves_tasks_unmanaged(sandbox: SandboxServer) -> None:
    with make_client(sandbox) as client:
        client.post("/api/instances", {"slug": "poisoned", "name": "P"})
        client.post("/api/instances", {"slug": "healthy", "name": "H"})
        body = {"name": "Bad", "prompt": "p", "schedule": {"type": "one-shot", "runAt": "tomorrow"}}
        # The engine answers 400 but stores the task anyway (contract §12.2).
        with pytest.raises(EngineRejected) as refused:
            client.post("/api/instances/poisoned/scheduled-tasks", body)
        assert refused.value.status == 400
        snapshot = read_live(client, scope=SCOPE)
    poisoned = snapshot.state.instances["poisoned"]
    assert poisoned.scheduled_tasks is None
    assert "scheduled_tasks" not in poisoned.model_fields_set
    assert "unparseable runAt" in _messages(snapshot, "instance/poisoned")
    assert snapshot.state.instances["healthy"].scheduled_tasks == []


def test_a_definition_broken_by_an_update_is_kept(sandbox: SandboxServer) -> None:
    with make_client(sandbox) as client:
        client.post("/api/instances", {"slug": "defs", "name": "D"})
        source = client.post("/api/instances/defs/event-sources", {"name": "S", "sourceType": "x"})
        base = f"/api/instances/defs/event-sources/{source['id']}/definitions"
        body = {"name": "Talk", "matchingPrompt": "m", "action": "conversation",
                "contextPrompt": "c", "outboundChannel": "slack"}  # fmt: skip
        made = client.post(base, body)
        # The cross-field rule is not re-checked on update (contract §11.6).
        client.put(f"{base}/{made['id']}", {"contextPrompt": None, "outboundChannel": None})
        snapshot = read_live(client, scope=SCOPE)
    [source_model] = snapshot.state.instances["defs"].event_sources or []
    [talk] = source_model.definitions
    assert (talk.action, talk.context_prompt, talk.id) == ("conversation", None, made["id"])
    assert len([n for n in snapshot.notices if n.key == "instance/defs"]) == 1
