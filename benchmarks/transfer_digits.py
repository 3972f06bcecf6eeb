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
    head only                 ``fine_tune_resnet50``, ``FineTuning(head="features",
                              epochs=0)``: the frozen backbone's features computed
                              once, a new classifier trained on them for
                              ``--head-epochs`` epochs
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
import math
import os
import sys
import time
from pathlib import Path

from transfer_sources import (  # shared with the new sweep
    ALL,
    Draw,
    ResultsFile,
    k_value,
    print_machine,
    recipes,
    repeated,
)

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
# What a results file must agree on with the arguments to be resumed.
SETTINGS = ("image_size", "pretrain_epochs", "scratch_steps", "head_epochs", "steps",
            "val_per_class", "batch", "min_epoch_images", "xla")


def parser():
    from resnet.train import speed
    from resnet.train.recipe import RECIPE

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
    parser.add_argument("--image-size", type=int, default=RECIPE.image_size)
    parser.add_argument("--pretrain-epochs", type=int, default=12)
    parser.add_argument("--scratch-steps", type=int, default=400)
    parser.add_argument("--head-epochs", type=int, default=100)
    parser.add_argument("--steps", type=int, default=150,
                        help="fine-tuning's steps of every layer, after the head")
    parser.add_argument("--jit-compile", choices=speed.XLA_CHOICES, default="off",
                        help="XLA: off (default: a run of a few hundred steps is not much "
                        "longer than compiling ResNet50's training step), or measured")
    parser.add_argument("--json", type=Path,
                        help="write every run to this file, and resume from it")
    return parser


def run_key(run):
    return (run["k"], run["seed"], run["method"], run["backbone"])


def settings_of(args):
    """The settings a results file records (``SETTINGS``), from the arguments."""
    return {"image_size": args.image_size, "pretrain_epochs": args.pretrain_epochs,
            "scratch_steps": args.scratch_steps, "head_epochs": args.head_epochs,
            "steps": args.steps, "val_per_class": VAL_PER_CLASS, "batch": BATCH,
            "min_epoch_images": MIN_EPOCH_IMAGES, "xla": args.jit_compile}


