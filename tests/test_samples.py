"""resnet.book.samples, and every chapter finding its files in a fresh directory as in Colab.

In Colab a chapter's first cell installs only the package (``%pip install git+...``); no
checkout lies beside the notebook. The test simulates that install by copying what
pyproject.toml ships (the packages and their package data) into an empty site folder,
then runs the chapter's set-up (its ``copy_sample_images`` call) in an empty working
directory, and checks that every file of the checkout the chapter reads is there.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from resnet.book import samples

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

def test_copy_sample_images_fills_an_empty_folder(tmp_path):
    folder = samples.copy_sample_images(tmp_path / "images")
    assert folder == tmp_path / "images"
    names = samples.sample_image_files()
    assert "digits/drawn_7.png" in names and any(n.startswith("photos/") for n in names)
    for name in names:
        assert (folder / name).read_bytes() == (samples.SAMPLE_IMAGES / name).read_bytes()


def test_copy_sample_images_keeps_what_is_there_and_returns_the_relative_path(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "images" / "digits").mkdir(parents=True)
    mine = tmp_path / "images" / "digits" / "drawn_7.png"
    mine.write_bytes(b"mine")
    assert samples.copy_sample_images() == Path("images")
    assert mine.read_bytes() == b"mine"
    assert (tmp_path / "images" / "digits" / "test_0.png").is_file()


def test_copy_sample_images_refuses_a_file_in_the_way(tmp_path):
    (tmp_path / "images").write_text("not a folder")
    with pytest.raises(NotADirectoryError, match="images"):
        samples.copy_sample_images(tmp_path / "images")


def test_the_checkout_reads_the_same_images():
    # notebooks/images is a link to the package's copy, so there is one copy to keep.
    link = ROOT / "notebooks" / "images"
    assert link.resolve() == samples.SAMPLE_IMAGES


# --- the Colab set-up path in a fresh directory ------------------------------------------

_JOIN = re.compile(r'os\.path\.join\(\s*"images"((?:\s*,\s*"[^"]*")*)\s*\)')
_LITERAL = re.compile(r"(?<![\w/.])images/[\w./*-]+")


def _paths_read(source):
    """Relative paths under images/ that a cell's code names (globs included)."""
    paths = ["images/" + "/".join(re.findall(r'"([^"]*)"', m[1])) for m in _JOIN.finditer(source)]
    return [p.rstrip("/") for p in paths + _LITERAL.findall(source)]


def _simulated_install(site):
    """Copy what ``pip install`` of this repository installs: pyproject's packages and data."""
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    for package in config["packages"]:
        source = ROOT / package.replace(".", "/")
        patterns = ["*.py", *config.get("package-data", {}).get(package, [])]
        for pattern in patterns:
            for path in source.glob(pattern):
                if path.is_file():
                    target = site / path.relative_to(ROOT)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, target)


def fresh_directory_problems(cells, tmp_path):
    """Run a chapter's set-up in an empty directory with only the package; list what is missing."""
    code = [c.source for c in cells if c.cell_type == "code"]
    reads = [(i, p) for i, source in enumerate(code) for p in _paths_read(source)]
    in_checkout = [(i, p) for i, p in reads if list((ROOT / "notebooks").glob(p))]
    if not in_checkout:
        return []
    first = min(i for i, _ in in_checkout)
    setup = [line for source in code[:first] for line in source.splitlines()
             if "copy_sample_images(" in line]
    if not setup:
        return [f"code cell {first + 1} reads {in_checkout[0][1]!r}, and no cell before it "
                "calls resnet.book.samples.copy_sample_images(), so in Colab it finds nothing"]
    site, work = tmp_path / "site", tmp_path / "work"
    work.mkdir()
    _simulated_install(site)
    script = "import resnet\nfrom resnet.book import samples\n" + "\n".join(
        line.strip() for line in setup) + "\nprint(resnet.__file__)\n"
    env = {**os.environ, "PYTHONPATH": str(site), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", script], cwd=work, env=env,
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        return [f"the set-up failed in a fresh directory: {result.stderr[-2000:]}"]
    installed = Path(result.stdout.strip().splitlines()[-1])
    if not installed.is_relative_to(site):
        return [f"the test imported {installed}, not the simulated install"]
    return [f"code cell {i + 1} reads {path!r}: not there in a fresh directory"
            for i, path in in_checkout if not list(work.glob(path))]


@pytest.mark.slow
@pytest.mark.parametrize(
    "notebook",
    NOTEBOOKS,
    ids=[p.stem for p in NOTEBOOKS],
)
def test_every_chapter_finds_its_files_in_a_fresh_directory(notebook, tmp_path):
    problems = fresh_directory_problems(nbformat.read(notebook, as_version=4).cells, tmp_path)
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_a_chapter_that_cannot_find_its_files_is_caught(tmp_path):
    reads = nbformat.v4.new_code_cell(
        'files = sorted(glob.glob(os.path.join("images", "digits", "*.png")))\n'
        'Image.open(os.path.join("images", "digits", "drawn_7.png"))')
    setup = nbformat.v4.new_code_cell(
        "from resnet.book import samples\n\n"
        "samples.copy_sample_images()  # the sample images, in Colab too")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert fresh_directory_problems([setup, reads], tmp_path / "a") == []
    problems = fresh_directory_problems([reads], tmp_path / "b")
    assert problems and "copy_sample_images" in problems[0], problems
