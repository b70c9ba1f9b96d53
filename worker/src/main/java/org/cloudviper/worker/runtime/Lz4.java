package org.cloudviper.worker.runtime;

/**
 * Decompression of Dask's "lz4" frames: an LZ4 block (not the frame format) behind a 4-byte
 * little-endian uncompressed size, as {@code lz4.block.compress(store_size=True)} writes it
 * (distributed/protocol/compression.py). Only needed for values compressed between two Python peers
 * and relayed to us unchanged; we never ask for compression ourselves.
 */
final class Lz4 {
    private Lz4() {
    }

    static byte[] decompress(byte[] src, long maxSize) {
        if (src.length < 4) {
            throw new IllegalArgumentException("lz4 frame of " + src.length + " bytes has no size prefix");
        }
        long size = (src[0] & 0xffL) | (src[1] & 0xffL) << 8 | (src[2] & 0xffL) << 16 | (src[3] & 0xffL) << 24;
        if (size > maxSize || size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("lz4 uncompressed size: " + size + " (expected: <= " + maxSize + ")");
        }
        byte[] dst = new byte[(int) size];
        int ip = 4, op = 0;
        while (ip < src.length) {
            int token = src[ip++] & 0xff;
            int lit = token >>> 4;
            if (lit == 15) {
                int b;
                do {
                    b = src[ip++] & 0xff;
                    lit += b;
                } while (b == 255);
            }
            if (lit > src.length - ip || lit > dst.length - op) {
                throw new IllegalArgumentException("corrupt lz4 block: literals overrun");
            }
            System.arraycopy(src, ip, dst, op, lit);
            ip += lit;
            op += lit;
            if (ip >= src.length) {
                break; // the last sequence has literals only
            }
            int offset = (src[ip] & 0xff) | (src[ip + 1] & 0xff) << 8;
            ip += 2;
            if (offset == 0 || offset > op) {
                throw new IllegalArgumentException("corrupt lz4 block: match offset " + offset + " at " + op);
            }
            int len = token & 0xf;
            if (len == 15) {
                int b;
                do {
                    b = src[ip++] & 0xff;
                    len += b;
                } while (b == 255);
            }
            len += 4;
            if (len > dst.length - op) {
                throw new IllegalArgumentException("corrupt lz4 block: match overruns the output");
            }
            for (int i = 0; i < len; i++) { // may overlap: byte by byte
                dst[op + i] = dst[op - offset + i];
            }
            op += len;
        }
        if (op != dst.length) {
            throw new IllegalArgumentException("corrupt lz4 block: " + op + " bytes (expected: " + dst.length + ")");
        }
        return dst;
    }
}
