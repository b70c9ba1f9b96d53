package org.cloudviper.scheduler.state.coordination;

import org.cloudviper.protocol.message.CoordinationRequest;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Variables and Queues: values, waiting requests, and the keys their futures keep alive. */
class VariablesQueuesTest {
    private final Recorded.RecordedKeys keys = new Recorded.RecordedKeys();
    private final Variables variables = new Variables(keys);
    private final Queues queues = new Queues(keys);

    private static Recorded.Answer answer() {
        return new Recorded.Answer();
    }

    private void setKey(String name, Object key, double now) {
        variables.set(new CoordinationRequest.VariableSet(name, key, null, "c1", null), answer(), now);
    }

    private Map<?, ?> get(String name, String client) {
        Recorded.Answer a = answer();
        variables.get(new CoordinationRequest.VariableGet(name, client, null), client, a, 0);
        assertTrue(a.answered);
        return (Map<?, ?>) a.value;
    }

    @Test
    void variableGetWaitsForSetOrTimesOut() {
        Recorded.Answer waiting = answer();
        Recorded.Answer timing = answer();
        variables.get(new CoordinationRequest.VariableGet("v", "c2", null), "c2", waiting, 0);
        variables.get(new CoordinationRequest.VariableGet("v", "c3", 1.0), "c3", timing, 0);
        Recorded.Answer now = answer();
        variables.get(new CoordinationRequest.VariableGet("v", "c3", 0.0), "c3", now, 0);
        now.assertError("TimeoutError");
        variables.expire(0.5);
        timing.assertWaiting();
        variables.expire(1.0);
        timing.assertError("TimeoutError");
        waiting.assertWaiting();
        variables.set(new CoordinationRequest.VariableSet("v", null, 5L, "c1", null), answer(), 2);
        waiting.assertValue(Map.of("type", "msgpack", "value", 5L));
    }

    @Test
    void aReplacedFutureIsLetGoOnlyOnceItsReaderHoldsIt() {
        setKey("v", "k1", 0);
        assertEquals(List.of("k1"), keys.of("variable-v"));
        Map<?, ?> got = get("v", "c2");
        assertEquals("Future", got.get("type"));
        assertEquals("k1", got.get("value"));
        assertEquals("memory", got.get("state"));
        String token = (String) got.get("token");

        setKey("v", "k2", 1);
        assertEquals(List.of("k1", "k2"), keys.of("variable-v"), "c2 has not confirmed k1 yet");
        variables.futureReceived("v", "k1", token, "c2", 2);
        assertEquals(List.of("k2"), keys.of("variable-v"));
        assertEquals(List.of("k1"), keys.of("c2"), "the reader wants the key itself now");

        variables.delete("v", 3);
        assertEquals(List.of(), keys.of("variable-v"));
        assertTrue(keys.forgotten.contains("variable-v"));
    }

    @Test
    void aReaderThatLeavesNoLongerHoldsAnOldValue() {
        setKey("v", "k1", 0);
        get("v", "c2");
        variables.delete("v", 1);
        assertEquals(List.of("k1"), keys.of("variable-v"));
        variables.clientRemoved("c2", 2);
        assertEquals(List.of(), keys.of("variable-v"));
        assertTrue(keys.forgotten.contains("variable-v"));
    }

    @Test
    void anErredFutureCarriesItsError() {
        keys.states.put("bad", "erred");
        setKey("v", "bad", 0);
        Map<?, ?> got = get("v", "c2");
        assertEquals("erred", got.get("state"));
        assertEquals("exc-bad", got.get("exception"));
        assertEquals("tb-bad", got.get("traceback"));
    }

    private Recorded.Answer put(String name, Object key, Object data, Double timeout, double now) {
        Recorded.Answer a = answer();
        queues.put(new CoordinationRequest.QueuePut(name, key, data, "c", timeout), a, now);
        return a;
    }

    private Recorded.Answer take(String name, Double timeout, Object batch, double now) {
        Recorded.Answer a = answer();
        queues.get(new CoordinationRequest.QueueGet(name, "c", timeout, batch), a, now);
        return a;
    }

    @Test
    void queueIsFifoAndGetsWait() {
        queues.create(new CoordinationRequest.QueueCreate("q", "c", 0), answer());
        Recorded.Answer waiting = take("q", null, false, 0);
        waiting.assertWaiting();
        put("q", null, 1L, null, 0).assertValue(null);
        waiting.assertValue(Map.of("type", "msgpack", "value", 1L));
        put("q", null, 2L, null, 0);
        put("q", null, 3L, null, 0);
        Recorded.Answer size = answer();
        queues.qsize("q", size);
        size.assertValue(2L);
        take("q", null, true, 0).assertValue(List.of(Map.of("type", "msgpack", "value", 2L),
                Map.of("type", "msgpack", "value", 3L)));
        take("q", 0.0, false, 0).assertError("TimeoutError");
        take("q", 1.0, 2L, 0).assertError("NotImplementedError");
        Recorded.Answer two = take("q", null, 2L, 0);
        put("q", null, 4L, null, 1);
        two.assertWaiting();
        put("q", null, 5L, null, 1);
        two.assertValue(List.of(Map.of("type", "msgpack", "value", 4L), Map.of("type", "msgpack", "value", 5L)));
        take("q", null, false, 0);
        take("unknown", null, false, 0).assertError("KeyError");
    }

    @Test
    void aFullQueueMakesPutsWaitAndTimeOutGivingTheirKeyBack() {
        queues.create(new CoordinationRequest.QueueCreate("q", "c", 1), answer());
        put("q", "k1", null, null, 0).assertValue(null);
        Recorded.Answer blocked = put("q", "k2", null, 2.0, 0);
        blocked.assertWaiting();
        assertEquals(List.of("k1", "k2"), keys.of("queue-q"));
        queues.expire(2.5);
        blocked.assertError("TimeoutError");
        assertEquals(List.of("k1"), keys.of("queue-q"), "the timed-out put no longer holds its key");

        Recorded.Answer admitted = put("q", "k3", null, null, 3);
        Recorded.Answer got = take("q", null, false, 3);
        assertEquals("k1", ((Map<?, ?>) got.value).get("value"));
        admitted.assertValue(null);
        assertEquals(List.of("k1", "k3"), keys.of("queue-q"), "k1 is held until its getter confirms");
        queues.futureRelease("q", "k1", "c2", 4);
        assertEquals(List.of("k3"), keys.of("queue-q"));
        assertEquals(List.of("k1"), keys.of("c2"));
    }

    @Test
    void theLastReleaseClosesTheQueueAndItsWaitersHearIt() {
        queues.create(new CoordinationRequest.QueueCreate("q", "a", 0), answer());
        queues.create(new CoordinationRequest.QueueCreate("q", "b", 0), answer());
        put("q", "k1", null, null, 0);
        queues.release("q", 1);
        assertEquals(1, queues.size(), "one client still uses it");
        Recorded.Answer waiting = take("q", null, 3L, 1);
        waiting.assertWaiting();
        queues.release("q", 2);
        assertEquals(0, queues.size());
        waiting.assertError("RuntimeError");
        assertTrue(keys.forgotten.contains("queue-q"));
    }

    @Test
    void aClosedGetterIsPassedOver() {
        queues.create(new CoordinationRequest.QueueCreate("q", "c", 0), answer());
        Recorded.Answer gone = take("q", null, false, 0);
        Recorded.Answer next = take("q", null, false, 0);
        gone.open = false;
        put("q", null, 9L, null, 0);
        gone.assertWaiting();
        next.assertValue(Map.of("type", "msgpack", "value", 9L));
    }
}
