package org.cloudviper.bench;

import io.netty.buffer.Unpooled;
import org.cloudviper.protocol.FrameLimits;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.protocol.netty.FrameDecoder;

import java.util.Collection;
import java.util.Map;

/** Wire captures of the test kit (see its resources/captures/dask-2022.12.1/README.md), as the benchmarks use them. */
final class Captures {
    private Captures() {
    }

    /** The whole framed message, prelude included, exactly as it crossed the socket. */
    static byte[] raw(String name) {
        return org.cloudviper.testkit.Captures.raw(org.cloudviper.testkit.Captures.DASK_2022, name);
    }

    /** The message's frames, split by the production decoder; the caller owns them. */
    static Frames frames(String name) {
        Frames f = FrameDecoder.tryRead(Unpooled.wrappedBuffer(raw(name)), FrameLimits.DEFAULT);
        if (f == null) {
            throw new IllegalStateException(name + " is not one whole message");
        }
        return f;
    }

    /** Releases every {@link SubObject} reachable from a decoded message tree. */
    static void releaseTree(Object v) {
        if (v instanceof SubObject s) {
            s.release();
        } else if (v instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                releaseTree(e.getKey());
                releaseTree(e.getValue());
            }
        } else if (v instanceof Collection<?> c) {
            for (Object o : c) {
                releaseTree(o);
            }
        }
    }
}
