#!/usr/bin/env bash
# Notarises and staples a signed dist/Portside.app. A maintainer fills in their own identity:
#   PORTSIDE_NOTARY_PROFILE  a keychain profile made once with
#                            `xcrun notarytool store-credentials NAME --apple-id ID --team-id T`
# Nothing here holds a credential; without the profile it stops and says what to set.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
app="$root/dist/Portside.app"
: "${PORTSIDE_NOTARY_PROFILE:?set PORTSIDE_NOTARY_PROFILE to your notarytool keychain profile}"
codesign --verify --deep --strict "$app" || {
  echo "$app is not signed: build with PORTSIDE_MACOS_SIGN_IDENTITY set" >&2; exit 1; }
ditto -c -k --keepParent "$app" "$root/dist/Portside.zip"
xcrun notarytool submit "$root/dist/Portside.zip" --keychain-profile "$PORTSIDE_NOTARY_PROFILE" \
  --wait
xcrun stapler staple "$app"
