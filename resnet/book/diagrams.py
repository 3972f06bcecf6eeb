"""Drawing helpers for the chapters' block diagrams: boxes, arrows, an adder.

Coordinates are in the axes' data units; matplotlib is imported inside each
function, so importing this module needs nothing but Python.
"""

BLUE = "#dbe9f6"  # weight layers (convolutions)
ORANGE = "#fde9c9"  # BN and ReLU
RED = "#c0392b"  # the shortcut


def box(ax, xy, text, color=BLUE, width=2.6, height=0.62, fontsize=12, edgecolor="black"):
    """A rounded box of ``width`` x ``height`` centred on ``xy``, with ``text`` inside."""
    from matplotlib.patches import FancyBboxPatch

    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.04", facecolor=color, edgecolor=edgecolor))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def arrow(ax, start, end, color="black"):
    """A straight arrow from ``start`` to ``end``, head at ``end``."""
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, linewidth=1.4,
                                 color=color, shrinkA=0, shrinkB=0))


def adder(ax, xy, radius=0.25):
    """The circled "+" where the shortcut joins the main path."""
    import matplotlib.pyplot as plt

    ax.add_patch(plt.Circle(xy, radius, facecolor="white", edgecolor="black"))
    ax.text(*xy, "+", ha="center", va="center", fontsize=16)
