"""Export's file side: byte-stable merges, kept comments, refusals, atomicity, icons, prompts."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from repo_trees import build_tree

from reconciler.config.load import load_repo
from reconciler.config.writer import write_repo
from reconciler.errors import ConfigError
from reconciler.model.managed import normalize
from reconciler.model.objects import (
    Instance,
    Script,
    Skill,
    SkillAssignment,
    State,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x02" * 40


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under root (relative path → bytes)."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def example_copy(examples_root: Path, tmp_path: Path) -> Path:
    """A scratch copy of the example config (polyant.yaml, instances/, skills/)."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(examples_root / "polyant.yaml", root / "polyant.yaml")
    for top in ("instances", "skills", ".schemas"):
        shutil.copytree(examples_root / top, root / top)
    return root


def messages(error: ConfigError) -> str:
    """All problem messages of a ConfigError, one per line."""
    return "\n".join(str(p) for p in error.problems)


def test_reexport_of_an_unchanged_engine_rewrites_nothing(example_copy: Path) -> None:
    loaded = load_repo(example_copy)
    before = snapshot(example_copy)
    result = write_repo(example_copy, loaded.state, variables=loaded.variables)
    assert result.written == [] and result.removed == []
    assert len(result.unchanged) == 12
    assert snapshot(example_copy) == before


def test_changed_field_is_rewritten_in_place_keeping_comments(example_copy: Path) -> None:
    loaded = load_repo(example_copy)
    path = example_copy / "instances/helpdesk/instance.yaml"
    before = path.read_text().splitlines()
    helpdesk = loaded.state.instances["helpdesk"]
    changed = helpdesk.model_copy(update={"description": "Helpdesk for the whole company"})
    state = loaded.state.model_copy(
        update={"instances": {**loaded.state.instances, "helpdesk": changed}}
    )
    result = write_repo(example_copy, state, variables=loaded.variables)
    assert result.written == [path]
    after = path.read_text().splitlines()
    diff = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert diff == [
        (
            "description: Internal FAQ helpdesk on Slack",
            "description: Helpdesk for the whole company",
        )
    ]
    assert (
        "secrets: [openai_api_key, auth_api_key, slack_allowed_channels]  # values are never"
        " in git" in after
    )
    assert "    outboundTarget: ${digestChannel}" in after  # the template survives


def test_list_items_are_merged_by_name(example_copy: Path) -> None:
    loaded = load_repo(example_copy)
    helpdesk = loaded.state.instances["helpdesk"]
    assert helpdesk.scheduled_tasks and helpdesk.manual_tools
    task = helpdesk.scheduled_tasks[0].model_copy(update={"max_retries": 5})
    changed = helpdesk.model_copy(
        update={
            "scheduled_tasks": [task],
            "manual_tools": [t for t in helpdesk.manual_tools if t != "spawnTask"] + ["webSearch"],
        }
    )
    state = State(instances={"helpdesk": changed}, skills=loaded.state.skills)
    write_repo(
        example_copy, state, only_instances=["helpdesk"], skills=False, variables=loaded.variables
    )
    text = (example_copy / "instances/helpdesk/instance.yaml").read_text()
    assert "manualTools: [readSkill, searchKnowledge, slackPostMessage, webSearch]" in text
    assert "    maxRetries: 5\n" in text
    assert "      expression: 0 8 * * 1-5\n" in text
    assert (
        load_repo(example_copy).state.instances["helpdesk"]
        == normalize(state).instances["helpdesk"]
    )


def test_event_source_config_values_stay_the_users(example_copy: Path) -> None:
    path = example_copy / "instances/helpdesk/instance.yaml"
    path.write_text(
        path.read_text().replace(
            "      signingSecret: null", "      signingSecret: null\n      region: eu"
        )
    )
    loaded = load_repo(example_copy)
    live = loaded.state.instances["helpdesk"]
    assert live.event_sources
    # The engine masks config values: the live side reports keys with null values.
    masked = live.event_sources[0].model_copy(
        update={"config": {"signingSecret": None, "region": None}}
    )
    state = State(instances={"helpdesk": live.model_copy(update={"event_sources": [masked]})})
    result = write_repo(example_copy, state, skills=False, variables=loaded.variables)
    assert result.written == []
    assert "      region: eu  # supplied" in path.read_text()


def test_omitted_fields_stay_omitted_unless_full(tmp_path: Path) -> None:
    root = build_tree(tmp_path, {"instances/a/instance.yaml": "# mine\nname: A\n"})
    live = Instance(slug="a", name="A", description="from the engine", thinking_enabled=True)
    result = write_repo(root, State(instances={"a": live}))
    assert result.written == []
    assert (root / "instances/a/instance.yaml").read_text() == "# mine\nname: A\n"
    write_repo(root, State(instances={"a": live}), full=True)
    text = (root / "instances/a/instance.yaml").read_text()
    assert "# mine\nname: A\ndescription: from the engine\n" in text
    assert "thinkingEnabled: true\n" in text


