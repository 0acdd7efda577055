"""gridgov HTTP API (FastAPI): thin routes that translate HTTP to calls into :mod:`geo`."""
