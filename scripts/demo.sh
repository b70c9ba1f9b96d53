#!/usr/bin/env bash
# The main job: builds what it needs, then, in one JVM, starts an S3 server (s3proxy), writes a synthetic
# ALMA-like dataset to it, starts a scheduler and two Java workers, images the cube with a progress bar,
# writes demo-output/cube.fits and a PNG of the middle channel, and prints a summary.
#   scripts/demo.sh                         everything in process
#   scripts/demo.sh --scheduler tcp://HOST:8786 --s3-endpoint https://s3.REGION.amazonaws.com \
#       --bucket BUCKET --prefix PREFIX [--existing]     a real cluster of Java workers and a real bucket
# (keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or --access-key/--secret-key); --help lists the rest.
# JAVA_OPTS adds JVM options, e.g. -Dcloudviper.imaging.placement=unpinned (docs/imaging.md); the
# throughput collector is the default, as in the launchers (a collector in JAVA_OPTS replaces it).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
command -v mvn >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q maven; }
jar=job/target/cloudviper-demo.jar
if [ ! -f "$jar" ] || [ -n "$(find job cube imaging embedded worker task-api scheduler protocol \( -name '*.java' -o -name pom.xml \) \
        -newer "$jar" -print -quit 2>/dev/null)" ]; then
    echo "building the demo (mvn package -pl job -am) ..." >&2
    mvn -B -q -ntp package -pl job -am -DskipTests
fi
# the throughput collector: G1's concurrent threads took 0.14-0.23 CPU-s of a 0.9 CPU-s cube
# (docs/benchmarks.md, "Distributed cube")
collector=-XX:+UseParallelGC
case " ${JAVA_OPTS:-} " in *" -XX:+Use"*GC" "*) collector= ;; esac
# jdk.incubator.vector: the SIMD gridders (3x the plain ones); java.nio: Arrow's memory
exec java --add-modules jdk.incubator.vector --add-opens=java.base/java.nio=ALL-UNNAMED $collector ${JAVA_OPTS:-} \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Djava.util.logging.config.file=/dev/null \
    -jar "$jar" "$@"
