"""What a network costs: multiply-accumulates counted from the built Keras model.

He et al. 2015, Table 1, gives the cost of ResNet-50, 101 and 152 at 224x224 as
3.8, 7.6 and 11.3 x 10^9 "FLOPs", and the paper's footnote on ResNet-34 (3.6
billion FLOPs, "multiply-adds") says what is meant: one multiply-accumulate
(MAC) per weight use, in the convolutions and the fully connected layer.
This module counts the same thing:

    Conv2D  H_out * W_out * k_h * k_w * (C_in / groups) * C_out
    Dense   (positions) * in * out, positions = product of the leading axes
            after the batch (1 for an ordinary classifier)

Batch normalisation, ReLU, pooling, the additions of the shortcuts and the
biases are not counted (together they cost well under 1% of ResNet50's MACs,
and the paper leaves them out too). Counts are per image. Layers of nested
models are counted; other layers with weights (DepthwiseConv2D, ...) are not.
"""

from tensorflow import keras

from ..validation import InvalidParameterError

# He et al. 2015, Table 1: multiply-adds of one 224x224 image, in units of 10^9.
PAPER_GIGA_MACS = {18: 1.8, 34: 3.6, 50: 3.8, 101: 7.6, 152: 11.3}


def _shape(tensor):
    return tuple(tensor.shape)


def _layer_macs(layer):
    """MACs of one Conv2D or Dense layer for one image; None for other layers."""
    if isinstance(layer, keras.layers.Conv2D) and type(layer).__name__ == "Conv2D":
        _, h_out, w_out, c_out = _shape(layer.output)
        c_in = _shape(layer.input)[-1]
        k_h, k_w = layer.kernel_size
        groups = getattr(layer, "groups", 1)
        if None in (h_out, w_out):
            raise InvalidParameterError(
                f"layer {layer.name!r} has no fixed output size {_shape(layer.output)}; "
                "build the model with a fixed `input_shape` to count its cost."
            )
        return h_out * w_out * k_h * k_w * (c_in // groups) * c_out
    if isinstance(layer, keras.layers.Dense):
        in_shape = _shape(layer.input)
        positions = 1
        for n in in_shape[1:-1]:
            if n is None:
                raise InvalidParameterError(
                    f"layer {layer.name!r} has an input of unknown size {in_shape}.")
            positions *= n
        return positions * in_shape[-1] * layer.units
    return None


def layer_macs(model):
    """Multiply-accumulates per image of each Conv2D and Dense layer of ``model``.

    Args:
        model: a built ``keras.Model`` with a fixed input size.

    Returns:
        A dict {layer name: MACs (int)} in the model's layer order; nested
        models contribute their layers as ``"submodel/layer"``.
    """
    if not isinstance(model, keras.Model):
        raise InvalidParameterError(f"`model` must be a keras.Model, got {type(model).__name__}.")
    counts = {}
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            counts.update({f"{layer.name}/{k}": v for k, v in layer_macs(layer).items()})
            continue
        macs = _layer_macs(layer)
        if macs is not None:
            counts[layer.name] = int(macs)
    return counts


def multiply_accumulates(model):
    """Total multiply-accumulates (the paper's "FLOPs") of one image through ``model``.

    Args:
        model: a built ``keras.Model`` with a fixed input size.

    Returns:
        int: the sum of ``layer_macs(model)``.
    """
    return sum(layer_macs(model).values())
