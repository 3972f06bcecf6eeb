"""What the source does to fine-tuning: test accuracy against labels a class, per source.

    python benchmarks/transfer_sources.py --json sweep.json   # the whole sweep (hours)
    python benchmarks/transfer_sources.py --json sweep.json   # again: resumes it
    python benchmarks/transfer_sources.py --sources digits --ks 5 --seeds 0 --backbones 0 \\
        --pretrain-epochs 1 --head-steps 20 --steps 20 --scratch-steps 40   # a smoke run

Sources: ResNet50 pretrained with the book's recipe (``train_resnet50``, 16x16, 12
epochs), once per ``--backbones`` seed, on

    digits        the digits 0-4 of ``data.digits`` (the split of seed 0): 540 training
                  images of 5 classes (chapter 7's source)
    glyphs        ``glyphs.glyphs(900)``: 540 training images of the 26 letters, cropped
                  to their ink as the digits are: another domain, the same size
    glyphs-large  ``glyphs.glyphs(33_334)``: 20,000 training images: the same domain as
                  "glyphs", 37 times the size

Target: the digits 5-9 (the split of seed 0), k training images a class drawn by the
seed ("all": every one, about 108), and no validation images: k counts every label a run
sees. So no run picks a best epoch: each trains a fixed budget, decided before the sweep
and the same at every k, and keeps its last epoch:

    scratch     ``train_resnet50``: a fresh ResNet50, the book's recipe at batch 16,
                ``--scratch-steps`` steps, or fine-tuning's on the same images if more
                (its steps on features included)
    head only   ``fine_tune_resnet50`` with ``FineTuning(head="features", epochs=0)``:
                the frozen backbone's features, a new classifier trained on them for
                ``--head-steps`` steps
    fine-tune   the same head, then ``--steps`` steps of every layer at the recipe's
                lower learning rate, BN as ``FINE_TUNING`` says (inference mode: the
                pretrained statistics), augmented as ``FINE_TUNING`` says
    fine-tune, BN training
                the same with BN in training mode (each batch normalised by its own
                statistics, the moving ones following): only for the ``--bn-sources``
                at the ``--bn-ks``, on the same images, seeds and backbones, to compare
                the two modes

The pretrained methods run for every source, backbone and seed (the seed draws the
images, the classifier's start and the batches); scratch runs at every seed once per
backbone number (its recipe's seed ``10 * seed + backbone``), so that each method has as
many runs at each k. Budgets are in steps of 16 images; a training set of fewer than 160
images is repeated whole until an epoch holds that many (k=1: 32 copies of the 5 images,
each copy augmented differently), so that an epoch is at least 10 steps, and a run
trains whole epochs: the steps it took are recorded. Scratch and fine-tuning also record
their test accuracy halfway through (``half_test_accuracy``), to show whether the budget
was enough. Test accuracy is on every test image of the digits 5-9 (180).

Resumable run by run: with ``--json FILE``, every finished run is written to FILE at once,
and a later call with the same settings skips the runs already there. Last, glyph sources
of ``--probe-sizes`` training images are pretrained once (backbone 0's seed), so that the
pretraining records show where the source's accuracy levels off with its size. A
backbone's weights are kept beside FILE (in FILE's stem + ``_backbones``; 95 MB each, not
shipped). When they are gone (another machine, another session) and the backbone still has
runs to make, it is pretrained again and used only if its weights digest is the recorded
one; if not (pretraining is not bit-reproducible even on one machine), its runs are dropped
and made again with the new backbone, so that every run of a backbone used the same
weights. Each run records the source, its size, k,
seed, backbone, method, steps, seconds and machine. Ends with the mean, minimum and
maximum of each source, k and method, and the machine.
"""

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import NamedTuple

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

