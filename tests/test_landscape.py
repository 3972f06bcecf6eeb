"""resnet.book.landscape: filter-normalised directions, the loss grid, the curvature measure."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from tensorflow import keras  # noqa: E402

from resnet.book import landscape  # noqa: E402
from resnet.book.plain import residual_net  # noqa: E402


@pytest.fixture(scope="module")
def model():
    return residual_net(8, input_shape=(8, 8, 1), classes=3, width=4, seed=0)


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    return rng.random((16, 8, 8, 1), dtype=np.float32), rng.integers(0, 3, 16)


def test_directions_move_only_kernels(model):
    variables = landscape.landscape_variables(model)
    # 8 weighted layers: 7 convs and the classifier; no biases, no BN weights.
    assert len(variables) == 8
    assert all(len(v.shape) in (2, 4) for v in variables)


def test_normalised_directions_have_the_weights_filter_norms(model):
    direction = landscape.random_direction(model, seed=1)
    for d, v in zip(direction, landscape.landscape_variables(model), strict=True):
        assert d.shape == tuple(v.shape) and d.dtype == np.float32
        # float32 arrays: the norms agree to float32 rounding of a sum of a few hundred squares.
        np.testing.assert_allclose(landscape.filter_norms(d), landscape.filter_norms(v.numpy()),
                                   rtol=1e-5)


def test_directions_are_seeded(model):
    first, again = (landscape.random_direction(model, seed=3) for _ in range(2))
    other = landscape.random_direction(model, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0], other[0])


def test_filter_normalize_leaves_a_zero_filter_at_zero():
    d = np.zeros((3, 3, 2, 2))
    d[..., 1] = 1
    w = np.ones((3, 3, 2, 2))
    out = landscape.filter_normalize([d], [w])[0]
    assert np.all(out[..., 0] == 0) and np.all(np.isfinite(out))
    # float64 arithmetic on 18 ones: exact up to a few ulp (1e-16); a wrong norm is off by O(1).
    np.testing.assert_allclose(landscape.filter_norms(out), [0, np.sqrt(18)], rtol=1e-6)


def test_grid_centre_is_the_trained_loss_and_weights_are_restored(model, batch):
    images, labels = batch
    before = [w.copy() for w in model.get_weights()]
    directions = [landscape.random_direction(model, seed=s) for s in (1, 2)]
    surface = landscape.loss_surface(model, images, labels, directions, np.linspace(-1, 1, 5))
    assert surface.shape == (5, 5) and np.all(np.isfinite(surface))
    expected = float(keras.losses.sparse_categorical_crossentropy(
        labels, model(images, training=False)).numpy().mean())
    # One float32 forward pass either way; the sum of 16 losses in float32 is exact to ~1e-6.
    assert surface[2, 2] == pytest.approx(expected, rel=1e-5)
    assert surface[0, 0] != pytest.approx(expected, rel=1e-3)  # the corners did move
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def test_weights_are_restored_after_an_error(model, batch):
    images, labels = batch
    before = [w.copy() for w in model.get_weights()]
    direction = landscape.random_direction(model, seed=1)
    with pytest.raises(ValueError, match="labels"):
        landscape.loss_surface(model, images, labels[:3], [direction], [0.0, 1.0])
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def test_interpolation_ends_at_both_networks(model, batch):
    images, labels = batch
    trained = model.get_weights()
    initial = residual_net(8, input_shape=(8, 8, 1), classes=3, width=4, seed=5).get_weights()
    losses = landscape.interpolate(model, initial, trained, images, labels, [0.0, 0.5, 1.0])
    end = float(keras.losses.sparse_categorical_crossentropy(
        labels, model(images, training=False)).numpy().mean())
    assert losses[2] == pytest.approx(end, rel=1e-5)  # as in the grid test
    assert all(np.array_equal(a, b) for a, b in zip(trained, model.get_weights(), strict=True))


def test_negative_curvature_share_of_known_surfaces():
    a, b = np.meshgrid(np.linspace(-1, 1, 11), np.linspace(-1, 1, 11), indexing="ij")
    assert landscape.negative_curvature_share(a**2 + 2 * b**2) == 0.0  # a convex bowl
    assert landscape.negative_curvature_share(a**2 - b**2) == 1.0  # a saddle everywhere
    assert landscape.negative_curvature_share(-(a**2) - b**2) == 1.0  # a cap
    smallest, largest = landscape.hessian_eigenvalues(a**2 + 2 * b**2, spacing=0.2)
    # Central differences are exact on quadratics, up to float64 rounding.
    np.testing.assert_allclose(smallest, 2, rtol=1e-9)
    np.testing.assert_allclose(largest, 4, rtol=1e-9)


@pytest.mark.parametrize("call, message", [
    (lambda m, x, y: landscape.random_direction(m, seed=-1), "seed"),
    (lambda m, x, y: landscape.loss_surface(m, x, y, [], [0.0]), "directions"),
    (lambda m, x, y: landscape.loss_surface(m, x, y, [[np.zeros(2)]], [0.0]), "direction"),
    (lambda m, x, y: landscape.loss_surface(
        m, x, y, [landscape.random_direction(m)], [[0.0]]), "coordinates"),
    (lambda m, x, y: landscape.loss_surface(
        m, x[0], y, [landscape.random_direction(m)], [0.0]), "images"),
    (lambda m, x, y: landscape.interpolate(m, [], m.get_weights(), x, y, [0.0]), "start"),
    (lambda m, x, y: landscape.negative_curvature_share(np.zeros((2, 5))), "surface"),
    (lambda m, x, y: landscape.landscape_variables(keras.Sequential([keras.Input((3,))])),
     "no Conv2D"),
])
def test_bad_arguments_are_refused(model, batch, call, message):
    with pytest.raises(ValueError, match=message):
        call(model, *batch)


def test_batch_statistics_normalise_a_filters_scale_away_and_are_restored(model, batch):
    images, labels = batch
    before = [w.copy() for w in model.get_weights()]
    # A direction that scales the first convolution's kernel (BN follows it): step 1
    # doubles it.
    variables = landscape.landscape_variables(model)
    double_first = [v.numpy() if i == 0 else np.zeros(v.shape, np.float32)
                    for i, v in enumerate(variables)]
    batch_mode = landscape.loss_surface(model, images, labels, [double_first], [0.0, 1.0],
                                        batch_norm="batch")
    stored = landscape.loss_surface(model, images, labels, [double_first], [0.0, 1.0])
    # With the batch's statistics, BN divides the doubled output by its doubled deviation:
    # only BN's epsilon (1e-3, against variances of order 0.1 here) is left to tell them
    # apart, a change far under 1%. With the stored statistics nothing re-normalises, and
    # the first layer's output doubles: the loss moves by tens of percent.
    assert batch_mode[1] == pytest.approx(batch_mode[0], rel=1e-2)
    assert abs(stored[1] - stored[0]) > 0.05 * stored[0]
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))
