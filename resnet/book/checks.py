"""Check your own blocks and ResNet50 against the package's.

    >>> from resnet.book.checks import check_identity_block
    >>> from resnet import identity_block  # pass the function you wrote instead
    >>> check_identity_block(identity_block)
    output shape (None, 15, 15, 256): ok
    parameter count 44,768: ok
    layer kinds (3 Conv2D, 3 BatchNormalization, 3 ReLU, 1 Add): ok
    numbers on fixed inputs (max difference < 1e-04): ok
    All checks passed.

Each check builds your function on a small input and the package's on the same
input, gives the package's version random weights (BN moving statistics
included), copies them into yours and compares the output shapes, parameter
counts, layer kinds and outputs (inference mode). Layers are matched by their
position in the graph and their shapes, not by name or creation order. The
first check that fails raises ``AssertionError`` saying what differs and the
most likely cause, so that a notebook cell fails visibly:

    AssertionError: numbers on fixed inputs: with the same weights your outputs
    differ from the reference's by 0.88 (tolerance 1e-04); the outputs of all
    convs and BNs agree, so the difference comes after them (in the additions,
    ReLUs or pooling).
    Most likely cause: the shortcut is added after the final ReLU: relu(F(X)) + X
    instead of relu(F(X) + X).

BatchNormalization layers may use another epsilon than the package's (the
course code uses Keras' default, 1e-3): a line says so and the reference is
built with it.

This module is not imported by ``import resnet``; import it when you need it.
"""

import inspect
import re
from collections import Counter

import numpy as np
from tensorflow import keras
from tensorflow.keras import layers

from ..blocks import BN_EPSILON, convolutional_block, identity_block
from ..model import ResNet50

__all__ = [
    "check_convolutional_block",
    "check_identity_block",
    "check_resnet50",
    "identical_kernels",
    "max_difference",
    "print_layer_pairs",
    "randomize_weights",
    "weights_digest",
]

TOLERANCE = 1e-4  # on the largest absolute difference, relative to the output's size (if > 1)
_WEIGHTED = ("Conv2D", "BatchNormalization", "Dense")
_COUNTED = ("Conv2D", "BatchNormalization", "ReLU", "Add", "ZeroPadding2D", "MaxPooling2D",
            "Dense")
_ROLES = {"0_conv": "the shortcut's 1x1 conv", "1_conv": "the first 1x1 conv",
          "2_conv": "the f x f conv", "3_conv": "the last 1x1 conv",
          "0_bn": "the shortcut's BN", "1_bn": "the first BN", "2_bn": "the second BN",
          "3_bn": "the third BN", "conv1_conv": "the stem's 7x7 conv",
          "conv1_bn": "the stem's BN", "predictions": "the classifier"}


def _describe(layer):
    """What a layer of the reference is: "the first 1x1 conv (of conv3_block1)"."""
    for suffix, role in _ROLES.items():
        if layer.name == suffix or layer.name.endswith("_" + suffix):
            block = layer.name[:-len(suffix) - 1]
            return role if block in ("", "ref") else f"{role} of {block}"
    return layer.name


def _kind(op):
    """The kind of a layer or operation: 'Conv2D', 'ReLU', 'Add', ... (None for others)."""
    name = type(op).__name__
    if isinstance(op, layers.Activation):
        return "ReLU" if getattr(op.activation, "__name__", "") == "relu" else None
    symbol = str(getattr(op, "symbol", ""))  # Keras 2 wraps TensorFlow ops in TFOpLambda
    if name in ("ReLU", "Relu") or "relu" in symbol:
        return "ReLU"
    if name == "Add" or symbol in ("__operators__.add", "math.add"):
        return "Add"
    for kind in _COUNTED:
        if isinstance(op, getattr(layers, kind)):
            return kind
    return None


