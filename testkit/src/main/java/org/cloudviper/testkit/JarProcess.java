package org.cloudviper.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A packaged jar run as a user runs it, {@code java -jar JAR ARGS} with this JVM's java, its output
 * and errors captured in files of a folder so a test can read them while the process runs.
 */
public final class JarProcess {
    /** How a finished run ended. */
    public record Exit(int code, String out, String err) {
    }

    private final Path jar;
    private final Path dir;

    /** {@code dir} receives the files {@code out} and {@code err}. */
    public JarProcess(Path jar, Path dir) {
        this.jar = jar;
        this.dir = dir;
    }

    /** Starts the jar; the caller stops the process. */
    public Process start(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-jar", jar.toString()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectOutput(dir.resolve("out").toFile())
                .redirectError(dir.resolve("err").toFile()).start();
    }

    /** Runs the jar to its end, at most 60 s (then it is killed and this throws). */
    public Exit run(String... args) throws IOException, InterruptedException {
        Process p = start(args);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("java -jar " + jar + " " + String.join(" ", args) + " still runs after 60 s");
        }
        return new Exit(p.exitValue(), out(), err());
    }

    /** What the last started process wrote to stdout so far. */
    public String out() throws IOException {
        return read("out");
    }

    /** What the last started process wrote to stderr so far. */
    public String err() throws IOException {
        return read("err");
    }

    private String read(String stream) throws IOException {
        Path f = dir.resolve(stream);
        return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
    }
}
