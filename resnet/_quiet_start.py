"""Keep TensorFlow's start-up lines out of ``python -m resnet``'s terminal.

Importing TensorFlow on a CPU-only machine writes, twice, "Could not find cuda
drivers", "oneDNN custom operations are on" and, once its C++ log has started,
"failed call to cuInit: ... UNKNOWN ERROR (303)". None of it concerns the
command. ``TF_CPP_MIN_LOG_LEVEL=3`` (set before TensorFlow is imported, unless
you set it yourself) silences the C++ log; the lines written before that log
starts ignore it, so they are filtered out of stderr while TensorFlow is
imported. Anything else written then still reaches stderr.

Only the command line does this (see ``resnet/__init__.py``): ``import resnet``
in your own code leaves TensorFlow's logging as it is.
"""

import os
import re
import sys
import tempfile

_NOISE = re.compile(
    r"All log messages before absl::InitializeLog|oneDNN custom operations are on"
    r"|Could not find cuda drivers|failed call to cuInit|cpu_feature_guard"
    r"|To enable the following instructions"
)


def import_tensorflow_quietly():
    """Import TensorFlow with stderr captured, then replay all but the start-up noise."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines(keepends=True):
                if not _NOISE.search(line):
                    sys.stderr.write(line)
