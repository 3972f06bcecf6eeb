"""A small stand-in for ResNet50, for tests of the recipes' and the command line's mechanisms.

The recipes (``train_resnet50``, ``fine_tune_resnet50``, ``train_from_folder``) build
``resnet.model.ResNet50`` when they run. What their tests check (resuming bit for bit,
freezing, saving, the command line's arguments and output) does not depend on how deep
the network is, and tracing ResNet50's training step costs 15 to 100 s a process on a
2-core CPU. ``use_small_resnet50`` swaps in the same builder with one bottleneck block per
stage: 14 weighted layers instead of 50, the same layer names for the blocks it has
(conv1_conv, conv2_block1_1_conv, ..., conv5_block1_out, predictions), the same
arguments. The chapters train the real one.

``python tests/small_resnet50.py ARGS`` runs ``python -m resnet ARGS`` with the stand-in,
in a process of its own (for the tests that kill a run); with ``RESNET_TEST_EPOCH_PAUSE``
set to seconds, every backed-up epoch ends with that pause, so that a kill lands mid-run.
"""

import contextlib
import os
import sys

BLOCKS = (1, 1, 1, 1)


def small_resnet50(input_shape=(64, 64, 3), classes=2, seed=0, *, name="resnet50", **kwargs):
    """``resnet.model.ResNet50``'s signature, one block per stage."""
    from resnet import model

    return model.build_resnet(BLOCKS, input_shape, classes, seed, name=name, **kwargs)


@contextlib.contextmanager
def use_small_resnet50():
    """Within the block, the recipes build ``small_resnet50`` where they build ResNet50."""
    from resnet import model

    original = model.ResNet50
    model.ResNet50 = small_resnet50
    try:
        yield
    finally:
        model.ResNet50 = original


def _pause_after_each_backup(seconds):
    import time

    from tensorflow import keras

    from resnet.train import backup

    resumable = backup.resumable

    class Pause(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            time.sleep(seconds)

    def paused(*args, **kwargs):
        batches, callbacks = resumable(*args, **kwargs)
        return batches, [*callbacks, Pause()]  # after BackupAndRestore has saved

    backup.resumable = paused


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from resnet import cli, model

    model.ResNet50 = small_resnet50
    if os.environ.get("RESNET_TEST_EPOCH_PAUSE"):
        _pause_after_each_backup(float(os.environ["RESNET_TEST_EPOCH_PAUSE"]))
    sys.exit(cli.main(sys.argv[1:]))
