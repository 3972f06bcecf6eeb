"""The book's sample images, shipped inside the package so that every chapter finds them.

In a checkout, ``notebooks/images`` is a link to this package's ``sample_images``
folder. In Colab only the package is installed, so a chapter that reads ``images/``
first calls ``copy_sample_images()``, which writes the same files into ``images/``
of the working directory; the chapter's relative paths then work in both places.

    >>> sorted(path.name for path in SAMPLE_IMAGES.iterdir())
    ['digits', 'photos']
"""

import shutil
from pathlib import Path

SAMPLE_IMAGES = Path(__file__).resolve().parent / "sample_images"


def sample_image_files():
    """The sample images' paths relative to ``SAMPLE_IMAGES`` ("digits/test_0.png", ...)."""
    return sorted(path.relative_to(SAMPLE_IMAGES).as_posix()
                  for path in SAMPLE_IMAGES.rglob("*") if path.is_file())


def copy_sample_images(folder="images"):
    """Make ``folder`` hold the book's sample images; return ``folder`` as a Path.

    Args:
        folder: where the chapters look for them, relative to the working directory
            (``images``: ``images/digits/*.png``, ``images/photos/*``).

    Returns:
        ``Path(folder)``, as given (relative paths stay relative, so nothing local is
        printed). Files already there are left alone; missing ones are copied from the
        package.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"folder={str(folder)!r} exists and is not a folder")
    for name in sample_image_files():
        target = folder / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(SAMPLE_IMAGES / name, target)
    return folder
