"""Saving a trained model for inference, with its class names inside the file.

    >>> from resnet.train import saving
    >>> saving.save_model(model, "digits.keras", class_names=digits.class_names)  # doctest: +SKIP
    >>> saving.saved_class_names("digits.keras")                               # doctest: +SKIP
    ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9')

``resnet.evaluate`` and ``python -m resnet predict`` read the names back, so a saved
model labels its predictions without being told its classes; ``load_model`` gives the
model back with the preprocessing it was trained with (``resnet.preprocessing_for``).
"""

import json
import os
import zipfile
from pathlib import Path

from ..preprocessing import preprocessing_name, set_preprocessing
from ..validation import InvalidParameterError

CLASS_NAMES_ENTRY = "class_names.json"
PREPROCESSING_ENTRY = "preprocessing.json"


def save_model(model, path, *, class_names=None):
    """Save ``model`` for inference: architecture and weights, no optimizer state.

    Adam's two moments would triple the file (ResNet50: 284 MB instead of about
    95). The file is written beside ``path`` first and then renamed, so that a
    process killed while saving never leaves a half-written model at ``path``.
    Load it with ``load_model(path)`` (Keras' safe mode on), which also gives the
    model back the name of its preprocessing (``resnet.preprocessing_name``), stored
    in the file as ``preprocessing.json``.

    ``class_names`` (one per output, in label order), when given, are stored
    inside the .keras file (a zip archive) as ``class_names.json``, which Keras
    ignores when loading; ``saved_class_names(path)`` reads them back.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise InvalidParameterError(f"`path` must end in '.keras', got {str(path)!r}.")
    bare = model.__class__.from_config(model.get_config())  # uncompiled (clone_model compiles)
    bare.set_weights(model.get_weights())
    partial = path.with_name(f".{path.stem}.partial.keras")
    path.parent.mkdir(parents=True, exist_ok=True)
    names = None if class_names is None else [str(name) for name in class_names]
    if names is not None and len(names) != int(model.output_shape[-1]):
        raise InvalidParameterError(f"`class_names` must hold one name per class "
                                    f"({model.output_shape[-1]}), got {len(names)}.")
    bare.save(partial)
    with zipfile.ZipFile(partial, "a") as archive:
        archive.writestr(PREPROCESSING_ENTRY, json.dumps(preprocessing_name(model)))
        if names is not None:
            archive.writestr(CLASS_NAMES_ENTRY, json.dumps(names))
    os.replace(partial, path)
    return path


def _entry(path, name):
    """An entry ``save_model`` stored in a .keras file, read as JSON (None: none)."""
    try:
        with zipfile.ZipFile(path) as archive:
            if name not in archive.namelist():
                return None
            return json.loads(archive.read(name))
    except (OSError, ValueError, zipfile.BadZipFile):
        return None


def saved_class_names(path):
    """The class names ``save_model`` stored in a .keras file, or None if it holds none."""
    names = _entry(path, CLASS_NAMES_ENTRY)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return tuple(names)


def load_model(path, *, name="path"):
    """Load a .keras model (Keras' safe mode: no arbitrary code) with its preprocessing.

    Args:
        path: the file (``save_model``'s, or any .keras model).
        name: how error messages name the file (``--model`` on the command line).

    Raises:
        FileNotFoundError: no such file.
        ValueError: Keras cannot load it.
    """
    from tensorflow import keras

    if not Path(path).is_file():
        raise FileNotFoundError(f"{name} {str(path)!r}: no such file (a saved .keras model).")
    try:
        model = keras.models.load_model(path)
    except Exception as error:  # Keras raises many types for a file it cannot read
        first = str(error).splitlines()[0] if str(error) else repr(error)
        raise ValueError(f"{name} {str(path)!r}: not a loadable Keras model ({first}).") \
            from None
    stored = _entry(path, PREPROCESSING_ENTRY)
    if stored is not None:
        set_preprocessing(model, stored)
    return model
