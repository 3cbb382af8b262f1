"""Loading: the examples, file format rules, environments, warnings and problem formatting."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from repo_trees import build_tree, collect

from reconciler.config.load import load_project, load_repo
from reconciler.config.validate import format_problem, validate_state
from reconciler.errors import ConfigError, Problem, UsageError

INST = "instances/a/instance.yaml"


def test_examples_load_and_validate_without_any_problem(examples_root: Path) -> None:
    loaded = load_repo(examples_root)
    assert validate_state(loaded) == []
    state = loaded.state
    assert set(state.instances) == {"assistant", "helpdesk"}
    assert set(state.skills) == {"faq-search", "ticket-triage"}
    helpdesk = state.instances["helpdesk"]
    # ${digestChannel} comes from the default environment 'local'.
    assert (
        helpdesk.scheduled_tasks and helpdesk.scheduled_tasks[0].outbound_target == "#helpdesk-dev"
    )
    assert helpdesk.icon and helpdesk.icon.startswith("data:image/png;base64,")
    assert helpdesk.skill_env == {"faq-search": {"FAQ_API_KEY": None, "FAQ_INDEX": "helpdesk-v2"}}
    assert state.skills["faq-search"].scripts[0].file == "search.py"
    assert loaded.sources["instance/helpdesk"] == examples_root / "instances" / "helpdesk"


def test_example_modelines_point_to_existing_schemas(examples_root: Path) -> None:
    files = [examples_root / "polyant.yaml"]
    files += sorted(examples_root.glob("instances/*/instance.yaml"))
    files += sorted(examples_root.glob("skills/*/SKILL.md"))
    assert len(files) >= 5
    for path in files:
        match = re.search(r"# yaml-language-server: \$schema=(\S+)", path.read_text())
        assert match, f"{path} has no modeline"
        assert (path.parent / match.group(1)).resolve().is_file(), path


def test_prompt_file_round_trips_exactly_one_final_newline(tmp_path: Path) -> None:
    root = build_tree(
        tmp_path,
        {
            INST: "name: A\n",
            "instances/a/prompts/01-identity.md": "Line\n\n",
            "instances/a/prompts/04-safety.md": "No newline",
        },
    )
    prompts = load_repo(root).state.instances["a"].prompts
    assert prompts == {"01-identity": "Line\n", "04-safety": "No newline"}


def test_missing_prompt_file_is_unmanaged_and_missing_polyant_yaml_is_defaults(
    tmp_path: Path,
) -> None:
    loaded = load_repo(build_tree(tmp_path, {INST: "name: A\n"}))
    inst = loaded.state.instances["a"]
    assert inst.prompts == {}
    assert inst.model_fields_set == {"slug", "name", "prompts"}  # the rest is unmanaged
    assert loaded.project.scope.exclude_instances == ["demo-agent"]
    assert loaded.environment is None


def test_yaml_12_keeps_no_and_on_as_strings(tmp_path: Path) -> None:
    root = build_tree(tmp_path, {INST: "name: no\ndescription: on\nstatus: 'yes'\n"})
    inst = load_repo(root).state.instances["a"]
    assert (inst.name, inst.description, inst.status) == ("no", "on", "yes")


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    root = build_tree(tmp_path, {INST: "\ufeffname: A\n"})
    assert load_repo(root).state.instances["a"].name == "A"


def test_timestamps_stay_strings(tmp_path: Path) -> None:
    text = (
        "name: A\nscheduledTasks:\n  - name: T\n    prompt: p\n"
        "    schedule: {type: one-shot, runAt: 2027-01-01T09:00:00Z}\n"
    )
    inst = load_repo(build_tree(tmp_path, {INST: text})).state.instances["a"]
    assert inst.scheduled_tasks is not None
    assert inst.scheduled_tasks[0].schedule.run_at == "2027-01-01T09:00:00Z"  # type: ignore[union-attr]


def test_unexpected_files_are_warnings_not_errors(tmp_path: Path) -> None:
    root = build_tree(
        tmp_path,
        {
            INST: "name: A\n",
            "instances/a/notes.txt": "todo\n",
            "instances/README.md": "# Instances\n",
            "instances/a/.DS_Store": "x",
            "skills/s/SKILL.md": "---\n---\nBody\n",
            "skills/s/scripts/.hidden": "x",
        },
    )
    loaded = load_repo(root)
    warnings = {(p.file, p.severity) for p in validate_state(loaded)}
    assert ("instances/a/notes.txt", "warning") in warnings
    assert ("instances/README.md", "warning") in warnings
    assert ("skills/s/scripts/.hidden", "warning") in warnings
    assert not any(".DS_Store" in f for f, _ in warnings)


def test_icon_file_becomes_a_data_uri(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x01" * 20
    root = build_tree(tmp_path, {INST: "name: A\nicon: logo.png\n", "instances/a/logo.png": png})
    icon = load_repo(root).state.instances["a"].icon
    assert icon == "data:image/png;base64," + base64.b64encode(png).decode()


POLYANT = """\
defaultEnvironment: dev
environments:
  dev:
    variables: {team: Support, target: "#dev"}
  prod:
    variables: {team: Support, target: "#prod"}
    overrides:
      a:
        status: inactive
        description: ${team} in production
