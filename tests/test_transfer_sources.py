"""The sources sweep (``benchmarks/transfer_sources.py``): its design and its resuming.

The sweep itself trains ResNet50 for hours; these tests run its mechanisms on the small
stand-in of ``small_resnet50.py`` at 8x8, with one k, one seed, one backbone and budgets
of a few steps: which runs it makes, what each records, that a finished run is never
trained again, and what happens when a backbone's weights are gone.
"""

import argparse
import json
import re
import sys
from pathlib import Path

import pytest
from small_resnet50 import small_resnet50

from resnet.train.recipe import FINE_TUNING, RECIPE

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import transfer_sources  # noqa: E402

TINY = ["--sources", "digits", "glyphs", "--ks", "1", "--seeds", "0", "--backbones", "0",
        "--image-size", "8", "--pretrain-epochs", "1", "--head-steps", "12", "--steps", "11",
        "--scratch-steps", "23", "--probe-sizes", "300", "--bn-ks", "1"]
# At k=1, 160 images an epoch: whole epochs of 20, 20 and 30 steps.


def refuse(*args, **kwargs):
    """A model builder for a call that must train nothing."""
    raise AssertionError("a finished run was trained again")


def test_each_run_s_recipe_is_the_book_s_at_the_sweep_s_settings():
    args = transfer_sources.parse(
        ["--image-size", "8", "--pretrain-epochs", "3", "--jit-compile", "on"])
    sweep = transfer_sources.Sweep(args)
    batch = transfer_sources.BATCH
    assert sweep.pretrain == RECIPE.replace(image_size=8, epochs=3, jit_compile=True)
    assert sweep.scratch == RECIPE.replace(image_size=8, batch_size=batch, jit_compile=True)
    # The package's own fine-tuning but for the head on features and the batch: BN as
    # FINE_TUNING says (its default mode), its learning rates and augmentation.
    assert sweep.tuning == FINE_TUNING.replace(head="features", batch_size=batch,
                                               jit_compile=True)
    pretrained = [transfer_sources.HEAD, transfer_sources.FINE_TUNE]
    assert sweep.todo("glyphs", 1) == [(k, seed, pretrained)
                                       for k in (1, 5, 20, "all") for seed in (0, 1, 2)]
    # The other BN mode only for chapter 7's source, at 5 a class and with every image.
    both = [*pretrained, transfer_sources.BN_TRAINING]
    assert sweep.todo("digits", 0) == [(k, seed, both if k in (5, "all") else pretrained)
                                       for k in (1, 5, 20, "all") for seed in (0, 1, 2)]


def test_a_k_is_a_positive_number_or_all():
    assert transfer_sources.k_value("all") == "all" and transfer_sources.k_value("5") == 5
    for bad in ("0", "-1", "many"):
        with pytest.raises(argparse.ArgumentTypeError, match="positive whole number or .all."):
            transfer_sources.k_value(bad)


def test_a_results_file_of_other_settings_is_refused_naming_them(tmp_path):
    path = tmp_path / "sweep.json"
    settings = transfer_sources.settings_of(transfer_sources.parse([]))
    path.write_text(json.dumps({**settings, "pretrain": [], "runs": []}))
    assert transfer_sources.load(path, settings)["runs"] == []
    with pytest.raises(SystemExit, match=r"other settings \(steps 200 then, 2 now, "
                                         r"xla 'off' then, 'on' now\)"):
        transfer_sources.load(path, {**settings, "steps": 2, "xla": "on"})
    path.write_text("[]")
    with pytest.raises(SystemExit, match="not a results file"):
        transfer_sources.load(path, settings)


def test_scratch_s_budget_must_be_at_least_fine_tuning_s(capsys):
    with pytest.raises(SystemExit):
        transfer_sources.parse(["--head-steps", "300", "--steps", "200",
                                "--scratch-steps", "499"])
    assert "--scratch-steps (499) must be at least" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        transfer_sources.parse(["--steps", "0"])
    assert "--steps must be 1 or more" in capsys.readouterr().err


