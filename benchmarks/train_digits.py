"""The training chapter's recipe over several seeds: how much one run's accuracy varies.

    python benchmarks/train_digits.py                 # 5 seeds, 12 epochs (about 10 minutes
                                                      # on 2 AVX-512 EPYC cores)
    python benchmarks/train_digits.py --seeds 0 1 --epochs 2   # a smoke run
    python benchmarks/train_digits.py --mixed-precision mixed_bfloat16   # the recipe in bf16

Trains ``resnet.train.training.train_resnet50`` on the digits (``resnet.train.data.digits``,
32x32 greyscale, the split fixed by seed 0) once per seed; the seed sets the
initial weights, the shuffling and the augmentation. Prints one line per seed
(test accuracy, images wrong, the epoch whose weights were kept, fit seconds),
then the mean, minimum and maximum, the SVM baseline on the same split, and the
machine and versions, as a Markdown table that can go into the book as it is.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
SAMPLES = Path(__file__).resolve().parent.parent / "notebooks" / "images" / "digits"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python benchmarks/train_digits.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--jit-compile", choices=["auto", "on", "off"], default="auto",
                        help="XLA: measured per machine (auto), or forced")
    parser.add_argument("--mixed-precision", choices=["auto", "float32", "mixed_bfloat16",
                                                      "mixed_float16"], default="auto",
                        help="the precision policy (default: the recipe's, float32 on a CPU); "
                             "compare the mean and spread over the seeds with float32's before "
                             "letting the recipe train in 16 bits")
    args = parser.parse_args(argv)

    import numpy as np
    import tensorflow as tf
    from sklearn.svm import SVC
    from tensorflow import keras

    import resnet
    from resnet.train import data, speed, training

    digits = data.digits(image_size=32, batch_size=32, seed=0)
    jit = {"auto": "auto", "on": True, "off": False}[args.jit_compile]
    test = digits.arrays["test"]
    samples = sorted(SAMPLES.glob("test_*.png"))  # chapter 6's digits; the name has the label
    rows = []
    print(f"| seed | test accuracy | wrong of 360 | best epoch | fit (s) | "
          f"chapter 6's {len(samples)} digits right |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for seed in args.seeds:
        run = training.train_resnet50(digits, epochs=args.epochs, seed=seed, jit_compile=jit,
                                      mixed_precision=args.mixed_precision)
        predicted = run.model.predict(digits.test, verbose=0).argmax(axis=-1)
        accuracy = float(np.mean(predicted == test.labels))
        best = int(np.argmin(run.history.history["val_loss"])) + 1
        rows.append((accuracy, run.seconds))
        right = sum(p.label == Path(p.source).name[5] for p in resnet.evaluate(
            run.model, samples, class_names=digits.class_names))
        print(f"| {seed} | {accuracy:.1%} | {int(np.sum(predicted != test.labels))} | "
              f"{best} of {args.epochs} | {run.seconds:.0f} | {right} |", flush=True)
        keras.backend.clear_session()
    accuracies = np.array([a for a, _ in rows])
    seconds = np.array([s for _, s in rows])
    print(f"| mean | {accuracies.mean():.1%} | | | {seconds.mean():.0f} |")
    print(f"| min / max | {accuracies.min():.1%} / {accuracies.max():.1%} | | | "
          f"{seconds.min():.0f} / {seconds.max():.0f} |")
    flat = {name: split.images.reshape(len(split.images), -1) / 255.0
            for name, split in digits.arrays.items()}
    svm = SVC(C=10, gamma="scale").fit(flat["train"], digits.arrays["train"].labels)
    print(f"\nSVM (RBF, C=10) on the same split: {svm.score(flat['test'], test.labels):.1%}")
    print(f"{speed.cpu_description()}; {run.speed}")
    print(f"Python {platform.python_version()}, TensorFlow {tf.__version__}, "
          f"Keras {keras.__version__}; {time.strftime('%Y-%m-%d')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
