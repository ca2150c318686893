"""Channel connectors: declared contracts, tolerant readers, and a COPY-based loader into ``raw``."""
