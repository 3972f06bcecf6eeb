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