def test_the_sources_are_the_sizes_they_are_said_to_be():
    from resnet.train import data

    digits = data.digits(image_size=8, seed=0)
    for name, (_, size) in transfer_sources.SOURCES.items():
        if name != "glyphs-large":  # 33,334 images: their count is glyphs' own test
            dataset = transfer_sources.source_dataset(name, digits, 8)
            assert len(dataset.arrays["train"].labels) == size, name
            assert not set(dataset.class_names) & set(transfer_sources.TARGET)
    from resnet.train import glyphs

    for size in (20_000, *transfer_sources.PROBE_SIZES, 9_999, 10_000):
        assert glyphs._split_sizes(transfer_sources.glyph_count(size), 0.2, 0.2)[0] == size


@pytest.mark.slow
def test_the_sweep_records_every_run_and_skips_it_when_called_again(tmp_path, capsys):
    path = tmp_path / "sweep.json"
    assert transfer_sources.main([*TINY, "--json", str(path)], build=small_resnet50) == 0
    capsys.readouterr()
    first = json.loads(path.read_text())
    keys = [(run["source"], run["method"], run["backbone"]) for run in first["runs"]]
    assert keys == [("digits", "head only", 0), ("digits", "fine-tune", 0),
                    ("digits", "fine-tune, BN training", 0), (None, "scratch", 0),
                    ("glyphs", "head only", 0), ("glyphs", "fine-tune", 0)]
    for run in first["runs"]:
        # k counts every label: 1 a class, no validation images, repeated to 160.
        assert (run["k"], run["train_images"], run["copies"]) == (1, 5, 32)
        assert run["machine"] == first["machine"] and run["seconds"] > 0
    head, tune, bn_training, scratch = first["runs"][:4]
    # 160 images: 10 steps an epoch; whole epochs of at least each budget, and scratch's
    # at least fine-tuning's (40 steps, above its own 23).
    assert (head["steps"], tune["steps"], scratch["steps"]) == (20, 20 + 20, 40)
    assert bn_training["steps"] == tune["steps"]  # the same run but for BN's mode
    assert head["half_test_accuracy"] is None and tune["half_test_accuracy"] is not None
    assert scratch["recipe_seed"] == 10 * scratch["seed"] + scratch["backbone"]
    sources = {p["source"]: p for p in first["pretrain"]}
    assert {name: (p["source_images"], p["classes"]) for name, p in sources.items()} == {
        "digits": (540, 5), "glyphs": (540, 26), "glyphs-300": (300, 26)}
    assert all(len(p["val_accuracy"]) == 1 and 0 <= p["test_accuracy"] <= 1
               for p in sources.values())

    assert transfer_sources.main([*TINY, "--json", str(path)], build=refuse) == 0
    assert json.loads(path.read_text())["runs"] == first["runs"]
    assert not re.search(r"^\| \w* \| 1 \| 0 \| ", capsys.readouterr().out, re.M)
    with pytest.raises(SystemExit, match=r"other settings \(steps 11 then, 2 now\)"):
        transfer_sources.main([*TINY, "--steps", "2", "--json", str(path)], build=refuse)

    # The digits' backbone lost, and its record not what pretraining gives again (as on
    # another machine), with a run still to make: its finished runs are dropped and made
    # again with the new backbone; the glyphs' and scratch's are kept.
    (tmp_path / "sweep_backbones" / "digits_backbone0.keras").unlink()
    first["pretrain"][0]["weights"] = "0000000000000000"
    path.write_text(json.dumps(first))
    more = ["--sources", "digits", "--methods", "head only", "--ks", "1", "5"]
    assert transfer_sources.main([*TINY, *more, "--json", str(path)],
                                 build=small_resnet50) == 0
    assert "its 3 runs are dropped, to be made again with it" in capsys.readouterr().out
    again = json.loads(path.read_text())
    assert [(run["source"], run["method"], run["k"]) for run in again["runs"]] == [
        (None, "scratch", 1), ("glyphs", "head only", 1), ("glyphs", "fine-tune", 1),
        ("digits", "head only", 1), ("digits", "head only", 5)]
    assert again["runs"][:3] == first["runs"][3:]
    assert [p["source"] for p in again["pretrain"]] == ["glyphs", "glyphs-300", "digits"]
    assert again["pretrain"][2]["weights"] != "0000000000000000"


