"""Events (事件): reports with a place, routed to the grid that holds them, handled through a lifecycle.

Modules: ``catalogue`` (categories, statuses, sources), ``routing`` (which grid, community and
sub-district held a point on a day, and who answers for it), ``store`` (rows and the audit),
``lifecycle`` (transitions, overdue, reassignment), ``ingest`` (single, batch, hotline files),
``workload`` (counts per grid and community, weighted per worker) and ``summary`` (monthly reports).
"""
