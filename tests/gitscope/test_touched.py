"""touched_since: which object folders changed between a commit and the work tree."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from reconciler.config.gitscope import touched_since

from .repos import ConfigRepo


def test_one_prompt_change_touches_exactly_that_instance(cfg: ConfigRepo) -> None:
    base = cfg.commit("nothing")
    cfg.write("instances/helpdesk/prompts/01-identity.md", "You are the new helpdesk.\n")
    cfg.commit("edit prompt")
    touched = touched_since(cfg.root, base)
    assert touched.instances == {"helpdesk"}
    assert touched.skills == frozenset()
    assert not touched.project_changed
    assert touched.deleted_instances == frozenset()
    assert touched.renamed == ()
    assert touched.other_files == ()
    assert touched.base == base


def test_branch_name_resolves_to_its_commit(cfg: ConfigRepo) -> None:
    base = str(cfg.repo.head.commit.hexsha)
    cfg.repo.git.branch("before")
    cfg.write("instances/sales/instance.yaml", "name: Sales team\n")
    assert touched_since(cfg.root, "before").base == base
    assert touched_since(cfg.root, "before").instances == {"sales"}


def test_nothing_changed_is_empty(cfg: ConfigRepo) -> None:
    touched = touched_since(cfg.root, "HEAD")
    assert (touched.instances, touched.skills, touched.project_changed) == (
        frozenset(),
        frozenset(),
        False,
    )


def test_uncommitted_edit_staged_file_and_untracked_folder_are_seen(cfg: ConfigRepo) -> None:
    cfg.write("instances/assistant/prompts/01-identity.md", "Edited, not staged.\n")
    cfg.write("instances/sales/prompts/04-safety.md", "Staged only.\n")
    cfg.repo.git.add("instances/sales/prompts/04-safety.md")
    cfg.write("instances/newbie/instance.yaml", "name: Newbie\n")
    cfg.write("instances/newbie/prompts/01-identity.md", "Hi.\n")
    cfg.write("skills/faq-search/debug.log", "ignored by .gitignore\n")
    touched = touched_since(cfg.root, "HEAD")
    assert touched.instances == {"assistant", "sales", "newbie"}
    assert touched.skills == frozenset()  # the only skill file is git-ignored
    assert touched.deleted_instances == frozenset()


def test_deleted_instance_folder_is_touched_and_deleted(cfg: ConfigRepo) -> None:
    shutil.rmtree(cfg.root / "instances" / "sales")
    touched = touched_since(cfg.root, "HEAD")
    assert touched.instances == {"sales"}
    assert touched.deleted_instances == {"sales"}
    cfg.commit("delete sales")
    assert touched_since(cfg.root, "HEAD~1").deleted_instances == {"sales"}


def test_deleted_skill_folder(cfg: ConfigRepo) -> None:
    shutil.rmtree(cfg.root / "skills" / "crm-lookup")
    touched = touched_since(cfg.root, "HEAD")
    assert touched.skills == {"crm-lookup"}
    assert touched.deleted_skills == {"crm-lookup"}
    assert touched.instances == frozenset()


def test_folder_with_only_prompts_edited_is_not_deleted(cfg: ConfigRepo) -> None:
    (cfg.root / "instances/helpdesk/prompts/04-safety.md").unlink()
    touched = touched_since(cfg.root, "HEAD")
    assert touched.instances == {"helpdesk"}
    assert touched.deleted_instances == frozenset()


def test_committed_folder_rename_gives_both_slugs(cfg: ConfigRepo) -> None:
    cfg.repo.git.mv("instances/sales", "instances/sales-emea")
    cfg.write("instances/sales-emea/prompts/01-identity.md", "You sell in EMEA.\n")
    cfg.commit("rename")
    touched = touched_since(cfg.root, "HEAD~1")
    assert touched.instances == {"sales", "sales-emea"}
    assert touched.deleted_instances == {"sales"}
    assert touched.renamed == (("instance/sales", "instance/sales-emea"),)


def test_unstaged_folder_move_is_paired_by_content(cfg: ConfigRepo) -> None:
    (cfg.root / "skills" / "crm-lookup").rename(cfg.root / "skills" / "crm-search")
    touched = touched_since(cfg.root, "HEAD")
    assert touched.skills == {"crm-lookup", "crm-search"}
    assert touched.deleted_skills == {"crm-lookup"}
    assert touched.renamed == (("skill/crm-lookup", "skill/crm-search"),)


def test_moving_one_file_between_existing_folders_is_no_rename(cfg: ConfigRepo) -> None:
    cfg.repo.git.mv("instances/sales/prompts/01-identity.md", "instances/helpdesk/prompts/02-x.md")
    touched = touched_since(cfg.root, "HEAD")
    assert touched.instances == {"sales", "helpdesk"}
    assert touched.renamed == ()
    assert touched.deleted_instances == frozenset()


def test_other_files_and_project_file_are_classified(cfg: ConfigRepo) -> None:
    cfg.write("README.md", "# changed\n")
    cfg.write(".github/workflows/plan.yml", "on: push\n")
    cfg.write("polyant.yaml", "version: 1\n")
    touched = touched_since(cfg.root, "HEAD")
    assert touched.other_files == (".github/workflows/plan.yml", "README.md")
    assert touched.project_changed
    assert touched.instances == frozenset()


def test_invalid_slug_paths_are_ignored_with_a_reason(cfg: ConfigRepo) -> None:
    cfg.write("instances/Bad Name/instance.yaml", "name: Bad\n")
    cfg.write("instances/models/instance.yaml", "name: Reserved\n")
    cfg.write("skills/under_score/SKILL.md", "---\nname: x\n---\nx\n")
    cfg.write("instances/README.md", "about instances\n")
    touched = touched_since(cfg.root, "HEAD")
    assert touched.instances == frozenset()
    assert touched.skills == frozenset()
    ignored = "\n".join(touched.ignored)
    assert "instances/Bad Name/instance.yaml: instance slug 'Bad Name' must use only" in ignored
    assert "instances/models/instance.yaml: instance slug 'models' is reserved" in ignored
    assert "skills/under_score/SKILL.md: skill slug 'under_score' must use only" in ignored
    assert "instances/README.md: not inside an object folder (instances/<slug>/)" in ignored


def test_config_root_in_a_subdirectory_of_the_repo(
    tmp_path: Path, new_repo: Callable[..., ConfigRepo]
) -> None:
    mono = new_repo(tmp_path / "mono", subdir="ops/polyant")
    top = Path(mono.repo.working_tree_dir or "")
    (top / "service").mkdir()
    (top / "service" / "main.py").write_text("print()\n")
    mono.write("instances/helpdesk/prompts/01-identity.md", "Moved on.\n")
    mono.write("polyant.yaml", "version: 1\n")
    touched = touched_since(mono.root, "HEAD")
    assert touched.instances == {"helpdesk"}
    assert touched.project_changed
    assert touched.other_files == ()  # files outside the config root are not its business
