package org.cloudviper.cube;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Counts the bytes read and keeps the last eight: what a reader needs to tell a truncated Arrow
 * stream (no end-of-stream marker, or an end inside a message) from a whole one.
 */
final class TrackingInputStream extends FilterInputStream {
    /** Arrow IPC end of stream: the continuation marker and a zero metadata length. */
    private static final byte[] EOS = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0, 0, 0, 0};
    private final byte[] tail = new byte[8];
    private long count;
    private boolean eof;

    TrackingInputStream(InputStream in) {
        super(in);
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b < 0) {
            eof = true;
        } else {
            record(new byte[] {(byte) b}, 0, 1);
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n < 0) {
            eof = true;
        } else {
            record(b, off, n);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        // through read, so that the tail stays right
        byte[] scratch = new byte[(int) Math.min(n, 8192)];
        long skipped = 0;
        while (skipped < n) {
            int r = read(scratch, 0, (int) Math.min(scratch.length, n - skipped));
            if (r < 0) {
                break;
            }
            skipped += r;
        }
        return skipped;
    }

    private void record(byte[] b, int off, int n) {
        if (n >= tail.length) {
            System.arraycopy(b, off + n - tail.length, tail, 0, tail.length);
        } else if (n > 0) {
            System.arraycopy(tail, n, tail, 0, tail.length - n);
            System.arraycopy(b, off, tail, tail.length - n, n);
        }
        count += n;
    }

    long count() {
        return count;
    }

    /** The underlying stream has reported its end. */
    boolean sawEnd() {
        return eof;
    }

    /** The bytes read so far end with the end-of-stream marker. */
    boolean endsWithEos() {
        return count >= EOS.length && Arrays.equals(tail, EOS);
    }
}
