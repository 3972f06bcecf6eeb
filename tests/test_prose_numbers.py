"""Numbers in the book's prose come from the outputs, or name where they come from.

A number typed into prose drifts from the output beside it as soon as the chapter is
re-run (on another CPU kind, with another seed, after a change). So every result that a
chapter's prose quotes (a percentage, a time, an accuracy, a speed) is either

- glued from the cell that computes it (myst-nb's ``{glue:text}`key:fmt```), or
- quoted from elsewhere, with its source in the same paragraph, list item or table (with
  its caption): the paper or another publication (a link, "et al."), another chapter
  (a ``{doc}``/``{ref}`` link), a benchmark script (``benchmarks/...``), or the machine it
  was measured on (its CPU or GPU named), or it is labelled as not measured.

The scan reads every markdown cell of the notebooks and every prose page of the TOC,
solutions included, and skips code (fenced and inline), math and glued values.
``SETTINGS`` lists the few numbers that are settings of the code rather than results.
"""

import re
from pathlib import Path

import nbformat
import pytest
from conftest import toc_files

ROOT = Path(__file__).resolve().parent.parent

RESULT = re.compile(
    r"(?<![\w.,])\d+(?:[.,]\d+)*\s?%"  # a percentage
    r"|(?<![\w.,])\d+(?:\.\d+)?\s?(?:s|seconds?|min|minutes?|ms)\b"  # a time
    r"|\baccurac(?:y|ies)\s(?:\w+\s){0,3}?0\.\d+"  # an accuracy written as a fraction
    r"|(?<![\w.,])\d+(?:\.\d+)?\s?images/s"  # a speed
    r"|(?<![\w.,])\d+(?:\.\d+)?\s?(?:x|times)\s(?:as fast|faster|slower)",  # a speed-up
    re.IGNORECASE,
)
SOURCE = re.compile(
    r"et al\.|arXiv|\]\(https?://|\{doc\}|\{ref\}|\{cite|benchmarks/"
    r"|\bEPYC\b|\bXeon\b|NVIDIA|\bGPU\b.*\bmeasured|not measured|unmeasured"
    r"|the paper|He et al",
    re.IGNORECASE,
)

# Numbers that are settings of the code, not results: (page, the text, why it is no result).
SETTINGS = []

FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*(\S*)")
ROLE = re.compile(r"\{glue(?::\w+)?\}`[^`]*`")  # a glued value: the number comes from a cell
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S)
BLOCK_START = re.compile(r"^\s*(?:[-*+]|\d+\.)\s|^\s*#")  # a list item or a heading


def _prose_pages():
    for name in toc_files():
        notebook, page = ROOT / f"{name}.ipynb", ROOT / f"{name}.md"
        if notebook.exists():
            cells = nbformat.read(notebook, as_version=4).cells
            yield name, [cell.source for cell in cells if cell.cell_type == "markdown"]
        elif page.exists():
            yield name, [page.read_text(encoding="utf-8")]


def _without_code(text):
    """The markdown with code fences removed (directive fences such as solutions kept)."""
    kept, closing = [], None
    for line in text.splitlines():
        if closing is not None:
            if line.strip().startswith(closing) and not line.strip().strip(closing[0]):
                closing = None
            kept.append("")
            continue
        match = FENCE.match(line)
        if match and not match.group(2).startswith("{"):
            closing = match.group(1)
            kept.append("")
            continue
        kept.append("" if match else line)  # a directive's fence line itself is no prose
    return "\n".join(kept)


def blocks(text):
    """The paragraphs, list items and tables of a markdown text, code and math removed.

    A table and the paragraph right after it (its caption) form one block.
    """
    text = MATH.sub(" ", _without_code(text))
    found, current, table = [], [], False
    for line in text.splitlines():
        is_table = line.lstrip().startswith("|")
        if not line.strip() or BLOCK_START.match(line) or (current and is_table != table
                                                          and not table):
            if current:
                found.append("\n".join(current))
            current = []
        if line.strip():
            if not current:
                table = is_table
            current.append(line)
    if current:
        found.append("\n".join(current))
    merged = []
    for block in found:
        if merged and merged[-1].lstrip().startswith("|") and not block.lstrip().startswith(
                ("|", "#", "-", "*")):
            merged[-1] += "\n" + block  # a table's caption
        else:
            merged.append(block)
    return merged


def unsourced_numbers(text, settings=()):
    """The results in ``text`` that are neither glued nor given with their source."""
    problems = []
    for block in blocks(text):
        if SOURCE.search(block):
            continue
        prose = INLINE_CODE.sub(" ", ROLE.sub(" ", block))
        for setting in settings:
            prose = prose.replace(setting, " ")
        problems += [f"{match.group(0)!r} in: {' '.join(block.split())[:160]}"
                     for match in RESULT.finditer(prose)]
    return problems


