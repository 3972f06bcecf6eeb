"""Argument checks shared by the whole package, written once.

Every public function checks its arguments at the boundary and says which
argument was wrong, what it got and what is allowed. The error is an
``InvalidParameterError``, which is both a ``ValueError`` and a ``TypeError``
(as scikit-learn's is), so ``except ValueError`` and ``except TypeError`` both
catch it.

    >>> check_int(3, "f")
    3
    >>> check_int(True, "f")
    Traceback (most recent call last):
        ...
    resnet.validation.InvalidParameterError: `f` must be a positive int, got True.
"""


class InvalidParameterError(ValueError, TypeError):
    """An argument of the wrong type or value; both a ValueError and a TypeError."""


def is_int(value):
    """Whether ``value`` is an int and not a bool (``True`` is an int in Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_int(value, name, minimum=1, *, what=None):
    """Return ``value`` if it is an int >= ``minimum``; raise ``InvalidParameterError`` if not.

    Args:
        value: the argument to check.
        name: the argument's name, as the message gives it (```name``` in backquotes).
        minimum: the smallest value allowed.
        what: how the message describes what is allowed (default "a positive
            int" for minimum 1, "a non-negative int" for 0, else "an int >= minimum").
    """
    if not is_int(value) or value < minimum:
        if what is None:
            what = {1: "a positive int", 0: "a non-negative int"}.get(
                minimum, f"an int >= {minimum}")
        raise InvalidParameterError(f"`{name}` must be {what}, got {value!r}.")
    return value


def check_ints(values, name, count, *, what=None):
    """Return ``values`` as a tuple if it is a list or tuple of ``count`` positive ints."""
    if (
        not isinstance(values, (list, tuple))
        or len(values) != count
        or any(not is_int(n) or n < 1 for n in values)
    ):
        what = what or f"{count} positive ints"
        raise InvalidParameterError(f"`{name}` must be {what}, got {values!r}.")
    return tuple(values)


def check_channels(value, name="channels"):
    """Return ``value`` if it is 1 (greyscale) or 3 (RGB); raise ``InvalidParameterError`` if not.

    >>> check_channels(3)
    3
    >>> check_channels(4)
    Traceback (most recent call last):
        ...
    resnet.validation.InvalidParameterError: `channels` must be 1 (greyscale) or 3 (RGB), got 4.
    """
    if not is_int(value) or value not in (1, 3):
        raise InvalidParameterError(
            f"`{name}` must be 1 (greyscale) or 3 (RGB), got {value!r}.")
    return value


def check_fraction(value, name, *, allow_zero=False):
    """Return ``value`` if it is a number in (0, 1), or [0, 1) with ``allow_zero``.

    >>> check_fraction(0.2, "val_fraction")
    0.2
    >>> check_fraction(0, "test_fraction", allow_zero=True)
    0
    >>> check_fraction(1.0, "test_fraction", allow_zero=True)
    Traceback (most recent call last):
        ...
    resnet.validation.InvalidParameterError: `test_fraction` must be a number in [0, 1), got 1.0.
    """
    number = not isinstance(value, bool) and isinstance(value, (int, float))
    if not number or not (0 <= value < 1 if allow_zero else 0 < value < 1):
        allowed = "[0, 1)" if allow_zero else "(0, 1)"
        raise InvalidParameterError(f"`{name}` must be a number in {allowed}, got {value!r}.")
    return value


def check_image_size(value, name="image_size"):
    """Return (height, width) for an int (a square) or a pair of positive ints.

    >>> check_image_size(32)
    (32, 32)
    >>> check_image_size([24, 32])
    (24, 32)
    >>> check_image_size((8,))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    resnet.validation.InvalidParameterError: `image_size` must be ... (height, width), got (8,).
    """
    pair = (value, value) if is_int(value) else value
    if (
        not isinstance(pair, (list, tuple))
        or len(pair) != 2
        or any(not is_int(n) or n < 1 for n in pair)
    ):
        raise InvalidParameterError(
            f"`{name}` must be a positive int or (height, width), got {value!r}.")
    return tuple(pair)
