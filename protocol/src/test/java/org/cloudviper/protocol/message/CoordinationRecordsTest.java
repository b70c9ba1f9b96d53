package org.cloudviper.protocol.message;

import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.TestWire;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The coordination primitives' requests, stream messages and answers survive encode, the codec and
 * decode for both generations, and write each generation's own fields.
 */
class CoordinationRecordsTest {

    private static Object wire(Object encoded) {
        Frames f = MessageCodec.encode(encoded);
        Object tree = MessageCodec.decode(f);
        f.release();
        return tree;
    }

    private static void roundTrip(DaskMessage m, Generation g, Function<Map<?, ?>, DaskMessage> decode) {
        Map<?, ?> back = (Map<?, ?>) wire(m.encode(g));
        DaskMessage again = decode.apply(back);
        assertSame(m.getClass(), again.getClass(), m.toString());
        assertEquals(TestWire.canonical(m.encode(g)), TestWire.canonical(again.encode(g)), m.toString());
        MessageCodec.release(back);
    }

    @ParameterizedTest
    @EnumSource(Generation.class)
    void requestsRoundTrip(Generation g) {
        List<CoordinationRequest> requests = List.of(
                new CoordinationRequest.VariableSet("v", "k", null, null, 1.5),
                new CoordinationRequest.VariableSet(List.of("tuple", 1L), null, Map.of("x", 1L), null, null),
                new CoordinationRequest.VariableGet("v", "Client-1", 2.0),
                new CoordinationRequest.QueueCreate("q", null, 3),
                new CoordinationRequest.QueuePut("q", "k", null, null, null),
                new CoordinationRequest.QueuePut("q", null, List.of(1L, "two"), null, 0.5),
                new CoordinationRequest.QueueGet("q", null, null, Boolean.TRUE),
                new CoordinationRequest.QueueGet("q", null, null, 4L),
                new CoordinationRequest.QueueQsize("q", null),
                new CoordinationRequest.LockAcquire("l", "id-1", 0.2),
                new CoordinationRequest.LockRelease("l", "id-1"),
                new CoordinationRequest.MultiLockAcquire(List.of("a", "b"), "id-2", null, 1),
                new CoordinationRequest.MultiLockRelease("id-2"),
                new CoordinationRequest.SemaphoreRegister("s", 2L, g.coordinationSendsTimeouts() ? 30.0 : null,
                        g.coordinationSendsTimeouts()),
                new CoordinationRequest.SemaphoreAcquire("s", null, "lease-1"),
                new CoordinationRequest.SemaphoreRelease("s", "lease-1"),
                new CoordinationRequest.SemaphoreClose("s"),
                new CoordinationRequest.SemaphoreRefreshLeases("s", List.of("lease-1", "lease-2")),
                new CoordinationRequest.SemaphoreValue("s"),
                new CoordinationRequest.EventWait("e", 1.0),
                new CoordinationRequest.EventSet("e"),
                new CoordinationRequest.EventClear("e"),
                new CoordinationRequest.EventIsSet("e"),
                new CoordinationRequest.PubSubAddPublisher("t", "tcp://w:1"),
                new CoordinationRequest.Proxy(Map.of("op", "actor_attribute", "actor", "k", "attribute", "n"),
                        "tcp://w:1"));
        for (CoordinationRequest r : requests) {
            roundTrip(r, g, m -> CoordinationRequest.decode(m, g));
        }
    }

