package org.cloudviper.imaging.fft;

import pl.edu.icm.jlargearrays.ConcurrencyUtils;

/**
 * JTransforms splits long 1-D transforms over a thread pool of its own; here every transform runs on
 * the thread that calls it, one of the caller's (pinned) compute threads.
 */
final class JTransformsThreads {
    private JTransformsThreads() {
    }

    static void useCallerThreadsOnly() {
        if (ConcurrencyUtils.getNumberOfThreads() != 1) {
            ConcurrencyUtils.setNumberOfThreads(1);
        }
    }
}
