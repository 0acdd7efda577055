"""The tiny dataset with every optional column null in half the rows, or absent entirely."""

from __future__ import annotations

import numpy as np
from factories import tiny_dataset

from geo.io import Dataset

OPTIONAL = {"units": ("name_en", "workers", "kind"),
            "buildings": ("elderly", "children", "special_care", "address"),
            "stations": ("name_en", "capacity", "community_code")}


def patchy_dataset(mode: str) -> Dataset:
    """``mode`` "half": the optional columns null in every other row; "absent": the columns dropped."""
    data = tiny_dataset()
    for layer, columns in OPTIONAL.items():
        frame = data.layer(layer)
        for column in columns:
            if column not in frame.columns:
                continue
            if mode == "absent":
                frame = frame.drop(columns=column)
            else:
                values = frame[column].astype(object)
                values.iloc[::2] = np.nan
                frame[column] = values
        setattr(data, layer, frame)
    return data
