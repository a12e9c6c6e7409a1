#!/usr/bin/env bash
# Creates or updates the Python tool consumer's virtualenv under $TOOLBUS_CACHE (outside the repo).
# Idempotent: skipped when requirements.txt is unchanged since the last successful install.
# Called by scripts/setup.sh (`make setup`); safe to run by hand.
source "$(dirname "$0")/../../scripts/lib.sh"

here="$TOOLBUS_ROOT/examples/python-consumer"
venv="$TOOLBUS_CACHE/python-consumer-venv"
python=${TOOLBUS_PYTHON:-python3}
stamp="$venv/.toolbus-requirements-hash"

command -v "$python" >/dev/null || die "python3 (3.9 or newer) is needed for examples/python-consumer"
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' ||
  die "examples/python-consumer needs Python 3.9 or newer; $python is $("$python" -V 2>&1)"

want=$( (sha256sum "$here/requirements.txt"; "$python" -V 2>&1) | sha256sum | cut -d' ' -f1)
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi

log "installing the Python consumer's packages into $venv ($("$python" -V 2>&1))"
mkdir -p "$TOOLBUS_CACHE"
# A venv made by another Python (or half made) is rebuilt rather than patched.
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1 ||
  [[ "$("$venv/bin/python" -V 2>&1)" != "$("$python" -V 2>&1)" ]]; then
  rm -rf "$venv"
  "$python" -m venv "$venv" || die "could not create a virtualenv with $python -m venv (on Debian: apt-get install python3-venv)"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --only-binary confluent-kafka,rpds-py -r "$here/requirements.txt" ||
  die "pip could not install examples/python-consumer/requirements.txt"
echo "$want" >"$stamp"
