"""Shared fixtures. TensorFlow's C++ logs are silenced before it is imported."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from tensorflow import keras  # noqa: E402

LEGACY_KERAS = not hasattr(keras, "ops")  # Keras 2 (tf-keras) has no keras.ops
ROOT = Path(__file__).resolve().parent.parent


def load_toc():
    """The book's _toc.yml, parsed."""
    import yaml

    return yaml.safe_load((ROOT / "_toc.yml").read_text())


def toc_files(toc=None):
    """Every file a _toc.yml tree lists (root, parts, chapters, sections), in reading order."""
    toc = load_toc() if toc is None else toc
    found = [toc[key] for key in ("file", "root") if key in toc]
    for key in ("parts", "chapters", "sections"):
        for child in toc.get(key, []):
            found += toc_files(child)
    return found


# Tolerances for a deep network's outputs, from what they separate (measured, see below).
# Rounding: float32 sums through ResNet50's 50 layers come out differently with other oneDNN
# kernels (other batch sizes, other CPU kinds): the pooled features of one image in a batch
# of 1 and of 8 differed by 1.2e-6 of their largest value (AVX-512 EPYC, Keras 3 and 2).
# Bugs: BN stuck in training mode moves them by ~100% of it, and a wrong BN epsilon (1e-3
# instead of 1.001e-5) by 1.3%. 1e-4 of the scale sits between the two.
FEATURE_RTOL = 1e-4
# Probabilities: a softmax turns a logit change d into a probability change of up to d/2,
# and this test's random-weight logits span ~40, so rounding moves a probability by up to a
# few 1e-5 (1.9e-5 measured, legacy Keras 2: oneDNN kernels differ by batch size). BN stuck
# in training mode moves it by 1e-2 or more (0.7 measured).
PROBABILITY_ATOL = 1e-3


def assert_close_to_scale(actual, desired, rtol=FEATURE_RTOL):
    """Assert |actual - desired| <= rtol * max|desired| everywhere.

    Relative to the largest value, not elementwise: rounding in a sum is of the size of
    its largest terms, so small entries (features near 0) carry the same absolute error.
    """
    actual, desired = np.asarray(actual), np.asarray(desired)
    np.testing.assert_allclose(actual, desired, rtol=0, atol=rtol * np.abs(desired).max())


def pytest_collection_modifyitems(items):
    """Tests that need the built book (minutes) are slow, wherever they are."""
    for item in items:
        if "built_book" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def picture(rng):
    """A 16x16 RGB uint8 image with a few colours (so a palette holds it exactly)."""
    palette = rng.integers(0, 256, size=(6, 3))
    return palette[rng.integers(0, 6, size=(16, 16))].astype(np.uint8)


def tiny_model(channels=3, classes=3, size=16, name="tiny"):
    """A small stand-in for a trained ResNet: same input/output contract, fast."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((size, size, channels))
    x = keras.layers.Conv2D(4, 3, activation="relu")(inputs)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name=name)


def save_image(image, path, **kwargs):
    """Save a PIL image (or a uint8 array) to ``path``; return the path."""
    if isinstance(image, np.ndarray):
        from PIL import Image

        image = Image.fromarray(image)
    image.save(path, **kwargs)
    return path


CLASSES = ("circle", "square", "stripes")


def make_shape_classes(root, per_class=8, seed=0, channels=1):
    """Patterned 32x32 PNGs, one subfolder per class (CLASSES), on a noisy background:
    greyscale, or RGB with the pattern in a colour of its class's own (channels=3)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:32, :32]
    shapes = {
        "circle": (yy - 16) ** 2 + (xx - 16) ** 2 < 80,
        "square": (abs(yy - 16) < 8) & (abs(xx - 16) < 8),
        "stripes": xx % 4 == 0,
    }
    colours = {"circle": (220, 60, 60), "square": (60, 220, 60), "stripes": (60, 60, 220)}
    for name in CLASSES:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 60, size=(32, 32, channels)).astype(np.uint8)
            pixels[shapes[name]] = 220 if channels == 1 else colours[name]
            Image.fromarray(pixels.squeeze(-1) if channels == 1 else pixels).save(
                root / name / f"{i}.png")
    return root


def run_cli(*args, deterministic=False, small=False, pause=None, timeout=600, popen=False):
    """``python -m resnet ARGS`` in a fresh process, as a reader would run it.

    small: ``python tests/small_resnet50.py ARGS`` instead, the command line with the
    stand-in of ``small_resnet50.py`` as its builder (the tests of mechanisms).
    deterministic: TensorFlow's deterministic ops (``RESNET_DETERMINISTIC=1``). pause:
    seconds each epoch ends with, after its backup (small only). popen: start it and
    return the ``Popen`` (output discarded) instead of waiting for it.
    """
    import subprocess
    import sys

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if deterministic:
        env["RESNET_DETERMINISTIC"] = "1"
    if pause:
        env["RESNET_TEST_EPOCH_PAUSE"] = str(pause)
    command = ([sys.executable, str(Path(__file__).with_name("small_resnet50.py"))] if small
               else [sys.executable, "-m", "resnet"])
    command += [str(a) for a in args]
    if popen:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=env)
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """Build the book once per session, Sphinx warnings as errors; return its HTML folder.

    Fails with the build's log if jupyter-book reports a warning or an error.
    """
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    output = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jupyter_book), "build", str(root), "--path-output", str(output), "-W", "-n",
         "--keep-going"],
        capture_output=True, text=True, timeout=900,
    )
    log = (result.stdout + result.stderr)[-6000:]
    assert result.returncode == 0, f"jupyter-book build failed or warned:\n{log}"
    return output / "_build" / "html"