class _Graph:
    """The nodes of a functional model with their kinds, depths and consumers.

    Read from the model's config (``model.get_config()``, Keras' public description of
    the graph): every layer or operation comes with its ``inbound_nodes``, one per call,
    which name the nodes whose outputs it takes. A node is keyed by (name, call index).
    """

    def __init__(self, model):
        self.model = model
        # Keras 3 lists operations that are not layers (keras.ops.add, ...) apart.
        by_name = {op.name: op for op in getattr(model, "operations", None) or model.layers}
        self.op, self.parents = {}, {}
        for entry in model.get_config()["layers"]:  # inputs first
            for call, node in enumerate(entry["inbound_nodes"] or [None]):
                self.op[entry["name"], call] = by_name[entry["name"]]
                self.parents[entry["name"], call] = list(_inbound(node))
        self.kind = {i: _kind(op) for i, op in self.op.items()}
        self.consumers = {i: [] for i in self.op}
        for i, parents in self.parents.items():
            for p in parents:
                self.consumers.setdefault(p, []).append(self.kind[i])
        self.counts = Counter(k for k in self.kind.values() if k)
        depth = {}  # weighted layers on the longest path from the input; nodes come inputs first
        for i in self.op:
            depth[i] = max((depth.get(p, 0) for p in self.parents[i]), default=0)
            depth[i] += self.kind[i] in _WEIGHTED
        # A canonical order of the weighted layers: by depth, kind and shape, so that
        # the shortcut may be built before or after the main path.
        order = sorted((depth[i], _WEIGHTED.index(k), _shapes(self.op[i]), position, i)
                       for position, (i, k) in enumerate(self.kind.items()) if k in _WEIGHTED)
        self.weighted = [self.op[item[-1]] for item in order]

    def ops(self, kind):
        return [op for i, op in self.op.items() if self.kind[i] == kind]


def _inbound(node):
    """The (name, call index) of every tensor a node of ``get_config()`` takes, in order.

    Keras 3 writes a tensor as {"keras_history": [name, call, output]} inside the
    call's arguments, Keras 2 as [name, call, output] or [name, call, output, kwargs]:
    both are found as a list that starts with a name and two ints.
    """
    if isinstance(node, dict):
        for value in node.values():
            yield from _inbound(value)
    elif isinstance(node, (list, tuple)):
        if (len(node) in (3, 4) and isinstance(node[0], str)
                and all(isinstance(n, int) for n in node[1:3])):
            yield node[0], node[1]
            node = node[3:]  # Keras 2's kwargs may hold more tensors
        for item in node:
            yield from _inbound(item)


def _shapes(layer):
    return tuple(tuple(w.shape) for w in layer.get_weights())


def _pair(n, axes):
    return tuple(n) if isinstance(n, (list, tuple)) else (n,) * axes


def _kinds_text(counts, kinds):
    return ", ".join(f"{counts.get(k, 0)} {k}" for k in kinds)


def _block(want):
    """Which reference ``want`` is: "identity", "convolutional" (by its convs) or "resnet50"."""
    return {3: "identity", 4: "convolutional"}.get(len(want.ops("Conv2D")), "resnet50")


def _setting_cause(got, want, f):
    """A layer set up wrong: BN on another axis, a conv with a ReLU or without a bias."""
    for bn in got.ops("BatchNormalization"):
        axes = bn.axis if isinstance(bn.axis, (list, tuple)) else [bn.axis]
        if any(a not in (-1, 3) for a in axes):
            return (f"BatchNormalization on axis {axes[0]}: it must normalise the channels "
                    "(axis=3, or the default -1)")
    convs = got.ops("Conv2D")
    if any(getattr(c.activation, "__name__", "") == "relu" for c in convs):
        return ("a Conv2D with activation='relu' applies the ReLU before BN: keep the conv "
                "linear and put the ReLU after BatchNormalization")
    if any(not c.use_bias for c in convs):
        return "Conv2D with use_bias=False: the reference's convs have a bias"
    return None


