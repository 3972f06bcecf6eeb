"""Where a deep network pays: ResNet50 against the pixel baselines on generated letters.

    python benchmarks/glyphs_vs_pixels.py --json resnet/book/results/glyphs_vs_pixels.json
    python benchmarks/glyphs_vs_pixels.py --seeds 0 --epochs 1 --per-class 10   # a smoke run

On the digits, ResNet50 beats an SVM on the raw pixels only narrowly (chapter 5): they are centred
and scaled to fill the frame, so the same pixel means the same stroke in every image.
This script makes two tasks of the 26 letters (``resnet.train.glyphs``, seed 0) with
``--per-class`` training images a class (default 108, the digits' share in chapter 5's
split: 1,077 images of 10 classes), split 60/20/20 as the digits are:

    cropped      each letter cropped to its ink and scaled to fill the 8x8 frame, as the
                 digits are
    positioned   each letter kept at a random place and size within the frame
                 (``keep_position=True``): the same letter lands on other pixels

and measures on each the SVM (RBF, C=10) and 3-nearest neighbours on the 8x8 pixels
(``resnet.book.baseline``), and ResNet50 from scratch with the book's recipe
(``train_resnet50``, ``RECIPE``: 16x16, the best validation epoch kept) once per seed.

Resumable run by run: with ``--json FILE``, every finished run is written to FILE (its
task, method, seed, test accuracy, seconds and the machine), and a later call with the
same settings skips the runs already there. Ends with a table of means.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from transfer_sources import ResultsFile, glyph_count, print_machine

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TASKS = {"cropped": False, "positioned": True}  # name: keep_position
SVM, KNN, RESNET = "SVM", "3-NN", "ResNet50"
METHODS = (SVM, KNN, RESNET)
SETTINGS = ("per_class", "epochs", "xla")


def parse(argv=None):
    """The command line's arguments."""
    from resnet.train import speed
    from resnet.train.recipe import RECIPE

    parser = argparse.ArgumentParser(prog="python benchmarks/glyphs_vs_pixels.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--per-class", type=int, default=108,
                        help="training images a letter (the digits have about 108)")
    parser.add_argument("--epochs", type=int, default=RECIPE.epochs)
    parser.add_argument("--jit-compile", choices=speed.XLA_CHOICES, default="auto",
                        help="XLA: measured per machine (auto, the recipe's), or forced")
    parser.add_argument("--json", type=Path,
                        help="write every run to this file, and resume from it")
    args = parser.parse_args(argv)
    if args.per_class < 5 or args.epochs < 1:
        parser.error("--per-class must be 5 or more (every split needs each letter) and "
                     "--epochs 1 or more")
    return args


def settings_of(args):
    return {"per_class": args.per_class, "epochs": args.epochs, "xla": args.jit_compile}


def task_dataset(task, per_class, image_size):
    """The letters of ``task`` (of ``TASKS``) with ``per_class`` training images each."""
    from resnet.train import glyphs

    count = glyph_count(per_class * len(glyphs.LETTERS))
    return glyphs.glyphs(count, seed=0, image_size=image_size, keep_position=TASKS[task])


def measure(method, dataset, recipe, build):
    """(test accuracy, seconds, how) of one method on ``dataset``."""
    from tensorflow import keras

    from resnet.book import baseline
    from resnet.train import training

    start = time.perf_counter()
    if method == SVM:
        return baseline.svm_accuracy(dataset), time.perf_counter() - start, "8x8 pixels"
    if method == KNN:
        return baseline.knn_accuracy(dataset), time.perf_counter() - start, "8x8 pixels"
    run = training.train_resnet50(dataset, recipe, build=build)
    seconds = time.perf_counter() - start
    accuracy = training.accuracy(run.model, dataset)
    keras.backend.clear_session()
    return accuracy, seconds, str(run.speed)


def main(argv=None, *, build=None):
    """Measure (or resume); ``build`` is the model builder (None: ``resnet.ResNet50``)."""
    import numpy as np

    from resnet import ResNet50
    from resnet.train import speed
    from resnet.train.recipe import RECIPE

    args = parse(argv)
    results = ResultsFile(args.json, settings_of(args), "glyphs_vs_pixels", lists=("runs",))
    runs = results.content["runs"]
    recipe = RECIPE.replace(epochs=args.epochs,
                            jit_compile=speed.parse_xla(args.jit_compile, "--jit-compile"))
    print("| task | method | seed | test accuracy | seconds |")
    print("| --- | --- | ---: | ---: | ---: |")
    for task in args.tasks:
        dataset = task_dataset(task, args.per_class, recipe.image_size)
        for method in METHODS:
            # The baselines are deterministic: one run, recorded as seed None.
            for seed in args.seeds if method == RESNET else [None]:
                if any((r["task"], r["method"], r["seed"]) == (task, method, seed)
                       for r in runs):
                    continue
                accuracy, seconds, how = measure(method, dataset, recipe.replace(
                    seed=seed or 0), build or ResNet50)
                runs.append({"task": task, "method": method, "seed": seed,
                             "train_images": len(dataset.arrays["train"].labels),
                             "test_images": len(dataset.arrays["test"].labels),
                             "test_accuracy": accuracy, "seconds": seconds, "how": how,
                             "machine": results.machine})
                results.save()
                print(f"| {task} | {method} | {'' if seed is None else seed} | "
                      f"{accuracy:.1%} | {seconds:.0f} |", flush=True)
    print("\n| task | " + " | ".join(METHODS) + " |")
    print("| --- |" + " ---: |" * len(METHODS))
    for task in args.tasks:
        cells = []
        for method in METHODS:
            values = [r["test_accuracy"] for r in runs if (r["task"], r["method"]) ==
                      (task, method) and (method != RESNET or r["seed"] in args.seeds)]
            cells.append(f"{np.mean(values):.1%}" if values else "")
        print(f"| {task} | " + " | ".join(cells) + " |")
    print(f"\nResNet50: mean over seeds {args.seeds}; {args.per_class} training letters a "
          "class, the test split's accuracy.")
    print_machine(results.machine, args.jit_compile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
