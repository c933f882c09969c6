#!/usr/bin/env bash
# The docs hold together (tests/docs/links.py): relative links in README.md,
# CHANGELOG.md, docs/ and deploy/ resolve, every docs/...md path cited in the
# tree exists, no file names the internal notes or an issue number.
# Controls first: a temporary tree with a broken link, a cited doc that does
# not exist, and each forbidden mention must each fail; a clean one passes.
source "$OSS_SOURCE_DIR/tests/lib/common.sh"
oss_require_cmd python3
chk=$OSS_SOURCE_DIR/tests/docs/links.py
t=$OSS_TMP/tree
mkdir -p "$t/docs"
printf '# x\n' >"$t/docs/a.md"
printf 'See [a](docs/a.md) and [b](docs/a.md#x), docs/a.md.\n' >"$t/README.md"
python3 "$chk" "$t" README.md docs/a.md >/dev/null || oss_fail "control: a clean tree fails"
expect_fail() { # expect_fail WHAT CONTENT
    printf '%s\n' "$2" >"$t/README.md"
    if python3 "$chk" "$t" README.md docs/a.md >/dev/null; then oss_fail "control: $1 passed"; fi
    echo "PASS control: $1 is refused"
}
expect_fail "a broken relative link" 'See [gone](docs/gone.md).'
expect_fail "a broken link with an anchor" 'See [gone](docs/gone.md#part).'
expect_fail "a cited docs path that does not exist" 'As docs/gone.md says.'
expect_fail "the internal notes file" "See FACTS"".md."
expect_fail "an issue number" "Fixed in issue ""12."
python3 "$chk" "$OSS_SOURCE_DIR" || oss_fail "the tree's docs do not hold together (above)"
echo PASS