"""


def test_variables_and_overrides_follow_the_environment(tmp_path: Path) -> None:
    text = "name: ${team} bot\ndescription: plain $${literal}\nstatus: active\n"
    root = build_tree(tmp_path, {"polyant.yaml": POLYANT, INST: text})
    dev = load_repo(root).state.instances["a"]
    assert (dev.name, dev.description, dev.status) == ("Support bot", "plain ${literal}", "active")
    prod = load_repo(root, env="prod")
    inst = prod.state.instances["a"]
    assert (inst.status, inst.description) == ("inactive", "Support in production")
    assert prod.environment == "prod"
    where = prod.locate("instance/a", ("status",))
    assert (where.file, where.line) == ("polyant.yaml", 9)


def test_unknown_environment_is_a_usage_error(tmp_path: Path) -> None:
    root = build_tree(tmp_path, {"polyant.yaml": POLYANT, INST: "name: A\n"})
    with pytest.raises(UsageError, match="'qa' is not defined"):
        load_repo(root, env="qa")


def test_reference_without_environment_says_how_to_choose_one(tmp_path: Path) -> None:
    root = build_tree(tmp_path, {INST: "name: ${team}\n"})
    [problem] = collect(root)
    assert "pass --env or set defaultEnvironment" in problem.message


def test_load_project_reads_only_polyant_yaml(tmp_path: Path) -> None:
    root = build_tree(tmp_path, {"polyant.yaml": POLYANT, INST: "name: [broken\n"})
    loaded = load_project(root, env="prod")
    assert loaded.environment == "prod"
    assert loaded.variables["target"] == "#prod"
    assert loaded.state.instances == {}
    with pytest.raises(ConfigError):
        load_repo(root)


def test_assignment_check_depends_on_engine_knowledge(tmp_path: Path) -> None:
    root = build_tree(tmp_path, {INST: "name: A\nskills:\n  - slug: ghost\n"})
    offline = collect(root)
    assert [p.severity for p in offline] == ["warning"]
    assert "checked at plan" in offline[0].message
    online = collect(root, known_engine_skills={"other"})
    assert [p.severity for p in online] == ["error"]
    assert (online[0].line, "neither in skills/ nor in the engine") == (
        3,
        "neither in skills/ nor in the engine",
    )
    assert collect(root, known_engine_skills={"ghost"}) == []


def test_auth_without_key_and_agent_tools_are_warnings(tmp_path: Path) -> None:
    root = build_tree(
        tmp_path,
        {
            INST: "name: A\nauthEnabled: true\nsecrets: []\nmanualTools: [agent:b, agent:zzz]\n",
            "instances/b/instance.yaml": "name: B\nchannels: {agent: {enabled: false}}\n",
        },
    )
    problems = collect(root)
    assert {p.severity for p in problems} == {"warning"}
    messages = " | ".join(p.message for p in problems)
    assert "declare auth_api_key" in messages
    assert "agent:b works only while b's agent channel is enabled" in messages
    assert "agent:zzz names no instance" in messages


def test_format_problem_plain_and_github() -> None:
    problem = Problem("instances/a/instance.yaml", 3, 7, "bad: 100%, really\nyes")
    assert format_problem(problem) == "instances/a/instance.yaml:3:7: bad: 100%, really\nyes"
    github = format_problem(problem, github=True)
    assert github == (
        "::error file=instances/a/instance.yaml,line=3,col=7::bad: 100%25, really%0Ayes"
    )
    warning = Problem("a,b:c", 1, 1, "w", "warning")
    assert format_problem(warning, github=True) == "::warning file=a%2Cb%3Ac,line=1,col=1::w"
    assert format_problem(warning) == "a,b:c:1:1: warning: w"
