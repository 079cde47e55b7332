#!/usr/bin/env bash
# System packages from Debian: headless Chromium and its driver (browser tests), nginx (the buffering front
# that `quartiere serve` starts before gunicorn) and gdal-bin (ogrinfo/ogr2ogr: the GIS interoperability tests
# open the GeoPackage and read the OGC API with the GDAL a Debian desktop has; its python3-gdal brings
# validate_gpkg.py) and QGIS (python3-qgis, qgis-providers: the styled GeoPackage, headless). Idempotent: does nothing when all are installed.
# CI (.ci/run), scripts/test and scripts/run call it; needs root (or sudo) only when something is missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
# nginx lives in /usr/sbin, which is not on every user's PATH
{ command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } || need+=(nginx)
command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)
# QGIS 3.22 without its desktop: the GeoPackage test opens the snapshot headless and checks its styles
/usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1 && [ -d /usr/lib/qgis/plugins ] || need+=(python3-qgis qgis-providers)
if [ ${#need[@]} -eq 0 ]; then
  echo "install-system-deps: chromium, chromium-driver, nginx, gdal-bin and QGIS already installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# The package's own service must not start (it would take port 80): `quartiere serve` runs its own nginx with a
# generated configuration. policy-rc.d forbids service starts during the installation only.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  trap '$SUDO rm -f "$policy"' EXIT
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" fonts-dejavu-core >/dev/null
echo "install-system-deps: installed ${need[*]}"
