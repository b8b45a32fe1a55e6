"""The ``python`` TCG engine: translation blocks compiled to Python source."""

from .engine import PythonEngine

__all__ = ["PythonEngine"]
