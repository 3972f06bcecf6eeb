"""The fine-tuning chapter's sweep: test accuracy against labelled images a class.

    python benchmarks/transfer_digits.py --json sweep.json        # the whole sweep
    python benchmarks/transfer_digits.py --json sweep.json        # again: resumes it
    python benchmarks/transfer_digits.py --ks 5 --seeds 0 --backbones 0 --pretrain-epochs 1
                                                                  # a smoke run

Backbones: ResNet50 trained with the book's recipe (``train_resnet50``, 16x16) on the
digits 0-4 of ``resnet.train.data.digits`` (the split fixed by seed 0; every training
image of those classes), once per ``--backbones`` seed. Then, for every k and seed, the
digits 5-9 with k training images a class ("all": every one, about 108), drawn from the
seed, plus 10 validation images a class that pick each run's best epoch, are learnt:

    scratch                   ``train_resnet50``: a fresh ResNet50, the book's recipe,
                              ``--scratch-steps`` steps (chapter 5's recipe takes 396)
    head only                 ``fine_tune_resnet50(head="features", epochs=0)``: the
                              frozen backbone's features computed once, a new
                              classifier trained on them for ``--head-epochs`` epochs
    fine-tune (BN training)   the same head, then ``--steps`` steps of every layer at a
                              tenth of the learning rate, BN layers in training mode
    fine-tune (BN inference)  the same, BN layers frozen (pretrained statistics), at
                              the ``--bn-ks`` only: the comparison of the two BN modes

Every run keeps the epoch of lowest validation loss, so a budget larger than a method
needs costs time, not accuracy. Batches of 16; a training set of fewer than 160 images
is repeated whole until an epoch holds at least that many (k=1: 32 copies of the 5
images, each copy augmented differently), so that an epoch is 10 steps or more rather
than one step and a validation pass. Test accuracy is on every test image of the digits
5-9 (180).

Resumable run by run: with ``--json FILE``, every finished run is written to FILE at
once, and a later call with the same settings skips the runs already there (the
backbones' weights are kept beside it, in ``FILE``'s stem + ``_backbones``). Ends with
the mean, minimum and maximum over seeds and backbones, and the machine.
"""

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SOURCE = ("0", "1", "2", "3", "4")
TARGET = ("5", "6", "7", "8", "9")
SCRATCH, HEAD, BN_TRAINING, BN_INFERENCE = (
    "scratch", "head only", "fine-tune (BN training)", "fine-tune (BN inference)")
METHODS = (SCRATCH, HEAD, BN_TRAINING, BN_INFERENCE)
BATCH_NORM = {BN_TRAINING: "training", BN_INFERENCE: "inference"}
VAL_PER_CLASS = 10
BATCH = 16
MIN_EPOCH_IMAGES = 160
ALL = "all"
# What a results file must agree on with the arguments to be resumed.
SETTINGS = ("image_size", "pretrain_epochs", "scratch_steps", "head_epochs", "steps",
            "val_per_class", "batch", "min_epoch_images", "xla")


def k_value(text):
    """An argument of --ks: a positive whole number or "all"."""
    if text == ALL:
        return ALL
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"a k must be a positive whole number or "
                                         f"'{ALL}', got {text!r}")
    return value


def parser():
    from resnet.train import training

    parser = argparse.ArgumentParser(prog="python benchmarks/transfer_digits.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--ks", type=k_value, nargs="+", default=[1, 5, 20, ALL],
                        help="labelled training images a class ('all': every one)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--backbones", type=int, nargs="+", default=[0, 1],
                        help="a backbone pretrained from each of these seeds")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--bn-ks", type=k_value, nargs="+", default=[5, ALL],
                        help=f"the ks at which {BN_INFERENCE!r} runs too")
    parser.add_argument("--image-size", type=int, default=training.RECIPE_IMAGE_SIZE)
    parser.add_argument("--pretrain-epochs", type=int, default=12)
    parser.add_argument("--scratch-steps", type=int, default=400)
    parser.add_argument("--head-epochs", type=int, default=100)
    parser.add_argument("--steps", type=int, default=150,
                        help="fine-tuning's steps of every layer, after the head")
    parser.add_argument("--jit-compile", choices=["auto", "on", "off"], default="off",
                        help="XLA: off (default: a run of a few hundred steps is not much "
                        "longer than compiling ResNet50's training step), or measured")
    parser.add_argument("--json", type=Path,
                        help="write every run to this file, and resume from it")
    return parser


