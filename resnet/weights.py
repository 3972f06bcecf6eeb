"""Weights for the from-scratch networks: keras.applications' ImageNet files, or your own.

``ResNet50(weights=...)`` (and ResNet101, ResNet152) accept:

    None          fresh initialisation (the default)
    "imagenet"    the weights keras.applications publishes for its ResNet v1
                  (trained on ImageNet by He et al. 2015's recipe, converted
                  from the authors' Caffe models), downloaded once by
                  ``keras.utils.get_file`` into ~/.keras/models. They fit
                  only include-top networks at 224x224x3 with 1000 classes.
    a path        a weights file: keras.applications' ``.h5`` (Keras 2
                  format, matched layer by layer in order), or a
                  ``.weights.h5`` / ``.keras`` file saved by Keras 3 from
                  either network (matched layer by layer, in order of type).

Since the from-scratch network has keras.applications' layers, in the same
order and with the same shapes, both kinds of file load unchanged.
"""

import os
import warnings
from pathlib import Path

from tensorflow import keras

from .validation import InvalidParameterError

# keras/src/applications/resnet.py: BASE_WEIGHTS_PATH and WEIGHTS_HASHES (include_top).
IMAGENET_URL = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
IMAGENET_FILES = {
    50: ("resnet50_weights_tf_dim_ordering_tf_kernels.h5", "2cb95161c43110f7111970584f804107"),
    101: ("resnet101_weights_tf_dim_ordering_tf_kernels.h5", "f1aeb4b969a6efcfb50fad2f0c20cfc5"),
    152: ("resnet152_weights_tf_dim_ordering_tf_kernels.h5", "100835be76be38e30d865e96f2aaae62"),
}
IMAGENET_INPUT_SHAPE = (224, 224, 3)
IMAGENET_CLASSES = 1000

_SUFFIXES = (".h5", ".hdf5", ".keras")
_CONVS_PER_DEPTH = {53: 50, 104: 101, 155: 152}  # conv kernels in a file -> depth


def is_imagenet(weights):
    """Whether ``weights`` names keras.applications' ImageNet weights ("imagenet" or their file)."""
    if isinstance(weights, str) and weights == "imagenet":
        return True
    if isinstance(weights, (str, os.PathLike)):
        return Path(weights).name in {file for file, _ in IMAGENET_FILES.values()}
    return False


def resolve(weights, depth, input_shape, classes):
    """Check ``weights`` before the model is built; return the file to load, or None.

    "imagenet" is downloaded here (or found in the cache), so that a network
    that cannot be given its weights fails before it is built.

    Raises:
        InvalidParameterError: ``weights`` is neither None, "imagenet" nor a path; the
            path's suffix is not a Keras weights file's; or "imagenet" is asked
            for another shape than 224x224x3 with 1000 classes.
        FileNotFoundError: the path does not exist.
        ConnectionError: "imagenet" could not be downloaded (no network).
    """
    if weights is None:
        return None
    if isinstance(weights, str) and weights == "imagenet":
        if tuple(input_shape) != IMAGENET_INPUT_SHAPE or classes != IMAGENET_CLASSES:
            raise InvalidParameterError(
                f"`weights='imagenet'` needs input_shape={IMAGENET_INPUT_SHAPE} and "
                f"classes={IMAGENET_CLASSES} (the published classifier's), got "
                f"input_shape={tuple(input_shape)} and classes={classes}. For other shapes "
                "use weights=None, or load a file saved from a network of that shape."
            )
        return _download(depth)
    if not isinstance(weights, (str, os.PathLike)):
        raise InvalidParameterError(
            "`weights` must be None, 'imagenet' or the path to a weights file "
            f"({', '.join(_SUFFIXES)}), got {weights!r}."
        )
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(
            f"`weights` is neither None nor 'imagenet', and no weights file exists at "
            f"'{weights}'."
        )
    if not path.name.endswith(_SUFFIXES):
        raise InvalidParameterError(
            f"`weights` must be a Keras weights file ending in {', '.join(_SUFFIXES)} "
            f"(e.g. from model.save_weights('name.weights.h5')), got '{weights}'."
        )
    return path


def load(model, path, depth, input_shape, classes):
    """Load the weights file ``path`` into ``model``, or raise a ValueError saying why not."""
    try:
        with warnings.catch_warnings():
            # Keras warns about every layer it skips before it raises; the error says it all.
            warnings.simplefilter("ignore")
            model.load_weights(str(path))
    except Exception as error:  # Keras raises ValueError, h5py OSError/KeyError
        expected = describe_file(path)
        hint = f" The file holds weights for {expected}." if expected else ""
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(
            f"the weights in '{path}' do not fit ResNet{depth}(input_shape="
            f"{tuple(input_shape)}, classes={classes}).{hint} Keras said: {detail}"
        ) from error


def _download(depth):
    file_name, file_hash = IMAGENET_FILES[depth]
    try:
        return keras.utils.get_file(
            file_name, IMAGENET_URL + file_name, cache_subdir="models", file_hash=file_hash
        )
    except Exception as error:  # keras.utils.get_file raises a bare Exception offline
        raise ConnectionError(
            f"weights='imagenet' needs to download keras.applications' ImageNet weights "
            f"({file_name}) from {IMAGENET_URL}, and the download failed ({error}). Connect "
            "to the internet (in Colab it works), or download that file elsewhere and pass "
            "its path as `weights`."
        ) from error


def file_shape(path):
    """What a weights file holds, read from its kernels: (depth, channels, classes).

    Each is None where the file does not say (or is not an HDF5 file this can read):
    depth from the number of conv kernels (53 for ResNet50), channels from the stem's
    7x7 kernel, classes from the only 2-D kernel (the classifier's).
    """
    try:
        import h5py

        kernels = {}

        def visit(name, item):
            # A model saved after training also holds its optimizer's slots, arrays of
            # the kernels' shapes (Adam: two per kernel), under "optimizer/": skip them.
            if (isinstance(item, h5py.Dataset) and item.ndim in (2, 4)
                    and not name.startswith("optimizer/")):
                kernels[name] = item.shape

        with h5py.File(path, "r") as f:
            f.visititems(visit)
    except Exception:  # not an HDF5 file we can read: say nothing rather than guess
        return None, None, None
    convs = [shape for shape in kernels.values() if len(shape) == 4]
    # Keras 3 files name layers by type (conv2d_7, dense), Keras 2 files by name: read
    # shapes instead. The stem is the only 7x7 conv, the classifier the only 2-D kernel.
    stem = [shape for shape in convs if shape[:2] == (7, 7)]
    top = [shape for shape in kernels.values() if len(shape) == 2]
    return (_CONVS_PER_DEPTH.get(len(convs)), int(stem[0][2]) if len(stem) == 1 else None,
            int(top[0][1]) if len(top) == 1 else None)


def describe_file(path):
    """'ResNet<depth>, <C>-channel input, <N> classes' as read from the file, or None."""
    depth, channels, classes = file_shape(path)
    parts = []
    if depth is not None:
        parts.append(f"ResNet{depth}")
    if channels is not None:
        parts.append(f"{channels}-channel input")
    if classes is not None:
        parts.append(f"{classes} classes")
    return ", ".join(parts) or None
