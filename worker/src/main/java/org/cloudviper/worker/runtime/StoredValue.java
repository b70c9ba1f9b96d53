package org.cloudviper.worker.runtime;

import org.cloudviper.protocol.SubObject;

/**
 * A value held by the worker: its Dask-serialized form ({@code wire}, what get_data sends) and, for
 * results of Java tasks, the Java value it came from ({@code java}, what dependent Java tasks use
 * without decoding). Scattered and fetched values have only the wire form and are decoded when a
 * task needs them. Owns one reference to {@code wire}.
 */
final class StoredValue {
    final Object java;
    final boolean hasJava;
    final SubObject wire;
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

    /** A value that arrived serialized (scatter, a peer): takes over one reference to {@code wire}. */
    static StoredValue received(SubObject wire) {
        Serde.TypeInfo info = Serde.describeSerialized(wire);
        return new StoredValue(null, false, wire, info.nbytes(), info.type(), info.typename());
    }

    void release() {
        if (wire != null && wire.refCnt() > 0) {
            wire.release();
        }
    }

    @Override
    public String toString() {
        return "StoredValue(" + (hasJava ? String.valueOf(java) : wire) + ", " + nbytes + " bytes)";
    }
}
