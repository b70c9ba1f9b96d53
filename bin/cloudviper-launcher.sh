# The shared part of bin/cloudviper-scheduler and bin/cloudviper-worker (sourced, not run): chooses the
# JVM settings measured in docs/benchmarks.md ("Launchers") and execs java with the runnable jar and
# every argument the launcher was given, untouched.
#
# What it chooses:
#   collector   scheduler: -XX:+UseSerialGC -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20 (one event
#               loop; a heap kept near what is live: a million-task graph peaks at a quarter less RSS);
#               worker: -XX:+UseParallelGC (throughput). See docs/benchmarks.md, "Launchers".
#   heap        from the container's memory limit (cgroup v2 memory.max, cgroup v1
#               memory.limit_in_bytes): a reserve of min(256 MiB, limit/4) for the JVM's own memory,
#               then direct memory (Netty's buffers; scheduler 25 %, worker 15 % of the rest) and the
#               heap (the remainder). No limit (bare host): the JVM's own defaults.
#   class data  the archive next to the jar, built for this JDK by scripts/train-aot.sh (ignored when
#               the jar is newer):
#               NAME.jdkN.aot (-XX:AOTCache, JDK 25 and later) or NAME.jdkN.jsa (AppCDS,
#               -XX:SharedArchiveFile); none present, the JDK's default class-data archive.
#   worker      --add-modules jdk.incubator.vector (the SIMD gridders of the imaging tasks), and the
#               worker's event path compiled in three units instead of one (CompileCommand dontinline)
#   always      -XX:+ExitOnOutOfMemoryError (a pod restarts rather than limping on)
#
# Environment:
#   CLOUDVIPER_JVM_OPTIONS   more JVM options, placed after the chosen ones so they win (-Xmx4g); a
#                            collector of its own (-XX:+UseG1GC) replaces the launcher's
#   JAVA_HOME                the JDK or JRE to run (default: java on PATH)
#   CLOUDVIPER_JAR           the runnable jar (default: lib/ of the installation, else the build's target/)
#   CLOUDVIPER_LAUNCHER_DRY_RUN=1   print the command, one word per line, instead of running it
#   CLOUDVIPER_SYS_ROOT      a prefix for /proc and /sys/fs/cgroup (tests give a fake memory limit)

