package org.cloudviper.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One Python process a {@link PythonPeers} fixture started, with its stdout and stderr in files.
 * Every live peer of the JVM is killed, children included, by a shutdown hook if the JVM exits
 * before its fixture stops it.
 */
public final class Peer {
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);
    private static final Duration KILL_GRACE = Duration.ofSeconds(5);
    private static final Pattern WORKER_AT = Pattern.compile("Start worker at:\\s+(tcp://\\S+)");

    /** Every running peer of every fixture, for the shutdown hook. */
    private static final Set<Peer> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Peer::killTree), "interop-peers-reaper"));
    }

    private final String name;
    private final Process process;
    final Path stdout;
    final Path stderr;
    private final Set<ProcessHandle> children = ConcurrentHashMap.newKeySet();

    Peer(String name, Process process, Path stdout, Path stderr) {
        this.name = name;
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
        LIVE.add(this);
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String stdoutText() {
        return read(stdout);
    }

    public String stderrText() {
        return read(stderr);
    }

    /** A {@code dask worker}'s listening address, from its "Start worker at:" log line. */
    public String workerAddress() {
        Matcher m = WORKER_AT.matcher(stderrText());
        if (!m.find()) {
            throw new AssertionError(name + " logged no \"Start worker at:\" line");
        }
        return m.group(1);
    }

    /** Waits until the script prints {@code @@marker} (see {@code interop_common.marker}). */
    public void awaitMarker(String marker, Duration timeout) throws InterruptedException {
        String line = "@@" + marker;
        awaitLog(() -> stdoutText().lines().anyMatch(line::equals), "the marker " + line, timeout);
    }

    /** Waits until stdout or stderr contains {@code text}. */
    public void awaitText(String text, Duration timeout) throws InterruptedException {
        awaitLog(() -> stderrText().contains(text) || stdoutText().contains(text), '"' + text + '"', timeout);
    }

    /** Waits until stderr or stdout matches {@code pattern}; returns the match. */
    public Matcher awaitPattern(Pattern pattern, Duration timeout) throws InterruptedException {
        Matcher[] found = new Matcher[1];
        awaitLog(() -> {
            Matcher m = pattern.matcher(stderrText() + "\n" + stdoutText());
            if (m.find()) {
                found[0] = m;
                return true;
            }
            return false;
        }, "/" + pattern + "/", timeout);
        return found[0];
    }

    private void awaitLog(BooleanSupplier condition, String what, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (!process.isAlive() && !condition.getAsBoolean()) {
                throw new AssertionError(name + " exited with code " + process.exitValue() + " before printing " + what);
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(name + " did not print " + what + " within " + timeout.toSeconds() + " s");
            }
            Thread.sleep(50);
        }
    }

    /** Waits for the exit code; on timeout the process is killed and the test fails. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            killTree();
            throw new AssertionError(name + " did not finish within " + timeout.toSeconds() + " s (killed)");
        }
        LIVE.remove(this);
        return process.exitValue();
    }

    /** Waits for a client script's exit and parses its final JSON line; fails on a non-zero exit. */
    public ScriptResult awaitResult(Duration timeout) throws InterruptedException {
        int code = awaitExit(timeout);
        if (code != 0) {
            throw new AssertionError(name + " exited with code " + code + " (traceback in its stderr below)");
        }
        List<String> lines = stdoutText().lines().filter(l -> l.startsWith("{")).toList();
        if (lines.isEmpty()) {
            throw new AssertionError(name + " printed no JSON result line");
        }
        return new ScriptResult(name, Json.parseObject(lines.get(lines.size() - 1)));
    }

    /** SIGKILL, as a crashing machine would; waits until the process is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(KILL_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError(name + " (pid " + pid() + ") survived SIGKILL");
        }
    }

    /** Graceful stop of this peer alone; see {@link #stopAll}. */
    void stop() {
        stopAll(List.of(this));
    }

    /**
     * SIGTERM to all at once (Dask's CLIs shut down gracefully on it), then SIGKILL to whatever is
     * left of each process tree after {@link #STOP_GRACE}.
     */
    static void stopAll(List<Peer> toStop) {
        List<Peer> running = toStop.stream().filter(Peer::isAlive).toList();
        running.forEach(Peer::rememberChildren); // a nanny's worker is orphaned once the nanny exits
        running.forEach(p -> p.process.destroy());
        long deadline = System.nanoTime() + STOP_GRACE.toNanos();
        for (Peer p : running) {
            try {
                p.process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        toStop.forEach(Peer::killTree);
    }

    /** Notes the current descendants, so they can still be killed after the parent is gone. */
    void rememberChildren() {
        process.descendants().forEach(children::add);
    }

    /** SIGKILL to the process and every descendant it has or had when last looked at. */
    private void killTree() {
        Set<ProcessHandle> tree = new LinkedHashSet<>();
        tree.add(process.toHandle());
        process.descendants().forEach(tree::add);
        tree.addAll(children);
        tree.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle h : tree) {
            try {
                h.onExit().get(KILL_GRACE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                System.err.println("[interop] pid " + h.pid() + " of " + name + " did not exit: " + e);
            }
        }
        LIVE.remove(this);
    }

    String describe() {
        String state = process.isAlive() ? "running" : "exit code " + process.exitValue();
        return name + " (pid " + pid() + ", " + state + ")";
    }

    @Override
    public String toString() {
        return describe();
    }

    static String read(Path file) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8); // a torn last character never fails
        } catch (NoSuchFileException e) {
            return "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
