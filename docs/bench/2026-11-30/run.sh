#!/bin/bash
# Full BENCHMARKS.md rerun. usage: run.sh NAME  (sqlite | pg1 | pg2 | pgsoak RATE | sqlitesoak RATE)
set -u
NAME=$1; RATE=${2:-0}
B=/work/benchrun; BK=$B/bk; PGU='postgres://postgres@127.0.0.1:55432'
pkill -f "bk inicis-sim" ; pkill -f "bk serve"; sleep 2
D=$B/$NAME; rm -rf $D; mkdir -p $D; cd $D
$BK inicis-sim --addr 127.0.0.1:9090 > sim.log 2>&1 & echo $! > sim.pid
DB=""; BASE="$D/baseline.db"; EXTRA=()
case $NAME in pg*)
  psql "$PGU/postgres" -qc "DROP DATABASE IF EXISTS bench_bk WITH (FORCE)" -c "DROP DATABASE IF EXISTS bench_base WITH (FORCE)" -c "CREATE DATABASE bench_bk" -c "CREATE DATABASE bench_base"
  DB="$PGU/bench_bk?sslmode=disable"; BASE="$PGU/bench_base?sslmode=disable"; EXTRA=(--pg-stat-dsn "$DB");;
esac
DBFLAG=(); [ -n "$DB" ] && DBFLAG=(--db "$DB")
$BK serve "${DBFLAG[@]}" --data-dir n1 --addr 127.0.0.1:8080 --admin-addr 127.0.0.1:8081 --inicis-sim-url http://127.0.0.1:9090 > n1.log 2>&1 & echo $! > n1.pid
sleep 5
URL=http://127.0.0.1:8080; MET=http://127.0.0.1:8081/metrics; PIDS=$(cat n1.pid)
if [ $NAME = pg2 ]; then
  $BK serve --db "$DB" --data-dir n2 --key-file n1/master-key.json --webhook-allow-cidr 127.0.0.1/32 --addr 127.0.0.1:8082 --admin-addr 127.0.0.1:8083 --inicis-sim-url http://127.0.0.1:9090 > n2.log 2>&1 & echo $! > n2.pid
  sleep 5; URL=$URL,http://127.0.0.1:8082; MET=$MET,http://127.0.0.1:8083/metrics; PIDS=$PIDS,$(cat n2.pid)
fi
K=$(grep "imp_key:" n1.log | awk '{print $2}'); S=$(grep "imp_secret:" n1.log | awk '{print $2}'); C=$(grep "imp code:" n1.log | awk '{print $3}')
case $NAME in
  sqlite|pg1) ARGS=(--step 250:250:6000 --runs 3 --duration 3s --concurrency 32 --phases billkey,pg,baseline,best,window,spike --windows 2000 --spike 100000 --spike-lead 60s --baseline-db "$BASE");;
  pg2) ARGS=(--step 250:250:6000 --runs 3 --duration 3s --concurrency 32 --phases billkey,window,spike --windows 2000 --spike 100000 --spike-lead 60s);;
  *soak) ARGS=(--rate $RATE --duration 10s --soak 5m --concurrency 0 --phases billkey);;
esac
CMD=(loadtest --url $URL --sim-url http://127.0.0.1:9090 --metrics-url $MET --imp-key KEY --imp-secret SECRET --imp-code $C --billkey-pid PIDS --sim-pid SIMPID "${EXTRA[@]}" "${ARGS[@]}" --json report.json)
echo "./bk ${CMD[*]}" > command.txt
echo "start $(date -u +%FT%TZ)" >> command.txt
$BK loadtest --url $URL --sim-url http://127.0.0.1:9090 --metrics-url $MET --imp-key $K --imp-secret $S --imp-code $C --billkey-pid $PIDS --sim-pid $(cat sim.pid) "${EXTRA[@]}" "${ARGS[@]}" --json report.json > loadtest.txt 2>&1
echo "exit $? end $(date -u +%FT%TZ)" >> command.txt
for p in n1 n2; do [ -f $p.pid ] && grep VmHWM /proc/$(cat $p.pid)/status >> command.txt; done
pkill -f "bk inicis-sim" ; pkill -f "bk serve"; sleep 2
