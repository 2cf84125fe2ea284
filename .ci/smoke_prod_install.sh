#!/usr/bin/env bash
# Smoke test of a production install (`make smoke-prod`; .ci/run runs it before `make test`).
#
# A fresh virtualenv in a temporary folder gets requirements/runtime.txt (the lock of
# [project].dependencies, hashes checked), then `pip install --no-deps .`, nothing else (no
# extras; pip may use its cache); its pybabel compiles the catalogs; its
# flask migrates a fresh SQLite database, loads the demo data and creates a member of staff;
# then its Python runs tests/smoke/prod_smoke.py with PORTAL_ENV=production: log in, upload a
# PDF contract and images, every GET route as each role, no server error. The app runs from
# this checkout, as the README's deployment does. Nothing of the caller's environment
# (PORTAL_*, PYTHONPATH, the dev .venv) reaches it. Exit status 0 = passed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/portal-smoke-XXXXXX")
# setuptools builds in the checkout: remove what it leaves there, unless it was there before
left_by_build=$(for path in build bureau_portal.egg-info; do [ -e "$path" ] || echo "$path"; done)
cleanup() {
  rm -rf "$WORK"
  for path in $left_by_build; do rm -rf "$path"; done
}
trap cleanup EXIT
started=$SECONDS

echo "== production install smoke test: the runtime lock, then pip install . into a fresh venv ($WORK/venv)"
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q --disable-pip-version-check --no-compile --require-hashes \
  -r requirements/runtime.txt 2>&1 | { grep -v "^WARNING: Location '.*' is ignored" || true; }
"$WORK/venv/bin/pip" install -q --disable-pip-version-check --no-compile --no-deps . 2>&1 \
  | { grep -v "^WARNING: Location '.*' is ignored" || true; }
"$WORK/venv/bin/pybabel" compile -d portal/translations >"$WORK/pybabel.log" 2>&1 \
  || { cat "$WORK/pybabel.log" >&2; exit 1; }

secret=$("$PYTHON" -c 'import secrets; print(secrets.token_hex(32))')
staff_email=smoke-staff@jgj.example.gov.cn
staff_password=$("$PYTHON" -c 'import secrets; print("Smoke-" + secrets.token_urlsafe(18))')
# Only these variables: the caller's PORTAL_*, PYTHONPATH and virtualenv stay out.
prod() {
  env -i PATH="$WORK/venv/bin:/usr/local/bin:/usr/bin:/bin" HOME="$WORK" LANG=C.UTF-8 \
    TMPDIR="$WORK" PORTAL_ENV=production PORTAL_SECRET_KEY="$secret" \
    PORTAL_DATABASE_URL="sqlite:///$WORK/portal.db" PORTAL_UPLOAD_FOLDER="$WORK/uploads" "$@"
}
# A command's output is shown only when it fails.
quiet() { "$@" >"$WORK/step.log" 2>&1 || { cat "$WORK/step.log" >&2; exit 1; }; }

quiet prod flask --app portal db upgrade
quiet prod env PORTAL_ENV=development flask --app portal demo  # refused in production
quiet prod flask --app portal users create --role staff --email "$staff_email" --name 烟测员 \
  --password "$staff_password"
# PORTAL_ACCESS_LOG=off: the JSON access line of each of its hundreds of requests is noise here.
prod env SMOKE_STAFF_EMAIL="$staff_email" SMOKE_STAFF_PASSWORD="$staff_password" \
  PORTAL_ACCESS_LOG=off "$WORK/venv/bin/python" -I tests/smoke/prod_smoke.py
echo "== production install smoke test: done in $((SECONDS - started)) s"
