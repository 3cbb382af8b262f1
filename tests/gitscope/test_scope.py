"""scope_instances and project_at: from touched files to the instances a plan reads."""

from __future__ import annotations

import shutil

import pytest
from ruamel.yaml import YAML

from reconciler.config.gitscope import project_at, scope_instances, touched_since
from reconciler.errors import ConfigError
from reconciler.model.objects import State
from reconciler.model.project import Project

from .repos import PROJECT, ConfigRepo

LIVE = ("helpdesk", "assistant", "sales", "demo-agent", "legacy")


def _scope(
    cfg: ConfigRepo, desired: State, *, env: str | None = None
) -> tuple[set[str] | None, list[str]]:
    """Scope the work tree against HEAD, as the CLI would for `plan --changed-since HEAD`."""
    touched = touched_since(cfg.root, "HEAD")
    text = (cfg.root / "polyant.yaml").read_text()
    new = Project.model_validate(YAML(typ="safe", pure=True).load(text) or {})
    old = project_at(cfg.root, "HEAD")
    return scope_instances(touched, desired, LIVE, old_project=old, new_project=new, env=env)


def test_one_prompt_change_scopes_to_that_instance(cfg: ConfigRepo, desired: State) -> None:
    cfg.write("instances/sales/prompts/01-identity.md", "You sell more.\n")
    slugs, reasons = _scope(cfg, desired)
    assert slugs == {"sales"}
    assert any(r.startswith("changed since ") and r.endswith(": sales") for r in reasons)


def test_changed_skill_pulls_in_exactly_the_instances_assigning_it(
    cfg: ConfigRepo, desired: State
) -> None:
    cfg.write("skills/faq-search/scripts/search.py", "print('faster search')\n")
    slugs, reasons = _scope(cfg, desired)
    assert slugs == {"helpdesk", "assistant"}
    assert "skill faq-search changed; instances assigning it: assistant, helpdesk" in reasons


def test_deleted_instance_folder_stays_in_scope_for_prune(cfg: ConfigRepo, desired: State) -> None:
    shutil.rmtree(cfg.root / "instances" / "sales")
    del desired.instances["sales"]
    slugs, reasons = _scope(cfg, desired)
    assert slugs == {"sales"}
    assert "folder deleted, planned so --prune can delete it: sales" in reasons


def test_slug_neither_in_repo_nor_live_is_dropped(cfg: ConfigRepo, desired: State) -> None:
    cfg.write("instances/ghost/prompts/01-identity.md", "no instance.yaml yet\n")
    slugs, reasons = _scope(cfg, desired)
    assert slugs == set()
    assert "neither in the repo nor on the engine, nothing to plan: ghost" in reasons
    assert reasons[0].startswith("no instance changed since ")


def test_out_of_scope_instance_is_not_planned(cfg: ConfigRepo, desired: State) -> None:
    cfg.write("instances/demo-agent/instance.yaml", "name: Demo\n")
    slugs, reasons = _scope(cfg, desired)
    assert slugs == set()
    assert "outside the scope, not planned: demo-agent" in reasons


def test_other_files_do_not_widen(cfg: ConfigRepo, desired: State) -> None:
    cfg.write("README.md", "# new readme\n")
    cfg.write("instances/helpdesk/prompts/04-safety.md", "Be very careful.\n")
    slugs, reasons = _scope(cfg, desired)
    assert slugs == {"helpdesk"}
    assert "1 other file(s) changed, not engine config: README.md" in reasons


def test_scope_change_in_polyant_yaml_widens_to_everything(cfg: ConfigRepo, desired: State) -> None:
    cfg.write("polyant.yaml", PROJECT.replace("[demo-agent]", "[demo-agent, sales]"))
    cfg.write("instances/helpdesk/prompts/04-safety.md", "Be very careful.\n")
    slugs, reasons = _scope(cfg, desired)
    assert slugs is None
    assert len(reasons) == 1
    assert reasons[0].startswith("polyant.yaml changed scope since ")
    assert reasons[0].endswith(": planning every instance")


def test_safety_threshold_change_does_not_widen(cfg: ConfigRepo, desired: State) -> None:
    cfg.write("polyant.yaml", PROJECT.replace("maxDeletePercent: 25", "maxDeletePercent: 10"))
    cfg.write("instances/assistant/instance.yaml", "name: Assistant 2\n")
    touched = touched_since(cfg.root, "HEAD")
    assert touched.project_changed
    slugs, _ = _scope(cfg, desired)
    assert slugs == {"assistant"}


def test_comment_only_change_to_polyant_yaml_does_not_widen(
    cfg: ConfigRepo, desired: State
) -> None:
    cfg.write("polyant.yaml", "# reviewed by ops\n" + PROJECT)
    slugs, _ = _scope(cfg, desired)
    assert slugs == set()


