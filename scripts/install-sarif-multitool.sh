#!/usr/bin/env bash
# Installs the Microsoft SARIF multitool that TestSARIFMultitool (reporters/) runs, into
# node_modules/ at the repository root (git-ignored), unless the right version is already there.
#
#   scripts/install-sarif-multitool.sh           install when missing or another version
#   scripts/install-sarif-multitool.sh --force   reinstall
#
# The npm package ships a self-contained .NET single-file binary: no .NET runtime is needed. It
# loads libicu at start and aborts without it, so the check below (and the Go test) run it with
# DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1, which needs no ICU and changes nothing for validation.
# npm may skip the package's postinstall `chmod u+x` (install-scripts policies), so we chmod.
set -euo pipefail

VERSION=5.7.0

repo=$(cd "$(dirname "$0")/.." && pwd)
force=0
case "${1:-}" in
  --force) force=1 ;;
  "") ;;
  *) echo "install-sarif-multitool: unknown argument $1" >&2; exit 2 ;;
esac

case "$(uname -s)" in
  Linux) platform=linux ;;
  Darwin) platform=darwin ;;
  *) echo "install-sarif-multitool: unsupported OS $(uname -s); set COFFER_SARIF_MULTITOOL to a Sarif.Multitool binary" >&2; exit 1 ;;
esac
pkg="$repo/node_modules/@microsoft/sarif-multitool-$platform"
bin="$pkg/Sarif.Multitool"

installed_version() {
  sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$pkg/package.json" 2>/dev/null | head -n1
}

works() {
  [ -x "$bin" ] && DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 "$bin" --version >/dev/null 2>&1
}

if [ "$force" = 0 ] && [ "$(installed_version)" = "$VERSION" ]; then
  chmod +x "$bin" 2>/dev/null || true
  works && exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install-sarif-multitool: npm is needed to install @microsoft/sarif-multitool@$VERSION (apt-get install npm)" >&2
  exit 1
fi
echo "install-sarif-multitool: installing @microsoft/sarif-multitool@$VERSION into $repo/node_modules" >&2
# --no-save/--no-package-lock: the repository has no package.json and should not grow one.
(cd "$repo" && npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
  "@microsoft/sarif-multitool@$VERSION")
if [ "$(installed_version)" != "$VERSION" ]; then
  echo "install-sarif-multitool: $pkg is not version $VERSION after npm install" >&2
  exit 1
fi
chmod +x "$bin"
if ! works; then
  echo "install-sarif-multitool: $bin does not run; try: DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 $bin --version" >&2
  exit 1
fi
