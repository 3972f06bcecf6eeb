"""Training a model: the data, the recipe and the per-machine speed choices.

``data`` gives fixed, stratified ``tf.data`` splits (the digits, the faces, a folder of
your own images, CIFAR-10); ``recipe`` holds the recipes as data (every setting and its
default, in one place); ``training`` trains from scratch with one (augmentation, warm-up
and cosine decay, the best epoch's weights); ``finetune`` starts from pretrained weights
instead (a new classifier on the frozen network, then all of it); ``backup`` makes either
resumable; ``saving`` saves a model with its class names and preprocessing; ``folder``
trains on a folder of your own images (what ``python -m resnet train`` runs); ``speed``
chooses the device strategy, the precision and XLA for the machine at hand.
"""
