"""Saving a trained model for inference, with its class names inside the file.

    >>> from resnet.train import saving
    >>> saving.save_model(model, "digits.keras", class_names=digits.class_names)  # doctest: +SKIP
    >>> saving.saved_class_names("digits.keras")                               # doctest: +SKIP
    ('0', '1', '2', '3', '4', '5', '6', '7', '8', '9')

``resnet.evaluate`` and ``python -m resnet predict`` read the names back, so a saved
model labels its predictions without being told its classes.
"""

import json
import os
from pathlib import Path

from ..validation import InvalidParameterError

CLASS_NAMES_ENTRY = "class_names.json"


def save_model(model, path, *, class_names=None):
    """Save ``model`` for inference: architecture and weights, no optimizer state.

    Adam's two moments would triple the file (ResNet50: 284 MB instead of about
    95). The file is written beside ``path`` first and then renamed, so that a
    process killed while saving never leaves a half-written model at ``path``.
    Load it with ``keras.models.load_model(path)`` (safe mode on).

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
    bare.save(partial)
    if class_names is not None:
        import zipfile

        names = [str(name) for name in class_names]
        if len(names) != int(model.output_shape[-1]):
            partial.unlink()
            raise InvalidParameterError(f"`class_names` must hold one name per class "
                                        f"({model.output_shape[-1]}), got {len(names)}.")
        with zipfile.ZipFile(partial, "a") as archive:
            archive.writestr(CLASS_NAMES_ENTRY, json.dumps(names))
    os.replace(partial, path)
    return path


def saved_class_names(path):
    """The class names ``save_model`` stored in a .keras file, or None if it holds none."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            if CLASS_NAMES_ENTRY not in archive.namelist():
                return None
            names = json.loads(archive.read(CLASS_NAMES_ENTRY))
    except (OSError, ValueError, zipfile.BadZipFile):
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return tuple(names)