# cloudviper_launch ROLE HOME ARGS...  (ROLE: scheduler or worker; HOME: the installation or checkout)
cloudviper_launch() {
  role=$1
  home=$2
  shift 2
  sys=${CLOUDVIPER_SYS_ROOT:-}

  if [ -n "${JAVA_HOME:-}" ]; then
    java="$JAVA_HOME/bin/java"
  else
    java=$(command -v java) || { echo "cloudviper-$role: no java on PATH and JAVA_HOME not set" >&2; exit 127; }
  fi
  jdk=$(cloudviper_java_major "$java")

  subcommand=
  jar=${CLOUDVIPER_JAR:-}
  if [ -z "$jar" ]; then
    for candidate in "$home/lib/cloudviper-$role.jar" "$home/$role/target/cloudviper-$role.jar"; do
      if [ -f "$candidate" ]; then
        jar=$candidate
        break
      fi
    done
  fi
  if [ -z "$jar" ] && [ "$role" = scheduler ] && [ -f "$home/lib/cloudviper-k8s.jar" ]; then
    # the scheduler pod image: the scheduler and its scaler in one jar
    jar="$home/lib/cloudviper-k8s.jar"
    subcommand=scheduler
  fi
  if [ -z "$jar" ] || [ ! -f "$jar" ]; then
    echo "cloudviper-$role: no runnable jar (looked in $home/lib and $home/$role/target; build with mvn package or set CLOUDVIPER_JAR)" >&2
    exit 127
  fi

  # Everything is put in front of the arguments, so it is done backwards: the jar (and the
  # scheduler image's subcommand), then the user's options, then the chosen ones, which they override.
  if [ -n "$subcommand" ]; then
    set -- "$subcommand" "$@"
  fi
  set -- -jar "$jar" "$@"
  set -f # the user's options are split on blanks, never globbed
  # shellcheck disable=SC2086
  set -- ${CLOUDVIPER_JVM_OPTIONS:-} "$@"
  set +f
  # HotSpot refuses two collectors, so a collector among the user's options replaces this one
  case " ${CLOUDVIPER_JVM_OPTIONS:-} " in
    *" -XX:+Use"*GC" "*) set -- -XX:+ExitOnOutOfMemoryError "$@" ;;
    *)
      if [ "$role" = scheduler ]; then
        set -- -XX:+UseSerialGC -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20 -XX:+ExitOnOutOfMemoryError "$@"
      else
        set -- -XX:+UseParallelGC -XX:+ExitOnOutOfMemoryError "$@"
      fi
      ;;
  esac
  limit_mib=$(cloudviper_memory_limit_mib "$sys")
  if [ -n "$limit_mib" ]; then
    reserve=$((limit_mib / 4))
    [ "$reserve" -gt 256 ] && reserve=256
    if [ "$role" = scheduler ]; then direct_pct=25; else direct_pct=15; fi
    direct=$(((limit_mib - reserve) * direct_pct / 100))
    heap=$((limit_mib - reserve - direct))
    set -- "-Xmx${heap}m" "-XX:MaxDirectMemorySize=${direct}m" "$@"
  fi
  # an archive older than its jar was written from an earlier build: the JVM would refuse it noisily
  base=${jar%.jar}
  if [ "$jdk" -ge 25 ] && [ -f "$base.jdk$jdk.aot" ] && ! [ "$jar" -nt "$base.jdk$jdk.aot" ]; then
    set -- "-XX:AOTCache=$base.jdk$jdk.aot" "$@"
  elif [ -f "$base.jdk$jdk.jsa" ] && ! [ "$jar" -nt "$base.jdk$jdk.jsa" ]; then
    set -- "-XX:SharedArchiveFile=$base.jdk$jdk.jsa" "$@"
  fi
  if [ "$role" = worker ]; then
    # C2 otherwise inlines the whole event path (state machine, task run, message encoding) into
    # WorkerServer.handle and recompiles that giant unit on every trap; compiled apart, the workers
    # spent 5-18 % less JIT and 7-20 % less CPU over six tree rounds (docs/benchmarks.md, "Launchers
    # and cold start"). LaunchersTest checks that these methods exist.
    set -- --add-modules jdk.incubator.vector -XX:CompileCommand=quiet \
      -XX:CompileCommand=dontinline,org.cloudviper.worker.state.WorkerState::handle \
      -XX:CompileCommand=dontinline,org.cloudviper.worker.runtime.SchedulerLink::send \
      -XX:CompileCommand=dontinline,org.cloudviper.worker.runtime.WorkerServer::execute "$@"
  fi
  if [ "$jdk" -ge 24 ]; then
    # Netty's native transport and its Unsafe use, allowed without the JDK's warnings (JEP 471, 472)
    set -- --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow "$@"
  fi
  if [ -n "${CLOUDVIPER_LAUNCHER_DRY_RUN:-}" ]; then
    printf '%s\n' "$java" "$@"
    exit 0
  fi
  exec "$java" "$@"
}

# The feature version (17, 25) of the JDK at $1, from its release file; 0 when unknown.
cloudviper_java_major() {
  real=$(readlink -f "$1" 2>/dev/null || echo "$1")
  release="$(dirname "$(dirname "$real")")/release"
  v=
  if [ -f "$release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release")
  fi
  case "$v" in
    ''|*[!0-9]*) echo 0 ;;
    1) echo 8 ;;
    *) echo "$v" ;;
  esac
}

# The container's memory limit in MiB, empty when there is none (or it is above physical memory).
# cgroup v2: memory.max of this process's group (from /proc/self/cgroup), else of the mount's root;
# cgroup v1: memory.limit_in_bytes the same way. The smallest limit found wins.
cloudviper_memory_limit_mib() {
  sys=$1
  cg="$sys/sys/fs/cgroup"
  total_kib=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' "$sys/proc/meminfo" 2>/dev/null)
  v2_path=$(sed -n 's/^0::\(.*\)/\1/p' "$sys/proc/self/cgroup" 2>/dev/null)
  v1_path=$(sed -n 's/^[0-9]*:[^:]*\bmemory\b[^:]*:\(.*\)/\1/p' "$sys/proc/self/cgroup" 2>/dev/null)
  best=
  for f in "$cg$v2_path/memory.max" "$cg/memory.max" "$cg/unified$v2_path/memory.max" \
           "$cg/memory$v1_path/memory.limit_in_bytes" "$cg/memory/memory.limit_in_bytes"; do
    [ -f "$f" ] || continue
    b=$(cat "$f" 2>/dev/null)
    case "$b" in
      ''|max|*[!0-9]*) continue ;;
    esac
    # compare in KiB: the "no limit" values of cgroup v1 (2^63 rounded to a page) fit in shell arithmetic
    kib=$((b / 1024))
    if [ -n "$total_kib" ] && [ "$kib" -ge "$total_kib" ]; then
      continue
    fi
    mib=$((kib / 1024))
    if [ "$mib" -gt 0 ] && { [ -z "$best" ] || [ "$mib" -lt "$best" ]; }; then
      best=$mib
    fi
  done
  echo "$best"
}
