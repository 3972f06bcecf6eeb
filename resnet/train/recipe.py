"""The book's recipes as data: every setting of a run, and its default, in one place.

    >>> from dataclasses import replace
    >>> from resnet.train.recipe import RECIPE, FINE_TUNING
    >>> RECIPE.image_size, RECIPE.epochs, RECIPE.batch_size
    (16, 12, 32)
    >>> faces = replace(RECIPE, image_size=32, batch_size=16, peak_learning_rate=1e-3)
    >>> [phase.epochs for phase in FINE_TUNING.phases()]
    [9, 7]

``Recipe`` is training from scratch (``training.train_resnet50``), ``FineTuning`` is
fine-tuning a pretrained ResNet50 in two phases (``finetune.fine_tune_resnet50``). Both
are frozen dataclasses: a changed setting is a new recipe (``dataclasses.replace``), so
a recipe can be printed, compared, stored beside a backup (``settings``) and shared by
the library, the command line and the benchmarks. Each checks its fields when made,
and an error names the field and what it may be.

Why each default is what it is (the chapters measure them):

    image_size          16: the digits (8x8) at twice their side. On a CPU a step
                        costs mostly a fixed amount, and 32x32 made each step dearer
                        without making the network more accurate
    epochs, batch_size  12 epochs of full batches of 32; fewer epochs cost accuracy
    peak_learning_rate  Adam's after a one-epoch linear warm-up, then a cosine decay
    bn_momentum         0.9 (``SMALL_DATA_BN_MOMENTUM``): Keras' 0.99 lags behind the
                        weights when an epoch has a few dozen steps
    zero_init_residual  every block's main path starts at zero (Goyal et al. 2017): an
                        identity block as the identity, a convolutional one as relu(shortcut)
    shift, rotation     the digits' augmentation (0 and 0: none)
    mixed_precision,    "auto": decided by ``speed.choose_speed`` per machine (on a
    jit_compile         CPU float32, with XLA where it measured faster: the recipes'
                        accuracy in bfloat16 is unmeasured, so it is not tried)
    head_epochs, ...    fine-tuning: the new classifier alone on the frozen network
                        (phase 1), then the layers from stage ``unfreeze`` up at a
                        tenth of the learning rate, BN as ``batch_norm`` says (phase 2)
    head_epochs,        9 and 7 epochs of batches of 16: the budget of chapter 7's sweep
    epochs, batch_size  (``benchmarks/transfer_sources.py``: 300 steps for the head, 200
                        for every layer) on every image of its target (537); its
                        fine-tuning runs gained little in the second half of phase 2,
                        so the budget was enough there
    batch_norm          "inference" (phase 2): level with "training" in that sweep, on
                        the same images, and not below it (a test checks the file); it
                        keeps the pretrained statistics, as Keras' guide does
"""

from dataclasses import asdict, dataclass, fields, replace
from typing import NamedTuple

from ..validation import InvalidParameterError, check_image_size, check_int

SMALL_DATA_BN_MOMENTUM = 0.9  # forgets the initial statistics within two epochs of 33 steps
STAGES = ("conv2", "conv3", "conv4", "conv5")
BATCH_NORM = ("training", "inference")
HEADS = ("augmented", "features")
AUGMENTATIONS = ("auto", "photos", "shifts", None)
PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
JIT_COMPILE = ("auto", True, False)


def _check_number(value, name, low=0.0):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= low:
        raise InvalidParameterError(f"`{name}` must be a number >= {low:g}, got {value!r}.")


def _check_choice(value, name, allowed):
    if value not in allowed or (isinstance(value, bool) != any(
            isinstance(a, bool) and a == value for a in allowed)):
        raise InvalidParameterError(f"`{name}` must be one of {allowed}, got {value!r}.")


def _check_common(recipe):
    """The fields both recipes share."""
    if recipe.image_size is not None:
        check_image_size(recipe.image_size, "image_size")
    check_int(recipe.batch_size, "batch_size")
    check_int(recipe.seed, "seed", 0)
    _check_number(recipe.bn_momentum, "bn_momentum")
    if recipe.bn_momentum >= 1:
        raise InvalidParameterError(f"`bn_momentum` must be below 1, got {recipe.bn_momentum}.")
    _check_choice(recipe.mixed_precision, "mixed_precision", PRECISIONS)
    _check_choice(recipe.jit_compile, "jit_compile", JIT_COMPILE)


