package org.cloudviper.k8s;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bin/cloudviper-scheduler and bin/cloudviper-worker, run as the pod images run them: the real jars
 * answer --version and reject an unknown flag through them; an installation layout (bin/, lib/) with
 * a stand-in {@code java} that prints its arguments shows what the launchers choose: the heap from a
 * fake cgroup v1 or v2 memory limit, the class-data archive of the running JDK when present, the
 * user's options after the chosen ones, and every program argument passed through untouched.
 */
class LaunchersTest {
    private static final Path REPO = Path.of(System.getProperty("cloudviper.root", "..")).toAbsolutePath().normalize();
    private static final String MEMINFO = "MemTotal:       24683772 kB\n";

    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) {
    }

    private static Run run(List<String> cmd, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("JAVA_HOME");
        pb.environment().remove("CLOUDVIPER_JVM_OPTIONS");
        pb.environment().remove("CLOUDVIPER_JAR");
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        var err = p.getErrorStream();
        String out = new String(p.getInputStream().readAllBytes());
        String e = new String(err.readAllBytes());
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), cmd + " did not exit");
        return new Run(p.exitValue(), out, e);
    }

    private static Path launcher(Path home, String role) {
        return home.resolve("bin/cloudviper-" + role);
    }

    private static Path packagedJar(String role) {
        Path jar = REPO.resolve(role + "/target/cloudviper-" + role + ".jar");
        Assumptions.assumeTrue(Files.isRegularFile(jar), jar + " is built by mvn package (mvn verify runs this test)");
        return jar;
    }

    @Test
    void theRealJarsAnswerVersionThroughTheLaunchers() throws Exception {
        for (String role : List.of("scheduler", "worker")) {
            Run r = run(List.of(launcher(REPO, role).toString(), "--version"),
                    Map.of("CLOUDVIPER_JAR", packagedJar(role).toString()));
            assertEquals(0, r.exit(), role + ": " + r.err());
            assertTrue(r.out().contains("0.1.0-SNAPSHOT"), role + " --version printed: " + r.out() + r.err());
        }
    }

    @Test
    void anUnknownFlagReachesTheProgramWhichRejectsIt() throws Exception {
        for (String role : List.of("scheduler", "worker")) {
            Run r = run(List.of(launcher(REPO, role).toString(), "--no-such-flag"),
                    Map.of("CLOUDVIPER_JAR", packagedJar(role).toString()));
            assertEquals(2, r.exit(), role + ": " + r.out() + r.err());
            assertTrue(r.err().contains("--no-such-flag"), role + ": " + r.err());
        }
    }

    /** An installation: bin/ with copies of the launchers, lib/ with stand-in jars, a fake JDK and /proc, /sys. */
    private Path install(String... jars) throws IOException {
        Path home = Files.createDirectories(dir.resolve("home"));
        Files.createDirectories(home.resolve("bin"));
        Files.createDirectories(home.resolve("lib"));
        for (String f : List.of("cloudviper-scheduler", "cloudviper-worker", "cloudviper-launcher.sh")) {
            Files.copy(REPO.resolve("bin/" + f), home.resolve("bin/" + f));
        }
        for (String j : jars) {
            Files.writeString(home.resolve("lib/" + j), "not a jar");
        }
        return home;
    }

    /** A JDK of feature version {@code major} whose java prints each argument on a line of its own. */
    private Path fakeJdk(int major) throws IOException {
        Path jdk = Files.createDirectories(dir.resolve("jdk" + major + "/bin"));
        Path java = jdk.resolve("java");
        Files.writeString(java, "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(jdk.getParent().resolve("release"), "JAVA_VERSION=\"" + major + ".0.3\"\n");
        return jdk.getParent();
    }

    /** A fake root with a memory limit: cgroup v2 ({@code memory.max} of this process's group) or v1. */
    private Path sysRoot(String name, String cgroupFile, String proc, long limitBytes) throws IOException {
        Path root = dir.resolve(name);
        Files.createDirectories(root.resolve("proc/self"));
        Files.writeString(root.resolve("proc/meminfo"), MEMINFO);
        Files.writeString(root.resolve("proc/self/cgroup"), proc);
        Path f = root.resolve("sys/fs/cgroup/" + cgroupFile);
        Files.createDirectories(f.getParent());
        Files.writeString(f, limitBytes < 0 ? "max\n" : limitBytes + "\n");
        return root;
    }

    private static List<String> java(Path home, String role, Path jdk, Path sys, Map<String, String> more, String... args)
            throws Exception {
        List<String> cmd = new ArrayList<>(List.of(launcher(home, role).toString()));
        cmd.addAll(List.of(args));
        Map<String, String> env = new HashMap<>(Map.of("JAVA_HOME", jdk.toString(), "CLOUDVIPER_SYS_ROOT", sys.toString()));
        env.putAll(more);
        Run r = run(cmd, env);
        assertEquals(0, r.exit(), r.err());
        return List.of(r.out().split("\n", -1)).subList(0, r.out().split("\n", -1).length - 1);
    }

    private static List<String> jvmOptions(List<String> argv) {
        return argv.subList(0, argv.indexOf("-jar"));
    }

    @Test
    void everyArgumentPassesThroughUntouched() throws Exception {
        Path home = install("cloudviper-worker.jar");
        Path sys = sysRoot("nolimit", "memory.max", "0::/\n", -1);
        String[] args = {"tcp://127.0.0.1:8786", "--name", "a b", "*", "", "--resources", "GPU=2 java=1", "$HOME"};
        List<String> argv = java(home, "worker", fakeJdk(17), sys, Map.of(), args);
        int jar = argv.indexOf("-jar");
        assertEquals(home.resolve("lib/cloudviper-worker.jar").toString(), argv.get(jar + 1));
        assertEquals(List.of(args), argv.subList(jar + 2, argv.size()));
        assertTrue(jvmOptions(argv).contains("-XX:+UseParallelGC"), argv.toString());
        assertTrue(jvmOptions(argv).containsAll(List.of("--add-modules", "jdk.incubator.vector")), argv.toString());
        assertFalse(String.join(" ", argv).contains("-Xmx"), "no limit: the JVM's own heap sizing: " + argv);
    }

    @Test
    void theHeapComesFromACgroupV2Limit() throws Exception {
        Path home = install("cloudviper-scheduler.jar", "cloudviper-worker.jar");
        Path sys = sysRoot("v2", "kubepods/pod1/c1/memory.max", "0::/kubepods/pod1/c1\n", 4L << 30);
        Files.writeString(sys.resolve("sys/fs/cgroup/memory.max"), "max\n");
        // 4096 MiB: 256 reserved, then 25 % of the rest direct for the scheduler, 15 % for the worker
        assertEquals(List.of("-Xmx2880m", "-XX:MaxDirectMemorySize=960m"),
                heapOptions(java(home, "scheduler", fakeJdk(17), sys, Map.of(), "--port", "0")));
        assertEquals(List.of("-Xmx3264m", "-XX:MaxDirectMemorySize=576m"),
                heapOptions(java(home, "worker", fakeJdk(17), sys, Map.of())));
    }

    @Test
    void theHeapComesFromACgroupV1Limit() throws Exception {
        Path home = install("cloudviper-worker.jar");
        Path sys = sysRoot("v1", "memory/memory.limit_in_bytes", "4:memory:/\n0::/\n", 1L << 30);
        // 1024 MiB: a quarter reserved (256), 15 % of the rest direct
        assertEquals(List.of("-Xmx653m", "-XX:MaxDirectMemorySize=115m"),
                heapOptions(java(home, "worker", fakeJdk(17), sys, Map.of())));
        // cgroup v1's "no limit" (2^63 rounded down to a page) is above physical memory
        Path none = sysRoot("v1none", "memory/memory.limit_in_bytes", "4:memory:/\n", 9223372036854771712L);
        assertEquals(List.of(), heapOptions(java(home, "worker", fakeJdk(17), none, Map.of())));
    }

    private static List<String> heapOptions(List<String> argv) {
        return jvmOptions(argv).stream().filter(o -> o.startsWith("-Xmx") || o.startsWith("-XX:MaxDirectMemorySize")).toList();
    }

    @Test
    void theUsersOptionsComeAfterTheChosenOnes() throws Exception {
        Path home = install("cloudviper-scheduler.jar");
        Path sys = sysRoot("v2", "memory.max", "0::/\n", 2L << 30);
        List<String> opts = jvmOptions(java(home, "scheduler", fakeJdk(17), sys,
                Map.of("CLOUDVIPER_JVM_OPTIONS", " -Xmx1g  -XX:+UseG1GC -Dx=*")));
        assertEquals(List.of("-Xmx1g", "-XX:+UseG1GC", "-Dx=*"), opts.subList(opts.size() - 3, opts.size()));
        assertFalse(opts.contains("-XX:+UseParallelGC"), "HotSpot refuses two collectors: " + opts);
        assertTrue(opts.indexOf("-Xmx1344m") < opts.indexOf("-Xmx1g"), opts.toString());
        assertFalse(opts.contains("-XX:+UseSerialGC"), "HotSpot refuses two collectors: " + opts);
        assertFalse(opts.contains("-XX:MinHeapFreeRatio=10"), "the serial collector's sizing goes with it: " + opts);
        assertTrue(jvmOptions(java(home, "scheduler", fakeJdk(17), sys, Map.of("CLOUDVIPER_JVM_OPTIONS", "-Xmx1g")))
                .containsAll(List.of("-XX:+UseSerialGC", "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=20")));
        assertFalse(jvmOptions(java(home, "scheduler", fakeJdk(17), sys, Map.of())).contains("-XX:+UseParallelGC"));
    }

    @Test
    void theArchiveOfTheRunningJdkIsUsedWhenPresent() throws Exception {
        Path home = install("cloudviper-worker.jar", "cloudviper-worker.jdk17.jsa", "cloudviper-worker.jdk25.aot");
        Path sys = sysRoot("none", "memory.max", "0::/\n", -1);
        String jsa = home.resolve("lib/cloudviper-worker.jdk17.jsa").toString();
        String aot = home.resolve("lib/cloudviper-worker.jdk25.aot").toString();
        assertTrue(jvmOptions(java(home, "worker", fakeJdk(17), sys, Map.of())).contains("-XX:SharedArchiveFile=" + jsa));
        List<String> on25 = jvmOptions(java(home, "worker", fakeJdk(25), sys, Map.of()));
        assertTrue(on25.contains("-XX:AOTCache=" + aot), on25.toString());
        assertTrue(on25.contains("--enable-native-access=ALL-UNNAMED"), on25.toString());
        // an archive of another JDK is never given to this one
        List<String> on21 = jvmOptions(java(home, "worker", fakeJdk(21), sys, Map.of()));
        assertFalse(String.join(" ", on21).contains("Archive") || String.join(" ", on21).contains("AOT"), on21.toString());
        // nor one older than the jar (written from an earlier build)
        Files.setLastModifiedTime(home.resolve("lib/cloudviper-worker.jar"),
                java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        List<String> stale = jvmOptions(java(home, "worker", fakeJdk(17), sys, Map.of()));
        assertFalse(String.join(" ", stale).contains("SharedArchiveFile"), stale.toString());
    }

    @Test
    void theSchedulerImageRunsTheSchedulerSubcommandOfItsJar() throws Exception {
        Path home = install("cloudviper-k8s.jar");
        Path sys = sysRoot("none", "memory.max", "0::/\n", -1);
        List<String> argv = java(home, "scheduler", fakeJdk(17), sys, Map.of(), "--port", "8786", "--k8s-scaler");
        int jar = argv.indexOf("-jar");
        assertEquals(List.of(home.resolve("lib/cloudviper-k8s.jar").toString(), "scheduler", "--port", "8786", "--k8s-scaler"),
                argv.subList(jar + 1, argv.size()));
    }

    @Test
    void theWorkersCompileCommandsNameMethodsThatExist() throws Exception {
        // a renamed method would leave the launcher's dontinline silently doing nothing
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("dontinline,([\\w.]+)::(\\w+)")
                .matcher(Files.readString(REPO.resolve("bin/cloudviper-launcher.sh")));
        int found = 0;
        while (m.find()) {
            String method = m.group(2);
            Class<?> c = Class.forName(m.group(1));
            assertTrue(java.util.Arrays.stream(c.getDeclaredMethods()).anyMatch(x -> x.getName().equals(method)),
                    c.getName() + "::" + method);
            found++;
        }
        assertEquals(3, found);
        Path home = install("cloudviper-worker.jar");
        Path sys = sysRoot("none", "memory.max", "0::/\n", -1);
        assertTrue(jvmOptions(java(home, "worker", fakeJdk(17), sys, Map.of()))
                .contains("-XX:CompileCommand=dontinline,org.cloudviper.worker.state.WorkerState::handle"));
    }

    @Test
    void noJarIsAClearError() throws Exception {
        Path home = install();
        Run r = run(List.of(launcher(home, "worker").toString(), "--version"), Map.of("JAVA_HOME", fakeJdk(17).toString()));
        assertEquals(127, r.exit());
        assertTrue(r.err().contains("no runnable jar"), r.err());
    }
}
