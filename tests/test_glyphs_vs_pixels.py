"""``benchmarks/glyphs_vs_pixels.py``: its tasks, its records and its resuming (on the
small stand-in for ResNet50 and one epoch; the shipped file is chapter 5's to read)."""

import json
import sys
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from small_resnet50 import small_resnet50

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import glyphs_vs_pixels  # noqa: E402

TINY = ["--seeds", "0", "--epochs", "1", "--per-class", "6"]


def refuse(*args, **kwargs):
    raise AssertionError("a finished run was made again")


def test_the_tasks_differ_only_in_where_the_letters_stand():
    cropped, positioned = (glyphs_vs_pixels.task_dataset(task, 6, 8)
                           for task in ("cropped", "positioned"))
    for dataset in (cropped, positioned):
        assert len(dataset.arrays["train"].labels) == 6 * 26
    same_labels = cropped.arrays["train"].labels == positioned.arrays["train"].labels
    assert same_labels.all()
    # Cropped letters fill the frame: ink in the outer rows and columns of most images;
    # positioned ones leave parts of it empty far more often.
    def edge_rows_empty(images):
        return np.mean([(image[0].max() == 0) or (image[-1].max() == 0) for image in images])
    assert edge_rows_empty(positioned.arrays["train"].images[..., 0]) > \
        edge_rows_empty(cropped.arrays["train"].images[..., 0]) + 0.3


@pytest.mark.slow
def test_each_method_is_recorded_once_and_skipped_when_called_again(tmp_path, capsys):
    path = tmp_path / "runs.json"
    assert glyphs_vs_pixels.main([*TINY, "--json", str(path)], build=small_resnet50) == 0
    runs = json.loads(path.read_text())["runs"]
    assert [(r["task"], r["method"], r["seed"]) for r in runs] == [
        (task, method, 0 if method == "ResNet50" else None)
        for task in ("cropped", "positioned") for method in ("SVM", "3-NN", "ResNet50")]
    assert all(r["train_images"] == 156 and 0 <= r["test_accuracy"] <= 1 for r in runs)
    capsys.readouterr()
    assert glyphs_vs_pixels.main([*TINY, "--json", str(path)], build=refuse) == 0
    assert json.loads(path.read_text())["runs"] == runs
    with pytest.raises(SystemExit, match=r"other settings \(epochs 1 then, 2 now\)"):
        glyphs_vs_pixels.main([*TINY, "--epochs", "2", "--json", str(path)], build=refuse)


def test_the_shipped_file_holds_every_run_at_the_script_s_defaults():
    found = json.loads(files("resnet.book").joinpath("results/glyphs_vs_pixels.json")
                       .read_text())
    args = glyphs_vs_pixels.parse([])
    assert {name: found[name] for name in glyphs_vs_pixels.SETTINGS} == \
        glyphs_vs_pixels.settings_of(args)
    keys = sorted((r["task"], r["method"], r["seed"] if r["seed"] is not None else -1)
                  for r in found["runs"])
    assert keys == sorted(
        (task, method, seed) for task in args.tasks for method in glyphs_vs_pixels.METHODS
        for seed in (args.seeds if method == "ResNet50" else [-1]))
