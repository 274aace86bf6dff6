"""The contributor files say what the code does."""

import re
import subprocess

import yaml

from booktools import ROOT


def test_citation_file_is_valid_cff():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "license", "version"):
        assert cff[key], key
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'version = "{cff["version"]}"' in pyproject


def test_workflows_pass_actionlint():
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert len(workflows) >= 3
    proc = subprocess.run(
        ["node", ".ci/actionlint.mjs", *map(str, workflows)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ matrix.nope }}\n"
    )
    proc = subprocess.run(
        ["node", ".ci/actionlint.mjs", str(broken)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "nope" in proc.stderr


def test_every_make_target_in_the_readme_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z]+):", makefile, re.M))
    documented = set(
        re.findall(r"`make ([a-z]+)", (ROOT / "README.md").read_text())
        + re.findall(r"`make ([a-z]+)", (ROOT / "CONTRIBUTING.md").read_text())
    )
    assert documented and documented <= targets, documented - targets


def test_pre_commit_runs_only_local_hooks():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert [r["repo"] for r in config["repos"]] == ["local"]
    ids = {h["id"] for h in config["repos"][0]["hooks"]}
    assert {
        "ruff-check",
        "ruff-format",
        "codespell",
        "no-legacy-np-random",
        "no-set-title-in-chapters",
        "no-adhoc-figsize",
        "no-generated-files-in-book",
        "actionlint",
    } <= ids