def _count_cause(got, want, f):
    """A conv or a BatchNormalization missing, or one too many."""
    projection = _block(want) == "convolutional"
    n_conv, n_ref = len(got.ops("Conv2D")), len(want.ops("Conv2D"))
    n_bn, n_ref_bn = got.counts["BatchNormalization"], want.counts["BatchNormalization"]
    if n_conv < n_ref:
        return ("no projection on the shortcut: X must go through a 1x1 conv with "
                "strides=(s, s) and BatchNormalization before the addition"
                if projection else "a conv is missing")
    if n_conv > n_ref:
        return ("a conv on the shortcut: the identity block adds X unchanged"
                if n_ref == 3 else "a conv too many")
    if n_bn < n_ref_bn:
        return ("no BatchNormalization after the shortcut's 1x1 conv" if projection
                else "a conv without BatchNormalization after it")
    if n_bn > n_ref_bn:
        return "a BatchNormalization too many"
    return None


def _order_cause(got, want, f):
    """A BatchNormalization that does not take its conv's output."""
    for i, kind in got.kind.items():
        if kind == "BatchNormalization" and [got.kind[p] for p in got.parents[i]] != ["Conv2D"]:
            return "BatchNormalization does not come right after its conv (conv -> BN -> ReLU)"
    return None


def _kernel_cause(got, want, f):
    """The f x f conv with padding='valid', or with the stride."""
    for c in got.ops("Conv2D"):
        k, stride = _pair(c.kernel_size, 2), _pair(c.strides, 2)
        if k == (f, f) and f > 1 and c.padding == "valid":
            return (f"padding='valid' on the {f}x{f} conv: use padding='same' so that it "
                    "keeps the height and width")
        if k == (f, f) and stride != (1, 1):
            return (f"the stride is on the {f}x{f} conv instead of the first 1x1 conv: ResNet "
                    "v1 (the paper, keras.applications, this book) strides the first 1x1 conv "
                    "and the shortcut conv (striding the 3x3 conv is torchvision's 'v1.5')")
    return None


def _stride_cause(got, want, f):
    """More or fewer strided convs than the reference's."""
    def strided(graph):
        return [c for c in graph.ops("Conv2D") if _pair(c.strides, 2) != (1, 1)]

    if len(strided(got)) == len(strided(want)):
        return None
    return {"identity": "a strided conv: every conv of the identity block keeps the size",
            "convolutional": "strides=(s, s) belong on the first 1x1 conv and on the "
                             "shortcut's 1x1 conv, and on no other conv",
            "resnet50": "a stage with the wrong stride: conv2's first block uses s=1 (the "
                        "max-pool already halved the size), conv3 to conv5 use s=2"}[_block(want)]


def _matched_convs(graph):
    """``graph``'s convs in the canonical order of its weighted layers (``_Graph.weighted``)."""
    convs = graph.ops("Conv2D")
    return [c for c in graph.weighted if c in convs]


def _filters_cause(got, want, f):
    """The filters [F1, F2, F3] given to the convs in another order."""
    filters = [c.filters for c in _matched_convs(got)]
    ref_filters = [c.filters for c in _matched_convs(want)]
    if filters != ref_filters and sorted(filters) == sorted(ref_filters):
        return (f"the convs have {filters} filters where {ref_filters} are expected: the "
                "filters [F1, F2, F3] are used in the wrong order")
    return None


def _addition_cause(got, want, f):
    """The addition or a ReLU in the wrong place, missing or one too many."""
    ends_in_add = [i for i, k in got.kind.items() if k == "Add" and "ReLU" not in got.consumers[i]]
    relus, ref_relus = got.counts["ReLU"], want.counts["ReLU"]
    if ends_in_add and relus < ref_relus:
        return "no ReLU after the addition: a block ends with relu(F(X) + shortcut)"
    if ends_in_add:
        return ("the shortcut is added after the final ReLU: relu(F(X)) + X instead of "
                "relu(F(X) + X)")
    if relus < ref_relus:
        return "a ReLU is missing after the first or the second BN of the main path"
    if relus > ref_relus:
        return ("a ReLU too many: most likely after the third BN, before the addition (the "
                "main path ends with BN)")
    if got.counts["Add"] < want.counts["Add"]:
        return "the shortcut is never added to the main path"
    return None


