# Installing Debian packages from the repo's scripts: sourced, never run.
#
#   . "$HERE/lib/apt.sh"
#   apt_ensure PKG...        install the packages that are not installed yet
#   apt_install PKG...       install (or upgrade) the packages, installed or not
#
# What a bare machine needs from it:
#   - another apt-get or dpkg may hold the dpkg lock when a script starts (a
#     machine's own start-up jobs do): wait for it, at most
#     ${CHUTES_BUILD_APT_LOCK_TIMEOUT:-300} s, saying which process holds it;
#   - the package lists may be missing or stale: `apt-get update` first when
#     there are none or a package has no install candidate, and once more when
#     an install fails (a stale list names files the mirror no longer has);
#   - a failure names the package that could not be installed.
# Progress goes to stderr, prefixed with the calling script's name ($APT_SAY).

APT_LOCK_TIMEOUT="${CHUTES_BUILD_APT_LOCK_TIMEOUT:-300}"
APT_LOCKS=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock)
APT_UPDATED=""

_apt_say() { echo "${APT_SAY:-apt}: $*" >&2; }

_apt_root() {
    if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# The pid holding an fcntl lock on $1 (dpkg's kind of lock), or nothing.
_apt_lock_holder() {
    python3 - "$1" <<'PY' 2>/dev/null
import fcntl, os, struct, sys
try:
    fd = os.open(sys.argv[1], os.O_RDONLY)
except OSError:
    sys.exit(0)
probe = struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0)
held = struct.unpack("hhqqi", fcntl.fcntl(fd, fcntl.F_GETLK, probe))
if held[0] != fcntl.F_UNLCK:
    print(held[4])
PY
}

# Wait (bounded) until no process holds one of apt's locks.
apt_wait_for_lock() {
    local waited=0 lock pid holder
    while :; do
        holder=""
        for lock in "${APT_LOCKS[@]}"; do
            pid="$(_apt_lock_holder "$lock" || true)"
            if [[ -n "$pid" ]]; then
                holder="$pid ($(tr '\0\n' '  ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80)) on $lock"
                break
            fi
        done
        [[ -z "$holder" ]] && return 0
        if (( waited >= APT_LOCK_TIMEOUT )); then
            _apt_say "gave up after ${APT_LOCK_TIMEOUT}s waiting for the apt lock held by $holder;" \
                "let it finish (or stop it) and run this again," \
                "or raise CHUTES_BUILD_APT_LOCK_TIMEOUT"
            return 1
        fi
        if (( waited % 15 == 0 )); then
            _apt_say "waiting for the apt lock held by process $holder"
        fi
        sleep 1
        waited=$((waited + 1))
    done
}

_apt_get() {
    apt_wait_for_lock || return 1
    DEBIAN_FRONTEND=noninteractive _apt_root apt-get -q -o "DPkg::Lock::Timeout=$APT_LOCK_TIMEOUT" "$@"
}

# No package list at all (a new machine's image may ship none). A list's age says
# nothing: apt stamps each with the mirror's own time; an install that fails to
# fetch is what shows a stale list, and it is retried after an update.
_apt_lists_missing() {
    [[ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ]]
}

apt_update() {
    [[ -n "$APT_UPDATED" ]] && return 0
    _apt_say "apt-get update"
    _apt_get update -qq >&2 || { _apt_say "apt-get update failed (see above)"; return 1; }
    APT_UPDATED=1
}

_apt_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

_apt_has_candidate() {
    apt-cache policy "$1" 2>/dev/null | grep -q "Candidate: [^(]"
}

# apt_ensure PKG...: install whichever of PKG... is not installed yet.
apt_ensure() {
    local missing=() pkg
    for pkg in "$@"; do _apt_installed "$pkg" || missing+=("$pkg"); done
    (( ${#missing[@]} == 0 )) && return 0
    apt_install "${missing[@]}"
}

# apt_install PKG...: install PKG..., naming each one that could not be installed.
apt_install() {
    if ! command -v apt-get >/dev/null; then
        _apt_say "apt-get is missing: install $* by other means and run this again"
        return 1
    fi
    local need_update="" pkg
    _apt_lists_missing && need_update=1
    for pkg in "$@"; do _apt_has_candidate "$pkg" || need_update=1; done
    if [[ -n "$need_update" ]]; then apt_update || return 1; fi
    _apt_say "installing $*"
    if _apt_get install -y -qq --no-install-recommends "$@" >&2; then return 0; fi
    # A stale list points at files the mirror no longer has: update once, then retry.
    apt_update && _apt_get install -y -qq --no-install-recommends "$@" >&2 && return 0
    for pkg in "$@"; do
        _apt_installed "$pkg" && continue
        if _apt_has_candidate "$pkg"; then
            _apt_say "could not install the Debian package '$pkg' (see apt-get's message above)"
        else
            _apt_say "the Debian package '$pkg' is not available from this machine's apt sources"
        fi
    done
    return 1
}
