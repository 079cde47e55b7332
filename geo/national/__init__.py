"""The national dataset: every Gemeinde, Gemeindeverband, Kreis and Land of Germany.

Modules
-------
sources
    One reader per published national file (BKG VG5000 / VG250-EW, INKAR extract, GISD release and inputs, BBSR).
territory
    Brings the 2021 polygons to the territorial status of the statistics (31.12.2022), recorded as repairs.
indicators
    Indicators from the national inputs (counts kept beside every rate), partitionable by Land.
build
    ``assemble(data_dir, ...) -> Assembly`` for ``quartiere build --dataset germany``.
gisd
    Replication of the RKI German Index of Socioeconomic Deprivation and comparison with the release.
lookup, dask_engine
    Batch point lookup and the Dask (dask.distributed / dask-geopandas) engine.

Keys are strings of their official length: Land 2, Kreis 5, Gemeinde 8, Gemeindeverband 9 digits.
"""

NATIONAL_CRS = "EPSG:3035"
KEY_LENGTHS = {"land": 2, "kreis": 5, "gemeinde": 8, "gemeindeverband": 9}
LEVELS = ("gemeinde", "gemeindeverband", "kreis", "land")
LAYER_OF_LEVEL = {"gemeinde": "gemeinden", "gemeindeverband": "gemeindeverbaende", "kreis": "kreise",
                  "land": "laender"}
