"""Time to accuracy: the training chapter's recipe over several seeds, against the previous one.

    python benchmarks/train_digits.py                      # both recipes, 5 seeds each
    python benchmarks/train_digits.py --recipes current    # the package's recipe alone
    python benchmarks/train_digits.py --seeds 0 1 --epochs 2   # a smoke run

Trains ResNet50 from scratch on scikit-learn's digits (``resnet.train.data.digits``, the
split fixed by seed 0) once per seed and recipe, the recipes taking turns seed by seed so
that a machine that slows down slows both. The seed sets the initial weights, the
shuffling and the augmentation. Each run's wall time is measured from the call to the
trained model: building, tracing or compiling, ``fit`` and restoring the best epoch's
weights (each recipe's precision and XLA are decided once, first, as ``choose_speed``
caches them for every later run on the machine). Prints one line per run (test
accuracy, images wrong, the epoch whose weights were kept, wall seconds, the precision
and XLA used), then a Markdown table per recipe, the SVM baseline on the same split, and
last, for each recipe, a line:

    mean test accuracy X% over N seeds, mean wall time Y s per run (CPU ...)

Recipes:
    previous   the recipe until 2026-12-04: 32x32 images, 12 epochs, batch 32, Adam
               peaking at 3e-3, float32
    current    ``training.train_resnet50``'s defaults at ``training.RECIPE_IMAGE_SIZE``
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

PREVIOUS = dict(image_size=32, epochs=12, batch_size=32, peak_learning_rate=3e-3,
                mixed_precision="float32")


def recipes():
    """{name: (image size, train_resnet50 keyword arguments)}."""
    from resnet.train import training

    previous = dict(PREVIOUS)
    return {"previous": (previous.pop("image_size"), previous),
            "current": (training.RECIPE_IMAGE_SIZE, {})}


def describe(name):
    """A recipe in words: its image size, epochs, batch, peak learning rate and precision."""
    import inspect

    from resnet.train import training

    size, kwargs = recipes()[name]
    defaults = {k: v.default for k, v in inspect.signature(training.train_resnet50)
                .parameters.items() if v.default is not inspect.Parameter.empty}
    settings = {**defaults, **kwargs}
    precision = settings["mixed_precision"]
    return (f"{size}x{size} images, {settings['epochs']} epochs of batch "
            f"{settings['batch_size']}, Adam peaking at {settings['peak_learning_rate']:g}, "
            f"{'float32' if precision == 'float32' else 'precision ' + str(precision)}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python benchmarks/train_digits.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--recipes", nargs="+", choices=("previous", "current"),
                        default=["previous", "current"])
    parser.add_argument("--epochs", type=int, default=None,
                        help="override every recipe's epochs (for a smoke run)")
    parser.add_argument("--jit-compile", choices=["auto", "on", "off"], default="auto",
                        help="XLA: measured per machine (auto), or forced")
    parser.add_argument("--json", metavar="FILE",
                        help="also write every run, the SVM and the machine to FILE (the "
                             "training chapter reads resnet/book/results/train_digits.json)")
    args = parser.parse_args(argv)

    import numpy as np
    import tensorflow as tf
    from tensorflow import keras

    import resnet
    from resnet.book import baseline
    from resnet.train import data, speed, training

    jit = {"auto": "auto", "on": True, "off": False}[args.jit_compile]
    chosen = {name: spec for name, spec in recipes().items() if name in args.recipes}
    datasets = {size: data.digits(image_size=size, batch_size=32, seed=0)
                for size, _ in chosen.values()}
    results = {name: [] for name in chosen}
    runs = []
    # Each recipe's precision and XLA, decided before the clock starts (the decision is
    # cached per machine, so a reader's second run pays nothing for it either).
    choices = {}
    for name, (size, kwargs) in chosen.items():
        shape = datasets[size].input_shape
        batch = kwargs.get("batch_size", training.BATCH_SIZE)
        choices[name] = speed.choose_speed(
            lambda shape=shape: resnet.ResNet50(shape, classes=10),
            (batch, *shape), mixed_precision=kwargs.get("mixed_precision", "auto"),
            jit_compile=jit, try_bfloat16=False)
        print(f"{name}: {choices[name]}")
    print("| recipe | seed | test accuracy | wrong of 360 | best epoch | wall (s) | speed |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for seed in args.seeds:
        for name, (size, kwargs) in chosen.items():
            kwargs = dict(kwargs, speed_choice=choices[name])
            if args.epochs is not None:
                kwargs["epochs"] = args.epochs
            digits = datasets[size]
            start = time.perf_counter()
            run = training.train_resnet50(digits, seed=seed, **kwargs)
            wall = time.perf_counter() - start
            accuracy = training.accuracy(run.model, digits)
            wrong = round((1 - accuracy) * len(digits.arrays["test"].labels))
            best = int(np.argmin(run.history.history["val_loss"])) + 1
            epochs = len(run.history.history["val_loss"])
            results[name].append((accuracy, wall))
            runs.append(dict(recipe=name, seed=seed, accuracy=accuracy, wrong=wrong,
                             best_epoch=best, epochs=epochs, wall_seconds=round(wall, 1),
                             speed=str(run.speed)))
            print(f"| {name} | {seed} | {accuracy:.1%} | {wrong} | {best} of {epochs} | "
                  f"{wall:.0f} | {run.speed.mixed_precision}, XLA "
                  f"{'on' if run.speed.jit_compile else 'off'} |", flush=True)
            keras.backend.clear_session()
    cpu = speed.cpu_description()
    print()
    print("| recipe | mean test accuracy | min / max | mean wall (s) | min / max |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, rows in results.items():
        accuracies, walls = np.array(rows).T
        print(f"| {name} | {accuracies.mean():.1%} | {accuracies.min():.1%} / "
              f"{accuracies.max():.1%} | {walls.mean():.0f} | {walls.min():.0f} / "
              f"{walls.max():.0f} |")
    svm = baseline.svm_accuracy(next(iter(datasets.values())))
    versions = (f"Python {platform.python_version()}, TensorFlow {tf.__version__}, "
                f"Keras {keras.__version__}")
    print(f"\nSVM (RBF, C=10) on the same split's raw pixels: {svm:.1%}")
    print(f"{versions}; {time.strftime('%Y-%m-%d')}")
    if args.json:
        Path(args.json).write_text(json.dumps(dict(
            machine=cpu, versions=versions, date=time.strftime("%Y-%m-%d"), svm=svm,
            recipes={name: describe(name) for name in chosen}, runs=runs), indent=1) + "\n")
    for name, rows in results.items():
        accuracies, walls = np.array(rows).T
        print(f"{name}: mean test accuracy {accuracies.mean():.1%} over {len(rows)} seeds, "
              f"mean wall time {walls.mean():.0f} s per run (CPU {cpu})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
