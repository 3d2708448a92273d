"""The model families: one module each, found and imported here so that each registers itself.

To add a family, write one module in this folder with a `churn.models.family.Family` subclass
that sets ``name``, ``label``, ``order``, ``model_file``, ``GRIDS`` and implements ``fit``,
``margin``, ``_contributions``, ``save`` and ``load`` (``lr.py`` is the shortest example). Nothing
else changes: it is then in ``churn.models.FAMILIES`` and in the default ``TrainConfig``, so it is
trained, compared, saved, loaded and offered by the command line like the others.
"""
from __future__ import annotations

from churn.plugins import import_all


def discover() -> list[str]:
    """Import every module of this package (each registers its family); their names, sorted."""
    return import_all(__name__, __path__)


discover()
