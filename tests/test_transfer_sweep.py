"""The fine-tuning chapter's sweep: the results that ship are the experiment it describes,
and the script resumes run by run.

``benchmarks/transfer_digits.py`` writes ``resnet/book/results/transfer_digits.json``,
and chapter 7 draws its curve, its BN comparison and Figure 7.1 from it. The sweep takes
about an hour on 2 CPU cores, so the tests check the shipped file against the script's
defaults (every k, seed, method and backbone; the same settings), and the resuming on the
small stand-in for ResNet50 with a budget of a step or two.
"""

import argparse
import json
import re
import sys
from importlib.resources import files
from pathlib import Path

import pytest
from small_resnet50 import use_small_resnet50

from resnet.train import finetune, training

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "transfer_digits.py"
sys.path.insert(0, str(SCRIPT.parent))
import transfer_digits  # noqa: E402

TINY = ["--ks", "1", "--seeds", "0", "--backbones", "0", "--pretrain-epochs", "1",
        "--scratch-steps", "1", "--head-epochs", "1", "--steps", "1", "--bn-ks", "1",
        "--methods", transfer_digits.SCRATCH, transfer_digits.HEAD,
        transfer_digits.BN_INFERENCE]


@pytest.fixture(scope="module")
def sweep():
    return json.loads(files("resnet.book").joinpath("results/transfer_digits.json").read_text())


def test_the_shipped_sweep_has_every_run_of_the_default_settings(sweep):
    defaults = transfer_digits.parser().parse_args([])
    constants = {"val_per_class": transfer_digits.VAL_PER_CLASS,
                 "batch": transfer_digits.BATCH, "xla": defaults.jit_compile,
                 "min_epoch_images": transfer_digits.MIN_EPOCH_IMAGES}
    for name in transfer_digits.SETTINGS:
        assert sweep[name] == constants.get(name, getattr(defaults, name, None)), name
    keys = [transfer_digits.run_key(run) for run in sweep["runs"]]
    assert len(set(keys)) == len(keys), "a run is in the file twice"
    expected = {(k, seed, method, None if method == transfer_digits.SCRATCH else backbone)
                for k in defaults.ks for seed in defaults.seeds
                for method in transfer_digits.METHODS for backbone in defaults.backbones
                if method != transfer_digits.BN_INFERENCE or k in defaults.bn_ks}
    assert set(keys) == expected
    assert sorted(p["backbone"] for p in sweep["pretrain"]) == sorted(defaults.backbones)
    for run in sweep["runs"]:
        assert 0 <= run["test_accuracy"] <= 1
        assert 1 <= run["best_epoch"] <= run["epochs"]
        if run["method"] == transfer_digits.SCRATCH:
            assert run["steps"] >= defaults.scratch_steps
        elif run["method"] != transfer_digits.HEAD:
            assert run["steps"] >= defaults.steps
        assert "family" in run["machine"] and "model" in run["machine"]


def test_fine_tunings_default_bn_mode_is_the_one_the_sweep_measured_better(sweep):
    bn_ks = transfer_digits.parser().parse_args([]).bn_ks  # where both modes ran
    means = {mode: sum(run["test_accuracy"] for run in sweep["runs"]
                       if run["method"] == method and run["k"] in bn_ks)
             for method, mode in transfer_digits.BATCH_NORM.items()}
    assert finetune.PHASE_2_BATCH_NORM == max(means, key=means.get), means


def test_a_k_is_a_positive_number_or_all():
    assert transfer_digits.k_value("all") == "all" and transfer_digits.k_value("5") == 5
    for bad in ("0", "-1", "many"):
        with pytest.raises(argparse.ArgumentTypeError, match="positive whole number or .all."):
            transfer_digits.k_value(bad)


@pytest.mark.slow
def test_the_sweep_keeps_every_finished_run_and_skips_it_when_called_again(
        tmp_path, monkeypatch, capsys):
    path = tmp_path / "sweep.json"
    with use_small_resnet50():
        assert transfer_digits.main([*TINY, "--json", str(path)]) == 0
    capsys.readouterr()
    first = json.loads(path.read_text())
    assert [run["method"] for run in first["runs"]] == [
        transfer_digits.SCRATCH, transfer_digits.HEAD, transfer_digits.BN_INFERENCE]
    assert first["runs"][0]["backbone"] is None and first["runs"][1]["backbone"] == 0
    assert (tmp_path / "sweep_backbones" / "backbone0.keras").is_file()

    def no_training(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(training, "train_resnet50", no_training)
    monkeypatch.setattr(finetune, "fine_tune_resnet50", no_training)
    with use_small_resnet50():
        assert transfer_digits.main([*TINY, "--json", str(path)]) == 0
    assert json.loads(path.read_text())["runs"] == first["runs"]
    assert not re.search(r"^\| 1 \| 0 \| ", capsys.readouterr().out, re.M)  # no run line
    with pytest.raises(SystemExit, match=r"other settings \(steps 1 in the file, 2 now\)"):
        transfer_digits.main([*TINY, "--steps", "2", "--json", str(path)])
