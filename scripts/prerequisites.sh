#!/usr/bin/env bash
# What `make test` needs besides Python: `make prerequisites` (and so `make test`) runs this.
# A missing tool is installed with apt-get when run as root on Debian or Ubuntu; otherwise it
# stops with the exact command to run. A Docker engine or MariaDB that is installed but not
# running is started. Doing nothing when all is there, it costs well under a second.
set -euo pipefail

# command -> Debian package, and what needs it
TOOLS=(
    "wrk wrk tests/bench drives the services with it (make bench too)"
    "chromium chromium the local daemon's page is tested in a real headless browser"
    "docker-compose docker-compose docker-compose.yml is checked and run with it"
    "dockerd docker.io the Docker engine tests/containers builds and runs the images on"
    "mmdebstrap mmdebstrap builds local stand-ins for the public base images (tests/containers)"
    "kubectl kubectl builds k8s/ with its kustomize (1.27 or later)"
)
ENGINE_LOG=/var/log/dockerd.log
WAIT_SECONDS=60
DB_HOST="${TEST_DB_HOST:-127.0.0.1}"
DB_PORT="${TEST_DB_PORT:-3306}"

say() { echo "prerequisites: $*" >&2; }
is_root() { [ "$(id -u)" = 0 ]; }
# sbin is not on every user's PATH; dockerd lives there.
has() { PATH="$PATH:/usr/sbin:/sbin" command -v "$1" >/dev/null; }
wait_for() {
    local what="$1"; shift
    for _ in $(seq "$WAIT_SECONDS"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 1
    done
    say "$what did not come up within ${WAIT_SECONDS}s"
    return 1
}

missing=()
for entry in "${TOOLS[@]}"; do
    read -r tool package why <<<"$entry"
    has "$tool" || { missing+=("$package"); say "$tool is missing: $why"; }
done

if [ "${#missing[@]}" -gt 0 ]; then
    command="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    if ! is_root || ! has apt-get; then
        say "install them, then run make test again:"
        say "  sudo sh -c '$command'"
        if [[ " ${missing[*]} " == *" kubectl "* ]]; then
            say "(Debian 12 has no recent kubectl: https://kubernetes.io/docs/tasks/tools/)"
        fi
        exit 2
    fi
    say "installing ${missing[*]}"
    # Another apt-get may hold the lock for a while (unattended upgrades, a parallel job).
    apt-get update -qq -o DPkg::Lock::Timeout=300
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null
fi

# The engine: installed is not enough, something must answer on its socket.
if ! docker info >/dev/null 2>&1; then
    if ! is_root; then
        say "no Docker engine answers: start it (sudo systemctl start docker) and make sure"
        say "you may use it (sudo usermod -aG docker \"$USER\", then log in again)"
        exit 2
    fi
    if [ -d /run/systemd/system ]; then
        systemctl start docker
    else
        say "starting dockerd (its log: $ENGINE_LOG)"
        setsid "$(PATH="$PATH:/usr/sbin" command -v dockerd)" >>"$ENGINE_LOG" 2>&1 </dev/null &
    fi
    wait_for "the Docker engine" docker info
fi

# MariaDB for the integration tests: started when installed here and nothing answers.
db_answers() { (exec 3<>"/dev/tcp/$DB_HOST/$DB_PORT") 2>/dev/null; }
if ! db_answers && [ "$DB_HOST" = 127.0.0.1 ] && [ -x /usr/sbin/mariadbd ] && is_root; then
    say "starting MariaDB"
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_for "MariaDB on $DB_HOST:$DB_PORT" db_answers
fi
