#!/usr/bin/env bash
# A MariaDB primary with a binary log and a real replica of it (GTID binlog replication), each in a
# data directory of its own under $PAIR_DIR, for the read-replica e2e run:
#   bash .ci/replica-pair.sh start   # primary on $PRIMARY_PORT (3307), replica on $REPLICA_PORT (3308)
#   bash .ci/replica-pair.sh stop
# The machine's own MariaDB (3306) runs without a binary log, so it cannot be a primary without a
# restart with other settings; this pair leaves it alone. root with an empty password on both, as on
# 3306; bound to 127.0.0.1.
set -euo pipefail

PAIR_DIR="${PAIR_DIR:-/tmp/exchange-replica-pair}"
PRIMARY_PORT="${PRIMARY_PORT:-3307}"
REPLICA_PORT="${REPLICA_PORT:-3308}"
MARIADBD="$(command -v mariadbd || echo /usr/sbin/mariadbd)"

sql() { # port, statement
  mariadb --protocol=tcp -h 127.0.0.1 -P "$1" -u root -e "$2"
}

wait_up() { # port
  for _ in $(seq 1 60); do
    if mariadb --protocol=tcp -h 127.0.0.1 -P "$1" -u root -e 'SELECT 1' >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "MariaDB on port $1 did not come up; its log:" >&2
  tail -n 40 "$PAIR_DIR/$1.err" >&2 || true
  return 1
}

start_one() { # name, port, server-id, extra args...
  local name="$1" port="$2" id="$3"
  shift 3
  local dir="$PAIR_DIR/$name"
  mkdir -p "$dir"
  if [ ! -d "$dir/mysql" ]; then
    mariadb-install-db --no-defaults --datadir="$dir" --user=root --auth-root-authentication-method=normal \
      --skip-test-db >"$PAIR_DIR/$name-install.log" 2>&1
  fi
  "$MARIADBD" --no-defaults --user=root --datadir="$dir" --port="$port" --bind-address=127.0.0.1 \
    --socket="$PAIR_DIR/$name.sock" --pid-file="$PAIR_DIR/$name.pid" --log-error="$PAIR_DIR/$port.err" \
    --server-id="$id" --innodb-buffer-pool-size=128M --innodb-log-file-size=48M \
    --innodb-flush-log-at-trx-commit=2 --skip-name-resolve "$@" &
  wait_up "$port"
}

case "${1:-start}" in
  start)
    "$0" stop >/dev/null 2>&1 || true
    rm -rf "$PAIR_DIR"
    mkdir -p "$PAIR_DIR"
    start_one primary "$PRIMARY_PORT" 1 --log-bin=primary-bin --binlog-format=ROW
    start_one replica "$REPLICA_PORT" 2 --read-only=1 --relay-log=replica-relay
    sql "$REPLICA_PORT" "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$PRIMARY_PORT, MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos; START SLAVE;"
    # replication works: a database made on the primary shows on the replica
    sql "$PRIMARY_PORT" "CREATE DATABASE IF NOT EXISTS replica_check"
    for _ in $(seq 1 40); do
      if sql "$REPLICA_PORT" "USE replica_check" >/dev/null 2>&1; then
        sql "$PRIMARY_PORT" "DROP DATABASE replica_check"
        echo "MariaDB primary on $PRIMARY_PORT, replica on $REPLICA_PORT (replicating)"
        exit 0
      fi
      sleep 0.25
    done
    echo "the replica on $REPLICA_PORT does not replicate:" >&2
    sql "$REPLICA_PORT" "SHOW SLAVE STATUS\G" >&2 || true
    exit 1
    ;;
  stop)
    for name in replica primary; do
      pidfile="$PAIR_DIR/$name.pid"
      if [ -f "$pidfile" ]; then
        pid="$(cat "$pidfile")"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -9 "$pid" 2>/dev/null || true
      fi
    done
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
