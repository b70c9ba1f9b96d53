package org.cloudviper.scheduler.state.coordination;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Test doubles of the primitives' surroundings: a recorded {@link Reply} and recorded {@link Keys}. */
final class Recorded {
    private Recorded() {
    }

    /** One request's answer, kept for the test to look at; its connection can be closed. */
    static final class Answer implements Reply {
        boolean answered;
        Object value;
        String errorType;
        boolean open = true;

        @Override
        public void send(Object v) {
            assertFalse(answered, "answered twice");
            answered = true;
            value = v;
        }

        @Override
        public void fail(String pythonType, String text) {
            send(null);
            errorType = pythonType;
        }

        @Override
        public boolean isOpen() {
            return open && !answered;
        }

        Answer assertValue(Object expected) {
            assertTrue(answered, "not answered");
            assertEquals(null, errorType, "answered with an error");
            assertEquals(expected, value);
            return this;
        }

        void assertError(String type) {
            assertTrue(answered, "not answered");
            assertEquals(type, errorType);
        }

        void assertWaiting() {
            assertFalse(answered, "answered with " + value + " / " + errorType);
        }
    }

    /** Which made-up or real client wants which keys, as the state would hold them. */
    static final class RecordedKeys implements Keys {
        final Map<String, List<Object>> wanted = new HashMap<>();
        final List<String> forgotten = new ArrayList<>();
        final Map<Object, String> states = new HashMap<>();

        @Override
        public void want(String holder, Object key, String stimulusId) {
            List<Object> keys = wanted.computeIfAbsent(holder, h -> new ArrayList<>());
            if (!keys.contains(key)) {
                keys.add(key);
            }
        }

        @Override
        public void release(String holder, Object key, String stimulusId) {
            List<Object> keys = wanted.get(holder);
            if (keys != null) {
                keys.remove(key);
            }
        }

        @Override
        public void forget(String holder, String stimulusId) {
            wanted.remove(holder);
            forgotten.add(holder);
        }

        @Override
        public String state(Object key) {
            return states.getOrDefault(key, "memory");
        }

        @Override
        public Object[] error(Object key) {
            return new Object[]{"exc-" + key, "tb-" + key};
        }

        List<Object> of(String holder) {
            return wanted.getOrDefault(holder, List.of());
        }
    }
}
