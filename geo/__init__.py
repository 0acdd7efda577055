"""gridgov domain core: the versioned spatial hierarchy of a district and the operations on it.

Nothing here knows about HTTP or HTML; callers get plain Python, shapely and geopandas objects
and domain errors from :mod:`geo.errors`.
"""
