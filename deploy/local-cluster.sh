#!/usr/bin/env bash
# A real HQ cluster on this machine's loopback, to try failover by hand: 3 etcd members (Debian's
# etcd-server), a fresh PostgreSQL database and 2 HQ replicas (.venv/bin/einv-hq).
#
#   deploy/local-cluster.sh start            start everything, print the leader and what to try
#   deploy/local-cluster.sh status           who runs, who leads
#   deploy/local-cluster.sh restart NAME     start NAME (hq-a, hq-b, etcd1..3) again after a kill
#   deploy/local-cluster.sh stop             stop what it started (by PID), drop the database
#
# Settings (environment): EINV_CLUSTER_DIR (default /tmp/einv-local-cluster), EINV_HEAD_BAN,
# EINV_PG (admin URL, default postgresql://postgres@127.0.0.1:5432), EINV_ETCD_PORT (first of
# 3 client ports; peers use +10), EINV_HQ_PORT (first of 2), EINV_LEASE_TTL (seconds).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${EINV_CLUSTER_DIR:-/tmp/einv-local-cluster}
BIN=${EINV_BIN:-$ROOT/.venv/bin}
HEAD_BAN=${EINV_HEAD_BAN:-22099131}
PG=${EINV_PG:-postgresql://postgres@127.0.0.1:5432}
ETCD_PORT=${EINV_ETCD_PORT:-32371}
HQ_PORT=${EINV_HQ_PORT:-50151}
TTL=${EINV_LEASE_TTL:-5}
PIDS=$DIR/pids  # lines: NAME PID

client_port() { echo $((ETCD_PORT + $1 - 1)); }
peer_port() { echo $((ETCD_PORT + 10 + $1 - 1)); }
endpoints() { echo "127.0.0.1:$(client_port 1),127.0.0.1:$(client_port 2),127.0.0.1:$(client_port 3)"; }
hq_address() { if [ "$1" = hq-a ]; then echo "127.0.0.1:$HQ_PORT"; else echo "127.0.0.1:$((HQ_PORT + 1))"; fi; }
db_name() { cat "$DIR/db"; }
db_url() { echo "postgresql+psycopg://${PG#postgresql://}/$(db_name)"; }

pid_of() { awk -v n="$1" '$1 == n { p = $2 } END { print p }' "$PIDS" 2>/dev/null; }

# A PID is ours only while it still runs the program we started (PIDs get reused).
alive() {
  local pid=$1 program=$2
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$program"
}

program_of() { case $1 in etcd*) echo "--name $1 " ;; hq-*) echo "--listen $(hq_address "$1")" ;; esac; }

# Run the saved command of NAME in the background, appending to its log; record its PID.
launch() {
  local name=$1
  bash -c "exec $(cat "$DIR/$name.cmd")" >>"$DIR/$name.log" 2>&1 &
  echo "$name $!" >>"$PIDS"
}

save_etcd_cmd() {
  local i=$1 cluster="" j
  for j in 1 2 3; do cluster+="etcd$j=http://127.0.0.1:$(peer_port "$j"),"; done
  printf '%q ' etcd --name "etcd$i" --data-dir "$DIR/etcd$i" \
    --listen-client-urls "http://127.0.0.1:$(client_port "$i")" \
    --advertise-client-urls "http://127.0.0.1:$(client_port "$i")" \
    --listen-peer-urls "http://127.0.0.1:$(peer_port "$i")" \
    --initial-advertise-peer-urls "http://127.0.0.1:$(peer_port "$i")" \
    --initial-cluster "${cluster%,}" --initial-cluster-state new \
    --initial-cluster-token einv-local --logger zap --log-outputs stderr >"$DIR/etcd$i.cmd"
}

save_hq_cmd() {
  local name=$1
  printf '%q ' "$BIN/einv-hq" serve --head-ban "$HEAD_BAN" --db "$(db_url)" \
    --listen "$(hq_address "$name")" --etcd "$(endpoints)" --lease-ttl "$TTL" \
    --certs-dir "$DIR/certs" >"$DIR/$name.cmd"
}

