import pytest
from tensorflow import keras

import resnet
from resnet.book.cost import PAPER_GIGA_MACS, layer_macs, multiply_accumulates


def test_conv_and_dense_costs_are_counted_by_hand():
    inputs = keras.Input(shape=(8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="same")(inputs)  # 8x8 positions
    x = keras.layers.Conv2D(6, 3, strides=2, name="strided")(x)  # valid: 3x3 positions
    x = keras.layers.Conv2D(4, 1, groups=2, name="grouped")(x)  # each output sees 3 of 6
    x = keras.layers.BatchNormalization()(x)  # not counted
    x = keras.layers.Dense(5, name="per_position")(x)  # a Dense on (3, 3, 4): 9 positions
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(2, name="classifier")(x)
    counts = layer_macs(keras.Model(inputs, outputs))
    assert counts == {
        "same": 8 * 8 * 3 * 3 * 3 * 4,
        "strided": 3 * 3 * 3 * 3 * 4 * 6,
        "grouped": 3 * 3 * 1 * 1 * 3 * 4,
        "per_position": 9 * 4 * 5,
        "classifier": 5 * 2,
    }


def test_nested_models_are_counted():
    inner_input = keras.Input(shape=(4, 4, 2))
    inner = keras.Model(inner_input, keras.layers.Conv2D(3, 1, name="c")(inner_input), name="inner")
    inputs = keras.Input(shape=(4, 4, 2))
    outer = keras.Model(inputs, keras.layers.Flatten()(inner(inputs)))
    assert layer_macs(outer) == {"inner/c": 4 * 4 * 2 * 3}
    assert multiply_accumulates(outer) == 96


def test_the_cost_grows_with_the_number_of_pixels():
    small = multiply_accumulates(resnet.ResNet50(input_shape=(64, 64, 3), classes=10))
    large = multiply_accumulates(resnet.ResNet50(input_shape=(128, 128, 3), classes=10))
    classifier = 2048 * 10  # the one layer that does not see more positions
    assert large - classifier == 4 * (small - classifier)


def test_an_input_of_unknown_size_or_not_a_model_is_refused():
    inputs = keras.Input(shape=(None, None, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="c")(inputs))
    with pytest.raises(ValueError, match="fixed `input_shape`"):
        multiply_accumulates(model)
    with pytest.raises(ValueError, match="`model` must be a keras.Model"):
        multiply_accumulates("resnet50")


@pytest.mark.parametrize(
    ("build", "depth"),
    [(resnet.ResNet50, 50), pytest.param(resnet.ResNet101, 101, marks=pytest.mark.slow),
     pytest.param(resnet.ResNet152, 152, marks=pytest.mark.slow)],
)
def test_cost_at_224_matches_the_papers_table_1_within_5_percent(build, depth):
    macs = multiply_accumulates(build(input_shape=(224, 224, 3), classes=1000))
    assert macs / 1e9 == pytest.approx(PAPER_GIGA_MACS[depth], rel=0.05)
