"""One module per export format; each registers its adapter with ``ingest.registry.register``."""
