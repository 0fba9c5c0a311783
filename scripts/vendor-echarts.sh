#!/bin/sh
# Refresh the vendored ECharts from npm at the version package.json pins (package-lock.json fixes its hash).
# The result, src/xinyong/web/static/vendor/echarts.min.js, is committed: a machine that runs the platform
# never needs npm. tests/console/test_vendor.py checks the vendored file's version against the pin.
set -eu
cd "$(dirname "$0")/.."
npm ci --no-audit --no-fund --ignore-scripts
mkdir -p src/xinyong/web/static/vendor
cp node_modules/echarts/dist/echarts.min.js src/xinyong/web/static/vendor/echarts.min.js
cp node_modules/echarts/LICENSE src/xinyong/web/static/vendor/echarts.LICENSE.txt
echo "vendored echarts $(node -p "require('./node_modules/echarts/package.json').version")"
