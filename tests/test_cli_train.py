"""``python -m resnet train``: a folder of images in, a model that ``predict`` can name out.

The training runs are real and run in subprocesses, as a reader would run them, on 18
images at 16x16, with the small stand-in for ResNet50 of ``small_resnet50.py`` as the
builder (``python tests/small_resnet50.py ARGS``: the command line's mechanisms do not
depend on the depth; the chapters train the real network). One uninterrupted run from
scratch and one fine-tuning run from it are shared by the tests of the output, of
``predict`` and of resuming; each kind of run is killed and resumed once. Bad input is
refused before any training, so those tests call ``resnet.cli.main`` in this process,
with a builder that fails if training starts.
"""

import json
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from conftest import CLASSES, make_shape_classes, run_cli
from PIL import Image
from small_resnet50 import small_resnet50
from tensorflow import keras

from resnet import cli
from resnet.preprocessing import preprocessing_name
from resnet.train import backup as backup_module
from resnet.train import finetune, saving, training
from resnet.train import folder as folder_module
from resnet.train.recipe import RECIPE, FineTuning

pytestmark = pytest.mark.slow  # every test trains or starts `python -m resnet` (minutes)

EPOCHS = 2  # killed after the first, resumed for the second


def _train_args(folder, out):
    # XLA off: no minute spent measuring it, and deterministic ops refuse some XLA kernels.
    return ["train", folder, "--out", out, "--input-shape", 16, 16, 1, "--epochs", EPOCHS,
            "--batch-size", 6, "--val-split", 0.25, "--seed", 1, "--xla", "off"]


def _never_built(**kwargs):
    raise AssertionError("training started")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = make_shape_classes(tmp_path_factory.mktemp("shapes"))
    (root / "circle" / "notes.txt").write_text("not an image")
    (root / "square" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return root


class Killed(NamedTuple):
    """A run killed in the pause after an epoch's backup: its process (exited), its --out."""

    process: subprocess.Popen
    out: Path


def _kill_when(process, backed_up):
    """SIGKILL ``process`` as soon as ``backed_up()`` (polled every 50 ms: within the 2 s
    pause that ends every epoch), or leave it if it ends first (the test then fails)."""
    deadline = time.monotonic() + 400
    while process.poll() is None and time.monotonic() < deadline:
        if backed_up():
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)


def _beside_a_killed_run(args, killed_args, backed_up, killed_out):
    """Run ``args`` to the end while a run of ``killed_args`` goes on beside it and is killed
    once ``backed_up()``: the two overlap (their tracing is one core's work each), so that
    the resume tests need one more run, not two. Returns (result, Killed)."""
    process = run_cli(*killed_args, deterministic=True, small=True, pause=2, popen=True)
    watcher = threading.Thread(target=_kill_when, args=(process, backed_up))
    watcher.start()
    try:
        result = run_cli(*args, deterministic=True, small=True)
    finally:
        watcher.join()
        process.kill()
        process.wait()
    assert result.returncode == 0, result.stderr[-3000:]
    return result, Killed(process, killed_out)


@pytest.fixture(scope="module")
def both(folder, tmp_path_factory):
    """The uninterrupted run from scratch (result, out, logdir), and beside it the same run
    killed after its first epoch."""
    out = tmp_path_factory.mktemp("run") / "shapes.keras"
    logdir = tmp_path_factory.mktemp("logs")
    killed_out = tmp_path_factory.mktemp("killed") / "shapes.keras"
    backup = Path(f"{killed_out}.backup")
    result, killed = _beside_a_killed_run(
        [*_train_args(folder, out), "--logdir", logdir], _train_args(folder, killed_out),
        lambda: backup_module.finished_epochs(backup) >= 1, killed_out)
    return (result, out, logdir), killed


@pytest.fixture(scope="module")
def uninterrupted(both):
    return both[0]


# Training end to end ----------------------------------------------------------------------


def test_train_reports_the_data_the_speed_choice_each_epoch_and_the_result(uninterrupted):
    result, out, _ = uninterrupted
    text = result.stdout
    assert "Skipped 2 file(s) that are not readable images: notes.txt, broken.png." in text
    assert "Classes: circle, square, stripes" in text
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.strip()}
    assert rows["class"] == ["train", "val"]
    for name in CLASSES:  # 8 images a class, a quarter held out
        assert rows[name] == ["6", "2"]
    assert rows["total"] == ["18", "6"]
    assert "Speed: float32, XLA off: the only candidate" in text
    assert all(f"Epoch {k}/{EPOCHS}" in text for k in range(1, EPOCHS + 1))
    assert "val_accuracy" in text  # Keras' progress line of each epoch
    assert f"for {EPOCHS} epoch(s) in this run" in text
    assert f"Saved the model to {out}" in text


