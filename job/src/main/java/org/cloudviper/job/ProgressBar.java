package org.cloudviper.job;

import java.io.PrintStream;

/** A one-line progress bar, redrawn in place ({@code \r}) on a terminal's error stream. */
final class ProgressBar implements CubeJob.Progress {
    private static final int WIDTH = 40;
    private final PrintStream out;
    private final String what;
    private final long start = System.nanoTime();

    ProgressBar(PrintStream out, String what) {
        this.out = out;
        this.what = what;
    }

    @Override
    public synchronized void update(int done, int total) {
        int filled = total == 0 ? WIDTH : done * WIDTH / total;
        out.printf("\r[%s%s] %d/%d %s  %.1f s", "#".repeat(filled), " ".repeat(WIDTH - filled), done, total, what,
                (System.nanoTime() - start) / 1e9);
        if (done == total) {
            out.println();
        }
        out.flush();
    }
}
