"""Analysis on a built table: hot spots, district types, areal interpolation, proxies and the monitoring series."""
