"""The fine-tuning chapter's sweep: the results that ship are the experiment it describes,
and the script resumes run by run.

``benchmarks/transfer_digits.py`` writes ``resnet/book/results/transfer_digits.json``,
and chapter 7 draws its curve, its BN comparison and Figure 7.1 from it. The sweep takes
about an hour on 2 CPU cores, so the tests check the shipped file against the script's
defaults (every k, seed, method and backbone; the same settings) and every run's record
against the settings the file names, and the resuming on the small stand-in for ResNet50
with a budget of a step or two.
"""

import json
import math
import re
import sys
from collections import Counter
from importlib.resources import files
from pathlib import Path

import pytest
from small_resnet50 import small_resnet50

from resnet.train import data
from resnet.train.recipe import FINE_TUNING, RECIPE

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "transfer_digits.py"
sys.path.insert(0, str(SCRIPT.parent))
import transfer_digits  # noqa: E402

# The cheapest sweep that has a run of each kind: k=1 (5 images, repeated to 160: 10 steps
# an epoch), one seed and backbone, one epoch of each budget, 8x8 images (the digits' own).
TINY = ["--ks", "1", "--seeds", "0", "--backbones", "0", "--pretrain-epochs", "1",
        "--scratch-steps", "1", "--head-epochs", "1", "--steps", "1", "--bn-ks", "1",
        "--image-size", "8", "--methods", transfer_digits.SCRATCH, transfer_digits.HEAD,
        transfer_digits.BN_INFERENCE]


@pytest.fixture(scope="module")
def sweep():
    return json.loads(files("resnet.book").joinpath("results/transfer_digits.json").read_text())


@pytest.fixture(scope="module")
def target(sweep):
    """The sweep's target classes at its image size, every training image of them."""
    digits = data.digits(image_size=sweep["image_size"], batch_size=32, seed=0)
    return data.subset(digits, transfer_digits.TARGET)


def test_the_shipped_sweep_has_every_run_of_the_default_settings(sweep):
    defaults = transfer_digits.parser().parse_args([])
    assert {name: sweep[name] for name in transfer_digits.SETTINGS} == \
        transfer_digits.settings_of(defaults)
    keys = [transfer_digits.run_key(run) for run in sweep["runs"]]
    assert len(set(keys)) == len(keys), "a run is in the file twice"
    expected = {(k, seed, method, None if method == transfer_digits.SCRATCH else backbone)
                for k in defaults.ks for seed in defaults.seeds
                for method in transfer_digits.METHODS for backbone in defaults.backbones
                if method != transfer_digits.BN_INFERENCE or k in defaults.bn_ks}
    assert set(keys) == expected
    assert sorted(p["backbone"] for p in sweep["pretrain"]) == sorted(defaults.backbones)
    # What Figure 7.1's caption counts: seeds x backbones runs of each pretrained method
    # at each k, seeds runs of scratch.
    seeds = {run["seed"] for run in sweep["runs"]}
    per_k = Counter((run["k"], run["method"]) for run in sweep["runs"])
    for (k, method), count in per_k.items():
        backbones = 1 if method == transfer_digits.SCRATCH else len(sweep["pretrain"])
        assert count == len(seeds) * backbones, (k, method, count)


def test_every_shipped_run_agrees_with_the_settings_the_file_records(sweep, target):
    batch, n_test = sweep["batch"], len(target.arrays["test"].labels)
    every_image = len(target.arrays["train"].labels)
    for run in sweep["runs"]:
        n, copies = run["train_images"], run["copies"]
        assert n == (every_image if run["k"] == "all" else run["k"] * 5), run
        assert copies == max(1, math.ceil(sweep["min_epoch_images"] / n)), run
        if run["method"] == transfer_digits.HEAD:  # on features: every image, every epoch
            per_epoch, epochs = math.ceil(n * copies / batch), sweep["head_epochs"]
        else:  # full batches; the budget in steps rounded up to whole epochs
            per_epoch = n * copies // batch
            budget = sweep["scratch_steps" if run["method"] == transfer_digits.SCRATCH
                           else "steps"]
            epochs = math.ceil(budget / per_epoch)
        assert (run["epochs"], run["steps"]) == (epochs, epochs * per_epoch), run
        assert run["best_epoch"] <= run["epochs"], run
        # An accuracy of whole test images, on the digits 5-9's test split.
        assert run["test_accuracy"] * n_test == pytest.approx(
            round(run["test_accuracy"] * n_test), abs=1e-6), run
        assert run["machine"] == sweep["machine"], run
        assert run["speed"].startswith(f"float32, XLA {sweep['xla']}:"), run["speed"]


def test_fine_tunings_default_bn_mode_is_the_one_the_sweep_measured_better(sweep):
    bn_ks = transfer_digits.parser().parse_args([]).bn_ks  # where both modes ran
    means = {mode: sum(run["test_accuracy"] for run in sweep["runs"]
                       if run["method"] == method and run["k"] in bn_ks)
             for method, mode in transfer_digits.BATCH_NORM.items()}
    assert FINE_TUNING.batch_norm == max(means, key=means.get), means


def test_each_run_s_recipe_is_the_book_s_at_the_sweep_s_settings():
    args = transfer_digits.parser().parse_args(
        ["--image-size", "8", "--head-epochs", "7", "--pretrain-epochs", "3",
         "--jit-compile", "on"])
    sweep = transfer_digits.Sweep(args)
    batch = transfer_digits.BATCH
    assert sweep.pretrain == RECIPE.replace(image_size=8, epochs=3, jit_compile=True)
    assert sweep.scratch == RECIPE.replace(image_size=8, batch_size=batch, jit_compile=True)
    assert sweep.tuning == FINE_TUNING.replace(head="features", head_epochs=7,
                                               batch_size=batch, jit_compile=True)
    assert sweep.todo(1) == [(transfer_digits.SCRATCH, None)] + [
        (method, backbone) for backbone in (0, 1)
        for method in (transfer_digits.HEAD, transfer_digits.BN_TRAINING)]


def refuse(*args, **kwargs):
    """A model builder for a call that must train nothing."""
    raise AssertionError("a finished run was trained again")


@pytest.mark.slow
def test_the_sweep_keeps_every_finished_run_and_skips_it_when_called_again(tmp_path, capsys):
    path = tmp_path / "sweep.json"
    assert transfer_digits.main([*TINY, "--json", str(path)], build=small_resnet50) == 0
    capsys.readouterr()
    first = json.loads(path.read_text())
    assert [run["method"] for run in first["runs"]] == [
        transfer_digits.SCRATCH, transfer_digits.HEAD, transfer_digits.BN_INFERENCE]
    assert first["runs"][0]["backbone"] is None and first["runs"][1]["backbone"] == 0
    assert (tmp_path / "sweep_backbones" / "backbone0.keras").is_file()

    assert transfer_digits.main([*TINY, "--json", str(path)], build=refuse) == 0
    assert json.loads(path.read_text())["runs"] == first["runs"]
    assert not re.search(r"^\| 1 \| 0 \| ", capsys.readouterr().out, re.M)  # no run line
    with pytest.raises(SystemExit, match=r"other settings \(steps 1 then, 2 now\)"):
        transfer_digits.main([*TINY, "--steps", "2", "--json", str(path)], build=refuse)
