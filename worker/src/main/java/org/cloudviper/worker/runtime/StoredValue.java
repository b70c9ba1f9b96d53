package org.cloudviper.worker.runtime;

import org.cloudviper.protocol.SubObject;

import java.io.IOException;

/**
 * A value held by the worker: its Dask-serialized form ({@code wire}, what get_data sends) and, for
 * results of Java tasks, the Java value it came from ({@code java}, what dependent Java tasks use
 * without decoding). Scattered and fetched values have only the wire form and are decoded when a
 * task needs them. Owns one reference to {@code wire}.
 *
 * <p>A value the state machine spills moves to a {@link SpillStore} file: the in-memory forms are
 * dropped and {@link #wireRetained} reads the file back when the value is needed. Size and type stay
 * known. The value in the state machine's data is confined to the event loop; running tasks get an
 * immutable copy of their own ({@link #forTask}).
 */
final class StoredValue {
    private Object java;
    private boolean hasJava;
    private SubObject wire;
    private SpillStore store;
    private SpillStore.Spilled spilled;
    final long nbytes;
    final byte[] type;
    final String typename;

    private StoredValue(Object java, boolean hasJava, SubObject wire, long nbytes, byte[] type, String typename) {
        this.java = java;
        this.hasJava = hasJava;
        this.wire = wire;
        this.nbytes = nbytes;
        this.type = type;
        this.typename = typename;
    }

    /** A Java task's result and its serialized form (whose reference this takes over). */
    static StoredValue computed(Object java, SubObject wire, Serde.TypeInfo info) {
        return new StoredValue(java, true, wire, info.nbytes(), info.type(), info.typename());
    }

    /**
     * A Java task's plain result (see {@link Serde#isPlain}), already checked to be serializable; its
     * serialized form is made when first asked for. The task must not modify it after returning.
     */
    static StoredValue computedPlain(Object java, Serde.TypeInfo info) {
        return new StoredValue(java, true, null, info.nbytes(), info.type(), info.typename());
    }

    /** A value that arrived serialized (scatter, a peer): takes over one reference to {@code wire}. */
    static StoredValue received(SubObject wire) {
        Serde.TypeInfo info = Serde.describeSerialized(wire);
        return new StoredValue(null, false, wire, info.nbytes(), info.type(), info.typename());
    }

    /** The Java value, if this holds one in memory. */
    boolean hasJava() {
        return hasJava;
    }

    Object java() {
        return java;
    }

    /**
     * The in-memory serialized form; null once spilled, and for a plain result not serialized yet (use
     * {@link #wireRetained}).
     */
    SubObject wire() {
        return wire;
    }

    boolean isSpilled() {
        return spilled != null;
    }

    /**
     * Writes the serialized form to {@code to} and drops both in-memory forms. On a write error the
     * value stays in memory, whole, and the error is thrown: nothing is lost.
     */
    void spill(SpillStore to) throws IOException {
        if (spilled != null || wire == null && !hasJava) {
            return;
        }
        ensureWire();
        spilled = to.write(wire);
        store = to;
        wire.release();
        wire = null;
        java = null;
        hasJava = false;
    }

    /** The serialized form with one reference for the caller, read from disk if spilled. */
    SubObject wireRetained() throws IOException {
        if (wire == null && spilled == null && hasJava) {
            ensureWire();
        }
        if (wire != null) {
            wire.retain();
            return wire;
        }
        if (spilled == null) {
            throw new IOException("value already released");
        }
        return store.read(spilled);
    }

    /**
     * A copy for a running task that owns its own reference to the serialized form (read back from
     * disk if spilled), so the state may drop or spill this value while the task runs.
     */
    StoredValue forTask() throws IOException {
        if (wire == null && hasJava) { // a plain result not serialized yet: the task reads the Java value
            return new StoredValue(java, true, null, nbytes, type, typename);
        }
        SubObject w = wireRetained();
        return new StoredValue(java, hasJava, w, nbytes, type, typename);
    }

    /** Serializes a plain result on first need (checked when the task finished, so it cannot fail). */
    private void ensureWire() throws IOException {
        if (wire == null && hasJava) {
            try {
                wire = Serde.encode(java);
            } catch (Serde.DataException e) {
                throw new IOException("cannot serialize " + typename + ": " + e.getMessage(), e);
            }
        }
    }

    /** Frees the serialized form, or the spill file. Idempotent. */
    void release() {
        if (wire != null && wire.refCnt() > 0) {
            wire.release();
        }
        wire = null;
        java = null;
        hasJava = false;
        if (spilled != null) {
            store.delete(spilled);
            spilled = null;
        }
    }

    @Override
    public String toString() {
        return "StoredValue(" + (spilled != null ? "spilled to " + spilled.file() : hasJava ? String.valueOf(java)
                : wire) + ", " + nbytes + " bytes)";
    }
}