TARGET = ("5", "6", "7", "8", "9")
SOURCES = {  # name: (what, training images); made by `source_dataset`
    "digits": ("the digits 0-4", 540),
    "glyphs": ("generated letters", 540),
    "glyphs-large": ("generated letters", 20_000),
}
PROBE_SIZES = (2_000, 5_000)  # glyph sources pretrained once more, to see accuracy level off
SCRATCH, HEAD, FINE_TUNE = "scratch", "head only", "fine-tune"
BN_TRAINING = "fine-tune, BN training"  # fine-tuning with the other BN mode
METHODS = (SCRATCH, HEAD, FINE_TUNE, BN_TRAINING)
BATCH = 16
MIN_EPOCH_IMAGES = 160
ALL = "all"
# What a results file must agree on with the arguments to be resumed.
SETTINGS = ("image_size", "pretrain_epochs", "scratch_steps", "head_steps", "steps",
            "batch", "min_epoch_images", "xla")


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


def load(path, settings, lists=("pretrain", "runs")):
    """The results file's content, or a new one (``settings`` and an empty list for each
    of ``lists``); exits if its settings differ, naming them (``backup.check_same``, the
    comparison a backup folder makes)."""
    from resnet.train import backup

    if path is None or not path.exists():
        return {**settings, **{name: [] for name in lists}}
    try:
        found = json.loads(path.read_text())
        if not isinstance(found, dict):
            raise ValueError("not an object")
    except ValueError as error:
        raise SystemExit(f"--json {path}: not a results file ({error}); move it away to "
                         "start a new sweep.") from None
    try:
        backup.check_same({name: found.get(name) for name in settings}, settings,
                          f"--json {path}", what="runs made",
                          remedy="pass the same settings to resume them, or another file")
    except ValueError as error:
        raise SystemExit(str(error)) from None
    return found


def repeated(dataset, minimum=MIN_EPOCH_IMAGES):
    """``dataset`` with its training images repeated whole to ``minimum`` or more, and
    the number of copies."""
    import numpy as np

    from resnet.train import data

    images, labels = dataset.arrays["train"]
    copies = max(1, math.ceil(minimum / len(labels)))
    train = data.Split(np.tile(images, (copies, 1, 1, 1)), np.tile(labels, copies))
    return dataset._replace(arrays={**dataset.arrays, "train": train}), copies


class ResultsFile:
    """A sweep's results file (``path``, or None: kept in memory only): its ``content``
    (``load``ed with ``lists``), the folder for its backbones (beside it: its stem +
    ``_backbones``), the machine, and ``save()``."""

    def __init__(self, path, settings, name, lists=("pretrain", "runs")):
        from resnet.train import speed

        self.path, self.content = path, load(path, settings, lists)
        self.folder = (path.with_name(path.stem + "_backbones") if path else
                       Path(os.environ.get("TMPDIR", "/tmp")) / f"{name}_backbones")
        self.machine = speed.cpu_description()

    def save(self):
        """Write the content whole, with the machine and versions, through a temporary
        file (a kill leaves the last whole file)."""
        import tensorflow as tf
        from tensorflow import keras

        if self.path:
            self.content.update(machine=self.machine, tensorflow=tf.__version__,
                                keras=keras.__version__, date=time.strftime("%Y-%m-%d"))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_name(f".{self.path.name}.partial")
            partial.write_text(json.dumps(self.content, indent=1) + "\n")
            os.replace(partial, self.path)


class Draw(NamedTuple):
    """One k and seed's images: the dataset with its training images ``repeated``, how
    many there were before, and how many copies of them it holds."""

    dataset: object
    n_train: int
    copies: int


