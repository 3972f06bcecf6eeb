"""What the book's chapters need beyond the model: checks, experiments and figures.

``checks`` compares a reader's blocks and networks with the package's; ``plain`` builds
the plain and residual networks of the degradation experiment; ``small`` is ResNet in
miniature for experiments that run in seconds; ``landscape`` computes loss surfaces;
``baseline`` scores the classical baselines (an SVM, nearest neighbours); ``cost``
counts multiply-accumulates; ``diagrams`` draws the block diagrams; ``samples``
ships the sample images. A copy of the model for coursework needs none of it.
"""
