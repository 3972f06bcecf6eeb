"""Publishing: the GitHub Pages workflow builds the book and publishes ``_build/html``.

The workflow is validated against GitHub's workflow schema (the copy that ships with
check-jsonschema, so no network is needed) and its keys are checked: it runs on pushes
to main, builds with the README's command and uploads the folder that command writes.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
BOOK_URL = "https://binarybrosef.github.io/resnet-from-scratch/"
BUILD_COMMAND = "bash scripts/book.sh"


def _check_jsonschema(path):
    exe = Path(sys.executable).parent / "check-jsonschema"
    if not exe.exists():
        found = shutil.which("check-jsonschema")
        if found is None:
            pytest.fail("check-jsonschema is missing: pip install -r requirements.txt")
        exe = Path(found)
    return subprocess.run(
        [str(exe), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True, text=True, timeout=120,
    )


def _workflow(path=WORKFLOW):
    data = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key "on" as True.
    return data, data.get("on", data.get(True))


def _problems(path=WORKFLOW):
    problems = []
    result = _check_jsonschema(path)
    if result.returncode != 0:
        problems.append(f"not a valid workflow: {result.stdout}{result.stderr}")
    data, on = _workflow(path)
    if not isinstance(on, dict) or "main" not in (on.get("push") or {}).get("branches", []):
        problems.append("it does not run on pushes to main")
    steps = [step for job in data.get("jobs", {}).values() for step in job.get("steps", [])]
    runs = [step.get("run", "") for step in steps]
    if not any(BUILD_COMMAND in run for run in runs):
        problems.append(f"no step runs the README's build command {BUILD_COMMAND!r}")
    uploads = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact")]
    if not uploads or uploads[0].get("with", {}).get("path") != "_build/html":
        problems.append("it does not upload _build/html as the Pages artifact")
    if not any(s.get("uses", "").startswith("actions/deploy-pages") for s in steps):
        problems.append("no step deploys to GitHub Pages")
    permissions = data.get("permissions", {})
    if permissions.get("pages") != "write" or permissions.get("id-token") != "write":
        problems.append("deploying to Pages needs permissions pages: write and id-token: write")
    return problems


def test_the_workflow_publishes_the_book_on_pushes_to_main():
    assert _problems() == []


def test_the_readme_command_is_the_one_the_workflow_runs():
    assert BUILD_COMMAND in (ROOT / "README.md").read_text()
    assert "_build/html" in (ROOT / "scripts" / "book.sh").read_text()


def test_the_book_url_is_in_the_readme_and_the_config():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["html"]["baseurl"] == BOOK_URL
    head = "\n".join((ROOT / "README.md").read_text().splitlines()[:12])
    assert BOOK_URL in head, "the README names the book's URL near its top"


BREAKS = {
    "schema": (lambda text: text.replace("    runs-on: ubuntu-latest\n", "", 1), "not a valid"),
    "trigger": (lambda text: text.replace("branches: [main]", "branches: [gh-pages]"), "main"),
    "command": (lambda text: text.replace(BUILD_COMMAND, "jupyter-book build ."), "command"),
    "folder": (lambda text: text.replace("path: _build/html", "path: _build"), "_build/html"),
}


@pytest.mark.parametrize("kind", list(BREAKS))
def test_a_broken_workflow_is_caught(tmp_path, kind):
    breaker, expected = BREAKS[kind]
    text = WORKFLOW.read_text()
    broken = breaker(text)
    assert broken != text, f"nothing for the {kind!r} break to break"
    copy = tmp_path / "book.yml"
    copy.write_text(broken)
    problems = _problems(copy)
    assert any(expected in problem for problem in problems), problems