PAGES = dict(_prose_pages())


@pytest.mark.parametrize("page", PAGES)
def test_numbers_in_prose_are_glued_or_sourced(page):
    settings = [text for name, text, _ in SETTINGS if name == page]
    problems = [problem for source in PAGES[page] for problem in unsourced_numbers(source,
                                                                                   settings)]
    assert not problems, (
        f"{page}: numbers typed into prose without a glue or a source (glue them from the "
        "cell that computes them, or name where they come from):\n" + "\n".join(problems))


@pytest.mark.parametrize("text, expected", [
    ("The run reached 98.9% test accuracy.", 1),
    ("It took 156 s on two cores.", 1),
    ("A validation accuracy of 0.68 at the end.", 1),
    ("Training ran at 49.5 images/s.", 1),
    ("XLA made it 2.3 times as fast.", 1),
    ("The run reached {glue:text}`test_accuracy:.1%` test accuracy.", 0),
    ("Measured on 2 cores of an AMD EPYC with AVX-512: 49.5 images/s.", 0),
    ("Top-1 error 28.54% ([He et al. 2015](https://arxiv.org/abs/1512.03385)).", 0),
    ("```python\nprint(f'{x:.1%}')  # 98%\n```", 0),
    ("Use `shift=0.1` (10% of the width).", 1),
    ("| seed | accuracy |\n| --- | --- |\n| 0 | 98.6% |\n\nMeasured with "
     "`benchmarks/train_digits.py`.", 0),
    ("| seed | accuracy |\n| --- | --- |\n| 0 | 98.6% |\n\nThe mean is good.", 1),
    ("- first item, 97%\n- second item, from chapter 5 ({doc}`05_training`): 98%", 1),
    ("````{admonition} Solution\n:class: dropdown\nIt gets 17% better.\n````", 1),
    ("The weights $w_{10\\%}$ are drawn.", 0),
])
def test_the_scan_finds_typed_numbers(text, expected):
    assert len(unsourced_numbers(text)) == expected, unsourced_numbers(text)


# Comparisons ----------------------------------------------------------------------------
# A sentence that quotes a glued result and calls it "above", "faster" or "converged"
# makes a claim the next run can contradict. So in such a sentence the direction word is
# glued too (chosen by the cell from the figures), or a code cell of the same notebook
# tagged ``remove-cell`` asserts it and names the phrase in a comment, ``# prose: far
# above chance``, or the sentence names its source (a quoted figure, as above).
DIRECTION = re.compile(
    r"\b(?:above|below|faster|slower|converged|converges|ahead|behind|better|worse"
    r"|higher|lower|beats?|outperform\w*|more accurate|less accurate|exceeds?)\b",
    re.IGNORECASE)
# "the cell above", "its epochs below": where something is on the page, no comparison.
POSITION = re.compile(
    r"\b(?:cells?|tables?|runs?|trainings?|figures?|code|outputs?|epochs|lines?|lists?)\s+"
    r"(?:above|below)\b", re.IGNORECASE)
QUOTED = re.compile(r'"[^"]*"')
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(*])")
PROSE_CLAIM = re.compile(r"^\s*# prose: (.+?)\s*$", re.MULTILINE)


def asserted_phrases(notebook):
    """The phrases that hidden cells of ``notebook`` assert (``# prose: ...``)."""
    phrases = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        if (cell.cell_type == "code" and "remove-cell" in cell.metadata.get("tags", [])
                and re.search(r"^\s*assert\b", cell.source, re.MULTILINE)):
            phrases += [" ".join(p.split()) for p in PROSE_CLAIM.findall(cell.source)]
    return phrases


def typed_comparisons(text, asserted=()):
    """The direction words typed into sentences that quote a glued result."""
    problems = []
    for block in blocks(text):
        for sentence in SENTENCE.split(block):
            if "{glue" not in sentence or SOURCE.search(sentence):
                continue
            flat = " ".join(sentence.split())
            prose = POSITION.sub(" ", INLINE_CODE.sub(" ", ROLE.sub(" ", flat)))
            prose = QUOTED.sub(" ", prose)  # "the network beats the SVM": a claim quoted
            for phrase in asserted:
                prose = prose.replace(phrase, " ")
            problems += [f"{match.group(0)!r} in: {flat[:160]}"
                         for match in DIRECTION.finditer(prose)]
    return problems


@pytest.mark.parametrize("page", PAGES)
def test_comparisons_with_glued_results_are_glued_or_asserted(page):
    notebook = ROOT / f"{page}.ipynb"
    asserted = asserted_phrases(notebook) if notebook.exists() else []
    problems = [problem for source in PAGES[page]
                for problem in typed_comparisons(source, asserted)]
    assert not problems, (
        f"{page}: comparisons typed beside glued results (glue the word from the cell that "
        "computes the figures, or assert it in a hidden cell with '# prose: <phrase>'):\n"
        + "\n".join(problems))


