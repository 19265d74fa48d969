"""The package version, in a module of its own so that the store can stamp it on what it records
without importing the package's `__init__` (which imports the store for `selector.connect`)."""

__version__ = "0.1.0"
