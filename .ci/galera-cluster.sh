#!/usr/bin/env bash
# A 3-node MariaDB Galera cluster on this machine, each node on loopback ports of its own, for the
# cluster e2e run and the failover test:
#   bash .ci/galera-cluster.sh start        # nodes 1-3 on SQL ports 4306-4308 (GALERA_BASE_PORT)
#   bash .ci/galera-cluster.sh stop
#   bash .ci/galera-cluster.sh kill N       # SIGKILL node N (1-3)
#   bash .ci/galera-cluster.sh rejoin N     # start node N again; it rejoins the cluster
#   bash .ci/galera-cluster.sh urls         # the DB_CLUSTER_URLS of the cluster
# Debian packages galera-4 with mariadb-server (installed here when missing). The rsync state
# transfer needs the nodes to run as the `mysql` user owning their data folders. The machine's own
# MariaDB (3306) is left alone. root with an empty password, bound to 127.0.0.1.
set -euo pipefail

CLUSTER_DIR="${GALERA_DIR:-/tmp/exchange-galera}"
BASE="${GALERA_BASE_PORT:-4306}"
MARIADBD="$(command -v mariadbd || echo /usr/sbin/mariadbd)"
PROVIDER="${WSREP_PROVIDER:-/usr/lib/galera/libgalera_smm.so}"

sql_port() { echo $((BASE + $1 - 1)); }
gcomm_port() { echo $((BASE + 10260 + $1)); } # 14567.. for 4306
ist_port() { echo $((BASE + 10270 + $1)); }
sst_port() { echo $((BASE + 10280 + $1)); }

sql() { # node, statement
  mariadb --protocol=tcp -h 127.0.0.1 -P "$(sql_port "$1")" -u root -N -e "$2"
}

ensure_galera() {
  if [ -e "$PROVIDER" ] && command -v rsync >/dev/null; then return 0; fi
  echo "installing galera-4 (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends galera-4 rsync >/tmp/galera-apt.log 2>&1 ||
    { apt-get update >>/tmp/galera-apt.log 2>&1 && apt-get install -y --no-install-recommends galera-4 rsync >>/tmp/galera-apt.log 2>&1; } ||
    { tail -20 /tmp/galera-apt.log >&2; echo "could not install galera-4" >&2; exit 1; }
}

synced() { # node
  [ "$(sql "$1" "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | awk '{print $2}')" = "Synced" ]
}

wait_synced() { # node, seconds
  for _ in $(seq 1 $((${2:-90} * 4))); do
    if synced "$1"; then return 0; fi
    sleep 0.25
  done
  echo "galera node $1 did not reach Synced; its log:" >&2
  tail -n 60 "$CLUSTER_DIR/node$1.err" >&2 || true
  return 1
}

start_node() { # node, extra args...
  local n="$1"
  shift
  local dir="$CLUSTER_DIR/node$n"
  local members
  members="127.0.0.1:$(gcomm_port 1),127.0.0.1:$(gcomm_port 2),127.0.0.1:$(gcomm_port 3)"
  if [ ! -d "$dir/mysql" ]; then
    mkdir -p "$dir"
    chown mysql:mysql "$CLUSTER_DIR" "$dir"
    mariadb-install-db --no-defaults --datadir="$dir" --user=mysql --auth-root-authentication-method=normal \
      --skip-test-db >"$CLUSTER_DIR/node$n-install.log" 2>&1
  fi
  chown -R mysql:mysql "$dir"
  "$MARIADBD" --no-defaults --user=mysql --datadir="$dir" --port="$(sql_port "$n")" --bind-address=127.0.0.1 \
    --socket="$CLUSTER_DIR/node$n.sock" --pid-file="$CLUSTER_DIR/node$n.pid" --log-error="$CLUSTER_DIR/node$n.err" \
    --skip-name-resolve --innodb-buffer-pool-size=96M --innodb-log-file-size=48M \
    --innodb-flush-log-at-trx-commit=2 --max-connections=300 \
    --binlog-format=ROW --innodb-autoinc-lock-mode=2 --default-storage-engine=InnoDB \
    --wsrep-on=ON --wsrep-provider="$PROVIDER" --wsrep-cluster-name=exchange-ci --wsrep-node-name="node$n" \
    --wsrep-cluster-address="gcomm://$members" \
    --wsrep-node-address="127.0.0.1:$(gcomm_port "$n")" \
    --wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$(gcomm_port "$n");ist.recv_addr=127.0.0.1:$(ist_port "$n");gcache.size=64M" \
    --wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:$(sst_port "$n")" "$@" \
    >>"$CLUSTER_DIR/node$n.out" 2>&1 &
}

pid_of() { cat "$CLUSTER_DIR/node$1.pid" 2>/dev/null || true; }

case "${1:-start}" in
  start)
    ensure_galera
    "$0" stop >/dev/null 2>&1 || true
    rm -rf "$CLUSTER_DIR"
    mkdir -p "$CLUSTER_DIR"
    chown mysql:mysql "$CLUSTER_DIR"
    start_node 1 --wsrep-new-cluster
    wait_synced 1 60
    start_node 2
    wait_synced 2 120
    start_node 3
    wait_synced 3 120
    size="$(sql 1 "SHOW STATUS LIKE 'wsrep_cluster_size'" | awk '{print $2}')"
    [ "$size" = "3" ] || { echo "the cluster has $size node(s), not 3" >&2; exit 1; }
    echo "Galera cluster of 3 on SQL ports $(sql_port 1), $(sql_port 2), $(sql_port 3) (Synced)"
    ;;
  stop)
    for n in 3 2 1; do
      pid="$(pid_of "$n")"
      [ -n "$pid" ] || continue
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -9 "$pid" 2>/dev/null || true
    done
    ;;
  kill)
    pid="$(pid_of "$2")"
    [ -n "$pid" ] && kill -9 "$pid"
    ;;
  rejoin)
    rm -f "$CLUSTER_DIR/node$2.pid"
    start_node "$2"
    wait_synced "$2" 120
    ;;
  urls)
    echo "mysql://root@127.0.0.1:$(sql_port 1),mysql://root@127.0.0.1:$(sql_port 2),mysql://root@127.0.0.1:$(sql_port 3)"
    ;;
  *)
    echo "usage: $0 start|stop|kill N|rejoin N|urls" >&2
    exit 2
    ;;
esac
