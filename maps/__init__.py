"""Rendering: the planner's web map (``GET /map``) and the impact reports.

The map: :mod:`maps.page` builds the folium page (layer shells, controls, configuration, no data),
:mod:`maps.layers` prepares the layers it loads by viewport (coverage-simplified units, buildings as
heat or points), :mod:`maps.styles` and :mod:`maps.i18n` hold its colours, symbols and zh-CN/en
strings, :mod:`maps.assets` and :mod:`maps.vendor` serve Leaflet and its plugins locally, and
``maps/static/`` holds the page's script and styles.
"""
