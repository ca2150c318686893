"""salesops: the platform glue (configuration, warehouse, CLI)."""

__version__ = "0.1.0"
