#!/usr/bin/env bash
# Refreshes the bundled Japanese public holidays (crates/ichiba/reference/holidays/jp.tsv) from the
# MIT-licensed `holidays` package on PyPI (https://github.com/vacanza/holidays), which follows the
# Cabinet Office's list (内閣府「国民の祝日について」) including substitute holidays (振替休日) and
# citizens' holidays (国民の休日). Covers FIRST_YEAR..LAST_YEAR (default 2000..2060).
#
#   bash scripts/refresh-holidays.sh              # pip download the newest wheel
#   bash scripts/refresh-holidays.sh path/to.whl  # use a wheel already downloaded
#
# Needs python-dateutil (a dependency of `holidays`). Then run `cargo test -p ichiba payouts::calendar`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=crates/ichiba/reference/holidays/jp.tsv
first=${FIRST_YEAR:-2000}
last=${LAST_YEAR:-2060}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ $# -ge 1 ]; then
  wheel=$1
else
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$work" holidays
  wheel=$(ls "$work"/holidays-*.whl)
fi
python3 -m zipfile -e "$wheel" "$work/x"

PYTHONPATH="$work/x" python3 - "$first" "$last" "$(basename "$wheel")" > "$out.tmp" <<'PY'
import sys
import holidays
first, last, wheel = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
jp = holidays.country_holidays("JP", years=range(first, last + 1), language="ja")
print(f"# Japanese public holidays {first}-{last} from {wheel}.")
print("# Source: https://pypi.org/project/holidays/ (https://github.com/vacanza/holidays), MIT License.")
print("# Regenerate with scripts/refresh-holidays.sh. Years after the Cabinet Office's announcement")
print("# (each February for the next year) hold computed equinox days and may change.")
print(f"# range\t{first}\t{last}")
for day, name in sorted(jp.items()):
    print(f"{day.isoformat()}\t{name}")
PY
mv "$out.tmp" "$out"
echo "wrote $out: $(grep -vc '^#' "$out") holidays, $(wc -c < "$out") bytes"
