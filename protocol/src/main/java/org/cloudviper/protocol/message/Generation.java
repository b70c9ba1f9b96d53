package org.cloudviper.protocol.message;

import java.util.Optional;

/**
 * A family of distributed releases that use the same message shapes; the records of this package
 * encode and decode each message for every generation. Each generation is tested against one
 * reference release, and each shape difference the code acts on is a method here, so that a new
 * generation answers each of them once.
 */
public enum Generation {
    /**
     * distributed up to 2023.3: {@code update-graph-hlg} with packed layers, tasks as
     * {@code function}/{@code args}/{@code kwargs} pickles (dumps_task), no run ids.
     */
    DASK_2022("2022.12.1"),
    /**
     * distributed 2023.4 and later: the client pickles the whole graph into {@code update-graph},
     * compute-task carries one pickled {@code run_spec}, task results carry {@code run_id}.
     */
    DASK_2024("2024.12.1");

    private final String reference;

    Generation(String reference) {
        this.reference = reference;
    }

    /** The release the interop tests run for this generation. */
    public String referenceVersion() {
        return reference;
    }

    /** 2023.4 moved graph submission to one pickled graph (distributed/client.py _graph_to_futures). */
    static Generation of(DaskVersion v) {
        return v.year() > 2023 || v.year() == 2023 && v.month() >= 4 ? DASK_2024 : DASK_2022;
    }

    /** The generation of a {@code versions} structure; 2022 when it names no readable version. */
    public static Generation ofVersions(Object versions) {
        Optional<DaskVersion> v = DaskVersion.ofVersions(versions);
        return v.map(DaskVersion::generation).orElse(DASK_2022);
    }

    /** compute-task and task-finished/-erred carry a {@code run_id} (worker_state_machine.py). */
    public boolean hasRunIds() {
        return this == DASK_2024;
    }

    /**
     * compute-task sends the task as one pickled {@code run_spec} only; before, also
     * {@code function}/{@code args}/{@code kwargs}.
     */
    public boolean sendsTaskAsRunSpecOnly() {
        return this == DASK_2024;
    }

    /** Cancelled keys reach the client as one {@code cancelled-keys} list, not one {@code cancelled-key} each. */
    public boolean cancelsKeysInBatches() {
        return this == DASK_2024;
    }

    /** register-worker still lists {@code keys}/{@code nbytes}/{@code types} of data the worker holds. */
    public boolean registersWorkerData() {
        return this == DASK_2022;
    }

    /** get_data takes {@code max_connections} (2024's handler has no such parameter and rejects it). */
    public boolean getDataTakesMaxConnections() {
        return this == DASK_2022;
    }

    /** update_data takes {@code report} (whether the worker then sends add-keys). */
    public boolean updateDataTakesReport() {
        return this == DASK_2022;
    }

    /** The worker's metrics carry {@code digests_total_since_heartbeat}. */
    public boolean reportsDigests() {
        return this == DASK_2024;
    }
}