def _padding_cause(got, want, f):
    """The stem without the zero-padding before its max-pool."""
    if got.counts["ZeroPadding2D"] < want.counts["ZeroPadding2D"]:
        return ("no ZeroPadding2D(1) before the 3x3 max-pool (the course version omits it; "
                "keras.applications pads, and its ImageNet weights expect it)")
    return None


def _epsilon_cause(got, want, f):
    """BatchNormalization layers that disagree on epsilon."""
    epsilons = sorted({float(bn.epsilon) for bn in got.ops("BatchNormalization")})
    if len(epsilons) > 1:
        return f"BatchNormalization layers with different epsilons {epsilons}"
    return None


def _attribute_cause(got, want, f):
    """A conv whose strides or padding differ from those of the reference's conv it matches."""
    for c, ref in zip(_matched_convs(got), _matched_convs(want), strict=True):
        for attribute in ("strides", "padding"):
            value, ref_value = getattr(c, attribute), getattr(ref, attribute)
            if value != ref_value:
                return (f"your conv that matches {_describe(ref)} has {attribute}={value!r}, "
                        f"the reference's {ref_value!r}")
    return None


# The usual mistakes, from the plainest (a layer's setting, a missing layer) to the subtlest:
# each takes (got, want, f), the two graphs and the kernel size, and names its mistake or
# returns None. The first that names one is the likely cause.
_CAUSES = (_setting_cause, _count_cause, _order_cause, _kernel_cause, _stride_cause,
           _filters_cause, _addition_cause, _padding_cause, _epsilon_cause, _attribute_cause)


def _likely_cause(got, want, f):
    """The most likely mistake that makes graph ``got`` differ from ``want``, or None.

    Asks each of ``_CAUSES`` in turn; ``f`` is the f x f conv's kernel size.
    """
    for cause in _CAUSES:
        found = cause(got, want, f)
        if found:
            return found
    return None


def _fail(what, cause, error=None):
    """Raise AssertionError("<what differs>\nMost likely cause: <cause>.") from ``error``."""
    cause = cause or "not one of the usual mistakes: compare your code with the reference's"
    raise AssertionError(f"{what}\nMost likely cause: {cause}.") from error


def randomize_weights(model, seed=0):
    """Give every weight of ``model`` random values, BN moving statistics included.

    Fresh BN layers have mean 0 and variance 1 and fresh biases are 0, which would
    hide a wrong epsilon, a swapped statistic or a missing bias; random values
    make any such difference show. BN scales (gamma) and moving variances are
    drawn from U(0.5, 1.5), so that they stay positive; every other weight from
    N(0, 0.05^2), small enough that activations stay of order 1 through ResNet50.

    Args:
        model: a Keras model (or layer).
        seed: an int, or a ``numpy.random.Generator`` to draw from (and advance).

    Returns:
        The model, with its new weights.

    >>> import numpy as np
    >>> from tensorflow import keras
    >>> layer = keras.layers.BatchNormalization()
    >>> layer.build((None, 4))
    >>> gamma = randomize_weights(layer, seed=0).get_weights()[0]
    >>> bool(np.all((gamma >= 0.5) & (gamma <= 1.5)))
    True
    """
    rng = np.random.default_rng(seed)
    model.set_weights([
        rng.uniform(0.5, 1.5, size=tuple(w.shape)).astype("float32")
        if "moving_variance" in _weight_name(w) or "gamma" in _weight_name(w)
        else rng.normal(0, 0.05, size=tuple(w.shape)).astype("float32")
        for w in model.weights
    ])
    return model


