"""The ``gridgov`` command line: import, export, checks, the demo data and the server."""
