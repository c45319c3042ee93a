#!/usr/bin/env bash
# Installs the Python tools the tests need, with pip into a virtualenv (default .venv at the
# repository root), which it creates when missing: moto_server and the aws CLI unless PATH has
# them, and always py-ocsf-models, which the OCSF tests import from .venv/bin/python.
#
#   scripts/install-tools.sh                 install into .venv what is missing
#   scripts/install-tools.sh --venv DIR --force
#                                            install everything into DIR even if PATH has moto and
#                                            aws (the test of this script uses it to prove a fresh
#                                            machine works)
set -euo pipefail

MOTO_VERSION=5.2.1
AWSCLI_VERSION=1.45.11
# Keep equal to fixtures/ocsf.PyOCSFModelsVersion.
PY_OCSF_MODELS_VERSION=0.10.0

repo=$(cd "$(dirname "$0")/.." && pwd)
venv="$repo/.venv"
force=0
while [ $# -gt 0 ]; do
  case "$1" in
    --venv) venv=$2; shift 2 ;;
    --force) force=1; shift ;;
    *) echo "install-tools: unknown argument $1" >&2; exit 2 ;;
  esac
done

packages=()
bins=()
have() { [ "$force" = 0 ] && { command -v "$1" >/dev/null 2>&1 || [ -x "$venv/bin/$1" ]; }; }
have moto_server || { packages+=("moto[server]==$MOTO_VERSION"); bins+=(moto_server); }
have aws || { packages+=("awscli==$AWSCLI_VERSION"); bins+=(aws); }
# py-ocsf-models is a library, not a command: it must be in the venv's own python.
if [ "$force" = 1 ] || ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('py-ocsf-models') != '$PY_OCSF_MODELS_VERSION')" >/dev/null 2>&1; then
  packages+=("py-ocsf-models==$PY_OCSF_MODELS_VERSION")
fi

if [ ${#packages[@]} -eq 0 ]; then
  exit 0
fi
python=$(command -v python3 || true)
if [ -z "$python" ]; then
  echo "install-tools: python3 is needed to install ${packages[*]} (apt-get install python3 python3-venv)" >&2
  exit 1
fi
echo "install-tools: installing ${packages[*]} into $venv" >&2
[ -x "$venv/bin/pip" ] || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "${packages[@]}"
for bin in "${bins[@]}"; do
  [ -x "$venv/bin/$bin" ] || { echo "install-tools: $bin missing from $venv after install" >&2; exit 1; }
done
"$venv/bin/python" -c "import py_ocsf_models" || { echo "install-tools: py-ocsf-models missing from $venv after install" >&2; exit 1; }
