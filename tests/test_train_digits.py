"""The training chapter's seed table: the results that ship are the benchmark it describes.

``benchmarks/train_digits.py --json resnet/book/results/train_digits.json`` writes them and
chapter 5 prints its seed table from the file. Running it takes most of an hour on 2 CPU
cores (five seeds of two recipes), so the tests check the shipped file against the
script's defaults and the recipe the package trains with now; the chapter itself runs the
recipe under nbval.
"""

import inspect
import json
import sys
from importlib.resources import files
from pathlib import Path

import pytest

from resnet.train import training

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import train_digits  # noqa: E402


@pytest.fixture(scope="module")
def seeds():
    return json.loads(files("resnet.book").joinpath("results/train_digits.json").read_text())


def test_the_shipped_table_has_every_seed_of_both_recipes(seeds):
    runs = {(run["recipe"], run["seed"]) for run in seeds["runs"]}
    assert len(runs) == len(seeds["runs"]), "a run is in the file twice"
    assert runs == {(name, seed) for name in ("previous", "current")
                    for seed in (0, 1, 2, 3, 4)}
    for run in seeds["runs"]:
        assert 0 <= run["accuracy"] <= 1 and run["wall_seconds"] > 0
        assert 1 <= run["best_epoch"] <= run["epochs"]
    assert "cores" in seeds["machine"] and 0 < seeds["svm"] <= 1


def test_the_shipped_recipes_are_the_script_s_and_the_package_s(seeds):
    # The "current" recipe of the file is train_resnet50's defaults today: a change of the
    # recipe must come with a new run of the benchmark.
    assert seeds["recipes"] == {name: train_digits.describe(name) for name in seeds["recipes"]}
    defaults = inspect.signature(training.train_resnet50).parameters
    assert f"{training.RECIPE_IMAGE_SIZE}x{training.RECIPE_IMAGE_SIZE} images" in \
        seeds["recipes"]["current"]
    assert f"{defaults['epochs'].default} epochs of batch {defaults['batch_size'].default}" in \
        seeds["recipes"]["current"]