class Sweep:
    """One call's sweep: its arguments, recipes, results file and backbones.

    ``build`` is the model builder (None: ``resnet.ResNet50``; the tests pass a smaller
    network with the same signature). The recipes: ``pretrain`` (a backbone's, the seed
    the backbone's number), ``scratch`` and ``tuning`` (every pretrained method's: the
    head on features computed once, then every layer unless head only); each run trains
    with one of them ``.replace``d with its seed and budget.
    """

    def __init__(self, args, build=None):
        from resnet import ResNet50

        self.args, self.build = args, build or ResNet50
        self.pretrain, self.scratch, self.tuning = recipes(args)
        self.tuning = self.tuning.replace(head_epochs=args.head_epochs)
        self.file = ResultsFile(args.json, settings_of(args), "transfer_digits")
        self.results, self.folder = self.file.content, self.file.folder
        self.machine, self.save = self.file.machine, self.file.save
        self.done = {run_key(run) for run in self.results["runs"]}
        self.weights = {}

    def pretrain_backbones(self, source):
        """Pretrain every backbone not in the results file yet on ``source``, save it in
        ``folder``, and print each one's record."""
        from tensorflow import keras

        from resnet.train import saving, training

        self.folder.mkdir(parents=True, exist_ok=True)
        for backbone in self.args.backbones:
            file = self.folder / f"backbone{backbone}.keras"
            recorded = [p for p in self.results["pretrain"] if p["backbone"] == backbone]
            if recorded and not file.exists():
                raise SystemExit(f"--json {self.args.json} has runs of backbone {backbone}, "
                                 f"but its weights {file} are gone: move the file away to "
                                 "start again.")
            if not recorded:
                start = time.perf_counter()
                run = training.train_resnet50(source, self.pretrain.replace(seed=backbone),
                                              build=self.build)
                saving.save_model(run.model, file)  # written whole, or not at all
                recorded = [{"backbone": backbone, "seed": backbone,
                             "seconds": time.perf_counter() - start,
                             "test_accuracy": training.accuracy(run.model, source),
                             "machine": self.machine}]
                self.results["pretrain"] += recorded
                self.save()
                keras.backend.clear_session()
            print(f"Backbone {backbone}: pretrained on the digits {', '.join(SOURCE)} "
                  f"({len(source.arrays['train'].labels)} images, {self.pretrain.epochs} "
                  f"epochs, {recorded[0]['seconds']:.0f} s), test accuracy "
                  f"{recorded[0]['test_accuracy']:.1%} on their test images", flush=True)

    def backbone(self, backbone):
        """The pretrained weights of a backbone, loaded once, when a run first needs them."""
        from resnet.train import finetune

        if backbone not in self.weights:
            self.weights[backbone] = finetune.pretrained_weights(
                self.folder / f"backbone{backbone}.keras", build=self.build)
        return self.weights[backbone]

    def todo(self, k):
        """(method, backbone) of every run at ``k``, finished or not."""
        pretrained = [method for method in self.args.methods if method != SCRATCH
                      and (method != BN_INFERENCE or k in self.args.bn_ks)]
        return ([(SCRATCH, None)] if SCRATCH in self.args.methods else []) + [
            (method, backbone) for backbone in self.args.backbones for method in pretrained]

    def fit(self, few, method, seed, backbone):
        """Train one run: (the Run or FineTuned, its last phase's History, steps an epoch)."""
        from resnet.train import finetune, training

        per_epoch = self.scratch.steps_per_epoch(few)  # full batches of BATCH
        if method == SCRATCH:
            recipe = self.scratch.replace(
                epochs=math.ceil(self.args.scratch_steps / per_epoch), seed=seed)
            run = training.train_resnet50(few, recipe, build=self.build)
            return run, run.history, per_epoch
        if method == HEAD:  # the head on features: every image, a last part batch too
            recipe = self.tuning.replace(epochs=0, seed=seed)
            per_epoch = math.ceil(len(few.arrays["train"].labels) / BATCH)
        else:
            recipe = self.tuning.replace(epochs=math.ceil(self.args.steps / per_epoch),
                                         seed=seed, batch_norm=BATCH_NORM[method])
        run = finetune.fine_tune_resnet50(few, self.backbone(backbone), recipe,
                                          build=self.build)
        return run, run.history or run.head_history, per_epoch

    def run(self, few, k, seed, method, backbone):
        """Train one run on ``few`` (a ``Draw``), record it in the results file and print
        its row."""
        import numpy as np
        from tensorflow import keras

        from resnet.train import training

        start = time.perf_counter()
        run, history, per_epoch = self.fit(few.dataset, method, seed, backbone)
        seconds = time.perf_counter() - start
        accuracy = training.accuracy(run.model, few.dataset)
        losses = history.history["val_loss"]
        best = int(np.argmin(losses)) + 1
        self.results["runs"].append({
            "k": k, "train_images": few.n_train, "copies": few.copies, "seed": seed,
            "method": method, "backbone": backbone, "test_accuracy": accuracy,
            "epochs": len(losses), "best_epoch": best, "steps": len(losses) * per_epoch,
            "seconds": seconds, "speed": str(run.speed), "machine": self.machine})
        self.done.add((k, seed, method, backbone))
        self.save()
        print(f"| {k} | {seed} | {'' if backbone is None else backbone} | {method} | "
              f"{accuracy:.1%} | {best} of {len(losses)} | {seconds:.0f} |", flush=True)
        keras.backend.clear_session()

    def run_all(self, digits):
        """Every run of every k and seed that the results file does not hold yet."""
        from resnet.train import data

        print("\n| k | seed | backbone | method | test accuracy | best epoch | fit (s) |")
        print("| ---: | ---: | ---: | --- | ---: | ---: | ---: |")
        for k in self.args.ks:
            for seed in self.args.seeds:
                todo = [(method, backbone) for method, backbone in self.todo(k)
                        if (k, seed, method, backbone) not in self.done]
                if not todo:
                    continue
                few = data.subset(digits, TARGET, per_class=None if k == ALL else k,
                                  val_per_class=VAL_PER_CLASS, batch_size=BATCH, seed=seed)
                dataset, copies = repeated(few)
                few = Draw(dataset, len(few.arrays["train"].labels), copies)
                for method, backbone in todo:
                    self.run(few, k, seed, method, backbone)

    def report(self, digits):
        """The mean (min to max) test accuracy of each k and method, and the machine."""
        import numpy as np

        args = self.args
        runs = [run for run in self.results["runs"]
                if run["k"] in args.ks and run["seed"] in args.seeds and run["method"] in
                args.methods and (run["backbone"] is None or run["backbone"] in args.backbones)]
        print("\n| k | " + " | ".join(args.methods) + " |")
        print("| ---: |" + " ---: |" * len(args.methods))
        for k in args.ks:
            cells = []
            for method in args.methods:
                values = np.array([r["test_accuracy"] for r in runs
                                   if r["k"] == k and r["method"] == method])
                cells.append(f"{values.mean():.1%} ({values.min():.1%} to "
                             f"{values.max():.1%})" if len(values) else "")
            print(f"| {k} | " + " | ".join(cells) + " |")
        test_labels = digits.arrays["test"].labels
        print(f"\nMean (min to max) test accuracy over seeds {args.seeds} (and backbones "
              f"{args.backbones} for the pretrained methods), on the "
              f"{len(test_labels[test_labels >= len(SOURCE)])} test images of the digits "
              f"{', '.join(TARGET)}.")
        print_machine(self.machine, args.jit_compile)


def main(argv=None, *, build=None):
    """Run (or resume) the sweep; ``build`` is the model builder (None:
    ``resnet.ResNet50``; the tests pass a smaller network with the same signature)."""
    args = parser().parse_args(argv)
    from resnet.train import data

    sweep = Sweep(args, build)
    digits = data.digits(image_size=args.image_size, batch_size=32, seed=0)
    if any(method != SCRATCH for method in args.methods):
        sweep.pretrain_backbones(data.subset(digits, SOURCE))
    sweep.run_all(digits)
    sweep.report(digits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