def parser():
    from resnet.train import speed
    from resnet.train.recipe import RECIPE

    parser = argparse.ArgumentParser(prog="python benchmarks/transfer_sources.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", nargs="+", choices=SOURCES, default=list(SOURCES))
    parser.add_argument("--ks", type=k_value, nargs="+", default=[1, 5, 20, ALL],
                        help="labelled training images a class ('all': every one)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--backbones", type=int, nargs="+", default=[0, 1],
                        help="a backbone pretrained from each of these seeds, per source")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--bn-sources", nargs="*", choices=SOURCES, default=["digits"],
                        help=f"the sources whose fine-tuning also runs as '{BN_TRAINING}'")
    parser.add_argument("--bn-ks", type=k_value, nargs="*", default=[5, ALL],
                        help=f"the k at which those run '{BN_TRAINING}' too")
    parser.add_argument("--image-size", type=int, default=RECIPE.image_size)
    parser.add_argument("--pretrain-epochs", type=int, default=RECIPE.epochs)
    parser.add_argument("--head-steps", type=int, default=300,
                        help="the new classifier's steps on the backbone's features")
    parser.add_argument("--steps", type=int, default=200,
                        help="fine-tuning's steps of every layer, after the head")
    parser.add_argument("--scratch-steps", type=int, default=500)
    parser.add_argument("--probe-sizes", type=int, nargs="*", default=list(PROBE_SIZES),
                        help="glyph sources of these many training images, pretrained with "
                        "backbone 0's seed only: does the large source's accuracy level off?")
    parser.add_argument("--jit-compile", choices=speed.XLA_CHOICES, default="off",
                        help="XLA: off (default: a run of a few hundred steps is not much "
                        "longer than compiling ResNet50's training step), or measured")
    parser.add_argument("--json", type=Path,
                        help="write every run to this file, and resume from it")
    return parser


def parse(argv=None):
    """The arguments, with the budgets checked: scratch's at least fine-tuning's."""
    args = parser().parse_args(argv)
    for name in ("pretrain_epochs", "head_steps", "steps", "scratch_steps"):
        if getattr(args, name) < 1:
            parser().error(f"--{name.replace('_', '-')} must be 1 or more")
    if args.scratch_steps < args.head_steps + args.steps:
        parser().error(f"--scratch-steps ({args.scratch_steps}) must be at least "
                       f"fine-tuning's --head-steps + --steps ({args.head_steps} + "
                       f"{args.steps})")
    return args


def settings_of(args):
    """The settings a results file records (``SETTINGS``), from the arguments."""
    return {"image_size": args.image_size, "pretrain_epochs": args.pretrain_epochs,
            "scratch_steps": args.scratch_steps, "head_steps": args.head_steps,
            "steps": args.steps, "batch": BATCH, "min_epoch_images": MIN_EPOCH_IMAGES,
            "xla": args.jit_compile}


def run_key(run):
    return (run["source"], run["k"], run["seed"], run["method"], run["backbone"])


def glyph_count(train):
    """The ``count`` for which ``glyphs.glyphs(count)`` has ``train`` training images."""
    from resnet.train import glyphs

    guess = round(train / 0.6)
    return next(count for count in range(guess - 3, guess + 4)
                if glyphs._split_sizes(count, 0.2, 0.2)[0] == train)


def source_dataset(name, digits, image_size):
    """The source ``name`` (of ``SOURCES``, or "glyphs-N" for N training glyphs) as a
    ``Dataset`` at ``image_size``."""
    from resnet.train import data, glyphs

    if name == "digits":
        return data.subset(digits, [str(digit) for digit in range(5)])
    size = SOURCES[name][1] if name in SOURCES else int(name.split("-")[1])
    return glyphs.glyphs(glyph_count(size), seed=0, image_size=image_size)


class HalfwayAccuracy:
    """A Keras callback that measures the image model's test accuracy at the end of epoch
    ``epoch`` (made lazily, so that importing this module does not import TensorFlow).
    Fine-tuning passes its callbacks to both phases: phase 1's model, a classifier on
    features, is skipped by its input's rank."""

    def __new__(cls, dataset, epoch):
        from tensorflow import keras

        from resnet.train import training

        class _Halfway(keras.callbacks.Callback):
            value = None

            def on_epoch_end(self, index, logs=None):
                if index + 1 == epoch and len(self.model.input_shape) == 4:
                    self.value = training.accuracy(self.model, dataset)

        return _Halfway()


def print_machine(machine, xla):
    """The report's last lines: the machine, XLA, the versions and the date."""
    import tensorflow as tf
    from tensorflow import keras

    print(f"{machine}; XLA {xla}")
    print(f"Python {platform.python_version()}, TensorFlow {tf.__version__}, "
          f"Keras {keras.__version__}; {time.strftime('%Y-%m-%d')}")


