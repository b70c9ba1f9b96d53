package org.cloudviper.scheduler.interop;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's chromium, headless, as a person's browser for a page test: a fresh profile per call, no
 * network but the page's own, a bounded run. {@link #dumpDom} gives the DOM after the page's scripts
 * ran for {@code budgetMs} of virtual time; {@link #screenshot} writes a PNG.
 */
final class HeadlessChromium {
    private static final long TIMEOUT_S = 60;
    private final Path workDir;

    HeadlessChromium(Path workDir) {
        this.workDir = workDir;
    }

    static boolean installed() {
        return Files.isExecutable(Path.of("/usr/bin/chromium"));
    }

    String dumpDom(String url, int budgetMs) throws IOException, InterruptedException {
        Path out = workDir.resolve("dom-" + System.nanoTime() + ".html");
        run(out, List.of("--virtual-time-budget=" + budgetMs, "--dump-dom", url));
        return Files.readString(out, StandardCharsets.UTF_8);
    }

    void screenshot(String url, int budgetMs, Path png) throws IOException, InterruptedException {
        run(workDir.resolve("screenshot-" + System.nanoTime() + ".out"), List.of("--virtual-time-budget=" + budgetMs,
                "--window-size=1280,1000", "--screenshot=" + png.toAbsolutePath(), url));
        if (!Files.isRegularFile(png) || Files.size(png) == 0) {
            throw new IOException("chromium wrote no screenshot to " + png);
        }
    }

    private void run(Path stdout, List<String> args) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory(workDir, "chromium-profile-");
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--user-data-dir=" + profile));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile())
                .redirectError(workDir.resolve(stdout.getFileName() + ".err").toFile()).start();
        p.getOutputStream().close();
        if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new IOException("chromium did not finish within " + TIMEOUT_S + " s: " + cmd);
        }
        if (p.exitValue() != 0) {
            throw new IOException("chromium exited with " + p.exitValue() + ": " + cmd);
        }
    }
}
