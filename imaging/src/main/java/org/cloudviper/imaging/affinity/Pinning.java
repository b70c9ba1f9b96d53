package org.cloudviper.imaging.affinity;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.BitSet;

/**
 * Pins the calling thread through glibc's {@code sched_setaffinity} (JNA), and reads back where it
 * may and does run ({@code sched_getaffinity}, {@code sched_getcpu}). Where JNA or the call is not
 * available (another OS, a seccomp profile, a missing libc), {@link #available} is false and says why.
 */
public final class Pinning {
    /** glibc's cpu_set_t: 1024 CPUs. */
    private static final int MASK_LONGS = 16;

    interface LibC extends Library {
        int sched_setaffinity(int pid, long cpusetsize, long[] mask) throws LastErrorException;

        int sched_getaffinity(int pid, long cpusetsize, long[] mask) throws LastErrorException;

        int sched_getcpu() throws LastErrorException;
    }

    private static final LibC LIBC;
    private static final String WHY_NOT;

    static {
        LibC lib = null;
        String why = null;
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            why = "not Linux (" + System.getProperty("os.name") + ")";
        } else {
            try {
                lib = Native.load("c", LibC.class);
                lib.sched_getcpu();
            } catch (LinkageError | RuntimeException e) {
                lib = null;
                why = "libc through JNA: " + e;
            }
        }
        LIBC = lib;
        WHY_NOT = why;
    }

    private Pinning() {
    }

    public static boolean available() {
        return LIBC != null;
    }

    /** Why pinning is not available, or null. */
    public static String unavailableReason() {
        return WHY_NOT;
    }

    /** Pins the calling thread to {@code cpu}; throws if the kernel refuses (EINVAL, EPERM). */
    public static void pinCurrentThread(int cpu) {
        requireAvailable();
        if (cpu < 0 || cpu >= 64 * MASK_LONGS) {
            throw new IllegalArgumentException("cpu: " + cpu + " (expected: 0.." + (64 * MASK_LONGS - 1) + ")");
        }
        long[] mask = new long[MASK_LONGS];
        mask[cpu / 64] = 1L << (cpu % 64);
        try {
            LIBC.sched_setaffinity(0, 8L * MASK_LONGS, mask);
        } catch (LastErrorException e) {
            throw new IllegalStateException("sched_setaffinity(cpu " + cpu + ") refused: errno " + e.getErrorCode(), e);
        }
    }

    /** The calling thread's affinity mask. */
    public static BitSet currentAffinity() {
        requireAvailable();
        long[] mask = new long[MASK_LONGS];
        try {
            LIBC.sched_getaffinity(0, 8L * MASK_LONGS, mask);
        } catch (LastErrorException e) {
            throw new IllegalStateException("sched_getaffinity refused: errno " + e.getErrorCode(), e);
        }
        return BitSet.valueOf(mask);
    }

    /** The CPU the calling thread runs on now. */
    public static int currentCpu() {
        requireAvailable();
        return LIBC.sched_getcpu();
    }

    private static void requireAvailable() {
        if (LIBC == null) {
            throw new IllegalStateException("pinning is not available: " + WHY_NOT);
        }
    }
}