def test_every_shipped_run_agrees_with_the_script_s_settings_and_budgets():
    """The results file ships as the sweep goes (it spans sessions): whatever it holds was
    made with the script's defaults, once each, with the budgets the script says."""
    import math

    found = _shipped()
    args = transfer_sources.parse([])
    assert {name: found[name] for name in transfer_sources.SETTINGS} == \
        transfer_sources.settings_of(args)
    keys = [transfer_sources.run_key(run) for run in found["runs"]]
    assert len(keys) == len(set(keys))
    pretrained = {(p["source"], p["backbone"]) for p in found["pretrain"]}
    batch = transfer_sources.BATCH
    for run in found["runs"]:
        assert run["k"] in args.ks and run["seed"] in args.seeds, run
        assert run["backbone"] in args.backbones and run["method"] in args.methods, run
        if run["method"] != transfer_sources.SCRATCH:
            assert (run["source"], run["backbone"]) in pretrained, run
        if run["method"] == transfer_sources.BN_TRAINING:
            assert run["source"] in args.bn_sources and run["k"] in args.bn_ks, run
        if run["k"] != "all":
            assert run["train_images"] == run["k"] * len(transfer_sources.TARGET), run
        n = run["train_images"] * run["copies"]
        assert n >= transfer_sources.MIN_EPOCH_IMAGES
        head_epoch, epoch = math.ceil(n / batch), n // batch
        head = math.ceil(args.head_steps / head_epoch) * head_epoch
        tuning = head + math.ceil(args.steps / epoch) * epoch
        scratch = math.ceil(max(args.scratch_steps, tuning) / epoch) * epoch
        assert run["steps"] == {transfer_sources.HEAD: head, transfer_sources.FINE_TUNE: tuning,
                                transfer_sources.BN_TRAINING: tuning,
                                transfer_sources.SCRATCH: scratch}[run["method"]], run


def _shipped():
    from importlib.resources import files

    return json.loads(files("resnet.book").joinpath("results/transfer_sources.json")
                      .read_text())


def test_the_package_s_fine_tuning_budget_is_the_sweep_s_with_every_image():
    """``FINE_TUNING``'s epochs and batch are what the sweep trained on every image of
    its target (recipe.py gives the reason)."""
    from resnet.train import data

    sweep = transfer_sources.Sweep(transfer_sources.parse([]))
    digits = data.digits(image_size=sweep.args.image_size, seed=0)
    every = sweep.draw(digits, "all", 0).dataset
    head_epochs, epochs, _ = sweep.budget(every)
    assert (FINE_TUNING.head_epochs, FINE_TUNING.epochs) == (head_epochs, epochs)
    assert FINE_TUNING.batch_size == transfer_sources.BATCH


def test_the_package_s_bn_mode_scored_the_higher_mean_in_the_shipped_sweep():
    import numpy as np

    runs = {transfer_sources.run_key(run): run["test_accuracy"] for run in _shipped()["runs"]}
    pairs = np.array([(accuracy, runs[source, k, seed, transfer_sources.FINE_TUNE, backbone])
                      for (source, k, seed, method, backbone), accuracy in runs.items()
                      if method == transfer_sources.BN_TRAINING])
    assert len(pairs), "the shipped sweep has no runs of both BN modes"
    means = dict(zip(("training", "inference"), pairs.mean(axis=0), strict=True))
    assert FINE_TUNING.batch_norm == max(means, key=means.get), means