def test_the_reported_accuracy_is_the_saved_models_on_the_validation_images(
        uninterrupted, folder):
    result, out, _ = uninterrupted
    printed = result.stdout.split("Validation accuracy: ")[1].split()
    # The same split (the recipe's seed), the model as saved, in its own preprocessing.
    recipe = RECIPE.replace(image_size=(16, 16), batch_size=6, seed=1)
    dataset = folder_module.read_folder(folder, recipe, channels=1, val_split=0.25)
    model = saving.load_model(out)
    assert preprocessing_name(model) == "scale_to_unit"
    accuracy = training.accuracy(model, dataset, "val")
    assert printed[:4] == [f"{accuracy:.3f}", "on", "6", "images"]


def test_train_leaves_the_model_and_no_backup_or_partial_file(uninterrupted):
    _, out, _ = uninterrupted
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]
    model = keras.models.load_model(out)
    assert model.input_shape == (None, 16, 16, 1) and model.output_shape == (None, 3)
    assert getattr(model, "optimizer", None) is None  # for inference: no Adam moments
    assert saving.saved_class_names(out) == CLASSES


def test_tensorboard_logs_are_written(uninterrupted):
    _, _, logdir = uninterrupted
    for split in ("train", "validation"):
        assert list((logdir / split).glob("events.out.tfevents.*")), split


