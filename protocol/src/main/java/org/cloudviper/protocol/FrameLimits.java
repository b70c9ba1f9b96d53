package org.cloudviper.protocol;

/**
 * Limits a peer's messages must respect, checked before anything is allocated for them.
 *
 * @param maxFrames      frames in one message
 * @param maxFrameSize   bytes of one frame
 * @param maxMessageSize bytes of all frames of one message together
 */
public record FrameLimits(long maxFrames, long maxFrameSize, long maxMessageSize) {
    /** Netty buffers are int-indexed, so no frame may exceed this, whatever is configured. */
    public static final long ABSOLUTE_MAX_FRAME = Integer.MAX_VALUE;

    /** Dask shards frames at 64 MiB, but unsharded peers (and scatter) may send up to 2 GiB frames. */
    public static final FrameLimits DEFAULT = new FrameLimits(1_000_000, ABSOLUTE_MAX_FRAME, 16L << 30);

    public FrameLimits {
        if (maxFrames < 1) {
            throw new IllegalArgumentException("maxFrames: " + maxFrames + " (expected: >= 1)");
        }
        if (maxFrameSize < 1 || maxFrameSize > ABSOLUTE_MAX_FRAME) {
            throw new IllegalArgumentException(
                    "maxFrameSize: " + maxFrameSize + " (expected: 1 .. " + ABSOLUTE_MAX_FRAME + ")");
        }
        if (maxMessageSize < 1) {
            throw new IllegalArgumentException("maxMessageSize: " + maxMessageSize + " (expected: >= 1)");
        }
    }
}
