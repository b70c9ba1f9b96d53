package org.cloudviper.worker.state;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** One key known to the worker. Mutated only by {@link WorkerState}. */
final class TaskState {
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
    final List<Instruction.StartStop> startstops = new ArrayList<>();

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
        return nbytes != null ? nbytes : WorkerState.DEFAULT_DATA_SIZE;
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

    @Override
    public String toString() {
        return "<TaskState " + key + " " + state + ">";
    }
}
