package org.cloudviper.cube;

import java.util.concurrent.Callable;

/** Runs test code with a system property set (or cleared, for null), then puts back what was there. */
public final class WithProperty {
    private WithProperty() {
    }

    public static <T> T call(String name, String value, Callable<T> body) throws Exception {
        String before = value == null ? System.clearProperty(name) : System.setProperty(name, value);
        try {
            return body.call();
        } finally {
            if (before == null) {
                System.clearProperty(name);
            } else {
                System.setProperty(name, before);
            }
        }
    }
}