def run_key(run):
    return (run["k"], run["seed"], run["method"], run["backbone"])


def load(path, settings):
    """The results file's content, or a new one; exits if its settings differ."""
    if path is None or not path.exists():
        return {**settings, "pretrain": [], "runs": []}
    try:
        found = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise SystemExit(f"--json {path}: not a JSON file ({error}); move it away to "
                         "start a new sweep.") from None
    differs = {name: (found.get(name), settings[name]) for name in SETTINGS
               if found.get(name) != settings[name]}
    if differs:
        described = ", ".join(f"{name} {was} in the file, {now} now"
                              for name, (was, now) in differs.items())
        raise SystemExit(f"--json {path}: its runs were made with other settings "
                         f"({described}); pass the same ones, or another file.")
    return found


def repeated(dataset):
    """``dataset`` with its training images repeated whole to ``MIN_EPOCH_IMAGES`` or
    more, and the number of copies."""
    import numpy as np

    from resnet.train import data

    images, labels = dataset.arrays["train"]
    copies = max(1, math.ceil(MIN_EPOCH_IMAGES / len(labels)))
    train = data.Split(np.tile(images, (copies, 1, 1, 1)), np.tile(labels, copies))
    return dataset._replace(arrays={**dataset.arrays, "train": train}), copies


