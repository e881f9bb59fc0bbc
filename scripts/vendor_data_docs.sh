#!/usr/bin/env bash
# Re-create include/gx/vendor: the browser files Great Expectations' Data Docs load from CDNs, as local copies
# (medical_telegram.quality.data_docs_offline rewrites the pages to them). See include/gx/vendor/README.md.
#
#   bash scripts/vendor_data_docs.sh     npm ci (package.json + package-lock.json) into a temp dir, then copy
#                                        each file urls.json names, plus whatever those CSS files load by a
#                                        relative url() (Font Awesome's ../webfonts/), with node_modules' layout.
#
# Images: the GX logo (gx-web-assets/logo-long.png) is copied from the installed GX wheel (.venv, or $PYTHON);
# gx-web-assets/full_logo_dark.png is not in the wheel nor on npm: the committed stand-in is kept as it is.
# Needs node + npm and the npm registry; changes nothing but include/gx/vendor.
set -euo pipefail
cd "$(dirname "$0")/.."
VENDOR=include/gx/vendor
PYTHON=${PYTHON:-.venv/bin/python}
KEEP=(package.json package-lock.json .npmrc urls.json README.md gx-web-assets/full_logo_dark.png)

for tool in node npm "$PYTHON"; do
    command -v "$tool" >/dev/null || { echo "vendor_data_docs: $tool is missing" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp "$VENDOR/package.json" "$VENDOR/package-lock.json" "$VENDOR/.npmrc" "$work/"
echo "vendor_data_docs: npm ci ($(node -p "Object.keys(require('./$VENDOR/package.json').dependencies).length") packages) ..."
(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)

mkdir "$work/out"
node - "$work/node_modules" "$work/out" "$VENDOR/urls.json" <<'JS'
const fs = require("fs"), path = require("path");
const [modules, out, urlsFile] = process.argv.slice(2);
const wanted = Object.values(JSON.parse(fs.readFileSync(urlsFile, "utf8")))
    .filter((p) => !p.startsWith("gx-web-assets/"));
const done = new Set();
function copy(rel) {
    rel = path.posix.normalize(rel);
    if (done.has(rel)) return;
    done.add(rel);
    const src = path.join(modules, rel);
    if (!fs.existsSync(src)) throw new Error(`not in the npm packages: ${rel}`);
    fs.mkdirSync(path.dirname(path.join(out, rel)), { recursive: true });
    fs.copyFileSync(src, path.join(out, rel));
    if (!rel.endsWith(".css")) return;
    // what the stylesheet loads by a relative url() (fonts, images), kept at the same relative place
    const css = fs.readFileSync(src, "utf8");
    for (const m of css.matchAll(/url\(\s*(["']?)([^"')]+)\1\s*\)/g)) {
        const ref = m[2].split(/[?#]/)[0];
        if (!ref || /^(data:|[a-z]+:|\/|#)/i.test(ref)) continue;
        copy(path.posix.join(path.posix.dirname(rel), ref));
    }
}
wanted.forEach(copy);
console.log(`vendor_data_docs: ${done.size} files from npm`);
JS

gx_images=$("$PYTHON" -c 'import pathlib, great_expectations as gx
print(pathlib.Path(gx.__file__).parent / "render/view/static/images")')
mkdir -p "$work/out/gx-web-assets"
cp "$gx_images/logo-long.png" "$work/out/gx-web-assets/"
[[ -f $VENDOR/gx-web-assets/full_logo_dark.png ]] || {
    echo "vendor_data_docs: $VENDOR/gx-web-assets/full_logo_dark.png (the committed stand-in) is missing" >&2; exit 1; }

# Replace everything but the files kept (the definitions, the README, the stand-in).
for keep in "${KEEP[@]}"; do
    [[ -f $VENDOR/$keep ]] || continue
    mkdir -p "$work/keep/$(dirname "$keep")"
    cp "$VENDOR/$keep" "$work/keep/$keep"
done
rm -rf "$VENDOR"
mkdir -p "$VENDOR"
cp -R "$work/out/." "$VENDOR/"
cp -R "$work/keep/." "$VENDOR/"
echo "vendor_data_docs: $VENDOR: $(find "$VENDOR" -type f | wc -l) files, $(du -sh "$VENDOR" | cut -f1)"
