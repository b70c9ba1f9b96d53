package org.cloudviper.protocol.netty;

import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;

/** How much one socket read may take. */
public final class Reads {
    /** The largest single socket read; the size every read of a long transfer settles at. */
    public static final int MAX_READ = 1 << 20;

    /**
     * Reads start small and grow while they come back full, up to 1 MiB (Netty's default stops at
     * 64 KiB): a 512 MiB get_data reply or graph then takes ~16x fewer read calls and keeps ~16x fewer
     * buffer components until it is complete, while idle connections still hold small buffers.
     */
    public static final RecvByteBufAllocator LARGE = new AdaptiveRecvByteBufAllocator(64, 2048, MAX_READ);

    private Reads() {
    }
}