def main(argv=None):
    args = parser().parse_args(argv)

    import numpy as np
    import tensorflow as tf
    from tensorflow import keras

    from resnet.train import data, finetune, saving, speed, training

    settings = {"image_size": args.image_size, "pretrain_epochs": args.pretrain_epochs,
                "scratch_steps": args.scratch_steps, "head_epochs": args.head_epochs,
                "steps": args.steps, "val_per_class": VAL_PER_CLASS, "batch": BATCH,
                "min_epoch_images": MIN_EPOCH_IMAGES,
                "xla": args.jit_compile}
    jit = {"auto": "auto", "on": True, "off": False}[args.jit_compile]
    results = load(args.json, settings)
    done = {run_key(run) for run in results["runs"]}
    folder = (args.json.with_name(args.json.stem + "_backbones") if args.json
              else Path(os.environ.get("TMPDIR", "/tmp")) / "transfer_digits_backbones")
    folder.mkdir(parents=True, exist_ok=True)
    machine = speed.cpu_description()

    def save():
        if args.json:
            results.update(machine=machine, tensorflow=tf.__version__,
                           keras=keras.__version__, date=time.strftime("%Y-%m-%d"))
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(results, indent=1) + "\n")

    digits = data.digits(image_size=args.image_size, batch_size=32, seed=0)
    source = data.subset(digits, SOURCE)
    backbones = {}
    pretrained_methods = [method for method in args.methods if method != SCRATCH]
    for backbone in args.backbones if pretrained_methods else ():
        file = folder / f"backbone{backbone}.keras"
        recorded = [p for p in results["pretrain"] if p["backbone"] == backbone]
        if recorded and not file.exists():
            raise SystemExit(f"--json {args.json} has runs of backbone {backbone}, but its "
                             f"weights {file} are gone: move the file away to start again.")
        if not recorded:
            start = time.perf_counter()
            run = training.train_resnet50(source, epochs=args.pretrain_epochs, seed=backbone,
                                          jit_compile=jit)
            saving.save_model(run.model, file)  # written whole, or not at all
            results["pretrain"].append({
                "backbone": backbone, "seed": backbone, "seconds": time.perf_counter() - start,
                "test_accuracy": training.accuracy(run.model, source), "machine": machine})
            save()
            keras.backend.clear_session()
        record = next(p for p in results["pretrain"] if p["backbone"] == backbone)
        print(f"Backbone {backbone}: pretrained on the digits {', '.join(SOURCE)} "
              f"({len(source.arrays['train'].labels)} images, {args.pretrain_epochs} "
              f"epochs, {record['seconds']:.0f} s), test accuracy "
              f"{record['test_accuracy']:.1%} on their test images", flush=True)
        backbones[backbone] = finetune.pretrained_weights(file)

    print("\n| k | seed | backbone | method | test accuracy | best epoch | fit (s) |")
    print("| ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    for k in args.ks:
        for seed in args.seeds:
            few = data.subset(digits, TARGET, per_class=None if k == ALL else k,
                              val_per_class=VAL_PER_CLASS, batch_size=BATCH, seed=seed)
            n_train = len(few.arrays["train"].labels)
            few, copies = repeated(few)
            batch = BATCH
            per_epoch = n_train * copies // batch
            todo = [(method, None) for method in args.methods if method == SCRATCH]
            todo += [(method, backbone) for backbone in args.backbones
                     for method in pretrained_methods
                     if method != BN_INFERENCE or k in args.bn_ks]
            for method, backbone in todo:
                key = (k, seed, method, backbone)
                if key in done:
                    continue
                start = time.perf_counter()
                if method == SCRATCH:
                    epochs = math.ceil(args.scratch_steps / per_epoch)
                    run = training.train_resnet50(few, epochs=epochs, seed=seed,
                                                  batch_size=batch, jit_compile=jit)
                    history = run.history
                else:
                    epochs = 0 if method == HEAD else math.ceil(args.steps / per_epoch)
                    run = finetune.fine_tune_resnet50(
                        few, backbones[backbone], head="features",
                        head_epochs=args.head_epochs, epochs=epochs, seed=seed,
                        batch_size=batch, batch_norm=BATCH_NORM.get(method, "training"),
                        jit_compile=jit)
                    history = run.history or run.head_history
                seconds = time.perf_counter() - start
                accuracy = training.accuracy(run.model, few)
                losses = history.history["val_loss"]
                best = int(np.argmin(losses)) + 1
                record = {"k": k, "train_images": n_train, "copies": copies, "seed": seed,
                          "method": method,
                          "backbone": backbone, "test_accuracy": accuracy,
                          "epochs": len(losses), "best_epoch": best,
                          "steps": len(losses) * (per_epoch if method != HEAD else
                                                  math.ceil(n_train * copies / batch)),
                          "seconds": seconds, "speed": str(run.speed), "machine": machine}
                results["runs"].append(record)
                done.add(key)
                save()
                print(f"| {k} | {seed} | {'' if backbone is None else backbone} | {method} | "
                      f"{accuracy:.1%} | {best} of {len(losses)} | {seconds:.0f} |", flush=True)
                keras.backend.clear_session()

    runs = [run for run in results["runs"]
            if run["k"] in args.ks and run["seed"] in args.seeds and run["method"] in
            args.methods and (run["backbone"] is None or run["backbone"] in args.backbones)]
    print("\n| k | " + " | ".join(args.methods) + " |")
    print("| ---: |" + " ---: |" * len(args.methods))
    for k in args.ks:
        cells = []
        for method in args.methods:
            values = np.array([r["test_accuracy"] for r in runs
                               if r["k"] == k and r["method"] == method])
            cells.append(f"{values.mean():.1%} ({values.min():.1%} to {values.max():.1%})"
                         if len(values) else "")
        print(f"| {k} | " + " | ".join(cells) + " |")
    print(f"\nMean (min to max) test accuracy over seeds {args.seeds} (and backbones "
          f"{args.backbones} for the pretrained methods), on the "
          f"{len(digits.arrays['test'].labels[digits.arrays['test'].labels >= 5])} test "
          f"images of the digits {', '.join(TARGET)}.")
    print(f"{machine}; XLA {args.jit_compile}")
    print(f"Python {platform.python_version()}, TensorFlow {tf.__version__}, "
          f"Keras {keras.__version__}; {time.strftime('%Y-%m-%d')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