def weights_digest(*models):
    """A short hex digest of every weight of ``models``: equal only for identical weights.

    Two training runs that took different paths end with different weights, so the
    digest tells whether a run repeated another one exactly (the book's tests use it to
    show that a chapter re-run with another seed really trained differently).

    >>> from tensorflow import keras
    >>> dense = keras.layers.Dense(2, kernel_initializer="ones")
    >>> dense.build((None, 3))
    >>> weights_digest(dense)
    '998819a2ca072c75'
    """
    import hashlib

    digest = hashlib.sha256()
    for model in models:
        for weight in model.get_weights():
            digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()[:16]


def print_layer_pairs(model, reference):
    """Print each layer's type beside the reference's layer at the same position.

    Returns:
        Whether the two models' weights have the same shapes, in the same order.
    """
    for ours, theirs in zip(model.layers, reference.layers, strict=True):
        print(f"{type(ours).__name__:>18}  {theirs.name}")
    return [w.shape for w in model.weights] == [w.shape for w in reference.weights]


def identical_kernels(model, reference):
    """How many conv kernels (4-D weights) ``model`` has, or 0 if one differs from reference's."""
    pairs = zip(model.get_weights(), reference.get_weights(), strict=True)
    kernels = [(a, b) for a, b in pairs if a.ndim == 4]
    return len(kernels) if all(np.array_equal(a, b) for a, b in kernels) else 0


def max_difference(model, reference, x):
    """Copy ``reference``'s weights into ``model``; return max |model(x) - reference(x)|."""
    model.set_weights(reference.get_weights())
    return float(np.abs(model.predict(x, verbose=0) - reference.predict(x, verbose=0)).max())


def _weight_name(weight):
    return weight.path if hasattr(weight, "path") else weight.name  # Keras 3, Keras 2


def _difference(got, want):
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return np.inf
    return float(np.max(np.abs(got - want)) / max(1.0, float(np.max(np.abs(want)))))


def _compare(model, reference, x, f, outputs=lambda m: m):
    """Run the four checks of ``model`` against ``reference``; print a line per check."""
    got, want = _Graph(model), _Graph(reference)
    shape, ref_shape = tuple(model.outputs[0].shape), tuple(reference.outputs[0].shape)
    if shape != ref_shape:
        _fail(f"output shape: expected {ref_shape}, got {shape}.", _likely_cause(got, want, f))
    print(f"output shape {shape}: ok")
    params, ref_params = model.count_params(), reference.count_params()
    if params != ref_params:
        _fail(f"parameter count: expected {ref_params:,}, got {params:,}.",
              _likely_cause(got, want, f))
    print(f"parameter count {params:,}: ok")
    kinds = [k for k in _COUNTED if want.counts[k]]
    if any(got.counts[k] != want.counts[k] for k in kinds):
        _fail(f"layer kinds: expected {_kinds_text(want.counts, kinds)}, got "
              f"{_kinds_text(got.counts, kinds)}.", _likely_cause(got, want, f))
    print(f"layer kinds ({_kinds_text(got.counts, kinds)}): ok")

    shapes = [_shapes(layer) for layer in got.weighted]
    ref_shapes = [_shapes(layer) for layer in want.weighted]
    if shapes != ref_shapes:
        i = next(i for i, (a, b) in enumerate(zip(shapes, ref_shapes, strict=False)) if a != b)
        _fail(f"numbers on fixed inputs: cannot copy the weights of {_describe(want.weighted[i])}"
              f" (shapes {ref_shapes[i]}) into your layer {got.weighted[i].name} (shapes "
              f"{shapes[i]}).", _likely_cause(got, want, f))
    randomize_weights(reference, seed=0)
    for layer, ref_layer in zip(got.weighted, want.weighted, strict=True):
        layer.set_weights(ref_layer.get_weights())
    # No `training` argument: this is how Keras predicts, and it shows BN layers that
    # were called with training=True regardless.
    expected, actual = _run(outputs(reference), x), _run(outputs(model), x)
    difference = max(_difference(a, e) for a, e in zip(actual, expected, strict=True))
    if difference > TOLERANCE:
        saved = reference.get_weights()  # training=True updates the BN moving averages
        in_training = _run(outputs(reference), x, training=True)
        reference.set_weights(saved)
        if max(_difference(a, e) for a, e in zip(actual, in_training, strict=True)) < TOLERANCE:
            cause = ("BatchNormalization is called with training=True whatever the `training` "
                     "argument says: pass training=training (or nothing), so that predictions "
                     "use the moving averages")
        else:
            cause = _likely_cause(got, want, f)
        _fail(f"numbers on fixed inputs: with the same weights your outputs differ from the "
              f"reference's by {difference:.2g} (tolerance {TOLERANCE:.0e}); "
              f"{_first_difference(got, want, x)}.", cause)
    print(f"numbers on fixed inputs (max difference < {TOLERANCE:.0e}): ok")


