package org.cloudviper.testkit;

/**
 * A stock {@code dask scheduler} started by {@link PythonPeers#startScheduler}; the fixture stops it
 * after everything else.
 *
 * @param process its process
 * @param address {@code tcp://127.0.0.1:PORT}, as it printed it
 */
public record PythonScheduler(Peer process, String address) {

    public int port() {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }

    /** Stops it now (SIGTERM, then SIGKILL), before the fixture would. */
    public void stop() {
        process.stop();
    }
}
