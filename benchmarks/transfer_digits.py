"""The fine-tuning chapter's experiment over several seeds: does pretraining help with few labels?

    python benchmarks/transfer_digits.py                  # k = 5, 20, 100; seeds 0, 1, 2
    python benchmarks/transfer_digits.py --ks 5 --seeds 0 --pretrain-epochs 1   # a smoke run

ResNet50 is pretrained once (seed 0) on the digits 0-4 of ``resnet.train.data.digits``
(32x32 greyscale, the split fixed by seed 0; every training image of those classes).
Then, for every k and seed, the digits 5-9 with k training images a class (drawn from
the seed; up to 10 validation images a class pick the best epoch) are learnt three ways:

    scratch    ``train_resnet50``: a fresh ResNet50, the book's recipe
    head only  ``fine_tune_resnet50(..., epochs=0)``: the pretrained backbone frozen
               (BN in inference mode), a new classifier trained on its features
    fine-tune  ``fine_tune_resnet50``: ``--head-steps`` of the head alone, then
               ``--steps`` of every layer at a tenth of the learning rate

Every method gets the same number of optimizer steps in all (``--head-steps`` +
``--steps``, batches of 16; scratch spends them on the whole network, head only on the
classifier), whatever k is: an epoch of 25 images is one step, so k=5 runs many short
epochs. Test accuracy is on every test image of the digits 5-9 (180). Prints one line
per run, then the mean, minimum and maximum over the seeds as a Markdown table, and the
machine; ``--json`` also writes the
runs to a file (the chapter draws its figure from it).

XLA is off unless told: these runs are a few dozen steps, and compiling ResNet50's
training step took about 100 s on an AVX2-only EPYC, longer than the run it speeds up.
"""

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SOURCE = ("0", "1", "2", "3", "4")
TARGET = ("5", "6", "7", "8", "9")
METHODS = ("scratch", "head only", "fine-tune")
VAL_PER_CLASS = 10
BATCH = 16  # few images: small batches, and half the time of 32 a step


def parser():
    parser = argparse.ArgumentParser(prog="python benchmarks/transfer_digits.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[5, 20, 100])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--pretrain-epochs", type=int, default=6)
    parser.add_argument("--head-steps", type=int, default=10)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--jit-compile", choices=["auto", "on", "off"], default="off",
                        help="XLA: off (default, see above), measured per machine, or on")
    parser.add_argument("--json", type=Path, help="also write the runs to this file")
    return parser


def main(argv=None):
    args = parser().parse_args(argv)

    import numpy as np
    import tensorflow as tf
    from tensorflow import keras

    from resnet.train import data, finetune, speed, training

    jit = {"auto": "auto", "on": True, "off": False}[args.jit_compile]
    digits = data.digits(image_size=32, batch_size=32, seed=0)
    source = data.subset(digits, SOURCE)
    start = time.perf_counter()
    pretrained = training.train_resnet50(source, epochs=args.pretrain_epochs, seed=0,
                                         jit_compile=jit)
    pretrain = {
        "epochs": args.pretrain_epochs, "seconds": time.perf_counter() - start,
        "test_accuracy": training.accuracy(pretrained.model, source),
    }
    print(f"Pretrained on the digits {', '.join(SOURCE)} ({len(source.arrays['train'].labels)} "
          f"images, {args.pretrain_epochs} epochs, {pretrain['seconds']:.0f} s): test accuracy "
          f"{pretrain['test_accuracy']:.1%} on their {len(source.arrays['test'].labels)} test "
          "images", flush=True)
    folder = tempfile.mkdtemp(prefix="transfer_digits_")
    weights = os.path.join(folder, "pretrained.weights.h5")
    pretrained.model.save_weights(weights)
    keras.backend.clear_session()

    runs = []
    print("\n| k | seed | method | test accuracy | epochs | fit (s) |")
    print("| ---: | ---: | --- | ---: | ---: | ---: |")
    for k in args.ks:
        for seed in args.seeds:
            batch = min(BATCH, k * len(TARGET))
            few = data.subset(digits, TARGET, per_class=k, val_per_class=VAL_PER_CLASS,
                              batch_size=batch, seed=seed)
            per_epoch = len(few.arrays["train"].labels) // batch
            head = math.ceil(args.head_steps / per_epoch)
            rest = math.ceil(args.steps / per_epoch)
            for method in METHODS:
                if method == "scratch":
                    run = training.train_resnet50(few, epochs=head + rest, seed=seed,
                                                  batch_size=batch, jit_compile=jit)
                    epochs = head + rest
                elif method == "head only":
                    run = finetune.fine_tune_resnet50(
                        few, weights, head_epochs=head + rest, epochs=0, seed=seed,
                        batch_size=batch, jit_compile=jit)
                    epochs = head + rest
                else:
                    run = finetune.fine_tune_resnet50(
                        few, weights, head_epochs=head, epochs=rest, seed=seed,
                        batch_size=batch, jit_compile=jit)
                    epochs = head + rest
                accuracy = training.accuracy(run.model, few)
                runs.append({"k": k, "seed": seed, "method": method, "test_accuracy": accuracy,
                             "epochs": epochs, "steps": epochs * per_epoch,
                             "seconds": run.seconds})
                print(f"| {k} | {seed} | {method} | {accuracy:.1%} | {epochs} | "
                      f"{run.seconds:.0f} |", flush=True)
                keras.backend.clear_session()
                if args.json:
                    _write(args.json, pretrain, runs, args)

    print("\n| k | " + " | ".join(METHODS) + " |")
    print("| ---: |" + " ---: |" * len(METHODS))
    for k in args.ks:
        cells = []
        for method in METHODS:
            values = np.array([r["test_accuracy"] for r in runs
                               if r["k"] == k and r["method"] == method])
            cells.append(f"{values.mean():.1%} ({values.min():.1%} to {values.max():.1%})")
        print(f"| {k} | " + " | ".join(cells) + " |")
    print(f"\nMean (min to max) test accuracy over seeds {args.seeds}, on the "
          f"{len(few.arrays['test'].labels)} test images of the digits {', '.join(TARGET)}.")
    print(f"{speed.cpu_description()}; XLA {args.jit_compile}")
    print(f"Python {platform.python_version()}, TensorFlow {tf.__version__}, "
          f"Keras {keras.__version__}; {time.strftime('%Y-%m-%d')}")
    return 0


def _write(path, pretrain, runs, args):
    import tensorflow as tf

    from resnet.train import speed

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "machine": speed.cpu_description(), "tensorflow": tf.__version__,
        "date": time.strftime("%Y-%m-%d"), "xla": args.jit_compile,
        "head_steps": args.head_steps, "steps": args.steps,
        "val_per_class": VAL_PER_CLASS, "pretrain": pretrain, "runs": runs,
    }, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
