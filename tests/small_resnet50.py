"""A small stand-in for ResNet50, for tests of the recipes' and the command line's mechanisms.

The recipes (``train_resnet50``, ``fine_tune_resnet50``, ``train_and_save``) take the
model builder as their ``build`` argument (``resnet.ResNet50`` by default). What their
tests check (resuming bit for bit, freezing, saving, the command line's arguments and
output) does not depend on how deep the network is, and tracing ResNet50's training step
costs 15 to 100 s a process on a 2-core CPU. The tests pass ``small_resnet50`` instead,
the same builder with one bottleneck block per stage: 14 weighted layers instead of 50,
the same layer names for the blocks it has (conv1_conv, conv2_block1_1_conv, ...,
conv5_block1_out, predictions), the same arguments. The chapters train the real one.

``python tests/small_resnet50.py ARGS`` runs ``python -m resnet ARGS`` with the stand-in
(``cli.main(build=...)``), in a process of its own (for the tests that kill a run); with
``RESNET_TEST_EPOCH_PAUSE`` set to seconds, every epoch ends, after its backup, with that
pause (a callback passed to ``cli.main``), so that a kill lands mid-run.
"""

import os
import sys

BLOCKS = (1, 1, 1, 1)


def small_resnet50(input_shape=(64, 64, 3), classes=2, seed=0, *, name="resnet50", **kwargs):
    """``resnet.model.ResNet50``'s signature, one block per stage."""
    from resnet import model

    return model.build_resnet(BLOCKS, input_shape, classes, seed, name=name, **kwargs)


class Pause:
    """A Keras callback that sleeps ``seconds`` at the end of every epoch (made lazily,
    so that importing this module does not import TensorFlow)."""

    def __new__(cls, seconds):
        import time

        from tensorflow import keras

        class _Pause(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                time.sleep(seconds)

        return _Pause()


class LastWeights:
    """A Keras callback that keeps a copy of the model's weights at the end of every
    epoch, in ``.weights`` (made lazily, as ``Pause``)."""

    def __new__(cls):
        from tensorflow import keras

        class _LastWeights(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                self.weights = [w.copy() for w in self.model.get_weights()]

        return _LastWeights()


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from resnet import cli

    pause = os.environ.get("RESNET_TEST_EPOCH_PAUSE")
    sys.exit(cli.main(sys.argv[1:], build=small_resnet50,
                      callbacks=[Pause(float(pause))] if pause else ()))
