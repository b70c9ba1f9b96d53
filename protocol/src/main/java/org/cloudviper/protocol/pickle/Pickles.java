package org.cloudviper.protocol.pickle;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Small hand-built pickles the Java side needs to send to Python peers, written opcode by opcode
 * (protocol 4). Nothing here imports or runs Python code; the receiver unpickles.
 */
public final class Pickles {
    private static final int PROTO = 0x80, STOP = '.', SHORT_BINUNICODE = 0x8c, BINUNICODE = 'X',
            STACK_GLOBAL = 0x93, TUPLE1 = 0x85, REDUCE = 'R', EMPTY_TUPLE = ')';

    private Pickles() {
    }

    /**
     * A pickle that rebuilds {@code module.qualname(message)}, e.g. an exception class such as
     * {@code distributed.scheduler.KilledWorker}; the client re-raises it like a worker's error.
     */
    public static byte[] call(String module, String qualname, String message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(PROTO);
        out.write(4);
        global(out, module, qualname);
        if (message == null) {
            out.write(EMPTY_TUPLE);
        } else {
            unicode(out, message);
            out.write(TUPLE1);
        }
        out.write(REDUCE);
        out.write(STOP);
        return out.toByteArray();
    }

    /** A pickle of the class object {@code module.qualname} (as Dask's {@code type} fields carry). */
    public static byte[] global(String module, String qualname) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(PROTO);
        out.write(4);
        global(out, module, qualname);
        out.write(STOP);
        return out.toByteArray();
    }

    /**
     * The Java form ({@link PickleValues#toJava}) of a pickle of plain data, read without running
     * anything: e.g. update-graph's {@code annotations} sub-object (a dict of str to plain values).
     *
     * @throws PickleException if the pickle is malformed or holds anything but plain data
     */
    public static Object loadPlain(byte[] pickle) {
        return PickleValues.toJava(new PickleReader().read(pickle).root());
    }

    private static void global(ByteArrayOutputStream out, String module, String qualname) {
        unicode(out, module);
        unicode(out, qualname);
        out.write(STACK_GLOBAL);
    }

    private static void unicode(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length < 256) {
            out.write(SHORT_BINUNICODE);
            out.write(b.length);
        } else {
            out.write(BINUNICODE);
            out.write(b.length & 0xff);
            out.write((b.length >>> 8) & 0xff);
            out.write((b.length >>> 16) & 0xff);
            out.write((b.length >>> 24) & 0xff);
        }
        out.writeBytes(b);
    }
}
