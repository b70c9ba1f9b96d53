package org.cloudviper.worker.state;

import org.cloudviper.protocol.message.StartStop;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** One key known to the worker. Mutated only by {@link WorkerState} and the classes it delegates to. */
final class TaskState {
    /** Dask's default-data-size: assumed size of a key whose size nobody reported. */
    static final long DEFAULT_DATA_SIZE = 1024;

    /** Dask's order of the ready heap and of data_needed: priority, then first known first. */
    static final Comparator<TaskState> BY_PRIORITY = (a, b) -> {
        int c = comparePriority(a.priority == null ? List.of() : a.priority, b.priority == null ? List.of() : b.priority);
        return c != 0 ? c : Long.compare(a.seq, b.seq);
    };

    final Object key;
    /** Tie-breaker for equal priorities: first known, first served. */
    final long seq;
    TaskStatus state = TaskStatus.RELEASED;
    List<Number> priority;
    Object runSpec;
    double duration;
    long runId = -1;
    Map<String, Double> resourceRestrictions = Map.of();

    final Set<TaskState> dependencies = new LinkedHashSet<>();
    final Set<TaskState> dependents = new LinkedHashSet<>();
    /** Dependencies not yet in memory (only while waiting). */
    final Set<TaskState> waitingForData = new LinkedHashSet<>();
    /** Dependents waiting for this key to arrive. */
    final Set<TaskState> waiters = new LinkedHashSet<>();
    final Set<String> whoHas = new LinkedHashSet<>();
    String comingFrom;

    Long nbytes;
    byte[] type;
    String typename;
    Long thread;
    final List<StartStop> startstops = new ArrayList<>();

    Object exception;
    Object traceback;
    String exceptionText = "";
    String tracebackText = "";

    /** For cancelled/resumed: the state the task was really in, and where it should go next. */
    TaskStatus previous;
    TaskStatus next;
    /** The execution or fetch it was part of has reported back. */
    boolean done;

    TaskState(Object key, long seq) {
        this.key = key;
        this.seq = seq;
    }

    long nbytesOrDefault() {
        return nbytes != null ? nbytes : DEFAULT_DATA_SIZE;
    }

    /** distributed TaskState.is_protected: in use by a running computation. */
    boolean isProtected() {
        if (isProcessing(state)) {
            return true;
        }
        for (TaskState d : dependents) {
            if (isProcessing(d.state)) {
                return true;
            }
        }
        return false;
    }

    static boolean isProcessing(TaskStatus s) {
        return s == TaskStatus.WAITING || s == TaskStatus.READY || s == TaskStatus.CONSTRAINED
                || s == TaskStatus.EXECUTING || s == TaskStatus.RESUMED || s == TaskStatus.CANCELLED;
    }

    /** Python tuple order: element by element, a proper prefix first. */
    static int comparePriority(List<Number> a, List<Number> b) {
        int n = Math.min(a.size(), b.size());
        for (int i = 0; i < n; i++) {
            Number x = a.get(i), y = b.get(i);
            int c = (x instanceof Long || x instanceof Integer) && (y instanceof Long || y instanceof Integer)
                    ? Long.compare(x.longValue(), y.longValue())
                    : Double.compare(x.doubleValue(), y.doubleValue());
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    @Override
    public String toString() {
        return "<TaskState " + key + " " + state + ">";
    }
}
