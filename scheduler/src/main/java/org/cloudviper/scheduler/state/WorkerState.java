package org.cloudviper.scheduler.state;

import java.util.List;
import java.util.Map;

/** One registered worker, as the scheduler state sees it. */
final class WorkerState {
    final String address;
    /**
     * {@code {this}} and {@code [address]}: a result's first holder and its who_has entry, shared
     * instead of allocated per task (never modified: {@link TaskState#whoHas} is copied on change).
     */
    final WorkerState[] alone = {this};
    final List<String> addressList;
    final String name;
    final int nthreads;
    final long memoryLimit;
    final Map<String, Double> resources;
    /** Dask generation of the peer (2022 or 2024), for version-specific message fields. */

    final TaskSet processing = new TaskSet();
    int longRunning;
    final TaskSet hasWhat = new TaskSet();
    long nbytes;
    boolean running = true;
    /** In {@link Workers} (set there): placement asks per task, so a flag rather than a map lookup. */
    boolean registered;
    /** Being retired: gets no tasks (status closing_gracefully) while its unique keys are copied away. */
    boolean retiring;
    /** Paused when its retirement began: a retirement called off gives that status back, as Dask does. */
    boolean pausedBeforeRetiring;
    /** The retirement found no running worker to take a key: it will be called off. */
    boolean noRecipients;
    double lastSeen;
    /** Links of {@link FreeWorkers}, the list of workers with a free slot. */
    boolean freeListed;
    WorkerState prevFree;
    WorkerState nextFree;
    /** Moving average of the compute time of the tasks this worker finished; NaN before the first. */
    double meanComputeSeconds = Double.NaN;

    WorkerState(String address, String name, int nthreads, long memoryLimit, Map<String, Double> resources,
                double now) {
        this.address = address;
        this.addressList = List.of(address);
        this.name = name;
        this.nthreads = nthreads;
        this.memoryLimit = memoryLimit;
        this.resources = resources;
        this.lastSeen = now;
    }

    /** Tasks counted against the saturation cap: long-running (seceded) tasks free their slot. */
    int occupied() {
        return processing.size() - longRunning;
    }

    @Override
    public String toString() {
        return "<Worker " + address + " processing=" + processing.size() + " memory=" + hasWhat.size() + ">";
    }
}
