"""The book: its table of contents, the notebooks as stored, and the HTML build.

The build test runs ``jupyter-book build`` with Sphinx warnings as errors (the
``built_book`` fixture in conftest.py, shared with other tests of the HTML).
"""

import re
from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import load_toc, toc_files

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = load_toc()
REPOSITORY_URL = CONFIG["repository"]["url"]

COLAB_CELL = """\
# In Colab, install this book's package from its repository; elsewhere, do nothing.
import sys

if "google.colab" in sys.modules:
    %pip install --quiet git+{url}"""

# Paths of this machine that must not leak into stored outputs.
LOCAL_PATH = re.compile(r"(/root\b|/tmp/|/work/|/home/|/Users/|site-packages|[A-Z]:\\\\)")


TOC_FILES = toc_files(TOC)


def _chapter_ids():
    return [path.stem for path in NOTEBOOKS]


def test_toc_lists_chapters_and_prose_pages():
    assert TOC["root"] == "book/intro"
    assert "book/references" in TOC_FILES
    assert len(TOC_FILES) == len(set(TOC_FILES)), "a file is listed twice in _toc.yml"
    assert len(NOTEBOOKS) > 0


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_chapter_ids())
def test_every_notebook_is_in_the_toc(notebook):
    entry = notebook.relative_to(ROOT).with_suffix("").as_posix()
    assert entry in TOC_FILES, f"{entry} is missing from _toc.yml, so the book leaves it out"


@pytest.mark.parametrize("entry", TOC_FILES)
def test_every_toc_entry_has_a_file(entry):
    candidates = [ROOT / f"{entry}{suffix}" for suffix in (".ipynb", ".md")]
    assert any(path.is_file() for path in candidates), (
        f"_toc.yml lists {entry}, but neither {entry}.ipynb nor {entry}.md exists"
    )


def _first_cell_url(source):
    match = re.search(r"%pip install --quiet git\+(\S+)", source)
    return match.group(1) if match else None


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_chapter_ids())
def test_first_cell_installs_the_package_in_colab(notebook):
    cell = nbformat.read(notebook, as_version=4).cells[0]
    assert cell.cell_type == "code", "cell 1 must be the Colab install cell"
    assert _first_cell_url(cell.source) == REPOSITORY_URL, (
        f"cell 1 must install from _config.yml's repository.url ({REPOSITORY_URL})"
    )
    assert cell.source.strip() == COLAB_CELL.format(url=REPOSITORY_URL)


def _output_texts(output):
    """The text of one output: streams, tracebacks and textual display data."""
    if output.output_type == "stream":
        return [output.text]
    if output.output_type == "error":
        return [output.evalue, *output.traceback]
    data = output.get("data", {})
    return [data[kind] for kind in ("text/plain", "text/html", "text/markdown") if kind in data]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_chapter_ids())
def test_notebook_is_stored_executed_without_errors_or_local_paths(notebook):
    cells = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    counts = [cell.execution_count for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        "the notebook must be executed top to bottom in one fresh kernel "
        f"(python scripts/execute_notebooks.py {notebook.relative_to(ROOT)}); "
        f"execution counts are {counts}"
    )
    for number, cell in enumerate(cells, start=1):
        for output in cell.get("outputs", []):
            assert output.output_type != "error", (
                f"code cell {number} is stored with an error: {output.ename}: {output.evalue}"
            )
            for text in _output_texts(output):
                text = "".join(text) if isinstance(text, list) else text
                match = LOCAL_PATH.search(text)
                assert match is None, (
                    f"code cell {number} prints a local path ({match.group(0)!r}): {text[:200]!r}"
                )


def _colab_link(notebook_stem):
    owner_and_name = REPOSITORY_URL.removeprefix("https://github.com/").rstrip("/")
    branch = CONFIG["repository"]["branch"]
    return (f"{CONFIG['launch_buttons']['colab_url']}/github/{owner_and_name}/blob/{branch}/"
            f"notebooks/{notebook_stem}.ipynb")


def test_colab_link_is_the_one_the_readers_use():
    assert _colab_link("01_residual_learning") == (
        "https://colab.research.google.com/github/binarybrosef/resnet-from-scratch/blob/main/"
        "notebooks/01_residual_learning.ipynb"
    )


def test_book_builds_without_warnings(built_book):
    # The fixture fails with the build's log if jupyter-book reports any warning.
    assert (built_book / "index.html").is_file()
    missing = [entry for entry in TOC_FILES if not (built_book / f"{entry}.html").is_file()]
    assert not missing, f"the book has no page for {missing}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=_chapter_ids())
def test_chapter_page_has_a_colab_launch_link(built_book, notebook):
    page = built_book / "notebooks" / f"{notebook.stem}.html"
    assert page.is_file(), f"the book has no page for {notebook.name}"
    html = page.read_text(encoding="utf-8")
    assert _colab_link(notebook.stem) in html, "the page has no 'Open in Colab' launch link"


def test_readers_see_no_test_machinery(built_book):
    # nbval's markers are cell tags, and the hidden book cells (glue, the seed offset, the
    # training-path digest) are removed from the pages: none of it reaches a reader.
    for page in built_book.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        for machinery in ("NBVAL", "RESNET_BOOK_SEED_OFFSET", "weights_digest", "myst_nb"):
            assert machinery not in html, f"{page.relative_to(built_book)} shows {machinery}"


def test_pages_state_the_licence(built_book):
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    for page in ("book/intro.html", "notebooks/05_training.html"):
        html = (built_book / page).read_text(encoding="utf-8")
        assert "CC BY 4.0" in html and "MIT" in html, f"{page}: the footer names no licence"
