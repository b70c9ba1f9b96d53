package org.cloudviper.worker.state;

/** A task's state on the worker, named as Dask names them (distributed/worker_state_machine.py). */
public enum TaskStatus {
    RELEASED("released"), WAITING("waiting"), READY("ready"), CONSTRAINED("constrained"),
    EXECUTING("executing"), MEMORY("memory"), ERROR("error"), FETCH("fetch"), FLIGHT("flight"),
    MISSING("missing"), CANCELLED("cancelled"), RESUMED("resumed"), FORGOTTEN("forgotten");

    private final String daskName;

    TaskStatus(String daskName) {
        this.daskName = daskName;
    }

    /** The name Dask uses on the wire (steal-response) and in task counts. */
    public String daskName() {
        return daskName;
    }

    @Override
    public String toString() {
        return daskName;
    }
}
