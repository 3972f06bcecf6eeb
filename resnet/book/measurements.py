"""The book's per-CPU measurements: one shipped file, read by every page that quotes them.

``results/cpu_measurements.json`` holds every figure measured on a particular CPU that the
book quotes (speeds, XLA and bfloat16 ratios, kernel times), one record a measurement:
the machine, date, versions, conditions, source, what, network, setting, value and unit.
The Performance appendix renders its tables from it and chapters 5 and 11 glue their
sentences from it, so a figure is typed once, in the file.

>>> kinds()[:2]
['AMD EPYC Zen 4 (AVX-512, AVX512-BF16)', 'AMD EPYC Zen 5 (AVX-512, AVX512-BF16)']
>>> value("xeon-amx", "training, 32x32x1, batch 32", "float32, XLA on")
82.3
"""

import json
from functools import cache
from importlib.resources import files

__all__ = ["FILE", "load", "machines", "kinds", "label", "find", "value", "record", "ratio",
           "format_value", "table"]

FILE = "results/cpu_measurements.json"


@cache
def load():
    """The whole file: ``{"about": str, "machines": {id: {...}}, "measurements": [...]}``."""
    return json.loads(files("resnet.book").joinpath(FILE).read_text(encoding="utf-8"))


def machines():
    """The machines measured, by id: CPU description, kind, cores, clock and notes."""
    return load()["machines"]


def kinds():
    """The kinds of CPU the book's figures come from, sorted (several machines may share
    one kind; a machine whose generation was not recorded has none)."""
    return sorted({machine["kind"] for machine in machines().values() if machine["kind"]})


def label(machine):
    """How the book names a machine (an id of ``machines()``): its kind, or its own
    label where its kind was not recorded."""
    described = machines()[machine]
    return described["kind"] or described["label"]


def find(**fields):
    """The records whose fields equal every given one (``machine=``, ``what=``, ...)."""
    unknown = set(fields) - set(load()["measurements"][0]) - {"value_high"}
    if unknown:
        raise ValueError(f"find: no field {sorted(unknown)}; the records have "
                         f"{sorted(load()['measurements'][0])}")
    return [r for r in load()["measurements"]
            if all(r.get(name) == wanted for name, wanted in fields.items())]


def record(machine, what, setting, **fields):
    """The one record of ``machine``, ``what`` and ``setting`` (and any other fields).

    Raises:
        LookupError: naming the fields, when no record or several match.
    """
    found = find(machine=machine, what=what, setting=setting, **fields)
    if len(found) != 1:
        raise LookupError(f"{len(found)} records in {FILE} for machine={machine!r}, "
                          f"what={what!r}, setting={setting!r}, {fields}; expected one")
    return found[0]


def value(machine, what, setting, **fields):
    """The value of the one matching record (see ``record``)."""
    return record(machine, what, setting, **fields)["value"]


def ratio(machine, what, setting, baseline, **fields):
    """``setting``'s value over ``baseline``'s, both records of ``machine`` and ``what``."""
    return (value(machine, what, setting, **fields)
            / value(machine, what, baseline, **fields))


def format_value(r):
    """A record's value as the book prints it: '15.1', '60 to 100', '0.995'."""
    def one(v):
        return f"{v:.3f}" if r["unit"] == "ratio" else (
            f"{v:.1%}" if r["unit"] == "accuracy" else f"{v:g}")
    high = r.get("value_high")
    return one(r["value"]) if high is None else f"{one(r['value'])} to {one(high)}"


def table(records, columns):
    """A Markdown table of ``records``: ``columns`` maps each heading to a function of a
    record (or to a field name)."""
    def cell(r, get):
        text = r.get(get, "") if isinstance(get, str) else get(r)
        return str(text).replace("|", "/")
    head = "| " + " | ".join(columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    rows = ["| " + " | ".join(cell(r, get) for get in columns.values()) + " |"
            for r in records]
    return "\n".join([head, rule, *rows])