def test_predict_names_the_classes_without_being_told(uninterrupted, folder, capsys):
    _, out, _ = uninterrupted
    images = [folder / "square" / "0.png", folder / "stripes" / "0.png"]
    assert cli.main(["predict", *map(str, images), "--model", str(out)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    for line, image in zip(lines, images, strict=True):
        path, rest = line.rsplit(": ", 1)
        assert path == str(image) and rest.split(" (")[0] in CLASSES


# Resuming ---------------------------------------------------------------------------------


def test_a_killed_run_resumes_where_it_stopped_and_ends_as_if_never_stopped(
    both, folder
):
    uninterrupted, (process, out) = both
    backup = Path(f"{out}.backup")
    assert process.returncode == -signal.SIGKILL, "the run was not killed"
    assert backup_module.finished_epochs(backup) == 1 and not out.exists()  # in epoch 1's pause

    result = run_cli(*_train_args(folder, out), deterministic=True, small=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Resuming at epoch 2 of {EPOCHS}: epochs 1-1 finished before" in result.stdout
    assert "Epoch 1/" not in result.stdout and f"Epoch 2/{EPOCHS}" in result.stdout
    assert f"for {EPOCHS - 1} epoch(s) in this run" in result.stdout
    assert out.exists() and not backup.exists()

    resumed = keras.models.load_model(out).get_weights()
    whole = keras.models.load_model(uninterrupted[1]).get_weights()
    worst = max(float(np.max(np.abs(a - b))) for a, b in zip(resumed, whole, strict=True))
    # Tolerance zero, as measured (largest difference 0 on this 2-core EPYC): with
    # deterministic ops and XLA off, both runs execute the same kernels in the same order
    # on the same machine, and the backup restores every bit of the state (float32
    # weights, BN statistics, Adam's moments and step count, the best epoch's weights),
    # while the skipped batches give epoch 2 the same shuffle and augmentation.
    # Any nonzero difference means some state was lost or the batches differ.
    assert worst == 0, f"largest weight difference, resumed vs uninterrupted: {worst:.3g}"


# Fine-tuning: --weights -------------------------------------------------------------------


def _fine_tune_args(folder, out, weights):
    return ["train", folder, "--out", out, "--input-shape", 16, 16, 1, "--weights", weights,
            "--head-epochs", 1, "--epochs", 2, "--batch-size", 6, "--val-split", 0.25,
            "--seed", 1, "--xla", "off"]


@pytest.fixture(scope="module")
def both_fine_tuned(uninterrupted, folder, tmp_path_factory):
    """The model trained from scratch above, fine-tuned: its classifier anew, then all
    (result, out); and beside it the same run killed after phase 2's first epoch."""
    out = tmp_path_factory.mktemp("fine") / "tuned.keras"
    killed_out = tmp_path_factory.mktemp("killed_fine") / "tuned.keras"
    backup = Path(f"{killed_out}.backup")
    result, killed = _beside_a_killed_run(
        _fine_tune_args(folder, out, uninterrupted[1]),
        _fine_tune_args(folder, killed_out, uninterrupted[1]),
        lambda: backup_module.finished_phases(backup)[1] >= 1, killed_out)
    return (result, out), killed


@pytest.fixture(scope="module")
def fine_tuned(both_fine_tuned):
    return both_fine_tuned[0]


def test_fine_tuning_reports_both_phases_and_saves_a_model_that_predict_names(
    fine_tuned, uninterrupted, folder, capsys
):
    result, out = fine_tuned
    text = result.stdout
    assert "Phase 1 of 2: the new classifier alone, the backbone frozen (1 epoch)." in text
    assert "Phase 2 of 2: the whole network, from learning rate 0.0001 (2 epochs)." in text
    # Keras numbers the epochs of a fit of more than one: phase 2's.
    assert "Epoch 1/2" in text and "Epoch 2/2" in text
    assert "Speed: float32, XLA off: the only candidate" in text
    assert "for 3 epoch(s) in this run" in text and f"Saved the model to {out}" in text
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # no backup left
    assert saving.saved_class_names(out) == CLASSES
    tuned, pretrained = saving.load_model(out), saving.load_model(uninterrupted[1])
    assert preprocessing_name(tuned) == "scale_to_unit"  # the weights' own: ours
    for name in ("conv1_conv", "conv5_block1_3_conv"):  # phase 2 trained them (BN frozen)
        assert not np.array_equal(tuned.get_layer(name).get_weights()[0],
                                  pretrained.get_layer(name).get_weights()[0]), name
    assert cli.main(["predict", str(folder / "circle" / "1.png"), "--model", str(out)]) == 0
    assert capsys.readouterr().out.split(": ")[1].split(" (")[0] in CLASSES


def test_a_killed_fine_tuning_run_resumes_in_phase_2_and_ends_as_if_never_stopped(
    both_fine_tuned, uninterrupted, folder
):
    fine_tuned, (process, out) = both_fine_tuned
    backup = Path(f"{out}.backup")
    args = _fine_tune_args(folder, out, uninterrupted[1])
    assert process.returncode == -signal.SIGKILL, "the run was not killed"
    # In the pause after phase 2's first epoch.
    assert backup_module.finished_phases(backup) == (1, 1) and not out.exists()

    result = run_cli(*args, deterministic=True, small=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Resuming at epoch 3 of 3: epochs 1-2 finished before" in result.stdout
    assert "Epoch 1/2" not in result.stdout and "Epoch 2/2" in result.stdout
    assert out.exists() and not backup.exists()
    resumed = keras.models.load_model(out).get_weights()
    whole = keras.models.load_model(fine_tuned[1]).get_weights()
    worst = max(float(np.max(np.abs(a - b))) for a, b in zip(resumed, whole, strict=True))
    # Zero, for the reasons of the resume test above: the same kernels in the same order,
    # and every bit of both phases' state restored (phase 1's best weights, phase 2's
    # weights, BN statistics, Adam's state and the skipped batches' augmentation).
    assert worst == 0, f"largest weight difference, resumed vs uninterrupted: {worst:.3g}"


def test_imagenet_offline_stops_in_one_line_naming_the_download_and_the_alternative(
    folder, tmp_path, capsys, monkeypatch
):
    from resnet import weights

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- "
                        "[Errno -3] Temporary failure in name resolution\nmore detail")

    monkeypatch.setattr(weights.keras.utils, "get_file", offline)
    args = _fine_tune_args(folder, tmp_path / "m.keras", "imagenet")
    args[args.index("--input-shape") + 3] = 3
    err = _refused(capsys, args)
    file = weights.IMAGENET_FILES[50][0]
    assert f"could not download {weights.IMAGENET_URL}{file}" in err
    assert "Temporary failure in name resolution" in err and f"--weights PATH/{file}" in err
    assert capsys.readouterr().out == "" and list(tmp_path.iterdir()) == []


def test_imagenet_weights_on_greyscale_and_a_missing_weights_file_are_refused(
    folder, tmp_path, capsys
):
    err = _refused(capsys, _fine_tune_args(folder, tmp_path / "m.keras", "imagenet"))
    assert "--weights imagenet" in err and "RGB" in err and "C=1" in err
    err = _refused(capsys, _fine_tune_args(folder, tmp_path / "m.keras", tmp_path / "no.keras"))
    assert "--weights" in err and "no.keras" in err and "no such file" in err


# Bad input: one line naming the path, exit code 2, before any training --------------------


def _refused(capsys, args):
    code = cli.main([str(a) for a in args], build=_never_built)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_head_epochs_without_weights_is_refused_not_ignored(folder, tmp_path, capsys):
    err = _refused(capsys, [*_train_args(folder, tmp_path / "m.keras"), "--head-epochs", 2])
    assert "--head-epochs" in err and "--weights" in err


class _Called(Exception):
    pass


def test_unfreeze_reaches_the_recipe_and_is_refused_without_weights(
        folder, tmp_path, capsys, uninterrupted, monkeypatch):
    recipes = []

    def spy(dataset, weights, recipe, **kwargs):  # stops before training
        recipes.append(recipe)
        raise _Called

    monkeypatch.setattr(finetune, "fine_tune_resnet50", spy)
    for out, more in (("a.keras", ["--unfreeze", "conv5"]), ("b.keras", [])):
        args = [*_fine_tune_args(folder, tmp_path / out, uninterrupted[1]), *more]
        with pytest.raises(_Called):  # the weights are the stand-in's: its builder
            cli.main([str(a) for a in args], build=small_resnet50)
    assert all(isinstance(recipe, FineTuning) for recipe in recipes)
    assert [recipe.unfreeze for recipe in recipes] == ["conv5", "all"]
    assert {(r.head_epochs, r.epochs, r.batch_size, r.seed) for r in recipes} == {(1, 2, 6, 1)}
    err = _refused(capsys, [*_train_args(folder, tmp_path / "m.keras"), "--unfreeze", "conv5"])
    assert "--unfreeze" in err and "--weights" in err


def test_a_missing_folder_is_refused_with_exit_code_2(tmp_path, capsys):
    err = _refused(capsys, ["train", "no/such/folder", "--out", tmp_path / "m.keras"])
    assert "DATA_DIR 'no/such/folder': no such folder" in err
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_folder_without_class_subfolders_is_refused(tmp_path, capsys):
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "loose.png")
    err = _refused(capsys, _train_args(tmp_path, tmp_path / "m.keras"))
    assert str(tmp_path) in err and "at least two" in err


def test_a_single_class_is_refused(tmp_path, capsys):
    make_shape_classes(tmp_path / "data", per_class=2)
    for name in CLASSES[1:]:
        for f in (tmp_path / "data" / name).iterdir():
            f.unlink()
        (tmp_path / "data" / name).rmdir()
    err = _refused(capsys, _train_args(tmp_path / "data", tmp_path / "m.keras"))
    assert str(tmp_path / "data") in err and "found 1" in err


def test_a_class_without_readable_images_is_refused(tmp_path, capsys):
    make_shape_classes(tmp_path / "data", per_class=4)
    empty = tmp_path / "data" / "zebra"
    empty.mkdir()
    (empty / "notes.txt").write_text("not an image")
    (empty / "cut.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    err = _refused(capsys, _train_args(tmp_path / "data", tmp_path / "m.keras"))
    assert str(empty) in err and "no readable images" in err


@pytest.mark.parametrize("make_out", [
    lambda tmp: tmp / "file.txt" / "m.keras",  # a folder that is a file
    lambda tmp: tmp / "folder.keras",  # a folder, not a file
    lambda tmp: tmp / "m.h5",  # not a .keras file
])
def test_an_out_that_cannot_be_written_fails_before_reading_or_training(
    make_out, folder, tmp_path, capsys, monkeypatch
):
    (tmp_path / "file.txt").write_text("")
    (tmp_path / "folder.keras").mkdir()
    from resnet.train import data

    def fail(*args, **kwargs):
        raise AssertionError("the images were read")

    monkeypatch.setattr(data, "image_folder_with_skipped", fail)
    out = make_out(tmp_path)
    err = _refused(capsys, _train_args(folder, out))
    assert str(out) in err
    assert capsys.readouterr().out == ""


def test_a_logdir_without_tensorboard_is_refused_before_training(
    folder, tmp_path, capsys, monkeypatch
):
    import importlib.util

    find_spec = importlib.util.find_spec

    def without_tensorboard(name, *args):
        return None if name == "tensorboard" else find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_tensorboard)
    err = _refused(capsys, [*_train_args(folder, tmp_path / "m.keras"), "--logdir", tmp_path])
    assert str(tmp_path) in err and "pip install tensorboard" in err


def test_a_backup_folder_holding_other_files_is_refused(folder, tmp_path, capsys):
    backup = tmp_path / "precious"
    backup.mkdir()
    (backup / "thesis.tex").write_text("")
    err = _refused(capsys, [*_train_args(folder, tmp_path / "m.keras"), "--backup-dir", backup])
    assert str(backup) in err and "thesis.tex" in err
    assert (backup / "thesis.tex").exists()


def test_a_backup_of_other_settings_is_not_resumed_naming_them(folder, tmp_path, capsys):
    out, backup = tmp_path / "m.keras", tmp_path / "m.keras.backup"
    three = _train_args(folder, out)
    three[three.index("--epochs") + 1] = 3
    with pytest.raises(AssertionError, match="training started"):  # after the backup opened
        cli.main([str(a) for a in three], build=_never_built)
    assert json.loads((backup / "run.json").read_text())["epochs"] == 3
    capsys.readouterr()
    err = _refused(capsys, _train_args(folder, out))
    assert f"--backup-dir {str(backup)!r}: holds the backup of a run with other settings " \
           f"(epochs 3 then, {EPOCHS} now)" in err
