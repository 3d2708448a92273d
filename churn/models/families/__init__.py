"""The model families: one module each, found and imported here so that each registers itself.

To add a family, write one module in this folder with a `churn.models.family.Family` subclass
that sets ``name``, ``label``, ``order``, ``model_file``, ``GRIDS`` and implements ``fit``,
``margin``, ``_contributions``, ``save`` and ``load`` (``lr.py`` is the shortest example). It is
then in ``churn.models.FAMILIES``: trainable, selectable, saved and loaded like the others.
"""
from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
