# Signs dist\Portside's executables with the maintainer's code-signing certificate. A maintainer
# fills in their own identity; nothing here holds a credential:
#   $env:PORTSIDE_WINDOWS_CERT_SHA1  the certificate's thumbprint in the user's certificate store
#   $env:PORTSIDE_TIMESTAMP_URL      their CA's RFC 3161 timestamp server
$ErrorActionPreference = "Stop"
if (-not $env:PORTSIDE_WINDOWS_CERT_SHA1 -or -not $env:PORTSIDE_TIMESTAMP_URL) {
  throw "Set PORTSIDE_WINDOWS_CERT_SHA1 and PORTSIDE_TIMESTAMP_URL to your certificate and timestamp server."
}
$root = (Resolve-Path "$PSScriptRoot\..\..").Path
Get-ChildItem "$root\dist\Portside" -Recurse -Include *.exe, *.dll | ForEach-Object {
  signtool sign /sha1 $env:PORTSIDE_WINDOWS_CERT_SHA1 /fd SHA256 /tr $env:PORTSIDE_TIMESTAMP_URL /td SHA256 $_.FullName
}
