#!/usr/bin/env bash
# Refresh the staff console's vendored front-end assets from the npm registry.
#
#   make assets        (or: bash scripts/vendor-assets.sh)
#
# Needs node and npm. The copied files are committed: nothing is built when the
# service runs or when its tests run, so only a maintainer bumping a version
# below runs this. It replaces intake/console/static/govuk/ and .../moj/ and
# leaves the hand-written intake/console/static/console.css alone.
#
# GDS Transport and the crown are for GOV.UK alone, and this service is not on
# GOV.UK, so:
#   - none of govuk-frontend's fonts are copied (console.css sets Arial instead);
#   - none of govuk-frontend's images are copied: every one of them is the crown,
#     the royal crest or the GOV.UK logo (and assets/manifest.json lists only those);
#   - from MoJ Frontend only the plain UI icons (icon-*) are copied, not its
#     crown, crest, touch icons or social-media image.
set -euo pipefail

# Pinned versions. MoJ Frontend 9 and later need govuk-frontend 6; 8.0.1 is the
# newest release whose peerDependencies accept govuk-frontend 5 (^5.11.2).
GOVUK_FRONTEND_VERSION=5.14.0
MOJ_FRONTEND_VERSION=8.0.1

# The only MoJ Frontend images copied (a shell glob within moj/assets/images/).
MOJ_IMAGES='icon-*'

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
static="$repo_root/intake/console/static"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Install both packages into a throwaway project: exact versions, no lockfile,
# no install scripts. npm also brings MoJ Frontend's peer "moment", unused here.
echo '{"private": true}' >"$work/package.json"
npm install --prefix "$work" --save-exact --no-package-lock --ignore-scripts \
  --no-audit --no-fund --loglevel=error \
  "govuk-frontend@$GOVUK_FRONTEND_VERSION" \
  "@ministryofjustice/frontend@$MOJ_FRONTEND_VERSION"

govuk_pkg="$work/node_modules/govuk-frontend"
moj_pkg="$work/node_modules/@ministryofjustice/frontend"

# pkg_field DIR FIELD: print one field of a package's package.json.
pkg_field() {
  node -p "require(process.argv[1] + '/package.json')[process.argv[2]]" "$1" "$2"
}

# Refuse to go on if npm resolved anything other than the pins.
for pair in "$govuk_pkg:$GOVUK_FRONTEND_VERSION" "$moj_pkg:$MOJ_FRONTEND_VERSION"; do
  dir=${pair%:*} want=${pair##*:}
  got=$(pkg_field "$dir" version)
  if [[ $got != "$want" ]]; then
    echo "vendor-assets: $(pkg_field "$dir" name) is $got, expected $want" >&2
    exit 1
  fi
done

# copy_licence PKG DEST: both packages are MIT, but neither npm tarball carries
# its licence file (it lives at the root of each upstream repository). Copy one
# if a future release ships it; otherwise keep the LICENSE.txt already committed
# (taken from the upstream repository at the pinned tag). Stop if the declared
# licence is no longer MIT, so that someone reads the new terms first.
copy_licence() {
  local pkg=$1 dest=$2 name licence file
  name=$(pkg_field "$pkg" name)
  licence=$(pkg_field "$pkg" license)
  if [[ $licence != MIT ]]; then
    echo "vendor-assets: $name now declares licence '$licence'; review it" >&2
    exit 1
  fi
  for file in "$pkg"/LICEN[CS]E*; do
    if [[ -f $file ]]; then
      cp "$file" "$dest/LICENSE.txt"
      return
    fi
  done
  local old="$static/$(basename "$dest")/LICENSE.txt"
  if [[ ! -f $old ]]; then
    echo "vendor-assets: $name ships no licence file and $old is missing" >&2
    exit 1
  fi
  cp "$old" "$dest/LICENSE.txt"
}

out="$work/out"

# govuk/: the precompiled, minified stylesheet and ES-module script.
mkdir -p "$out/govuk"
cp "$govuk_pkg/dist/govuk/govuk-frontend.min.css" \
   "$govuk_pkg/dist/govuk/govuk-frontend.min.js" "$out/govuk/"
copy_licence "$govuk_pkg" "$out/govuk"
echo "$GOVUK_FRONTEND_VERSION" >"$out/govuk/VERSION"

# moj/: the precompiled, minified stylesheet and ES-module script, plus icons.
mkdir -p "$out/moj/assets/images"
cp "$moj_pkg/moj/moj-frontend.min.css" "$moj_pkg/moj/moj-frontend.min.js" "$out/moj/"
# shellcheck disable=SC2086  # $MOJ_IMAGES is a glob on purpose
cp "$moj_pkg/moj/assets/images/"$MOJ_IMAGES "$out/moj/assets/images/"
copy_licence "$moj_pkg" "$out/moj"
echo "$MOJ_FRONTEND_VERSION" >"$out/moj/VERSION"

# Swap the new trees in whole, so files dropped upstream do not linger.
mkdir -p "$static"
rm -rf "$static/govuk" "$static/moj"
cp -R "$out/govuk" "$out/moj" "$static/"

# Check that console.css still overrides every rule of the compiled stylesheets
# that names GDS Transport: a rule on one govuk-/moj-/probation-common- class is
# covered by console.css's [class*=...] rule; any other selector must appear in
# console.css as written upstream. Also list each url() reference and whether a
# shipped file backs it (the compiled CSS uses absolute /assets/... paths).
node - "$static" <<'EOF'
const fs = require("fs");
const path = require("path");
const staticDir = process.argv[2];
const rules = (css) => [...css.replace(/\/\*[\s\S]*?\*\//g, "")
  .matchAll(/([^{}]+)\{([^{}]*)\}/g)].map((m) => [m[1], m[2]]);
const norm = (s) => s.trim().replace(/\s*([>+~])\s*/g, "$1").replace(/\s+/g, " ");
const ours = new Set();
for (const [sel] of rules(fs.readFileSync(path.join(staticDir, "console.css"), "utf8")))
  for (const s of sel.split(",")) ours.add(norm(s));
let missing = 0;
for (const [dir, file] of [["govuk", "govuk-frontend.min.css"], ["moj", "moj-frontend.min.css"]]) {
  const css = fs.readFileSync(path.join(staticDir, dir, file), "utf8");
  for (const [sel, body] of rules(css)) {
    if (!body.includes("GDS Transport") || sel.includes("@font-face")) continue;
    for (const s of sel.split(",").map(norm)) {
      const single = s.match(/^\.(govuk|moj|probation-common)-[\w-]*$/);
      if (ours.has(s) || (single && ours.has(`[class*="${single[1]}-"]`))) continue;
      console.error(`console.css does not override GDS Transport for: ${s} (${dir}/${file})`);
      missing++;
    }
  }
  const urls = new Set([...css.matchAll(/url\(["']?([^"')]+)["']?\)/g)].map((m) => m[1]));
  for (const u of urls) {
    const local = path.join(staticDir, dir, u.replace(/^\//, ""));
    const found = fs.existsSync(local) ? `shipped as ${dir}${u}` : "not shipped";
    console.log(`${dir}/${file}: url(${u}) is absolute; ${found}`);
  }
}
if (missing) {
  console.error(`vendor-assets: add the ${missing} selector(s) above to console.css`);
  process.exit(1);
}
EOF

echo "vendored govuk-frontend $GOVUK_FRONTEND_VERSION and @ministryofjustice/frontend $MOJ_FRONTEND_VERSION into ${static#"$repo_root/"}"
