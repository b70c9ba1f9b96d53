package org.cloudviper.protocol.message;

import java.util.Optional;
import java.util.StringJoiner;

/**
 * The distributed release lines cloudviper speaks: each uses one set of message shapes and one
 * encoding of task graphs, and the records of this package encode and decode each message for
 * every line. A line is named after its referee, the release the interop tests run; its range is
 * every release whose sources show the same shapes as the referee's in what cloudviper sends and
 * reads (the handlers and messages of docs/dask-protocol.md, dask's graph pickles). A peer of any
 * other release is refused when it connects ({@link #forVersion}). Each shape difference the code
 * acts on is a method here, so that a new line answers each of them once.
 *
 * <p>Where the ranges end: distributed 2022.11.0 is the first release with 2022.12.1's handshake
 * and stream handling, and 2023.1.1 added {@code run_id} to compute-task and task-finished.
 * 2023.4 to 2023.9 still sent {@code function}/{@code args}/{@code kwargs} (until 2023.8.0) and
 * stringified keys (until 2023.9.3); from 2023.10.0 on keys travel as they are and the run spec is
 * one pickled {@code (function, args, kwargs)} tuple, until 2024.7.1 added {@code _MapLayer} graphs
 * to client.map and 2024.11.0 moved to {@code dask._task_spec} nodes. 2024.11's nodes have other
 * slots than 2024.12's, and 2025.1.0 added {@code Task._data_producer}.
 */
public enum Generation {
    /**
     * distributed 2022.11.0 to 2022.12.1: {@code update-graph-hlg} with packed layers, tasks as
     * {@code function}/{@code args}/{@code kwargs} pickles (dumps_task), no run ids.
     */
    DASK_2022("2022.12.1", "2022.11.0", "2022.12.1", TaskForm.FUNCTION_ARGS),
    /**
     * distributed 2023.10.0 to 2024.7.0: the client pickles the whole HighLevelGraph into
     * {@code update-graph}, its tasks legacy tuples; compute-task carries one pickled
     * {@code (function, args, kwargs)} as {@code run_spec} (scheduler.py _materialize_graph,
     * worker.py _normalize_task); task results carry {@code run_id}.
     */
    DASK_2024_1("2024.1.1", "2023.10.0", "2024.7.0", TaskForm.CALL_TUPLE),
    /**
     * distributed 2024.12.0 and 2024.12.1: as 2024.1, but compute-task's {@code run_spec} is a
     * pickled {@code dask._task_spec} node, and update-graph adds {@code span_metadata}.
     */
    DASK_2024("2024.12.1", "2024.12.0", "2024.12.1", TaskForm.TASK_NODE);

    /** What a worker of a line expects in compute-task, and so what the scheduler makes of a client's graph. */
    public enum TaskForm {
        /** {@code function}, {@code args}, {@code kwargs} pickles, or a Serialized legacy task in {@code run_spec}. */
        FUNCTION_ARGS,
        /** {@code run_spec}: a pickled {@code (function, args, kwargs)}, dependencies' keys in the arguments. */
        CALL_TUPLE,
        /** {@code run_spec}: a pickled {@code dask._task_spec} node. */
        TASK_NODE
    }

    private final String reference;
    private final DaskVersion first;
    private final DaskVersion last;
    private final TaskForm taskForm;

    Generation(String reference, String first, String last, TaskForm taskForm) {
        this.reference = reference;
        this.first = DaskVersion.parse(first);
        this.last = DaskVersion.parse(last);
        this.taskForm = taskForm;
    }

    /** The release the interop tests run for this line. */
    public String referenceVersion() {
        return reference;
    }

    /** The first release of this line. */
    public DaskVersion first() {
        return first;
    }

    /** The last release of this line. */
    public DaskVersion last() {
        return last;
    }

    /** {@code 2023.10.0 to 2024.7.0}. */
    public String range() {
        return first.equals(last) ? first.text() : first.text() + " to " + last.text();
    }

    /** The line of distributed {@code v}; empty when cloudviper speaks no line that includes it. */
    public static Optional<Generation> forVersion(DaskVersion v) {
        for (Generation g : values()) {
            if (v.compareTo(g.first) >= 0 && v.compareTo(g.last) <= 0) {
                return Optional.of(g);
            }
        }
        return Optional.empty();
    }

    /** Every supported range, for error messages: {@code 2022.11.0 to 2022.12.1, 2023.10.0 to ...}. */
    public static String supportedRanges() {
        StringJoiner j = new StringJoiner(", ");
        for (Generation g : values()) {
            j.add(g.range());
        }
        return j.toString();
    }

    /**
     * The line of a {@code versions} structure; 2022 when it names no readable version (a peer that
     * states none) or a release outside every line. Callers that must refuse such a peer use
     * {@link PeerVersion} instead.
     */
    public static Generation ofVersions(Object versions) {
        return PeerVersion.of(versions).generationOr(DASK_2022);
    }

    /** The run spec form this line's workers read. */
    public TaskForm taskForm() {
        return taskForm;
    }

    /**
     * Whether a worker of this line runs the tasks of a client of line {@code client}: the scheduler
     * puts a client's graph into its own line's form, which only that line's Python workers read.
     */
    public boolean runsTasksOf(Generation client) {
        return this == client;
    }

    /** compute-task and task-finished/-erred carry a {@code run_id} (worker_state_machine.py). */
    public boolean hasRunIds() {
        return this != DASK_2022;
    }

    /**
     * compute-task sends the task as one pickled {@code run_spec} only; before, also
     * {@code function}/{@code args}/{@code kwargs}.
     */
    public boolean sendsTaskAsRunSpecOnly() {
        return this != DASK_2022;
    }

    /** Cancelled keys reach the client as one {@code cancelled-keys} list, not one {@code cancelled-key} each. */
    public boolean cancelsKeysInBatches() {
        return this != DASK_2022;
    }

    /** register-worker still lists {@code keys}/{@code nbytes}/{@code types} of data the worker holds. */
    public boolean registersWorkerData() {
        return this == DASK_2022;
    }

    /** get_data takes {@code max_connections} (later handlers have no such parameter and reject it). */
    public boolean getDataTakesMaxConnections() {
        return this == DASK_2022;
    }

    /** update_data takes {@code report} (whether the worker then sends add-keys). */
    public boolean updateDataTakesReport() {
        return this == DASK_2022;
    }

    /** The worker's metrics carry {@code digests_total_since_heartbeat}. */
    public boolean reportsDigests() {
        return this != DASK_2022;
    }

    /** update-graph sends {@code keys} as a set (client.py _graph_to_futures); 2024.1.1 sends a list. */
    public boolean updateGraphKeysAsSet() {
        return this == DASK_2024;
    }

    /** update-graph ends with {@code span_metadata} (from 2024.5.2; the 2024.1.1 referee has none). */
    public boolean updateGraphHasSpanMetadata() {
        return this == DASK_2024;
    }

    /**
     * A client confirms a Variable's future with {@code variable-future-received-confirm} and leaves
     * wanting its key to the scheduler (from 2024.8.2, variable.py); before, it sends
     * {@code variable-future-release} and client-desires-keys itself.
     */
    public boolean confirmsVariableFutures() {
        return this == DASK_2024;
    }

    /**
     * {@code variable_set} takes a {@code timeout} and {@code semaphore_register} the client's
     * {@code lease_timeout} (variable.py, semaphore.py of 2024.12; every 2024.1-line release has
     * neither, and its scheduler rejects them).
     */
    public boolean coordinationSendsTimeouts() {
        return this == DASK_2024;
    }
}
