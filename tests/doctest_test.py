"""The docstring examples (`>>>`) of the package run, under each backend, and say what they show."""

import doctest
import importlib
import os

import numpy as np
import pytest

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "keras_tsr")
WITH_EXAMPLES = sorted(
    os.path.relpath(os.path.join(d, f), os.path.dirname(PACKAGE))[:-3].replace(os.sep, ".")
    for d, _, files in os.walk(PACKAGE) for f in files
    if f.endswith(".py") and ">>>" in open(os.path.join(d, f), encoding="utf-8").read())


def test_the_examples_are_found():
    assert len(WITH_EXAMPLES) >= 9, WITH_EXAMPLES


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             report=True, verbose=False)
    assert result.attempted > 0 and result.failed == 0, f"{name}: {result.failed} of {result.attempted} failed"