def _run(model, x, training=None):
    """The model's outputs on x, as a list of arrays."""
    out = model(x) if training is None else model(x, training=training)
    return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


def _first_difference(got, want, x):
    """Where the numbers start to differ, in words."""
    outputs = []
    for graph in (got, want):
        model = graph.model
        outputs.append(keras.Model(model.inputs[0], [layer.output for layer in graph.weighted])(x))
    for layer, a, b in zip(want.weighted, *outputs, strict=True):
        if _difference(a, b) > TOLERANCE:
            return f"the first output that differs is that of {_describe(layer)}"
    return ("the outputs of all convs and BNs agree, so the difference comes after them (in "
            "the additions, ReLUs or pooling)")


def _reader_epsilon(model):
    """The BN epsilon of the reader's model if all its BN layers share one, else the default."""
    epsilons = {float(bn.epsilon) for bn in model.layers
                if isinstance(bn, layers.BatchNormalization)}
    if len(epsilons) != 1:
        return BN_EPSILON
    epsilon = epsilons.pop()
    if not np.isclose(epsilon, BN_EPSILON):
        print(f"note: your BatchNormalization epsilon is {epsilon:g} (keras.applications uses "
              f"{BN_EPSILON:g}); the reference is built with yours")
    return epsilon


def _build_block(fn, shape, f, filters, s=None, **kwargs):
    """``fn(X, f, filters[, s], training=None)`` on a (None, *shape) input, as a model."""
    try:
        parameters = inspect.signature(fn).parameters.values()
        takes_training = any(p.name == "training" or p.kind == p.VAR_KEYWORD for p in parameters)
    except (TypeError, ValueError):
        takes_training = True
    if takes_training:
        kwargs["training"] = None
    inputs = keras.Input(shape=shape)
    out = fn(inputs, f, list(filters), *([] if s is None else [s]), **kwargs)
    if not hasattr(out, "_keras_history"):
        raise AssertionError(f"your function returned {type(out).__name__}, not the block's "
                             "output tensor: does it end with `return X`?")
    return keras.Model(inputs, out)


def _check_block(fn, reference, shape, f, filters, s=None):
    """Build ``fn`` and ``reference`` on a (None, *shape) input and compare them."""
    try:
        model = _build_block(fn, shape, f, filters, s)
    except AssertionError:
        raise
    except Exception as error:  # the reader's code may fail in any way; say how
        _fail(f"building your block on X of shape {(None, *shape)} raised {_error_text(error)}",
              _build_failure_cause(fn, shape, f, filters, s), error)
    epsilon = _reader_epsilon(model)
    ref = _build_block(reference, shape, f, filters, s, name="ref", bn_epsilon=epsilon)
    x = np.random.default_rng(1).normal(size=(2, *shape)).astype("float32")
    _compare(model, ref, x, f)
    print("All checks passed.")


