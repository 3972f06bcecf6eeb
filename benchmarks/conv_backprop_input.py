"""Does XLA speed up ResNet50 training on this CPU? The answer depends on the CPU.

Times TensorFlow's CPU kernel for the gradient of a convolution with respect to
its input (``Conv2DBackpropInput``) on the feature-map sizes of ResNet50's last
two stages, against the same arithmetic done another way: the forward
convolution (same multiply-accumulates) and, for 1x1 kernels, a matrix product.
Then times one training step of ResNet50 with and without XLA.

Measured with it (batch 32, two cores; the figures in
resnet/book/results/cpu_measurements.json):

- AMD EPYC, AVX2 only (lscpu family 25, model not recorded): backprop-input 56-111x
  the forward conv's time on the 1x1 maps and 4.3x on the 4x4 maps, which XLA avoids:
  training 2.3x faster with XLA at 32x32, 0.64x at 64x64 (where the maps are larger).
  The 2x2 maps' kernel times were not recorded.
- AMD EPYC with AVX-512 (family and model not recorded), busy machine: its kernel times
  were not recorded; training with XLA 0.27x as fast at 32x32 (18.2 against 67.5
  images/s) and 0.25x at 64x64 (9.7 against 38.4).

    python benchmarks/conv_backprop_input.py            # about a minute
    python benchmarks/conv_backprop_input.py --no-model # the kernels only

Prints milliseconds per call (median of --repeats) and images per second.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# (feature map side, input channels, output channels, kernel): ResNet50's stage 5
# (512/2048 channels) and stage 4 (256/1024) convolutions at 32x32 (1x1 and 2x2
# maps) and 64x64 (2x2 and 4x4 maps) input.
SHAPES = [
    (1, 512, 512, 3), (1, 512, 2048, 1), (2, 512, 512, 3), (2, 256, 1024, 1),
    (4, 256, 256, 3), (4, 256, 1024, 1),
]


def median_ms(function, *args, repeats):
    function(*args)  # trace and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def kernels(batch, repeats):
    import tensorflow as tf

    print(f"batch {batch}; milliseconds per call, median of {repeats}")
    print("| map | channels in -> out | kernel | forward conv | backprop input | "
          "as a matrix product | backprop / forward |")
    print("|---|---|---|---:|---:|---:|---:|")
    for side, c_in, c_out, k in SHAPES:
        x = tf.random.uniform((batch, side, side, c_in))
        w = tf.random.uniform((k, k, c_in, c_out))
        dy = tf.random.uniform((batch, side, side, c_out))
        forward = tf.function(lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"))
        backprop = tf.function(lambda dy, w, shape=x.shape: tf.raw_ops.Conv2DBackpropInput(
            input_sizes=list(shape), filter=w, out_backprop=dy, strides=[1, 1, 1, 1],
            padding="SAME"))
        f = median_ms(forward, x, w, repeats=repeats)
        b = median_ms(backprop, dy, w, repeats=repeats)
        m = "-"
        if k == 1:
            matmul = tf.function(lambda dy, w, c=c_out: tf.matmul(
                tf.reshape(dy, (-1, c)), tf.reshape(w, (-1, c)), transpose_b=True))
            m = f"{median_ms(matmul, dy, w, repeats=repeats):.1f}"
        print(f"| {side}x{side} | {c_in} -> {c_out} | {k}x{k} | {f:.1f} | {b:.1f} | {m} | "
              f"{b / f:.0f}x |")


def training(sizes, batch, repeats):
    import numpy as np

    import resnet

    print(f"\nResNet50 training step, greyscale, 10 classes, batch {batch}, Adam; "
          f"images/s, median of {repeats} steps")
    print("| input | no XLA | XLA | XLA / no XLA |")
    print("|---|---:|---:|---:|")
    rng = np.random.default_rng(0)
    for size in sizes:
        x = rng.random((batch, size, size, 1), dtype=np.float32)
        y = rng.integers(0, 10, batch)
        rates = []
        for jit in (False, True):
            model = resnet.ResNet50(input_shape=(size, size, 1), classes=10)
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                          jit_compile=jit)
            seconds = median_ms(model.train_on_batch, x, y, repeats=repeats) / 1000
            rates.append(batch / seconds)
        print(f"| {size}x{size} | {rates[0]:.1f} | {rates[1]:.1f} | {rates[1] / rates[0]:.2f}x |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64],
                        help="input sides for the training step (default: 32 64)")
    parser.add_argument("--model", action=argparse.BooleanOptionalAction, default=True,
                        help="also time ResNet50 training steps (default: yes)")
    args = parser.parse_args()
    kernels(args.batch_size, args.repeats)
    if args.model:
        training(args.sizes, args.batch_size, args.repeats)


if __name__ == "__main__":
    main()
