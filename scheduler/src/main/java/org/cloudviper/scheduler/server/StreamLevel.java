package org.cloudviper.scheduler.server;

import org.cloudviper.protocol.MsgpackCursor;

/** One open container of the frame: how many items it has left and how to read one. */
abstract class StreamLevel {
    long left;

    StreamLevel(long left) {
        this.left = left;
    }

    /**
     * Reads one whole item (which may open a nested level); throws {@link MsgpackCursor#UNDERFLOW}.
     * An item cut short is read again from its start, so nothing is changed before its last read.
     */
    abstract void item();

    /** After the last item. */
    void done() {
    }
}
