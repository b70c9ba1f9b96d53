package org.cloudviper.cube;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/**
 * A Python interpreter with pyarrow, to write chunks as Python users do: {@code
 * -Dcloudviper.pyarrow.python} (the venv scripts/setup-peers.sh makes), else {@code python3} on
 * PATH. Tests that need it are skipped, with the reason, where neither has pyarrow.
 */
final class PyarrowPython {
    private static final String PROPERTY = "cloudviper.pyarrow.python";
    private static String found;
    private static String missing;

    private PyarrowPython() {
    }

    /** The interpreter, or aborts the calling test with the reason. */
    static synchronized String require() {
        if (found == null && missing == null) {
            List<String> tried = new ArrayList<>();
            String configured = System.getProperty(PROPERTY);
            for (String candidate : configured == null ? List.of("python3") : List.of(configured, "python3")) {
                if (candidate.contains("/") && !Files.isExecutable(Path.of(candidate))) {
                    tried.add(candidate + " (absent)");
                    continue;
                }
                if (importsPyarrow(candidate)) {
                    found = candidate;
                    break;
                }
                tried.add(candidate + " (no pyarrow)");
            }
            if (found == null) {
                missing = "no Python with pyarrow: tried " + String.join(", ", tried)
                        + "; scripts/setup-peers.sh makes one, or set -D" + PROPERTY;
            }
        }
        Assumptions.assumeTrue(found != null, missing);
        return found;
    }

    private static boolean importsPyarrow(String python) {
        try {
            Process p = new ProcessBuilder(python, "-c", "import pyarrow").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Runs {@code script} (under src/test/python) with {@code args}; fails with its output if it fails. */
    static String run(String script, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(require(), Path.of("src/test/python", script).toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(script + " did not finish: " + out);
        }
        if (p.exitValue() != 0) {
            throw new IllegalStateException(script + " failed (" + p.exitValue() + "): " + out);
        }
        return out;
    }
}
