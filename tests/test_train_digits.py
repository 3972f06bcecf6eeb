"""The training chapter's seed table: the results that ship are the benchmark it describes.

``benchmarks/train_digits.py --json resnet/book/results/train_digits.json`` writes them and
chapter 5 prints its seed table from the file. Running it takes most of an hour on 2 CPU
cores (five seeds of two recipes), so the tests check the shipped file against the
script's defaults and the recipe the package trains with now, and every run's figures
against each other and against the split they were measured on; the chapter itself runs
the recipe under nbval.
"""

import json
import sys
from importlib.resources import files
from pathlib import Path

import pytest

from resnet.book import baseline
from resnet.train import data
from resnet.train.recipe import RECIPE

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
import train_digits  # noqa: E402


@pytest.fixture(scope="module")
def seeds():
    return json.loads(files("resnet.book").joinpath("results/train_digits.json").read_text())


def test_the_shipped_table_has_every_seed_of_both_recipes(seeds):
    defaults = train_digits.parse([])
    runs = {(run["recipe"], run["seed"]) for run in seeds["runs"]}
    assert len(runs) == len(seeds["runs"]), "a run is in the file twice"
    assert runs == {(name, seed) for name in defaults.recipes for seed in defaults.seeds}


def test_every_shipped_run_agrees_with_its_recipe_and_the_split(seeds):
    n_test = len(data.digits(image_size=RECIPE.image_size, seed=0).arrays["test"].labels)
    recipes = train_digits.recipes()
    for name, recipe in recipes.items():
        runs = [run for run in seeds["runs"] if run["recipe"] == name]
        # The speed is decided once per recipe, before the runs: one for all of them, in
        # the recipe's precision (float32 when it says so; bfloat16 is never tried).
        (speed,) = {run["speed"] for run in runs}
        if recipe.mixed_precision == "float32":
            assert speed.startswith("float32, "), speed
        assert not speed.startswith("mixed_bfloat16"), speed
        for run in runs:
            # Every epoch of the recipe ran (no --epochs smoke run), and the images
            # wrong are the accuracy's, on the test split's images.
            assert run["epochs"] == recipe.epochs and run["best_epoch"] <= run["epochs"], run
            right = run["accuracy"] * n_test
            assert right == pytest.approx(round(right), abs=1e-6), run
            assert run["wrong"] == n_test - round(right), run


def test_the_shipped_svm_is_the_svm_on_the_same_split(seeds):
    # The script scores the SVM on the first recipe's dataset: the previous one's, 32x32.
    size = train_digits.recipes()[next(iter(seeds["recipes"]))].image_size
    svm = baseline.svm_accuracy(data.digits(image_size=size, batch_size=32, seed=0))
    assert seeds["svm"] == pytest.approx(svm, abs=1e-12)


def test_the_shipped_recipes_are_the_script_s_and_the_package_s(seeds):
    # The "current" recipe of the file is the package's recipe today: a change of the
    # recipe must come with a new run of the benchmark.
    assert seeds["recipes"] == {name: train_digits.describe(name) for name in seeds["recipes"]}
    assert seeds["recipes"]["current"].startswith(
        f"{RECIPE.image_size}x{RECIPE.image_size} images, {RECIPE.epochs} epochs of batch "
        f"{RECIPE.batch_size}, Adam peaking at {RECIPE.peak_learning_rate:g}, ")


def test_the_command_line_s_switches_reach_the_recipes():
    args = train_digits.parse(["--recipes", "current", "--epochs", "2", "--jit-compile", "on"])
    assert train_digits.chosen_recipes(args) == {
        "current": RECIPE.replace(epochs=2, jit_compile=True)}
    previous = train_digits.chosen_recipes(train_digits.parse(["--jit-compile", "off"]))
    assert previous["previous"] == RECIPE.replace(**train_digits.PREVIOUS, jit_compile=False)
    # What a results file says of a recipe is the recipe that ran.
    assert train_digits.describe(previous["previous"]) == train_digits.describe("previous")
    assert "2 epochs" in train_digits.describe(RECIPE.replace(epochs=2))
