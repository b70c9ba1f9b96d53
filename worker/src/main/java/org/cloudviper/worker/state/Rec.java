package org.cloudviper.worker.state;

/**
 * A recommendation: the state a task should move to, plus what that transition needs (the value
 * for memory, the error for error, the peer for flight). distributed's recommendations are
 * {@code ts: state} or {@code ts: (state, *args)}.
 */
record Rec(TaskStatus to, Object value, boolean hasValue, Rec.ErrorInfo error, String worker) {
    static Rec of(TaskStatus to) {
        return new Rec(to, null, false, null, null);
    }

    static Rec memory(Object value) {
        return new Rec(TaskStatus.MEMORY, value, true, null, null);
    }

    static Rec flight(String worker) {
        return new Rec(TaskStatus.FLIGHT, null, false, null, worker);
    }

    static Rec error(ErrorInfo e) {
        return new Rec(TaskStatus.ERROR, null, false, e, null);
    }

    /** What task-erred reports of a failure. */
    record ErrorInfo(Object exception, Object traceback, String exceptionText, String tracebackText) {
    }
}
