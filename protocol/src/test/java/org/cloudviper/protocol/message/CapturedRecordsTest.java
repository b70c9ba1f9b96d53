package org.cloudviper.protocol.message;

import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.TestWire;
import org.cloudviper.testkit.Captures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Every message captured between real Dask peers, decoded into its record and encoded again for
 * the same generation, gives the bytes that crossed the socket: the records keep every field,
 * in Dask's order, and read each value back as it was written.
 */
class CapturedRecordsTest {

    static Stream<String> captures2022() {
        return Captures.names(Captures.DASK_2022).stream().filter(n -> !n.startsWith("handshake"));
    }

    static Stream<String> captures2024_1() {
        return Captures.names(Captures.DASK_2024_1).stream().filter(n -> !n.startsWith("handshake"));
    }

    static Stream<String> captures2024() {
        return Captures.names(Captures.DASK_2024).stream().filter(n -> !n.startsWith("handshake"));
    }

    @ParameterizedTest
    @MethodSource("captures2022")
    void reencodesByteForByte2022(String name) {
        roundTrip(Captures.DASK_2022, name, Generation.DASK_2022);
    }

    @ParameterizedTest
    @MethodSource("captures2024_1")
    void reencodesByteForByte2024_1(String name) {
        roundTrip(Captures.DASK_2024_1, name, Generation.DASK_2024_1);
    }

    @ParameterizedTest
    @MethodSource("captures2024")
    void reencodesByteForByte2024(String name) {
        roundTrip(Captures.DASK_2024, name, Generation.DASK_2024);
    }

    static void roundTrip(String dir, String name, Generation g) {
        List<byte[]> original = Captures.frames(dir, name);
        Frames frames = TestWire.frames(original.toArray(new byte[0][]));
        Object tree;
        try {
            tree = MessageCodec.decode(frames);
        } finally {
            frames.release();
        }
        try {
            Object again = reencode(name, tree, g);
            Frames out = MessageCodec.encode(again);
            try {
                List<byte[]> bytes = TestWire.bytes(out);
                assertEquals(original.size(), bytes.size(), name + ": frames");
                for (int i = 0; i < bytes.size(); i++) {
                    assertArrayEquals(original.get(i), bytes.get(i), name + ": frame " + i);
                }
            } finally {
                out.release();
            }
        } finally {
            MessageCodec.release(tree);
        }
    }

    /** The capture's message through the record family its sender and kind say. */
    private static Object reencode(String name, Object tree, Generation g) {
        String direction = name.substring(0, name.indexOf('.'));
        boolean reply = name.contains("-reply");
        if (tree instanceof List<?> batch && !reply) {
            BiFunction<Map<?, ?>, Generation, DaskMessage> family = switch (direction) {
                case "scheduler-to-worker" -> SchedulerToWorker::decode;
                case "worker-to-scheduler" -> WorkerToScheduler::decode;
                case "scheduler-to-client" -> SchedulerToClient::decode;
                case "client-to-scheduler" -> ClientToScheduler::decode;
                default -> throw new AssertionError(name);
            };
            List<Object> out = new ArrayList<>();
            for (Object m : batch) {
                out.add(encodeKnown(name, family.apply((Map<?, ?>) m, g), g));
            }
            return out;
        }
        if (!reply) {
            return encodeKnown(name, direction.endsWith("-to-scheduler")
                    ? SchedulerRequest.decode((Map<?, ?>) tree, g) : WorkerRequest.decode((Map<?, ?>) tree, g), g);
        }
        String op = name.substring(name.indexOf('.') + 1, name.indexOf("-reply"));
        return switch (op) {
            case "register-worker" -> SchedulerRequest.RegisterWorker.Reply.decode(tree).encode(g);
            case "heartbeat_worker" -> SchedulerRequest.HeartbeatWorker.Reply.decode(tree).encode(g);
            case "gather" -> SchedulerRequest.Gather.Reply.decode(tree).encode(g);
            case "get_data" -> WorkerRequest.GetData.Reply.decode(tree).encode(g);
            case "update_data" -> WorkerRequest.UpdateData.Reply.decode(tree).encode(g);
            // plain values: Dask defines no field set for these (identity, scatter's key list, nil)
            default -> tree;
        };
    }

    private static Object encodeKnown(String name, DaskMessage record, Generation g) {
        assertFalse(record.getClass().getSimpleName().equals("Unknown"), name + ": no record for " + record);
        return record.encode(g);
    }

    /** The compute interval of a real task-finished: what the scheduler's pipelining reads. */
    @org.junit.jupiter.api.Test
    void computeSecondsOfRealTaskFinishedMessages() {
        for (String dir : List.of(Captures.DASK_2022, Captures.DASK_2024_1, Captures.DASK_2024)) {
            Generation g = dir.equals(Captures.DASK_2022) ? Generation.DASK_2022
                    : dir.equals(Captures.DASK_2024_1) ? Generation.DASK_2024_1 : Generation.DASK_2024;
            Frames frames = TestWire.frames(Captures.frames(dir, "worker-to-scheduler.task-finished.bin")
                    .toArray(new byte[0][]));
            Object tree = MessageCodec.decode(frames);
            frames.release();
            Map<?, ?> m = (Map<?, ?>) ((List<?>) tree).get(0);
            WorkerToScheduler.TaskFinished t = (WorkerToScheduler.TaskFinished) WorkerToScheduler.decode(m, g);
            Map<?, ?> compute = (Map<?, ?>) ((List<?>) m.get("startstops")).get(0);
            double expected = ((Number) compute.get("stop")).doubleValue() - ((Number) compute.get("start")).doubleValue();
            assertEquals(expected, t.computeSeconds(), 0.0, dir);
            org.junit.jupiter.api.Assertions.assertTrue(t.computeSeconds() > 0 && t.computeSeconds() < 1,
                    "an inc takes microseconds: " + t.computeSeconds());
            assertEquals(28, t.nbytes());
            assertEquals(g == Generation.DASK_2022 ? -1 : 0, t.runId());
        }
    }
}