# The HQ's CA, the replicas' certificate and an admin's, as an operator makes them once.
make_certs() {
  [ -f "$DIR/certs/ca.crt" ] && return 0
  "$BIN/einv-admin" certs init-ca --certs-dir "$DIR/certs" >/dev/null
  "$BIN/einv-admin" certs hq --certs-dir "$DIR/certs" --host 127.0.0.1 --host localhost >/dev/null
  "$BIN/einv-admin" certs admin --certs-dir "$DIR/certs" --name admin --role admin >/dev/null
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2 i
  shift 2
  for ((i = 0; i < limit * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "local-cluster: $what did not happen within ${limit}s; logs in $DIR" >&2
  return 1
}

etcd_healthy() { ETCDCTL_API=3 etcdctl --endpoints "$(endpoints)" endpoint health; }
hq_serving() { grep -q "serving on" "$DIR/$1.log"; }
leader() { psql "$PG/$(db_name)" -tAc "SELECT holder || ' (fencing token ' || fencing_token || ')' FROM leadership" 2>/dev/null; }

start() {
  command -v etcd >/dev/null || { echo "local-cluster: etcd is not installed (scripts/setup installs it)" >&2; exit 1; }
  [ -x "$BIN/einv-hq" ] || { echo "local-cluster: $BIN/einv-hq is missing: run scripts/setup" >&2; exit 1; }
  if [ -s "$PIDS" ]; then echo "local-cluster: already started ($PIDS); stop it first" >&2; exit 1; fi
  mkdir -p "$DIR"
  make_certs
  : >"$PIDS"
  for i in 1 2 3; do save_etcd_cmd "$i"; launch "etcd$i"; done
  wait_for 30 "etcd quorum" etcd_healthy
  echo "einv_local_$(date +%s)" >"$DIR/db"
  psql "$PG/postgres" -qc "CREATE DATABASE $(db_name)"
  for name in hq-a hq-b; do
    save_hq_cmd "$name"
    launch "$name"
    wait_for 60 "$name serving" hq_serving "$name"
  done
  status
  cat <<EOF

Try failover (every call is mutual TLS; your admin certificate is in $DIR/certs):
  export EINV_CERTS_DIR=$DIR/certs EINV_USER=admin
  $BIN/einv-admin --hq $(hq_address hq-a),$(hq_address hq-b) assignment-add --period current --track AB --begin 00000000 --end 00049999
  $BIN/einv-admin --hq $(hq_address hq-a),$(hq_address hq-b) status   # role, leader, token, health of each
  kill -9 <PID of the leader above>     # the other replica leads within $TTL s (the lease TTL)
  $0 status
  $0 restart hq-a                        # bring it back: it follows
  kill -9 <PIDs of two etcd members>     # writes stop with UNAVAILABLE, reads go on
  $0 stop
EOF
}

status() {
  [ -s "$PIDS" ] || { echo "local-cluster: not started"; return 0; }
  local name pid
  for name in etcd1 etcd2 etcd3 hq-a hq-b; do
    pid=$(pid_of "$name")
    if alive "$pid" "$(program_of "$name")"; then state="running (PID $pid)"; else state="down"; fi
    case $name in hq-*) echo "$name $(hq_address "$name"): $state" ;; *) echo "$name 127.0.0.1:$(client_port "${name#etcd}"): $state" ;; esac
  done
  echo "leader: $(leader || echo unknown)"
  echo "database: $(db_url)"
  echo "logs: $DIR/*.log"
}

restart() {
  local name=${1:?restart NAME}
  [ -f "$DIR/$name.cmd" ] || { echo "local-cluster: unknown NAME $name" >&2; exit 1; }
  if alive "$(pid_of "$name")" "$(program_of "$name")"; then echo "$name is running"; return 0; fi
  launch "$name"
  echo "$name started (PID $(pid_of "$name"))"
}

stop() {
  [ -s "$PIDS" ] || { echo "local-cluster: not started"; return 0; }
  local name pid i
  for name in hq-a hq-b etcd1 etcd2 etcd3; do  # replicas first: they resign their leases
    pid=$(pid_of "$name")
    if alive "$pid" "$(program_of "$name")"; then
      kill -TERM "$pid"
      for ((i = 0; i < 100; i++)); do alive "$pid" "$(program_of "$name")" || break; sleep 0.1; done
      if alive "$pid" "$(program_of "$name")"; then kill -KILL "$pid"; fi
    fi
  done
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $(db_name) WITH (FORCE)" || true
  rm -rf "$DIR/etcd1" "$DIR/etcd2" "$DIR/etcd3" "$PIDS" "$DIR/db" "$DIR/certs"
  echo "local-cluster: stopped; logs kept in $DIR"
}

case ${1:-} in
  start) start ;;
  status) status ;;
  restart) restart "${2:-}" ;;
  stop) stop ;;
  *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
