#!/usr/bin/env bash
# Builds Portside's wheel and sdist into dist/ (not committed). The icons in resources/ are copied
# into app/resources/ for the build, where app/resources.py also looks, so an installed wheel has
# its icons; the copy is removed afterwards.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python3 -m venv .build-venv
.build-venv/bin/pip install -q --disable-pip-version-check build
trap 'rm -rf "$root/app/resources" "$root/.build-venv"' EXIT
mkdir -p app/resources
cp -r resources/icons app/resources/icons
.build-venv/bin/python -m build --outdir dist .
ls -l dist
