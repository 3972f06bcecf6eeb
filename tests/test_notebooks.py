"""The chapters follow the book's conventions (their outputs are tested by nbval).

Every chapter: cell 2 silences TensorFlow before it is imported, one title,
learning goals at the top, a summary, and exercises whose solutions are hidden
behind a toggle. Chapters 2 to 4 end with a "Your turn" exercise whose solution
cell is hidden and checked by resnet.checks.
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
    assert f"from resnet.checks import {check}" in checked.source
    assert f"{check}({function})" in checked.source
    assert cells[start + 2:] == [checked], "'Your turn' ends the chapter"
    printed = "".join(o.get("text", "") for o in checked.outputs if o.output_type == "stream")
    assert "All checks passed." in printed
