#!/usr/bin/env bash
# A plain install works: build the wheel, install it with the locked versions into a fresh
# venv in a temporary folder outside the checkout, run `stadtlotse demo-data` and one piped
# `stadtlotse chat` there, then tools/check_image.py (the container image's commands on the
# same wheel and venv). A data file missing from the wheel fails here. `make test` runs it.
#   tools/check_wheel.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
python=${PYTHON:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/stadtlotse-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "check_wheel: building the wheel ($SECONDS s)"
"$python" -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" . 2> "$work/build.log" || {
    cat "$work/build.log"; exit 1; }
rm -rf build
wheel=$(ls "$work"/dist/stadtlotse-*.whl)

# the venv check_image.py installs into: it finds the wheel there already and only checks
venv="$work/image/opt-stadtlotse"
echo "check_wheel: installing $(basename "$wheel") into a fresh venv outside the checkout ($SECONDS s)"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --no-compile --disable-pip-version-check \
    -c constraints.txt "$wheel" \
    2> "$work/install.log" || { cat "$work/install.log"; exit 1; }

demo="$work/demo"
mkdir -p "$demo"
cd "$demo"  # nothing of the checkout is importable from here
clean=(env -i "PATH=/usr/bin:/bin" "HOME=$demo" "LANG=C.UTF-8"
       "STADTLOTSE_DATABASE_URL=sqlite+aiosqlite:///$demo/stadtlotse.db"
       "STADTLOTSE_DATA_DIR=$demo/var" "STADTLOTSE_NOW=2026-11-27T09:00:00+01:00")
where=$("${clean[@]}" "$venv/bin/python" -c 'import services; print(services.__file__)')
case "$where" in
    "$venv"/*) ;;
    *) echo "check_wheel: services imported from $where, not the installed wheel"; exit 1 ;;
esac
echo "check_wheel: stadtlotse demo-data ($SECONDS s)"
"${clean[@]}" "$venv/bin/stadtlotse" demo-data > demo.out 2>&1 || { cat demo.out; exit 1; }
echo "check_wheel: one piped stadtlotse chat ($SECONDS s)"
printf 'auktion\nAlle Fundsachen\n' | "${clean[@]}" "$venv/bin/stadtlotse" chat --user ben \
    > chat.out 2>&1 || { cat chat.out; exit 1; }
if grep -q -e Traceback -e "schiefgegangen" demo.out chat.out; then
    cat demo.out chat.out
    echo "check_wheel: an error in the installed program"
    exit 1
fi
if ! grep -q "Fahrräder" chat.out; then  # the auction's categories come from ahaus.d/auction.toml
    cat chat.out
    echo "check_wheel: the auction shows no categories (city configuration missing from the wheel?)"
    exit 1
fi
cd "$root"
"$python" tools/check_image.py "$wheel" "$work/image"
echo "check_wheel: ok ($SECONDS s)"
