"""A pytest plugin for the nbval run: show that the chapters trained along another path.

The stored notebooks are executed with the training seed of the visible code
(``SEED``). The test command re-runs them under nbval with the environment variable
``RESNET_BOOK_SEED_OFFSET`` set; each training chapter's hidden book cell adds it to
``SEED``, so every model starts from other weights and sees other batches, as a run
on another CPU kind (other kernels, other rounding) would take another path too.
nbval then requires every compared output to come out the same: the outputs that
depend on the run must be tagged ``nbval-ignore-output``.

A re-run can still land on the stored outcome by chance, and an offset that never
reaches the training proves nothing. So each training chapter has a hidden cell,
tagged ``training-path``, that prints a digest of its trained weights
(``resnet.book.checks.weights_digest``). This plugin fails that cell when the offset is
set and the digest equals the stored one, and reports, per chapter, the stored
digest beside the new one.

Loaded by scripts/test.sh: ``pytest -p nbval_paths --nbval ...`` with tests/ on
``PYTHONPATH``.
"""

import os

import pytest

TAG = "training-path"
_digests = []  # (notebook, stored, now)


def _offset():
    return int(os.environ.get("RESNET_BOOK_SEED_OFFSET", "0") or 0)


def _text(outputs):
    return "".join(output.get("text", "") for output in outputs
                   if output.get("output_type") == "stream").strip()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    cell = getattr(item, "cell", None)
    if call.when != "call" or cell is None or TAG not in cell.metadata.get("tags", []):
        return
    report = outcome.get_result()
    stored, now = _text(cell.outputs), _text(item.test_outputs or [])
    _digests.append((item.path.stem, stored, now))
    if report.passed and _offset() and stored == now:
        report.outcome = "failed"
        report.longrepr = (
            f"{item.path.name}: with RESNET_BOOK_SEED_OFFSET={_offset()} the trained weights "
            f"are the stored ones ({stored!r}): the offset did not reach this chapter's "
            "training, so this run does not show that its compared outputs survive another "
            "training path.")


def pytest_terminal_summary(terminalreporter):
    if not _digests:
        return
    terminalreporter.section(f"training paths (RESNET_BOOK_SEED_OFFSET={_offset()})")
    for notebook, stored, now in _digests:
        verdict = "another path" if stored != now else "the stored path"
        terminalreporter.write_line(f"{notebook}: stored {stored!r}, now {now!r}: {verdict}")