def recipes(args):
    """The book's recipes at the sweep's settings: (pretraining's, scratch's, the
    pretrained methods')."""
    from resnet.train import speed
    from resnet.train.recipe import FINE_TUNING, RECIPE

    jit = speed.parse_xla(args.jit_compile, "--jit-compile")
    return (RECIPE.replace(image_size=args.image_size, epochs=args.pretrain_epochs,
                           jit_compile=jit),
            RECIPE.replace(image_size=args.image_size, batch_size=BATCH, jit_compile=jit),
            FINE_TUNING.replace(head="features", batch_size=BATCH, jit_compile=jit))


class Sweep:
    """One call's sweep: its arguments, recipes, results file and backbones.

    ``build`` is the model builder (None: ``resnet.ResNet50``; the tests pass a smaller
    network with the same signature). The recipes: ``pretrain`` (a backbone's, seeded by
    its number), ``scratch`` and ``tuning`` (the pretrained methods'); each run trains
    with one of them ``.replace``d with its seed and budget.
    """

    def __init__(self, args, build=None):
        from resnet import ResNet50

        self.args, self.build = args, build or ResNet50
        self.pretrain, self.scratch, self.tuning = recipes(args)
        self.file = ResultsFile(args.json, settings_of(args), "transfer_sources")
        self.results, self.folder = self.file.content, self.file.folder
        self.machine, self.save = self.file.machine, self.file.save
        self.draws = {}

    def done(self):
        return {run_key(run) for run in self.results["runs"]}

    # -- the target's draws ------------------------------------------------------------

    def draw(self, digits, k, seed):
        """The target's images for ``k`` and ``seed`` (a ``Draw``), made once."""
        from resnet.train import data

        if (k, seed) not in self.draws:
            few = data.subset(digits, TARGET, per_class=None if k == ALL else k,
                              val_per_class=0, batch_size=BATCH, seed=seed)
            dataset, copies = repeated(few)
            self.draws[k, seed] = Draw(dataset, len(few.arrays["train"].labels), copies)
        return self.draws[k, seed]

    def todo(self, source, backbone):
        """(k, seed) of every pretrained run of ``backbone`` of ``source`` not done, with
        its methods."""
        done, todo = self.done(), []
        for k in self.args.ks:
            methods = [method for method in self.args.methods if method != SCRATCH and (
                method != BN_TRAINING or (source in self.args.bn_sources
                                          and k in self.args.bn_ks))]
            for seed in self.args.seeds:
                left = [m for m in methods if (source, k, seed, m, backbone) not in done]
                if left:
                    todo.append((k, seed, left))
        return todo

    # -- backbones ---------------------------------------------------------------------

    def backbone(self, name, backbone, dataset):
        """The file of ``backbone`` of source ``name``: pretrained and recorded the first
        time, kept in the folder after; pretrained again when the folder lost it, the
        backbone's runs dropped if the new weights differ."""
        from tensorflow import keras

        from resnet.book import checks
        from resnet.train import saving, training

        file = self.folder / f"{name}_backbone{backbone}.keras"
        records = self.results["pretrain"]
        recorded = next((p for p in records if (p["source"], p["backbone"]) ==
                         (name, backbone)), None)
        if recorded is None or not file.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            run = training.train_resnet50(dataset, self.pretrain.replace(seed=backbone),
                                          build=self.build)
            seconds = time.perf_counter() - start
            saving.save_model(run.model, file)  # written whole, or not at all
            record = {
                "source": name, "source_images": len(dataset.arrays["train"].labels),
                "classes": len(dataset.class_names), "backbone": backbone,
                "seed": backbone, "epochs": self.pretrain.epochs, "seconds": seconds,
                "val_accuracy": run.history.history["val_accuracy"],
                "test_accuracy": training.accuracy(run.model, dataset),
                "weights": checks.weights_digest(run.model), "machine": self.machine}
            if recorded is not None and recorded["weights"] != record["weights"]:
                stale = [r for r in self.results["runs"]
                         if (r["source"], r["backbone"]) == (name, backbone)]
                print(f"Backbone {backbone} of {name}: its weights file is gone and "
                      f"pretraining it again gave other weights ({record['weights']}, "
                      f"recorded {recorded['weights']}, on {recorded['machine']}): its "
                      f"{len(stale)} runs are dropped, to be made again with it.", flush=True)
                self.results["runs"] = [r for r in self.results["runs"] if r not in stale]
            records[:] = [p for p in records if p is not recorded] + [record]
            recorded = record
            self.save()
            keras.backend.clear_session()
        what = SOURCES[name][0] if name in SOURCES else "generated letters"
        print(f"Backbone {backbone}: pretrained on {what} ({recorded['source_images']} "
              f"images, {recorded['classes']} classes, {recorded['epochs']} epochs, "
              f"{recorded['seconds']:.0f} s), test accuracy "
              f"{recorded['test_accuracy']:.1%} on their test images", flush=True)
        return file

    # -- runs --------------------------------------------------------------------------

    def budget(self, few):
        """Fine-tuning's whole epochs on ``few`` (a ``Draw``'s dataset): (head epochs,
        epochs of every layer, steps in all). The head on features takes a last part
        batch too; the other phases full batches only."""
        head_per_epoch = math.ceil(len(few.arrays["train"].labels) / BATCH)
        per_epoch = self.scratch.steps_per_epoch(few)
        head_epochs = math.ceil(self.args.head_steps / head_per_epoch)
        epochs = math.ceil(self.args.steps / per_epoch)
        return head_epochs, epochs, head_epochs * head_per_epoch + epochs * per_epoch

    def fit(self, few, method, seed, weights, halfway):
        """Train one run on ``few`` (a ``Draw``'s dataset): (the model, its speed, the
        steps it took). Scratch trains at least as many steps as fine-tuning on ``few``."""
        from resnet.train import finetune, training

        head_epochs, epochs, tuning_steps = self.budget(few)
        if method == SCRATCH:
            per_epoch = self.scratch.steps_per_epoch(few)  # full batches of BATCH
            epochs = math.ceil(max(self.args.scratch_steps, tuning_steps) / per_epoch)
            run = training.train_resnet50(few, self.scratch.replace(epochs=epochs, seed=seed),
                                          build=self.build,
                                          callbacks=[halfway(math.ceil(epochs / 2))])
            return run.model, run.speed, epochs * per_epoch
        if method == HEAD:
            recipe = self.tuning.replace(head_epochs=head_epochs, epochs=0, seed=seed)
            steps, callbacks = head_epochs * math.ceil(len(few.arrays["train"].labels) /
                                                       BATCH), []
        else:
            recipe = self.tuning.replace(head_epochs=head_epochs, epochs=epochs, seed=seed)
            if method == BN_TRAINING:
                recipe = recipe.replace(batch_norm="training")
            steps, callbacks = tuning_steps, [halfway(math.ceil(epochs / 2))]
        run = finetune.fine_tune_resnet50(few, weights, recipe, build=self.build,
                                          callbacks=callbacks)
        return run.model, run.speed, steps

    def run(self, source, draw, k, seed, method, backbone, weights=None):
        """Train one run, record it in the results file and print its row."""
        from tensorflow import keras

        from resnet.train import training

        halfways = []

        def halfway(epoch):
            halfways.append(HalfwayAccuracy(draw.dataset, epoch))
            return halfways[-1]

        recipe_seed = 10 * seed + backbone if method == SCRATCH else seed
        start = time.perf_counter()
        model, speed_choice, steps = self.fit(draw.dataset, method, recipe_seed, weights,
                                              halfway)
        seconds = time.perf_counter() - start
        accuracy = training.accuracy(model, draw.dataset)
        self.results["runs"].append({
            "source": source, "source_images": SOURCES[source][1] if source else None,
            "k": k, "train_images": draw.n_train, "copies": draw.copies, "seed": seed,
            "recipe_seed": recipe_seed, "method": method, "backbone": backbone,
            "test_accuracy": accuracy,
            "half_test_accuracy": halfways[0].value if halfways else None,
            "steps": steps, "seconds": seconds, "speed": str(speed_choice),
            "machine": self.machine})
        self.save()
        print(f"| {source or ''} | {k} | {seed} | {backbone} | {method} | {accuracy:.1%} "
              f"| {steps} | {seconds:.0f} |", flush=True)
        keras.backend.clear_session()

    def run_source(self, name, digits):
        """Every run of source ``name`` not done yet, one backbone at a time."""
        from resnet.train import finetune

        dataset = source_dataset(name, digits, self.args.image_size)
        for backbone in self.args.backbones:
            if not self.todo(name, backbone):
                continue
            weights = finetune.pretrained_weights(self.backbone(name, backbone, dataset),
                                                  build=self.build)
            for k, seed, methods in self.todo(name, backbone):  # after any drop
                for method in methods:
                    self.run(name, self.draw(digits, k, seed), k, seed, method, backbone,
                             weights)

    def run_scratch(self, digits):
        """Every scratch run not done yet: at each k and seed, one per backbone number."""
        if SCRATCH not in self.args.methods:
            return
        for k in self.args.ks:
            for seed in self.args.seeds:
                for backbone in self.args.backbones:
                    if (None, k, seed, SCRATCH, backbone) not in self.done():
                        self.run(None, self.draw(digits, k, seed), k, seed, SCRATCH,
                                 backbone)

    def report(self, digits):
        """The mean (min to max) test accuracy of each source, k and method, and the
        machine."""
        import numpy as np

        args = self.args
        runs = [run for run in self.results["runs"]
                if run["k"] in args.ks and run["seed"] in args.seeds
                and run["backbone"] in args.backbones]
        rows = [(None, SCRATCH)] if SCRATCH in args.methods else []
        rows += [(source, method) for source in args.sources for method in args.methods
                 if method != SCRATCH and (method != BN_TRAINING or source in args.bn_sources)]
        print("\n| source | method | " + " | ".join(f"k={k}" for k in args.ks) + " |")
        print("| --- | --- |" + " ---: |" * len(args.ks))
        for source, method in rows:
            cells = []
            for k in args.ks:
                values = np.array([r["test_accuracy"] for r in runs if (
                    r["source"], r["method"], r["k"]) == (source, method, k)])
                cells.append(f"{values.mean():.1%} ({values.min():.1%} to "
                             f"{values.max():.1%}, {len(values)})" if len(values) else "")
            print(f"| {source or ''} | {method} | " + " | ".join(cells) + " |")
        print("\n| pretrained on | images | classes | backbone | test accuracy | "
              "validation accuracy by epoch | seconds |")
        print("| --- | ---: | ---: | ---: | ---: | --- | ---: |")
        for p in self.results["pretrain"]:
            curve = " ".join(f"{value:.0%}" for value in p["val_accuracy"])
            print(f"| {p['source']} | {p['source_images']} | {p['classes']} | "
                  f"{p['backbone']} | {p['test_accuracy']:.1%} | {curve} | "
                  f"{p['seconds']:.0f} |")
        test = len(self.draw(digits, args.ks[0], args.seeds[0]).dataset.arrays["test"].labels)
        print(f"\nMean (min to max, runs) test accuracy over seeds {args.seeds} and "
              f"backbones {args.backbones}, on the {test} test images of the digits "
              f"{', '.join(TARGET)}.")
        print_machine(self.machine, args.jit_compile)


def main(argv=None, *, build=None):
    """Run (or resume) the sweep; ``build`` is the model builder (None:
    ``resnet.ResNet50``; the tests pass a smaller network with the same signature)."""
    args = parse(argv)
    from resnet.train import data

    sweep = Sweep(args, build)
    digits = data.digits(image_size=args.image_size, batch_size=32, seed=0)
    print("| source | k | seed | backbone | method | test accuracy | steps | seconds |")
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    sources = [name for name in args.sources if any(m != SCRATCH for m in args.methods)]
    if sources:
        sweep.run_source(sources[0], digits)  # chapter 7's source first
    sweep.run_scratch(digits)
    for name in sources[1:]:
        sweep.run_source(name, digits)
    for size in args.probe_sizes:  # pretraining only, once
        name = f"glyphs-{size}"
        if not any(p["source"] == name for p in sweep.results["pretrain"]):
            sweep.backbone(name, 0, source_dataset(name, digits, args.image_size))
    sweep.report(digits)
    return 0


if __name__ == "__main__":
    sys.exit(main())