def test_unusual_formatting_survives_an_unchanged_export(tmp_path: Path) -> None:
    text = (
        "name:   A   # spaced\nmanualTools:\n- readSkill\n-   webSearch\nroom: {enabled: true,"
        " prompt: 'hi'}\n\n\nsecrets: [\"x\"]\n"
    )
    skill_md = "---\nname: s\n---\nBody without separator\n"
    root = build_tree(tmp_path, {"instances/a/instance.yaml": text, "skills/s/SKILL.md": skill_md})
    before = snapshot(root)
    result = write_repo(root, load_repo(root).state)
    assert result.written == [] and snapshot(root) == before
    # A changed body keeps the user's front matter text as it was.
    state = load_repo(root).state
    skill = state.skills["s"].model_copy(update={"content": "New body"})
    write_repo(root, State(skills={"s": skill}))
    assert (root / "skills/s/SKILL.md").read_text() == "---\nname: s\n---\n\nNew body\n"


def test_new_instance_file_layout(tmp_path: Path) -> None:
    prompts = {s: f"Section {s}\nline two" for s in ("01-identity", "02-soul", "04-safety")}
    live = Instance(
        slug="bot",
        name="Bot",
        prompts=prompts,
        secrets=["openai_api_key"],
        skills=[
            SkillAssignment(slug="s", pinned_version="0.1.0"),
            SkillAssignment(slug="t", pinned_version="0.2.0"),
        ],
    )
    catalog = {
        "s": Skill(slug="s", name="s", content="x", version="0.1.0"),
        "t": Skill(slug="t", name="t", content="x", version="0.3.0"),
    }
    write_repo(tmp_path, State(instances={"bot": live}, skills=catalog), skills=False)
    files = snapshot(tmp_path)
    assert sorted(files) == [
        "instances/bot/instance.yaml",
        "instances/bot/prompts/01-identity.md",
        "instances/bot/prompts/04-safety.md",
    ]  # 02-soul is the agent's
    assert files["instances/bot/prompts/01-identity.md"] == b"Section 01-identity\nline two\n"
    text = files["instances/bot/instance.yaml"].decode()
    assert text.startswith(
        "# yaml-language-server: $schema=../../.schemas/instance.json\nname: Bot\n"
    )
    # A pin on the current version is dropped (no pin = follow current); an older pin stays.
    assert "  - slug: s\n    enabled: true\n  - slug: t\n    enabled: true\n" in text
    assert "pinnedVersion: 0.2.0" in text and "0.1.0" not in text


def test_agent_owned_prompt_file_is_updated_when_the_user_keeps_one(tmp_path: Path) -> None:
    root = build_tree(
        tmp_path,
        {
            "instances/a/instance.yaml": "name: A\n",
            "instances/a/prompts/02-soul.md": "old soul\n",
            "instances/a/prompts/06-memory.md": "gone on the engine\n",
        },
    )
    live = Instance(slug="a", name="A", prompts={"02-soul": "new soul", "01-identity": "id"})
    result = write_repo(root, State(instances={"a": live}))
    assert (root / "instances/a/prompts/02-soul.md").read_text() == "new soul\n"
    assert not (root / "instances/a/prompts/06-memory.md").exists()
    assert root / "instances/a/prompts/06-memory.md" in result.removed
    # The user had not managed 01-identity: it stays unmanaged (no file) without --full.
    assert not (root / "instances/a/prompts/01-identity.md").exists()


def test_icon_written_as_file_and_removed_with_the_engines_icon(tmp_path: Path) -> None:
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    write_repo(tmp_path, State(instances={"a": Instance(slug="a", name="A", icon=uri)}))
    assert (tmp_path / "instances/a/icon.png").read_bytes() == PNG
    assert "icon: icon.png\n" in (tmp_path / "instances/a/instance.yaml").read_text()
    assert load_repo(tmp_path).state.instances["a"].icon == uri
    write_repo(tmp_path, State(instances={"a": Instance(slug="a", name="A", icon=None)}))
    assert not (tmp_path / "instances/a/icon.png").exists()
    assert "icon: null\n" in (tmp_path / "instances/a/instance.yaml").read_text()


def test_unsupported_engine_icon_is_left_unmanaged_with_a_warning(tmp_path: Path) -> None:
    gif = "data:image/gif;base64," + base64.b64encode(b"GIF89a").decode()
    result = write_repo(tmp_path, State(instances={"a": Instance(slug="a", name="A", icon=gif)}))
    assert "icon" not in (tmp_path / "instances/a/instance.yaml").read_text()
    assert any("icon left out" in w for w in result.warnings)


def test_skill_files_and_stale_scripts(tmp_path: Path) -> None:
    root = build_tree(tmp_path, {"skills/s/scripts/old.py": "print(1)\n"})
    skill = Skill(
        slug="s",
        name="s",
        content="# Body",
        description="d",
        scripts=[Script(file="run.sh", description="runs", content="echo hi")],
    )
    result = write_repo(root, State(skills={"s": skill}))
    assert (root / "skills/s/SKILL.md").read_text() == (
        "---\n# yaml-language-server: $schema=../../.schemas/skill.json\nname: s\ndescription: d\n"
        "category: general\nscripts:\n  run.sh: runs\n---\n\n# Body\n"
    )
    assert (root / "skills/s/scripts/run.sh").read_text() == "echo hi"
    assert root / "skills/s/scripts/old.py" in result.removed
    archived = skill.model_copy(update={"archived": True, "slug": "gone"})
    write_repo(root, State(skills={"gone": archived}))
    assert not (root / "skills/gone").exists()