@pytest.mark.parametrize("text, asserted, expected", [
    ("It reached {glue:text}`a:.1%`, above the SVM.", (), 1),
    ("It reached {glue:text}`a:.1%`, {glue:text}`verdict` the SVM.", (), 0),
    ("It reached {glue:text}`a:.1%`, far above chance.", ("far above chance",), 0),
    ("The cell above printed {glue:text}`a:.1%`.", (), 0),
    ("XLA ran {glue:text}`r:.1f` times faster on an AMD EPYC.", (), 0),
    ("Deeper networks train slower.", (), 0),  # no glued result: a statement, not a run's
    ("It took {glue:text}`s:.0f` s. It is faster.", (), 0),  # another sentence
    ("First {glue:text}`a:.0f` s, then it converged.", (), 1),
    ('It got {glue:text}`a:.1%`: "it beats the SVM" does not follow.', (), 0),
])
def test_the_scan_finds_typed_comparisons(text, asserted, expected):
    assert len(typed_comparisons(text, asserted)) == expected, typed_comparisons(text, asserted)


# Ranges and machines ---------------------------------------------------------------------
# A range typed into prose ("0.02 to 0.07", "2.5 to 13.5 times") is a summary of runs the
# page does not hold: the next run falls outside it and the sentence is false. A range is
# computed from a shipped results file and glued, whatever its source.
TYPED_RANGE = re.compile(
    r"(?<![\w.,])\d+(?:\.\d+)?\s*%?\s*(?:to|-|–)\s*\d+(?:\.\d+)?\s*"
    r"(?:%|times\b|x\b|s\b|ms\b|images/s|points\b|steps\b|GFLOP/s)",
    re.IGNORECASE)


def typed_matches(text, pattern):
    """What ``pattern`` finds in ``text``'s prose (glued values and code left out)."""
    problems = []
    for block in blocks(text):
        prose = INLINE_CODE.sub(" ", ROLE.sub(" ", block))
        problems += [f"{match.group(0)!r} in: {' '.join(block.split())[:160]}"
                     for match in pattern.finditer(prose)]
    return problems


def typed_ranges(text):
    """The numeric ranges typed into ``text``'s prose."""
    return typed_matches(text, TYPED_RANGE)


@pytest.mark.parametrize("page", PAGES)
def test_no_range_is_typed_into_prose(page):
    problems = [problem for source in PAGES[page] for problem in typed_ranges(source)]
    assert not problems, f"{page}: ranges typed into prose (glue them from a file):\n" + (
        "\n".join(problems))


@pytest.mark.parametrize("text, expected", [
    ("residual-32's share ran from 0.02 to 0.07 times the plain one's", 1),
    ("between 95.8% to 98.1% over seeds", 1),
    ("plain-32 rose on 15-17 steps", 1),
    ("from {glue:text}`low:.1%` to {glue:text}`high:.1%`", 0),
    ("chapters 1 to 4 build the network", 0),
    ("the 8x8 digits, resized to 16x16", 0),
])
def test_the_scan_finds_typed_ranges(text, expected):
    assert len(typed_ranges(text)) == expected, typed_ranges(text)


# Per-CPU lore (kernels, vector units, CPU models) lives in chapter 11 and the Performance
# appendix, glued from resnet/book/results/cpu_measurements.json. Another chapter names
# only the machine that produced its own outputs, and that name is glued.
MACHINE_LORE = re.compile(
    r"\b(?:EPYC|Xeon|AVX\w*|AMX|oneDNN|lscpu|Zen \d|Conv2DBackpropInput)\b")
LORE_PAGES = ("notebooks/11_faster_training", "book/performance", "book/references")


def machine_lore(text):
    """CPU names and kernel lore typed into ``text``'s prose (glued names left out)."""
    return typed_matches(text, MACHINE_LORE)


@pytest.mark.parametrize("page", [page for page in PAGES if page not in LORE_PAGES])
def test_chapters_leave_machine_lore_to_the_appendix(page):
    problems = [problem for source in PAGES[page] for problem in machine_lore(source)]
    assert not problems, (
        f"{page}: per-CPU lore on a reader's page (move it to chapter 11 or the "
        "Performance appendix, or glue the page's own machine):\n" + "\n".join(problems))


@pytest.mark.parametrize("text, expected", [
    ("On an AVX-512 EPYC XLA only adds work.", 2),
    ("The run ran on {glue:text}`cpu`.", 0),
    ("oneDNN picks other kernels.", 1),
])
def test_the_scan_finds_machine_lore(text, expected):
    assert len(machine_lore(text)) == expected, machine_lore(text)