    @ParameterizedTest
    @EnumSource(Generation.class)
    void streamMessagesRoundTrip(Generation g) {
        List<DaskMessage> messages = List.of(
                new CoordinationStream.VariableFutureReceived("v", "k", "token-1"),
                new CoordinationStream.VariableDelete("v"),
                new CoordinationStream.QueueFutureRelease("q", "k"),
                new CoordinationStream.QueueRelease("q"),
                new CoordinationStream.PubSubAddSubscriber("t"),
                new CoordinationStream.PubSubRemoveSubscriber("t"),
                new CoordinationStream.PubSubRemovePublisher("t"),
                new CoordinationStream.PubSubMsg("t", Map.of("i", 1L)));
        for (DaskMessage m : messages) {
            roundTrip(m, g, x -> CoordinationStream.decode(x, g));
        }
        for (DaskMessage m : List.<DaskMessage>of(new SchedulerToWorker.PubSubSubscriber("t", "tcp://w:2", true),
                new SchedulerToWorker.PubSubSubscriber("t", "tcp://w:2", false),
                new SchedulerToWorker.PubSubPublishScheduler("t", true),
                new SchedulerToWorker.PubSubMsg("t", "hello"))) {
            roundTrip(m, g, x -> SchedulerToWorker.decode(x, g));
        }
        roundTrip(new SchedulerToClient.PubSubMsg("t", List.of(1L, 2L)), g, x -> SchedulerToClient.decode(x, g));
    }

    @Test
    void eachGenerationWritesItsOwnFields() {
        CoordinationRequest.VariableSet set = new CoordinationRequest.VariableSet("v", "k", null, null, 1.5);
        assertFalse(set.encode(Generation.DASK_2022).containsKey("timeout"), "2022's variable_set has no timeout");
        assertEquals(1.5, set.encode(Generation.DASK_2024).get("timeout"));
        assertFalse(set.encode(Generation.DASK_2024_1).containsKey("timeout"), "2024.1.1's variable_set has none");
        CoordinationRequest.SemaphoreRegister reg = new CoordinationRequest.SemaphoreRegister("s", 1L, null, true);
        assertFalse(reg.encode(Generation.DASK_2022).containsKey("lease_timeout"));
        assertTrue(reg.encode(Generation.DASK_2024).containsKey("lease_timeout"));
        assertFalse(reg.encode(Generation.DASK_2024_1).containsKey("lease_timeout"));
        CoordinationRequest.SemaphoreRegister from2022 = (CoordinationRequest.SemaphoreRegister)
                CoordinationRequest.decode(Map.of("op", "semaphore_register", "name", "s", "max_leases", 1L),
                        Generation.DASK_2022);
        assertFalse(from2022.sentLeaseTimeout(), "the scheduler's own lease timeout applies");
        CoordinationStream.VariableFutureReceived confirm = new CoordinationStream.VariableFutureReceived("v", "k", "t");
        assertEquals("variable-future-release", confirm.encode(Generation.DASK_2022).get("op"));
        assertEquals("variable-future-received-confirm", confirm.encode(Generation.DASK_2024).get("op"));
        assertEquals("variable-future-release", confirm.encode(Generation.DASK_2024_1).get("op"),
                "2024.1.1's scheduler has only variable-future-release (variable.py)");
        assertNull(CoordinationRequest.decode(Map.of("op", "identity"), Generation.DASK_2022));
        assertNull(CoordinationStream.decode(Map.of("op", "heartbeat-client"), Generation.DASK_2022));
    }

    @Test
    void storedValuesAndPublisherRepliesRoundTrip() {
        List<CoordinationRequest.StoredValue> values = List.of(
                CoordinationRequest.StoredValue.data(Map.of("x", 1L)),
                new CoordinationRequest.StoredValue(true, "k", "token-1", "memory", null, null),
                new CoordinationRequest.StoredValue(true, "k", null, "erred", "exc", "tb"));
        for (CoordinationRequest.StoredValue v : values) {
            Object back = wire(v.encode(Generation.DASK_2022));
            assertEquals(v, CoordinationRequest.StoredValue.decode(back));
            MessageCodec.release(back);
        }
        assertEquals(List.of("type", "value"), new ArrayList<>(values.get(0).encode(Generation.DASK_2022).keySet()));
        CoordinationRequest.PubSubAddPublisher.Reply reply =
                new CoordinationRequest.PubSubAddPublisher.Reply(List.of("tcp://w:2"), true);
        Object back = wire(reply.encode(Generation.DASK_2022));
        assertEquals(reply, CoordinationRequest.PubSubAddPublisher.Reply.decode(back));
    }
}
