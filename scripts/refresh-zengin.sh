#!/usr/bin/env bash
# Refreshes the bundled Zengin bank and branch codes (crates/ichiba/reference/zengin/banks.tsv) from the
# MIT-licensed `zengin-code` package on PyPI (https://github.com/zengin-code/zengin-py, data from
# https://github.com/zengin-code/source-data). Keeps only code, name and kana of each bank and branch.
#
#   bash scripts/refresh-zengin.sh              # pip download the newest wheel
#   bash scripts/refresh-zengin.sh path/to.whl  # use a wheel already downloaded
#
# Then run `cargo test -p ichiba payouts::bank` (a test checks every name converts to Zengin kana).
set -euo pipefail
cd "$(dirname "$0")/.."
out=crates/ichiba/reference/zengin/banks.tsv
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ $# -ge 1 ]; then
  wheel=$1
else
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$work" zengin-code
  wheel=$(ls "$work"/zengin_code-*.whl)
fi
python3 -m zipfile -e "$wheel" "$work/x"

python3 - "$work/x" "$(basename "$wheel")" > "$out.tmp" <<'PY'
import json, os, sys
root, wheel = sys.argv[1], sys.argv[2]
data = os.path.join(root, "zengin_code", "source-data", "data")
banks = json.load(open(os.path.join(data, "banks.json"), encoding="utf-8"))
updated = open(os.path.join(data, "updated_at"), encoding="utf-8").read().strip()
def clean(s):
    return s.replace("\t", " ").replace("\n", " ").strip()
print(f"# Zengin bank and branch codes from {wheel} (source-data updated_at {updated}).")
print("# Source: https://pypi.org/project/zengin-code/ (https://github.com/zengin-code/source-data),")
print("# MIT License, Copyright (c) 2015 Sho Kusano. Regenerate with scripts/refresh-zengin.sh.")
print("# Format: a bank line `CODE<TAB>NAME<TAB>KANA`, then its branches `<TAB>CODE<TAB>NAME<TAB>KANA`.")
for code in sorted(banks):
    b = banks[code]
    print(f"{b['code']}\t{clean(b['name'])}\t{clean(b['kana'])}")
    path = os.path.join(data, "branches", f"{code}.json")
    if not os.path.exists(path):
        continue
    branches = json.load(open(path, encoding="utf-8"))
    for bc in sorted(branches):
        r = branches[bc]
        print(f"\t{r['code']}\t{clean(r['name'])}\t{clean(r['kana'])}")
PY
mv "$out.tmp" "$out"
echo "wrote $out: $(grep -vc '^[#	]' "$out") banks, $(grep -c '^	' "$out") branches, $(wc -c < "$out") bytes"
