package org.cloudviper.protocol.netty;

import io.netty.buffer.ByteBuf;
import org.cloudviper.protocol.Frames;

/**
 * A message whose frame 0 is large, handed on by {@link FrameDecoder} while it arrives instead of
 * once it is whole: {@link Start}, frame 0 in {@link Piece}s as the socket reads bring them, then
 * {@link End} with the message's other frames. A receiver that reads frame 0 as it comes never holds
 * all of it (a 2022 client's million-task graph is a ~1 GB frame 0).
 *
 * <p>Each part owns its buffers; whoever receives a part releases it.
 */
public sealed interface StreamedMessage {
    /** Frees the buffers this part owns. */
    void release();

    /** A message begins: its frame 0 will come in pieces totalling {@code frame0Length} bytes. */
    record Start(long frame0Length, int frameCount) implements StreamedMessage {
        @Override
        public void release() {
        }
    }

    /** The next bytes of frame 0 (a retained slice of the socket reads). */
    record Piece(ByteBuf bytes) implements StreamedMessage {
        @Override
        public void release() {
            if (bytes.refCnt() > 0) {
                bytes.release();
            }
        }
    }

    /** Frame 0 is complete; {@code rest} holds frames 1 .. n-1, whole. */
    record End(Frames rest) implements StreamedMessage {
        @Override
        public void release() {
            rest.release();
        }
    }
}
