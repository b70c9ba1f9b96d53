#!/usr/bin/env bash
# Builds the class-data archives the launchers use (bin/cloudviper-launcher.sh): a training run of the
# whole system (the scheduler and one worker through the launchers, a second plain worker and the
# JavaClient of bench/target/benchmarks.jar running map and tree rounds of no-op tasks), whose
# scheduler and first worker write, as they exit, the classes they loaded:
#   JDK 25+: scheduler/target/cloudviper-scheduler.jdk25.aot (-XX:AOTCacheOutput: classes loaded and
#            linked, and method profiles), the same for the worker
#   JDK 17+: scheduler/target/cloudviper-scheduler.jdk17.jsa (AppCDS, -XX:ArchiveClassesAtExit)
# An archive is valid only for the JDK build that wrote it and the jar it was written from (its path,
# size and time): run this again after every build, with the JDK that will run the jars.
#   mvn -B -ntp package -DskipTests && scripts/train-aot.sh        # JAVA_HOME chooses the JDK
# CLOUDVIPER_TRAIN_ROUNDS: rounds of each shape in the training run (default 3; 12 measured no better)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
. "$here/bin/cloudviper-launcher.sh"
jdk=$(cloudviper_java_major "$(command -v "$java")")
if [ "$jdk" -ge 25 ]; then
  ext=aot
  dump=-XX:AOTCacheOutput=
else
  ext=jsa
  dump=-XX:ArchiveClassesAtExit=
fi
scheduler_jar="${CLOUDVIPER_SCHEDULER_JAR:-$here/scheduler/target/cloudviper-scheduler.jar}"
worker_jar="${CLOUDVIPER_WORKER_JAR:-$here/worker/target/cloudviper-worker.jar}"
bench_jar="$here/bench/target/benchmarks.jar"
for j in "$scheduler_jar" "$worker_jar" "$bench_jar"; do
  [ -f "$j" ] || { echo "train-aot: missing $j (mvn -B -ntp package -DskipTests)" >&2; exit 1; }
done
scheduler_archive="${scheduler_jar%.jar}.jdk$jdk.$ext"
worker_archive="${worker_jar%.jar}.jdk$jdk.$ext"
rm -f "$scheduler_archive" "$worker_archive"

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

await() { # FILE PATTERN: waits up to 120 s for PATTERN in FILE
  for _ in $(seq 1200); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "train-aot: no '$2' in $1:" >&2
  cat "$1" >&2
  return 1
}

CLOUDVIPER_JAR="$scheduler_jar" CLOUDVIPER_JVM_OPTIONS="$dump$scheduler_archive" \
  "$here/bin/cloudviper-scheduler" --host 127.0.0.1 --port 0 --no-dashboard >"$work/scheduler.log" 2>&1 &
scheduler=$!
pids+=("$scheduler")
await "$work/scheduler.log" "Scheduler at:"
address=$(sed -n 's/.*Scheduler at: *\(tcp:[^ ]*\).*/\1/p' "$work/scheduler.log" | head -n1)
CLOUDVIPER_JAR="$worker_jar" CLOUDVIPER_JVM_OPTIONS="$dump$worker_archive" \
  "$here/bin/cloudviper-worker" "$address" --nthreads 1 --name train-0 --no-dashboard >"$work/worker-0.log" 2>&1 &
worker=$!
pids+=("$worker")
# the second worker only makes the graphs move data between workers; it writes no archive
"$java" -XX:+UseParallelGC -jar "$worker_jar" "$address" --nthreads 1 --name train-1 --no-dashboard \
  >"$work/worker-1.log" 2>&1 &
pids+=($!)
await "$work/worker-0.log" "Registered to"
await "$work/worker-1.log" "Registered to"
rounds=${CLOUDVIPER_TRAIN_ROUNDS:-3}
for shape in map tree; do
  "$java" -XX:+UseParallelGC -cp "$bench_jar" org.cloudviper.bench.DeployedThroughputMain "$address" "$shape" 20000 "$rounds" \
    >"$work/client-$shape.log" 2>&1 || { cat "$work/client-$shape.log" >&2; exit 1; }
done
# SIGTERM: each JVM writes its archive as it exits (JDK 25 then starts a JVM that assembles the cache)
kill "$worker" "$scheduler"
wait "$worker" "$scheduler" || true
for a in "$scheduler_archive" "$worker_archive"; do
  [ -f "$a" ] || { echo "train-aot: $a was not written" >&2; cat "$work"/*.log >&2; exit 1; }
  echo "$a"
done