@pytest.mark.parametrize(
    ("state", "fragment"),
    [
        (
            State.model_construct(
                instances={
                    "../evil": Instance.model_construct(slug="../evil", name="x", prompts={})
                },
                skills={},
            ),
            "must use only",
        ),
        (
            State.model_construct(
                instances={},
                skills={
                    "s": Skill.model_construct(
                        slug="s",
                        name="s",
                        content="x",
                        description="",
                        category="general",
                        required_env=[],
                        required_tools=[],
                        metadata={},
                        archived=False,
                        version=None,
                        scripts=[Script(file="../../../x.py", content="boom")],
                    )
                },
            ),
            "plain file name",
        ),
        (
            State.model_construct(
                instances={
                    "a": Instance.model_construct(slug="a", name="A", prompts={"../../x": "boom"})
                },
                skills={},
            ),
            "unknown prompt section",
        ),
        (
            State(
                instances={"a": Instance(slug="a", name="A", prompts={"01-identity": "\x1b[2J"})}
            ),
            "control character U+001B",
        ),
    ],
    ids=["slug", "script", "section", "control-char"],
)
def test_untrusted_names_are_refused_and_nothing_is_written(
    tmp_path: Path, state: State, fragment: str
) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    with pytest.raises(ConfigError) as info:
        write_repo(root, state)
    assert fragment in info.value.problems[0].message
    assert "nothing was written" in info.value.problems[0].message
    assert list(tmp_path.rglob("*")) == [root]


def test_symlinked_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = build_tree(tmp_path / "repo", {"instances/a": ("symlink", str(outside))})
    with pytest.raises(ConfigError) as info:
        write_repo(root, State(instances={"a": Instance(slug="a", name="A")}))
    assert "instances/a is a symlink" in messages(info.value)
    assert list(outside.iterdir()) == []


def test_a_refused_object_leaves_every_file_untouched(example_copy: Path) -> None:
    loaded = load_repo(example_copy)
    before = snapshot(example_copy)
    changed = loaded.state.instances["assistant"].model_copy(update={"description": "new"})
    bad = Instance.model_construct(slug="zz/..", name="x", prompts={})
    state = State.model_construct(
        instances={"assistant": changed, "zz/..": bad}, skills=loaded.state.skills
    )
    with pytest.raises(ConfigError) as info:
        write_repo(example_copy, state, variables=loaded.variables)
    assert "instance 'zz/..'" in messages(info.value)
    assert snapshot(example_copy) == before


def test_broken_existing_file_is_not_overwritten(tmp_path: Path) -> None:
    root = build_tree(tmp_path, {"instances/a/instance.yaml": "name: [unclosed\n"})
    with pytest.raises(ConfigError) as info:
        write_repo(root, State(instances={"a": Instance(slug="a", name="A")}))
    assert "cannot be merged (instances/a/instance.yaml:2:1" in messages(info.value)
    assert (root / "instances/a/instance.yaml").read_text() == "name: [unclosed\n"


def test_new_files_are_world_readable_and_rewrites_keep_the_mode(tmp_path: Path) -> None:
    write_repo(tmp_path, State(instances={"a": Instance(slug="a", name="A")}))
    path = tmp_path / "instances/a/instance.yaml"
    assert path.stat().st_mode & 0o777 == 0o644
    path.chmod(0o600)
    write_repo(tmp_path, State(instances={"a": Instance(slug="a", name="B")}))
    assert path.stat().st_mode & 0o777 == 0o600
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_credential_config_values_are_written_as_declared_nulls(tmp_path: Path) -> None:
    from reconciler.model.objects import EventSource

    source = EventSource(
        name="Z",
        source_type="webhook",
        config={"apiToken": "plain-looking", "url": "\u2022\u2022\u2022\u2022e.io", "region": "eu"},
    )
    write_repo(
        tmp_path, State(instances={"a": Instance(slug="a", name="A", event_sources=[source])})
    )
    text = (tmp_path / "instances/a/instance.yaml").read_text()
    assert "apiToken: null" in text and "url: null" in text and "region: eu" in text
    assert "plain-looking" not in text and "\u2022" not in text


def test_os_error_while_writing_is_one_clear_problem(tmp_path: Path) -> None:
    build_tree(tmp_path, {"instances/a": "a file where the instance folder should be"})
    with pytest.raises(ConfigError) as info:
        write_repo(tmp_path, State(instances={"a": Instance(slug="a", name="A")}))
    assert "cannot write: File exists" in messages(info.value)
    assert (tmp_path / "instances/a").read_text() == "a file where the instance folder should be"
