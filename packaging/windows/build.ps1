# Builds dist\Portside\ on Windows (cannot run on Linux; tests/test_packaging_specs.py checks the
# spec from Linux). Needs Python 3.11+, QEMU for Windows (winget install qemu) and the x86_64 VM
# image built on Linux (sudo bash packaging/vm/build.sh --arch x86_64), copied to
# $env:PORTSIDE_VM_IMAGES (default %LOCALAPPDATA%\portside\Cache\vm).
#   powershell -File packaging\windows\build.ps1
# then packaging\windows\sign.ps1 signs the executables with the maintainer's certificate.
$ErrorActionPreference = "Stop"
$root = (Resolve-Path "$PSScriptRoot\..\..").Path
$venv = "$root\.bundle-venv"
if (-not (Test-Path "$venv\Scripts\python.exe")) { python -m venv $venv }
& "$venv\Scripts\pip" install -q "pyinstaller==6.22.3" $root
& "$venv\Scripts\python" "$root\packaging\sample-image\build.py" --out "$root\resources\sample-image.tar"
$env:PORTSIDE_SRC = $root
if (-not $env:PORTSIDE_QEMU_DIR) { $env:PORTSIDE_QEMU_DIR = "$env:ProgramFiles\qemu" }
if (-not $env:PORTSIDE_VM_IMAGES) { $env:PORTSIDE_VM_IMAGES = "$env:LOCALAPPDATA\portside\Cache\vm" }
& "$venv\Scripts\pyinstaller" --noconfirm --distpath "$root\dist" --workpath "$root\build\windows" `
  "$root\packaging\windows\portside.spec"
Write-Output "built $root\dist\Portside"