def _error_text(error):
    """The error's type and first line, without the colour codes Keras 3 adds."""
    lines = [line for line in re.sub(r"\x1b\[[0-9;]*m", "", str(error)).splitlines()
             if line.strip()]
    return f"{type(error).__name__}: {lines[0].strip()[:300] if lines else ''}"


def _build_failure_cause(fn, shape, f, filters, s):
    """Find the mistake by building ``fn`` where the shapes are easier to match."""
    def builds(*args, **kwargs):
        try:
            return _build_block(fn, *args, **kwargs)
        except Exception:
            return None

    if f > 1 and builds(shape, 1, filters, s) is not None:
        return (f"padding='valid' on the {f}x{f} conv makes the main path smaller than the "
                "shortcut: use padding='same'")
    if s is not None:
        model = builds((*shape[:2], filters[2]), f, filters, 1)
        if model is not None and len(_Graph(model).ops("Conv2D")) < 4:
            return ("no projection on the shortcut: X must go through a 1x1 conv with "
                    "strides=(s, s) and BatchNormalization to match the main path's shape")
        if model is not None:
            return ("the shortcut and the main path are downsampled differently: "
                    "strides=(s, s) belong on the first 1x1 conv and on the shortcut's 1x1 conv")
    return ("the shapes of the shortcut and of the main path differ at the addition: check "
            "the filters [F1, F2, F3] and their order")


def check_identity_block(fn):
    """Check your ``identity_block`` against ``resnet.identity_block``.

    Args:
        fn: your function, called as ``fn(X, 3, [64, 32, 256])`` (plus
            ``training=None`` if it takes ``training``) on X of shape
            (None, 15, 15, 256); it returns the block's output tensor.

    Raises:
        AssertionError: at the first check that fails, with what differs and the
            most likely cause.
    """
    _check_block(fn, identity_block, (15, 15, 256), 3, [64, 32, 256])


def check_convolutional_block(fn):
    """Check your ``convolutional_block`` against ``resnet.convolutional_block``.

    Args:
        fn: your function, called as ``fn(X, 3, [32, 48, 256], 2)`` (plus
            ``training=None`` if it takes ``training``) on X of shape
            (None, 15, 15, 64); it returns a tensor of shape (None, 8, 8, 256).

    Raises:
        AssertionError: at the first check that fails, with what differs and the
            most likely cause.
    """
    _check_block(fn, convolutional_block, (15, 15, 64), 3, [32, 48, 256], 2)


def check_resnet50(fn):
    """Check your ``ResNet50`` against ``resnet.ResNet50``.

    Compares the class probabilities and the pooled features that feed the
    classifier (a softmax can hide small differences).

    Args:
        fn: your function, called as ``fn(input_shape=(64, 64, 3), classes=6)``;
            it returns a ``keras.Model``.

    Raises:
        AssertionError: at the first check that fails, with what differs and the
            most likely cause.
    """
    try:
        model = fn(input_shape=(64, 64, 3), classes=6)
    except Exception as error:  # the reader's code may fail in any way; say how
        _fail(f"building your model raised {_error_text(error)}",
              "see the error above; if it comes from a block, run check_identity_block and "
              "check_convolutional_block first", error)
    if not isinstance(model, keras.Model):
        raise AssertionError(f"your function returned {type(model).__name__}, not a keras.Model")
    reference = ResNet50(input_shape=(64, 64, 3), classes=6, bn_epsilon=_reader_epsilon(model))

    def outputs(m):  # the features before the classifier, and the probabilities
        dense = [layer for layer in m.layers if isinstance(layer, layers.Dense)][-1]
        return keras.Model(m.inputs[0], [dense.input, m.outputs[0]])

    x = np.random.default_rng(1).uniform(0, 1, size=(2, 64, 64, 3)).astype("float32")
    _compare(model, reference, x, 3, outputs)
    print("All checks passed.")
