"""resnet.validation: the argument checks, and every public function's bad argument raising
``InvalidParameterError`` (a ValueError and a TypeError) that names the argument."""

import numpy as np
import pytest
from conftest import tiny_model

from resnet import preprocessing, weights
from resnet.apply import gradcam, images, inference
from resnet.book import cost, landscape, plain
from resnet.model import ResNet50
from resnet.train import data, saving, speed
from resnet.validation import (
    InvalidParameterError,
    check_channels,
    check_fraction,
    check_image_size,
    check_int,
    check_ints,
)


def test_the_checks_return_what_they_accept():
    assert check_int(0, "seed", 0) == 0
    assert check_ints([1, 2], "size", 2) == (1, 2)
    assert check_channels(1) == 1
    assert check_fraction(0.5, "f") == 0.5 and check_fraction(0, "f", allow_zero=True) == 0
    assert check_image_size(8) == (8, 8) and check_image_size([4, 6]) == (4, 6)


@pytest.mark.parametrize(("call", "match"), [
    (lambda: check_int(2.0, "n"), "`n` must be a positive int, got 2.0"),
    (lambda: check_ints((1, 0), "s", 2), "`s` must be 2 positive ints"),
    (lambda: check_channels(True), "`channels` must be 1 .greyscale. or 3 .RGB., got True"),
    (lambda: check_channels(3.0, "--input-shape C"), "`--input-shape C` must be 1"),
    (lambda: check_fraction(0, "val_fraction"), r"`val_fraction` must be a number in \(0, 1\)"),
    (lambda: check_fraction("0.2", "f", allow_zero=True), r"in \[0, 1\), got '0.2'"),
    (lambda: check_fraction(False, "f", allow_zero=True), "got False"),
    (lambda: check_image_size(0), "`image_size` must be a positive int or .height, width."),
    (lambda: check_image_size((8, True)), "got .8, True."),
    (lambda: check_image_size("32", name="size"), "`size` must be"),
])
def test_the_checks_name_the_argument_and_what_it_got(call, match):
    with pytest.raises(InvalidParameterError, match=match) as caught:
        call()
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, TypeError)


@pytest.fixture(scope="module")
def model():
    return tiny_model(channels=1, classes=3, size=8)


# One bad argument of each module's public functions (the modules' own tests check the
# messages in detail); each must be refused with InvalidParameterError.
BAD_CALLS = {
    "data.digits channels": lambda m, tmp: data.digits(channels=2),
    "data.digits image_size": lambda m, tmp: data.digits(image_size=(8,)),
    "data.load name": lambda m, tmp: data.load("mnist"),
    "data.split_indices fractions": lambda m, tmp: data.split_indices(
        [0, 1] * 10, val_fraction=0.5, test_fraction=0.5),
    "data.image_folder channels": lambda m, tmp: data.image_folder(tmp, channels=4),
    "preprocessing.resize": lambda m, tmp: preprocessing.resize(np.zeros((4, 4, 1)), (0, 4)),
    "preprocessing.imagenet_caffe": lambda m, tmp: preprocessing.imagenet_caffe(
        np.zeros((2, 2, 1))),
    "images.load_image channels": lambda m, tmp: images.load_image(np.zeros((2, 2)), 2),
    "images.load_image type": lambda m, tmp: images.load_image(3),
    "images.load_images empty": lambda m, tmp: images.load_images([]),
    "inference.evaluate class_names": lambda m, tmp: inference.evaluate(
        m, np.zeros((8, 8)), class_names=["a"]),
    "inference.evaluate batch_size": lambda m, tmp: inference.evaluate(
        m, np.zeros((8, 8)), batch_size=0),
    "inference.model_io": lambda m, tmp: inference.model_io(object()),
    "gradcam.grad_cam class_index": lambda m, tmp: gradcam.grad_cam(
        m, np.zeros((8, 8)), class_index=3),
    "gradcam.rank_correlation": lambda m, tmp: gradcam.rank_correlation(
        np.zeros((1, 4, 4)), np.zeros((1, 4, 5))),
    "gradcam.randomize_layers": lambda m, tmp: gradcam.randomize_layers(m, []),
    "landscape.hessian_eigenvalues": lambda m, tmp: landscape.hessian_eigenvalues(
        np.zeros((2, 2))),
    "landscape.random_direction": lambda m, tmp: landscape.random_direction(m, seed=-1),
    "cost.layer_macs": lambda m, tmp: cost.layer_macs("model"),
    "speed.resolve_precision": lambda m, tmp: speed.resolve_precision("float16"),
    "speed.choose_speed": lambda m, tmp: speed.choose_speed(jit_compile="yes"),
    "saving.save_model": lambda m, tmp: saving.save_model(m, tmp / "m.h5"),
    "weights.resolve type": lambda m, tmp: weights.resolve(3, 50, (64, 64, 3), 2),
    "weights.resolve imagenet shape": lambda m, tmp: weights.resolve(
        "imagenet", 50, (64, 64, 3), 2),
    "plain.plain_net depth": lambda m, tmp: plain.plain_net(depth=9),
    "model.ResNet50 input_shape": lambda m, tmp: ResNet50(input_shape=(0, 16, 3)),
}


@pytest.mark.parametrize("name", BAD_CALLS)
def test_every_public_function_refuses_a_bad_argument_with_invalid_parameter_error(
    name, model, tmp_path
):
    for label in ("a", "b"):  # a folder that image_folder would accept
        (tmp_path / label).mkdir()
    with pytest.raises(InvalidParameterError):
        BAD_CALLS[name](model, tmp_path)
