# Set-up steps shared by scripts/run and scripts/test. Sourced, not run.
#
# Each step checks first and changes the machine only when something is
# missing, so running a script twice does no extra work.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO_ROOT/.venv"
_APT_UPDATED=0

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

apt_install() {
    command -v apt-get >/dev/null 2>&1 \
        || die "apt-get not found; install these packages by hand: $*"
    if [ "$_APT_UPDATED" -eq 0 ]; then
        say "apt-get update"
        as_root apt-get update -q
        _APT_UPDATED=1
    fi
    say "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "$@"
}

_tesseract_ready() {
    command -v tesseract >/dev/null 2>&1 || return 1
    local langs
    langs="$(tesseract --list-langs 2>/dev/null)" || return 1
    grep -qx eng <<<"$langs" && grep -qx osd <<<"$langs"
}

# Tesseract with English and orientation data; fails if still missing.
ensure_tesseract() {
    if ! _tesseract_ready; then
        apt_install tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd
    fi
    _tesseract_ready || die "tesseract with eng and osd data is still missing"
}

# The interpreter for the venv: PYTHON, else python3.11, else python3.
_pick_python() {
    if [ -n "${PYTHON:-}" ]; then
        echo "$PYTHON"
    elif command -v python3.11 >/dev/null 2>&1; then
        echo python3.11
    else
        echo python3
    fi
}

# .venv with the package installed editable, with its test extras.
# Reinstalls only when pyproject.toml changed since the last install.
ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        local python
        python="$(_pick_python)"
        command -v "$python" >/dev/null 2>&1 || die "$python not found"
        "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
            || die "$python is older than Python 3.11"
        if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
            # Debian ships venv support in its own package.
            apt_install python3-venv
        fi
        say "creating $VENV"
        "$python" -m venv "$VENV"
    fi

    local stamp="$VENV/.tasks-api-installed" wanted
    wanted="$(sha256sum "$REPO_ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ] \
        || [ ! -x "$VENV/bin/tasks-api" ]; then
        say "pip install -e .[test]"
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
            -e "$REPO_ROOT[test]"
        echo "$wanted" >"$stamp"
    fi
}

# Headless Chromium and its driver from apt, for the web console's
# tests (tests/console/browser.py uses exactly these two paths).
ensure_chromium() {
    if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
        apt_install chromium chromium-driver
    fi
    [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] \
        || die "chromium and chromedriver are still missing"
}

_redis_answers() {
    [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]
}

# A Redis on 127.0.0.1:6379: the one already there, else one started
# here (no persistence). Fails if none answers.
ensure_redis() {
    if ! command -v redis-cli >/dev/null 2>&1 \
        || ! command -v redis-server >/dev/null 2>&1; then
        apt_install redis-server
    fi
    if _redis_answers; then
        return 0
    fi

    say "starting redis-server on 127.0.0.1:6379"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 \
        --save "" --appendonly no >/dev/null
    local tries
    for tries in $(seq 50); do
        _redis_answers && return 0
        sleep 0.1
    done
    die "redis on 127.0.0.1:6379 does not answer"
}