@pytest.mark.parametrize(
    ("edit", "setting"),
    [
        ("ignore: ['instances.*.description']\n", "ignore"),
        ("agentOwnedPrompts: ['02-soul']\n", "agentOwnedPrompts"),
        ("prune:\n  children: false\n  secrets: true\n", "prune.secrets"),
    ],
)
def test_rule_changes_widen(cfg: ConfigRepo, desired: State, edit: str, setting: str) -> None:
    if "children: false" in edit:  # make 'secrets: true' the only switch turned on
        cfg.write("polyant.yaml", PROJECT + "prune:\n  children: false\n")
        cfg.commit("baseline prune")
    cfg.write("polyant.yaml", PROJECT + edit)
    slugs, reasons = _scope(cfg, desired)
    assert slugs is None
    assert f"changed {setting} since" in reasons[0]


def test_selected_environment_url_widens_but_another_environment_does_not(
    cfg: ConfigRepo, desired: State
) -> None:
    moved = PROJECT.replace("http://127.0.0.1:4000", "http://127.0.0.1:4999")

    def staging(port: int) -> str:
        return moved.replace("scope:", f"  staging:\n    url: http://127.0.0.1:{port}\nscope:")

    cfg.write("polyant.yaml", staging(5000))
    assert _scope(cfg, desired, env="local")[0] is None
    assert "environments.local.url" in _scope(cfg, desired, env="local")[1][0]
    cfg.commit("move local")
    cfg.write("polyant.yaml", staging(5001))
    assert _scope(cfg, desired, env="local")[0] == set()
    assert _scope(cfg, desired)[0] is None  # no environment selected: any env counts


def test_prune_instances_switched_on_adds_live_only_instances(
    cfg: ConfigRepo, desired: State
) -> None:
    cfg.write("polyant.yaml", PROJECT + "prune:\n  instances: false\n")
    cfg.commit("no instance pruning")
    cfg.write("polyant.yaml", PROJECT + "prune:\n  instances: true\n")
    slugs, reasons = _scope(cfg, desired)
    assert slugs == {"legacy"}  # demo-agent is live-only too, but outside the scope
    assert "prune.instances switched on; live-only instances: demo-agent, legacy" in reasons


def test_polyant_yaml_added_is_compared_with_defaults(cfg: ConfigRepo, desired: State) -> None:
    (cfg.root / "polyant.yaml").unlink()
    cfg.commit("no project file")
    assert project_at(cfg.root, "HEAD") is None
    cfg.write("polyant.yaml", "version: 1\nsafety:\n  minObjects: 10\n")
    assert _scope(cfg, desired)[0] == set()
    cfg.write("polyant.yaml", "version: 1\nignore: ['instances.*.icon']\n")
    assert _scope(cfg, desired)[0] is None


def test_project_at_reads_the_old_version(cfg: ConfigRepo) -> None:
    first = str(cfg.repo.head.commit.hexsha)
    cfg.write("polyant.yaml", PROJECT.replace("maxDeletePercent: 25", "maxDeletePercent: 5"))
    cfg.commit("tighter")
    old = project_at(cfg.root, first)
    assert old is not None
    assert old.safety.max_delete_percent == 25
    assert old.environments["local"].url == "http://127.0.0.1:4000"
    new = project_at(cfg.root, "HEAD")
    assert new is not None
    assert new.safety.max_delete_percent == 5


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    [
        ("version: 1\nversion: 1\n", "found duplicate key", 2),
        ("version: 1\nscope: {instances: [a\n", "polyant.yaml at HEAD", 3),
        ("version: 1\nsafety:\n  maxDeletePercent: 500\n", "safety.maxDeletePercent", 1),
        ("a: &x [1]\nb: *x\n", "uses YAML aliases", 1),
        ("- just\n- a list\n", "top: Input should be a valid dictionary", 1),
    ],
)
def test_invalid_old_project_is_a_config_error(
    cfg: ConfigRepo, text: str, fragment: str, line: int
) -> None:
    cfg.write("polyant.yaml", text)
    cfg.commit("broken")
    with pytest.raises(ConfigError) as info:
        project_at(cfg.root, "HEAD")
    problem = info.value.problems[0]
    assert problem.file == "polyant.yaml at HEAD"
    assert fragment in f"{problem.file}: {problem.message}"
    assert problem.line == line
    assert problem.message.endswith("fix it at that commit, or plan without --changed-since")


def test_changed_skill_with_the_desired_state_from_load_repo(cfg: ConfigRepo) -> None:
    from reconciler.config.load import load_repo

    cfg.write("skills/crm-lookup/SKILL.md", "---\nname: crm-lookup\n---\nLook up faster.\n")
    loaded = load_repo(cfg.root)
    touched = touched_since(cfg.root, "HEAD")
    slugs, reasons = scope_instances(
        touched,
        loaded.state,
        LIVE,
        old_project=project_at(cfg.root, touched.base),
        new_project=loaded.project,
    )
    assert touched.skills == {"crm-lookup"}
    assert slugs == {"sales"}
    assert "skill crm-lookup changed; instances assigning it: sales" in reasons
