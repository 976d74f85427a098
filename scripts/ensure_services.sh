#!/usr/bin/env bash
# Start any of the servers the integration tests use that is not running (CI and dev boxes).
set -u
up() { (echo > "/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1; }
wait_for() { for _ in $(seq 1 60); do up "$1" && return 0; sleep 0.5; done; echo "warning: $2 did not come up on port $1" >&2; return 1; }

if ! up 5432; then
  echo "starting PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  wait_for 5432 PostgreSQL
fi
if ! up 4222; then
  echo "starting NATS with JetStream" >&2
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log || true
  wait_for 4222 NATS
fi
if ! up 1883; then
  echo "starting Mosquitto" >&2
  mosquitto -d -c /etc/mosquitto/mosquitto.conf || true
  wait_for 1883 Mosquitto
fi
exit 0
