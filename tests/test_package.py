"""The package as a whole: every module imports, and every name a module exports exists."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import xproj

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(xproj.__path__, "xproj.")
    if not m.name.endswith("__main__")  # running it is the CLI
)


@pytest.mark.parametrize("name", MODULES)
def test_package_module_imports_and_exports_what_it_lists(name):
    module = importlib.import_module(name)
    missing = [n for n in getattr(module, "__all__", ()) if not hasattr(module, n)]
    assert missing == []


def test_package_has_its_layers():
    top = {m.name.split(".")[1] for m in pkgutil.iter_modules(xproj.__path__, "xproj.")}
    assert {"schemas", "io", "text", "translators", "projectors", "catalog"} <= top
    assert {"generators", "executor", "flows", "cli", "testing"} <= top
