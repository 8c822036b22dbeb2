# Shared by the scripts in scripts/ and bench/: installing Debian packages and a Python venv.
# Source it; it defines functions only.

# ensure_packages CMD:PACKAGE ... installs PACKAGE when CMD is not on PATH (Debian/Ubuntu, as root or via sudo).
ensure_packages() {
  local missing=()
  local pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "error: missing ${missing[*]}; install them with: apt-get install -y ${missing[*]}" >&2
      return 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: missing ${missing[*]}; this script installs them only on Debian/Ubuntu (apt-get)." >&2
    echo "       Install them with your package manager and run it again." >&2
    return 1
  fi
  echo "installing ${missing[*]} (apt-get)" >&2
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_dpkg PACKAGE... installs the Debian packages that are not installed yet, for packages that
# bring no command to test for (libraries and headers, e.g. libssl-dev for the Swift build).
ensure_dpkg() {
  local pairs=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || pairs+=("ensure-dpkg-missing-$package:$package")
  done
  [ ${#pairs[@]} -eq 0 ] || ensure_packages "${pairs[@]}"
}

# ensure_venv DIR PACKAGE... creates a virtual environment in DIR with the given PyPI packages.
ensure_venv() {
  local dir="$1"; shift
  if [ ! -x "$dir/bin/python" ]; then
    python3 -m venv "$dir" || { ensure_packages "python3:python3-venv" && python3 -m venv "$dir"; }
  fi
  "$dir/bin/pip" install -q --disable-pip-version-check "$@"
}

# free_port prints a free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL [SECONDS] waits until URL answers 200.
wait_http() {
  local url="$1" seconds="${2:-20}" i
  for ((i = 0; i < seconds * 10; i++)); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "error: $url did not answer within ${seconds}s" >&2
  return 1
}

# stop_pid PID [GRACE_SECONDS] sends SIGTERM to PID (a child of this shell), then SIGKILL after
# GRACE_SECONDS (default 10), and reaps it.
stop_pid() {
  local pid=$1 grace=${2:-10} i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}