class _Settings:
    """What both recipes can do: say their settings, check a dataset against them."""

    def settings(self):
        """The fields as a JSON-able dict (what a backup records)."""
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in asdict(self).items()}

    def steps_per_epoch(self, dataset):
        """Full batches in an epoch of ``dataset``'s training split (the rest sit out)."""
        n_train = len(dataset.arrays["train"].labels)
        if n_train < self.batch_size:
            raise InvalidParameterError(
                f"`batch_size` ({self.batch_size}) must not exceed the training images "
                f"({n_train}).")
        return n_train // self.batch_size

    def check_dataset(self, dataset):
        """Refuse a dataset of another image size than the recipe's (None: any)."""
        if self.image_size is None:
            return
        want = check_image_size(self.image_size, "image_size")
        got = tuple(dataset.input_shape[:2])
        if tuple(want) != got:
            raise InvalidParameterError(
                f"the dataset's images are {got[0]}x{got[1]} and the recipe's `image_size` "
                f"is {self.image_size}: load the data at the recipe's size "
                f"(image_size=recipe.image_size), or change the recipe "
                f"(dataclasses.replace(recipe, image_size=...)).")

    def replace(self, **changes):
        """A copy with ``changes`` (``dataclasses.replace``; a field it lacks is named)."""
        names = {field.name for field in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise InvalidParameterError(
                f"{type(self).__name__} has no setting {', '.join(map(repr, unknown))}; "
                f"its settings: {', '.join(sorted(names))}.")
        return replace(self, **changes)


@dataclass(frozen=True)
class Recipe(_Settings):
    """Training ResNet50 from scratch (``training.train_resnet50``); see the module."""

    image_size: object = 16
    epochs: int = 12
    batch_size: int = 32
    peak_learning_rate: float = 3e-3
    warmup_epochs: int = 1
    bn_momentum: float = SMALL_DATA_BN_MOMENTUM
    zero_init_residual: bool = True
    shift: float = 0.1
    rotation: float = 10.0
    seed: int = 0
    mixed_precision: str = "auto"
    jit_compile: object = "auto"

    def __post_init__(self):
        _check_common(self)
        check_int(self.epochs, "epochs")
        check_int(self.warmup_epochs, "warmup_epochs", 0)
        _check_number(self.peak_learning_rate, "peak_learning_rate")
        _check_number(self.shift, "shift")
        _check_number(self.rotation, "rotation")
        _check_choice(self.zero_init_residual, "zero_init_residual", (True, False))


class Phase(NamedTuple):
    """One phase of fine-tuning: its epochs, what trains (``unfreeze``: None for the
    classifier alone, "all", or a stage and those above it), what BN does, Adam's
    starting learning rate and whether it decays along a cosine."""

    number: int
    epochs: int
    unfreeze: object
    batch_norm: str
    learning_rate: float
    cosine: bool


@dataclass(frozen=True)
class FineTuning(_Settings):
    """Fine-tuning a pretrained ResNet50 in two phases (``finetune.fine_tune_resnet50``).

    ``image_size`` None takes the dataset's size (the pretrained convolutions do not
    depend on it). ``epochs=0`` trains the classifier alone; ``head_epochs=0`` skips
    phase 1. ``head="features"`` runs phase 1 on features computed once (unaugmented;
    the same model in far less time when there is no augmentation).
    """

    image_size: object = None
    head_epochs: int = 9
    epochs: int = 7
    batch_size: int = 16
    head_learning_rate: float = 1e-3
    learning_rate: float = 1e-4  # a tenth of the head's: the weights should move a little
    unfreeze: object = "all"
    batch_norm: str = "inference"  # phase 2's: level with "training" in the sweep
    bn_momentum: float = SMALL_DATA_BN_MOMENTUM
    head: str = "augmented"
    augmentation: object = "auto"
    seed: int = 0
    mixed_precision: str = "auto"
    jit_compile: object = "auto"

    def __post_init__(self):
        _check_common(self)
        check_int(self.head_epochs, "head_epochs", 0)
        check_int(self.epochs, "epochs", 0)
        if self.head_epochs + self.epochs == 0:
            raise InvalidParameterError("`head_epochs` and `epochs` must not both be 0.")
        _check_number(self.head_learning_rate, "head_learning_rate")
        _check_number(self.learning_rate, "learning_rate")
        if self.unfreeze is not None and self.unfreeze != "all" and self.unfreeze not in STAGES:
            raise InvalidParameterError(
                f"`unfreeze` must be 'all', one of {STAGES} (that stage and those above it "
                f"train) or None, got {self.unfreeze!r}.")
        _check_choice(self.batch_norm, "batch_norm", BATCH_NORM)
        _check_choice(self.head, "head", HEADS)
        _check_choice(self.augmentation, "augmentation", AUGMENTATIONS)

    def phases(self):
        """The two phases, in order (a phase of 0 epochs is still listed)."""
        return (Phase(1, self.head_epochs, None, "inference", self.head_learning_rate, False),
                Phase(2, self.epochs, self.unfreeze, self.batch_norm, self.learning_rate, True))


RECIPE = Recipe()
FINE_TUNING = FineTuning()
