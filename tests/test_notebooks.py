"""The chapters follow the book's conventions (their outputs are tested by nbval).

Every chapter: cell 2 silences TensorFlow before it is imported, one title,
learning goals at the top, a summary, and exercises whose solutions are hidden
behind a toggle. Chapters 2 to 4 end with a "Your turn" exercise whose solution
cell is hidden and checked by resnet.book.checks.
"""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
IDS = [path.stem for path in NOTEBOOKS]

SILENCE_CELL = """\
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # silence TensorFlow's C++ log lines"""

# Chapter -> (the reader's function, the check that tests it)
YOUR_TURN = {
    "02_identity_block": ("my_identity_block", "check_identity_block"),
    "03_convolutional_block": ("my_convolutional_block", "check_convolutional_block"),
    "04_resnet50": ("my_resnet50", "check_resnet50"),
}


def _cells(path):
    return nbformat.read(path, as_version=4).cells


def _headings(cells, level):
    prefix = "#" * level + " "
    return [line[len(prefix):].strip() for cell in cells if cell.cell_type == "markdown"
            for line in cell.source.splitlines() if line.startswith(prefix)]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_tensorflow_is_silenced_before_it_is_imported(notebook):
    cells = _cells(notebook)
    assert cells[1].cell_type == "code" and cells[1].source.strip() == SILENCE_CELL
    first_import = next(i for i, cell in enumerate(cells) if cell.cell_type == "code"
                        and re.search(r"^\s*(import tensorflow|from tensorflow|import resnet"
                                      r"|from resnet)", cell.source, re.MULTILINE))
    assert first_import > 1


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_chapter_has_title_goals_summary_and_exercises(notebook):
    cells = _cells(notebook)
    assert len(_headings(cells, 1)) == 1, "a chapter has exactly one '# Title'"
    top = " ".join(cell.source for cell in cells[:4] if cell.cell_type == "markdown").lower()
    assert "goals" in top, "learning goals belong at the top"
    sections = [heading.lower() for heading in _headings(cells, 2)]
    assert any(heading.startswith("summary") for heading in sections)
    assert any(heading.startswith("exercises") for heading in sections)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_exercise_solutions_are_behind_a_toggle(notebook):
    cells = _cells(notebook)
    start = next(i for i, cell in enumerate(cells) if cell.cell_type == "markdown"
                 and re.search(r"^## Exercises", cell.source, re.MULTILINE))
    solutions = [cell for cell in cells[start:] if cell.cell_type == "markdown"
                 and "{admonition}" in cell.source]
    assert solutions, "the exercises have no solutions"
    for cell in solutions:
        assert ":class: dropdown" in cell.source, "a solution is not behind a toggle"


@pytest.mark.parametrize("chapter", sorted(YOUR_TURN))
def test_your_turn_has_skeleton_hidden_solution_and_check(chapter):
    function, check = YOUR_TURN[chapter]
    cells = _cells(ROOT / "notebooks" / f"{chapter}.ipynb")
    start = next(i for i, cell in enumerate(cells)
                 if cell.cell_type == "markdown" and "## Your turn" in cell.source)
    skeleton, solution, checked = cells[start], cells[start + 1], cells[start + 2]
    assert f"def {function}(" in skeleton.source and "# YOUR CODE HERE" in skeleton.source
    assert solution.cell_type == "code" and f"def {function}(" in solution.source
    assert "hide-input" in solution.metadata.get("tags", [])
    assert "# YOUR CODE HERE" not in solution.source
    assert checked.cell_type == "code" and "hide-input" not in checked.metadata.get("tags", [])
    assert f"from resnet.book.checks import {check}" in checked.source
    assert f"{check}({function})" in checked.source
    assert cells[start + 2:] == [checked], "'Your turn' ends the chapter"
    printed = "".join(o.get("text", "") for o in checked.outputs if o.output_type == "stream")
    assert "All checks passed." in printed


# The hidden cell after a chapter's setup: glue() for the prose, and (in a chapter that
# trains) the seed offset with which the tests re-run its training (tests/nbval_paths.py).
BOOK_CELL = """\
# Hidden in the book: glue() hands the numbers computed below to the prose (myst-nb),
# and the tests shift SEED to re-train along another path (tests/nbval_paths.py).
try:
    from myst_nb import glue
except ImportError:  # Colab: no book to hand the numbers to
    def glue(name, value, display=False):
        pass"""
SEED_LINES = """\
SEED += int(os.environ.get("RESNET_BOOK_SEED_OFFSET", "0"))
keras.utils.set_random_seed(SEED)"""
TRAINS = re.compile(r"\.fit\(|\.train_on_batch\(|train_resnet50\(|training\.train\(")
# Chapter 6 trains stand-ins only when chapter 5's models are missing; in the tests chapter
# 5 runs first and chapter 6 loads them, so its weights cannot change with the offset.
TRAINS_ONLY_WHEN_RUN_ALONE = {"06_your_own_images"}


def _tags(cell):
    return cell.metadata.get("tags", [])


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_nbval_markers_are_tags_not_comments_readers_see(notebook):
    for number, cell in enumerate(_cells(notebook)):
        assert "NBVAL" not in cell.source, (
            f"cell {number}: use the cell tag nbval-ignore-output (metadata.tags), not a "
            "comment that readers see (and that nbval ignores if anything follows it)")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_glue_and_the_seed_offset_live_in_the_hidden_book_cell(notebook):
    cells = _cells(notebook)
    code = [cell for cell in cells if cell.cell_type == "code"]
    book_cells = [cell for cell in code if cell.source.startswith(BOOK_CELL)]
    glues = [cell for cell in code if re.search(r"^\s*glue\(", cell.source, re.MULTILINE)]
    trains = any(TRAINS.search(cell.source) for cell in code)
    if glues or trains:
        assert len(book_cells) == 1, "one hidden book cell (BOOK_CELL) after the setup cell"
    for cell in book_cells + glues:
        assert "remove-cell" in _tags(cell), f"hidden in the book: {cell.source[:60]!r}"
    if trains:
        (book_cell,) = book_cells
        assert book_cell.source.strip().endswith(SEED_LINES), (
            "a chapter that trains shifts SEED by RESNET_BOOK_SEED_OFFSET in its book cell")
        assert re.search(r"^SEED = \d+", "\n".join(c.source for c in code), re.MULTILINE), (
            "a chapter that trains sets SEED where readers see it")
    paths = [cell for cell in code if "training-path" in _tags(cell)]
    if trains and notebook.stem not in TRAINS_ONLY_WHEN_RUN_ALONE:
        assert len(paths) == 1, "a chapter that trains prints its weights' digest once"
        assert {"remove-cell", "nbval-ignore-output"} <= set(_tags(paths[0]))
        assert "weights_digest(" in paths[0].source
    else:
        assert not paths, "only a chapter whose training changes with SEED has a digest"
