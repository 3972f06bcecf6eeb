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
    current    ``resnet.train.recipe.RECIPE``, the book's recipe (``train_resnet50``'s default)
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# The previous recipe: the current one's other settings, at these.
PREVIOUS = dict(image_size=32, epochs=12, batch_size=32, peak_learning_rate=3e-3,
                mixed_precision="float32")


def recipes():
    """{name: ``resnet.train.recipe.Recipe``}: the recipes the script can compare."""
    from resnet.train.recipe import RECIPE

    return {"previous": RECIPE.replace(**PREVIOUS), "current": RECIPE}


def describe(recipe):
    """A recipe (a ``Recipe``, or its name in ``recipes()``) in words: its image size,
    epochs, batch, peak learning rate and precision."""
    recipe = recipes()[recipe] if isinstance(recipe, str) else recipe
    precision = recipe.mixed_precision
    return (f"{recipe.image_size}x{recipe.image_size} images, {recipe.epochs} epochs of batch "
            f"{recipe.batch_size}, Adam peaking at {recipe.peak_learning_rate:g}, "
            f"{'float32' if precision == 'float32' else 'precision ' + str(precision)}")


def parse(argv=None):
    """The command line's arguments."""
    from resnet.train import speed

    parser = argparse.ArgumentParser(prog="python benchmarks/train_digits.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--recipes", nargs="+", choices=("previous", "current"),
                        default=["previous", "current"])
    parser.add_argument("--epochs", type=int, default=None,
                        help="override every recipe's epochs (for a smoke run)")
    parser.add_argument("--jit-compile", choices=speed.XLA_CHOICES, default="auto",
                        help="XLA: measured per machine (auto), or forced")
    parser.add_argument("--json", metavar="FILE",
                        help="also write every run, the SVM and the machine to FILE (the "
                             "training chapter reads resnet/book/results/train_digits.json)")
    return parser.parse_args(argv)


def chosen_recipes(args):
    """{name: Recipe} of the recipes asked for, with the command line's XLA and epochs."""
    from resnet.train import speed

    changes = {"jit_compile": speed.parse_xla(args.jit_compile, "--jit-compile")}
    if args.epochs is not None:
        changes["epochs"] = args.epochs
    return {name: recipe.replace(**changes) for name, recipe in recipes().items()
            if name in args.recipes}


def decide_speeds(chosen, datasets, build):
    """{name: SpeedChoice}: each recipe's precision and XLA, decided before the clock
    starts (``choose_speed`` caches the decision per machine, so that a reader's second
    run pays nothing for it either)."""
    from resnet.train import training

    choices = {}
    for name, recipe in chosen.items():
        choices[name] = training.recipe_speed(recipe, datasets[recipe.image_size], build)
        print(f"{name}: {choices[name]}")
    return choices


def train_once(name, recipe, digits, choice, build):
    """Train ``recipe`` once (its seed) on ``digits``, timed: the run's record."""
    import numpy as np
    from tensorflow import keras

    from resnet.train import training

    start = time.perf_counter()
    run = training.train_resnet50(digits, recipe, build=build, speed_choice=choice)
    wall = time.perf_counter() - start
    accuracy = training.accuracy(run.model, digits)
    losses = run.history.history["val_loss"]
    keras.backend.clear_session()
    return dict(recipe=name, seed=recipe.seed, accuracy=accuracy,
                wrong=round((1 - accuracy) * len(digits.arrays["test"].labels)),
                best_epoch=int(np.argmin(losses)) + 1, epochs=len(losses),
                wall_seconds=round(wall, 1), speed=str(run.speed))


def train_seeds(seeds, chosen, datasets, choices, build):
    """Every seed of every recipe, the recipes taking turns seed by seed: the runs'
    records, each printed as a table row as it ends."""
    print("| recipe | seed | test accuracy | wrong of 360 | best epoch | wall (s) | speed |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    runs = []
    for seed in seeds:
        for name, recipe in chosen.items():
            run = train_once(name, recipe.replace(seed=seed), datasets[recipe.image_size],
                             choices[name], build)
            runs.append(run)
            xla = "on" if choices[name].jit_compile else "off"
            print(f"| {name} | {seed} | {run['accuracy']:.1%} | {run['wrong']} | "
                  f"{run['best_epoch']} of {run['epochs']} | {run['wall_seconds']:.0f} | "
                  f"{choices[name].mixed_precision}, XLA {xla} |", flush=True)
    return runs


def by_recipe(runs):
    """{recipe: (accuracies, wall seconds)} as arrays, in the runs' order."""
    import numpy as np

    names = dict.fromkeys(run["recipe"] for run in runs)
    return {name: (np.array([r["accuracy"] for r in runs if r["recipe"] == name]),
                   np.array([r["wall_seconds"] for r in runs if r["recipe"] == name]))
            for name in names}


def report(runs, svm, cpu, versions):
    """The table of means, the SVM, the versions and each recipe's closing line."""
    print()
    print("| recipe | mean test accuracy | min / max | mean wall (s) | min / max |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, (accuracies, walls) in by_recipe(runs).items():
        print(f"| {name} | {accuracies.mean():.1%} | {accuracies.min():.1%} / "
              f"{accuracies.max():.1%} | {walls.mean():.0f} | {walls.min():.0f} / "
              f"{walls.max():.0f} |")
    print(f"\nSVM (RBF, C=10) on the same split's raw pixels: {svm:.1%}")
    print(f"{versions}; {time.strftime('%Y-%m-%d')}")
    for name, (accuracies, walls) in by_recipe(runs).items():
        print(f"{name}: mean test accuracy {accuracies.mean():.1%} over {len(accuracies)} "
              f"seeds, mean wall time {walls.mean():.0f} s per run (CPU {cpu})")


def main(argv=None, *, build=None):
    """Run the benchmark; ``build`` is the model builder (None: ``resnet.ResNet50``; the
    tests pass a smaller network with the same signature)."""
    args = parse(argv)

    import tensorflow as tf
    from tensorflow import keras

    from resnet import ResNet50
    from resnet.book import baseline
    from resnet.train import data, speed

    build = build or ResNet50
    chosen = chosen_recipes(args)
    datasets = {recipe.image_size: data.digits(image_size=recipe.image_size, batch_size=32,
                                               seed=0) for recipe in chosen.values()}
    choices = decide_speeds(chosen, datasets, build)
    runs = train_seeds(args.seeds, chosen, datasets, choices, build)
    cpu = speed.cpu_description()
    svm = baseline.svm_accuracy(next(iter(datasets.values())))
    versions = (f"Python {platform.python_version()}, TensorFlow {tf.__version__}, "
                f"Keras {keras.__version__}")
    if args.json:
        recipes_run = {name: describe(recipe) for name, recipe in chosen.items()}
        Path(args.json).write_text(json.dumps(dict(
            machine=cpu, versions=versions, date=time.strftime("%Y-%m-%d"), svm=svm,
            recipes=recipes_run, runs=runs), indent=1) + "\n")
    report(runs, svm, cpu, versions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
