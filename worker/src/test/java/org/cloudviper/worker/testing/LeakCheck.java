package org.cloudviper.worker.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fails a test when Netty reports a ByteBuf that was garbage-collected without being released.
 * Tests run with paranoid leak detection (every buffer tracked); this listens to the ByteBuf leak
 * detector and, after each test, collects garbage and allocates a few buffers (the detector looks for
 * leaks when buffers are allocated), then fails with the leak records it got. A leak is found when
 * its buffer is collected, so it may surface in a later test of the same JVM than the one that caused
 * it; the record names where the buffer was allocated and last touched.
 */
public final class LeakCheck implements BeforeEachCallback, AfterEachCallback {
    private static final List<String> LEAKS = new ArrayList<>();
    private static boolean installed;

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        install();
        List<String> earlier = drain();
        if (!earlier.isEmpty()) {
            System.err.println("[leak-check] " + earlier.size() + " ByteBuf leak(s) from before "
                    + context.getDisplayName() + ":\n" + String.join("\n\n", earlier));
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        List<String> found = drain();
        if (!found.isEmpty()) {
            fail(found.size() + " ByteBuf leak(s) reported by Netty:\n" + String.join("\n\n", found));
        }
    }

    /** Collects garbage, lets the detector look, and returns (and forgets) the leaks it reported. */
    static List<String> drain() throws Exception {
        install();
        for (int round = 0; round < 3; round++) {
            System.gc();
            Thread.sleep(50);
            for (int i = 0; i < 8; i++) {
                Unpooled.directBuffer(16).release();
                PooledByteBufAllocator.DEFAULT.directBuffer(16).release();
                Unpooled.buffer(16).release();
            }
        }
        synchronized (LEAKS) {
            List<String> found = new ArrayList<>(LEAKS);
            LEAKS.clear();
            return found;
        }
    }

    @SuppressWarnings("unchecked")
    private static synchronized void install() throws ReflectiveOperationException {
        if (installed) {
            return;
        }
        if (ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID) {
            throw new IllegalStateException("LeakCheck needs -Dio.netty.leakDetection.level=paranoid (set in the pom)");
        }
        // The detector every ByteBuf implementation reports to; its field is package-private.
        Field f = Class.forName("io.netty.buffer.AbstractByteBuf").getDeclaredField("leakDetector");
        f.setAccessible(true);
        ResourceLeakDetector<ByteBuf> detector = (ResourceLeakDetector<ByteBuf>) f.get(null);
        detector.setLeakListener((resourceType, records) -> {
            synchronized (LEAKS) {
                LEAKS.add(resourceType + records);
            }
        });
        installed = true;
    }
}
