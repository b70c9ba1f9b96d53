package org.cloudviper.worker.runtime;

/** Ownership of decoded message trees: whoever decoded a tree releases its sub-objects once. */
final class Trees {
    private Trees() {
    }

    static void release(Object v) {
        org.cloudviper.protocol.MessageCodec.release(v);
    }

    static String brief(Object v) {
        String s = String.valueOf(v);
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }
}
