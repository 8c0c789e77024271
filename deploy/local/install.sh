#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# `make install`: everything the local stack needs, fetched once. Each step is skipped when
# already done, and fails at once (never hangs: every network step has a timeout) with a
# message naming what is missing and how to get it.
# `install.sh python` does the Python step only (for unit tests and lint).
set -euo pipefail
source "$(dirname "$0")/common.sh"
NET_TIMEOUT="${PLUME_NET_TIMEOUT:-900}"

install_debian_packages() {
    local wanted missing=() pkg
    wanted="$(grep -v -e '^\s*#' -e '^\s*$' "$REPO_ROOT/deploy/local/debian-packages.txt")"
    for pkg in $wanted; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get: \
install them with your system's package manager"
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || die "missing packages ${missing[*]}: run as root \
(or install sudo), or install them: apt-get install ${missing[*]}"
        sudo=(sudo -n)
    fi
    say "installing Debian packages: ${missing[*]}"
    # The packages' own services (a PostgreSQL cluster on 5432, Prometheus on 9090) must not
    # start: they would take the ports of our stack. policy-rc.d tells invoke-rc.d so.
    local policy=/usr/sbin/policy-rc.d added_policy=""
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
        "${sudo[@]}" chmod +x "$policy"
        added_policy=1
    fi
    local ok=1
    timeout "$NET_TIMEOUT" "${sudo[@]}" apt-get update -q || ok=""
    if [[ -n "$ok" ]]; then
        DEBIAN_FRONTEND=noninteractive timeout "$NET_TIMEOUT" "${sudo[@]}" \
            apt-get install -y -q --no-install-recommends "${missing[@]}" || ok=""
    fi
    [[ -z "$added_policy" ]] || "${sudo[@]}" rm -f "$policy"
    [[ -n "$ok" ]] || die "could not install ${missing[*]} with apt-get (network or \
mirror down?); install them yourself: apt-get install ${missing[*]}"
}

check_jdk_and_maven() {
    local need=()
    if command -v java >/dev/null; then
        local major
        major="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
        [[ "$major" =~ ^[0-9]+$ ]] && ((major >= 17)) || need+=("java 17+ (found ${major:-?})")
    else
        need+=("java 17+")
    fi
    command -v mvn >/dev/null || need+=("mvn (Apache Maven)")
    ((${#need[@]} == 0)) && return 0
    local list
    printf -v list '%s, ' "${need[@]}"
    die "missing: ${list%, }. Install them, e.g. apt-get install openjdk-17-jre-headless maven"
}

# Kafka runs from the jars Maven Central publishes; ~/.m2 is the download cache.
fetch_kafka_jars() {
    local pom="$REPO_ROOT/deploy/local/kafka/pom.xml" stamp="$KAFKA_LIBS/.complete" want
    want="$(sha256sum "$pom" | cut -d' ' -f1)"
    [[ "$(cat "$stamp" 2>/dev/null)" == "$want" ]] && return 0
    say "fetching the Kafka runtime from Maven Central into $KAFKA_LIBS"
    local tmp="$KAFKA_LIBS.partial"
    rm -rf "$tmp" && mkdir -p "$tmp"
    local log="$PLUME_HOME/log/maven.log"
    mkdir -p "$(dirname "$log")"
    if ! timeout "$NET_TIMEOUT" mvn -B -Dstyle.color=never -f "$pom" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$log" 2>&1
    then
        grep -E 'ERROR|Could not' "$log" | head -n 5 >&2 || true
        die "could not fetch the Kafka jars with Maven (is https://repo.maven.apache.org \
reachable, or a mirror set in ~/.m2/settings.xml?); full output in $log"
    fi
    ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "Maven gave no kafka_2.13 jar in $tmp"
    rm -rf "$KAFKA_LIBS" && mv "$tmp" "$KAFKA_LIBS"
    echo "$want" >"$stamp"
}

install_python_env() {
    local stamp="$VENV/.plume-install-stamp" want
    want="$(cat "$REPO_ROOT/requirements.lock" "$REPO_ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
    [[ -x "$VENV/bin/python" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]] && return 0
    command -v python3 >/dev/null || die "missing python3 (3.11+): apt-get install python3 python3-venv"
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "python3 is $(python3 -V 2>&1); plume needs 3.11+"
    if [[ ! -x "$VENV/bin/python" ]]; then
        say "creating $VENV"
        python3 -m venv "$VENV" || die "python3 -m venv failed: apt-get install python3-venv"
    fi
    say "installing Python packages from requirements.lock"
    timeout "$NET_TIMEOUT" "$VENV/bin/pip" install -q --disable-pip-version-check \
        -r "$REPO_ROOT/requirements.lock" \
        || die "pip could not install requirements.lock (is https://pypi.org reachable?)"
    timeout "$NET_TIMEOUT" "$VENV/bin/pip" install -q --disable-pip-version-check \
        --no-deps -e "$REPO_ROOT" || die "pip could not install plume itself"
    echo "$want" >"$stamp"
}

if [[ "${1:-all}" == python ]]; then
    install_python_env
    exit 0
fi
# The JDK check first: it is instant, and without a JDK nothing else is worth fetching.
check_jdk_and_maven
install_debian_packages
mkdir -p "$PLUME_HOME"
fetch_kafka_jars
install_python_env
