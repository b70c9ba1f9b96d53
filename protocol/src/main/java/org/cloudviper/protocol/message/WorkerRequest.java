package org.cloudviper.protocol.message;

import org.cloudviper.protocol.CompactMap;

import java.util.List;
import java.util.Map;

/**
 * Requests a worker serves on its listener (distributed Worker.handlers), from peers fetching data,
 * the scheduler (gather, scatter, broadcast) and clients.
 */
public sealed interface WorkerRequest extends DaskMessage {

    static WorkerRequest decode(Map<?, ?> m, Generation g) {
        String op = Fields.requireStr(m, "op", "request");
        return switch (op) {
            case "get_data" -> new GetData(Fields.listOrEmpty(m.get("keys")), Fields.str(m, "who"),
                    m.get("max_connections"));
            case "update_data" -> new UpdateData(Fields.map(m, "data"), m.get("report"), Fields.str(m, "stimulus_id"));
            case "identity" -> Identity.INSTANCE;
            case "keys" -> Keys.INSTANCE;
            case "versions" -> Versions.INSTANCE;
            case "ping" -> Ping.INSTANCE;
            case "free_keys" -> new FreeKeys(Fields.listOrEmpty(m.get("keys")), Fields.str(m, "stimulus_id"));
            case "get_story" -> new GetStory(Fields.listOrEmpty(m.get("keys_or_stimuli")));
            case "terminate" -> Terminate.INSTANCE;
            case "close" -> Close.INSTANCE;
            default -> new Unknown(op, m);
        };
    }

    /**
     * Send these keys' data. {@code maxConnections} (2022 only): a number overrides the worker's
     * limit on concurrent transfers, {@code false} lifts it (the scheduler's gather), null keeps it
     * and is not sent, so that a peer whose generation is not known for sure (a Java worker under
     * cloudviper's scheduler fetching from a Python worker) sends what every generation reads.
     * The requester answers a successful reply with "OK" once it has the data.
     */
    record GetData(List<Object> keys, String who, Object maxConnections) implements WorkerRequest {
        /** The scheduler's gather: never turned away by the transfer limit where the generation allows. */
        public static GetData unlimited(List<Object> keys) {
            return new GetData(keys, null, false);
        }

        @Override
        public Map<String, Object> encode(Generation g) {
            Rpc.Builder b = Rpc.request("get_data").with("keys", keys).with("who", who);
            if (g.getDataTakesMaxConnections() && maxConnections != null) {
                b.with("max_connections", maxConnections);
            }
            return b.done();
        }

        /** {@code status} "OK" with {@code data} (key to Serialized value), or "busy" with no data. */
        public record Reply(String status, Map<?, ?> data) implements DaskMessage {
            public static final Reply BUSY = new Reply("busy", Map.of());

            public static Reply decode(Object reply) {
                Map<?, ?> m = reply instanceof Map<?, ?> mm ? mm : Map.of();
                return new Reply(Fields.str(m, "status"), Fields.map(m, "data"));
            }

            public boolean isOk() {
                return "OK".equals(status);
            }

            public boolean isBusy() {
                return "busy".equals(status);
            }

            @Override
            public Map<String, Object> encode(Generation g) {
                Map<String, Object> r = new CompactMap<>(2);
                r.put("status", status);
                if (!isBusy()) {
                    r.put("data", data);
                }
                return r;
            }
        }
    }

    /**
     * Keep these values (scatter). {@code report} (2022 only; default true there) asks for add-keys
     * afterwards; see {@link #reportsAddKeys}.
     */
    record UpdateData(Map<?, ?> data, Object report, String stimulusId) implements WorkerRequest {
        /**
         * Whether the worker follows up with add-keys. 2024's handler has no {@code report} and never
         * sends add-keys: its scheduler registers scattered replicas itself, and an add-keys that
         * overtook that would find no task in memory, be answered with remove-replicas and lose the data.
         */
        public boolean reportsAddKeys(Generation g) {
            return g.updateDataTakesReport() ? !Boolean.FALSE.equals(report) : Boolean.TRUE.equals(report);
        }

        @Override
        public Map<String, Object> encode(Generation g) {
            Rpc.Builder b = Rpc.request("update_data").with("data", data);
            if (g.updateDataTakesReport()) {
                b.with("report", report);
            }
            if (stimulusId != null) {
                b.with("stimulus_id", stimulusId);
            }
            return b.done();
        }

        /** {@code nbytes} of each value kept. */
        public record Reply(Map<Object, Long> nbytes) implements DaskMessage {
            public static Reply decode(Object reply) {
                Map<?, ?> m = reply instanceof Map<?, ?> mm ? mm : Map.of();
                return new Reply(Fields.nbytes(m.get("nbytes"), 0));
            }

            public static boolean isOk(Object reply) {
                return reply instanceof Map<?, ?> m && "OK".equals(m.get("status"));
            }

            @Override
            public Map<String, Object> encode(Generation g) {
                Map<String, Object> r = new CompactMap<>(2);
                r.put("nbytes", nbytes);
                r.put("status", "OK");
                return r;
            }
        }
    }

    enum Identity implements WorkerRequest {
        INSTANCE;

        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("identity").done();
        }
    }

    /** The keys whose data this worker holds. */
    enum Keys implements WorkerRequest {
        INSTANCE;

        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("keys").done();
        }
    }

    enum Versions implements WorkerRequest {
        INSTANCE;

        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("versions").done();
        }
    }

    /** Answered "pong". */
    enum Ping implements WorkerRequest {
        INSTANCE;

        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("ping").done();
        }
    }

    /** The request form of free-keys. */
    record FreeKeys(List<Object> keys, String stimulusId) implements WorkerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("free_keys").with("keys", keys).with("stimulus_id", stimulusId).done();
        }
    }

    /** Worker.get_story: this worker's story of these keys or stimulus ids, as lists. */
    record GetStory(List<Object> keysOrStimuli) implements WorkerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("get_story").with("keys_or_stimuli", keysOrStimuli).done();
        }
    }

    /** Close the worker. */
    enum Terminate implements WorkerRequest {
        INSTANCE;

        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("terminate").done();
        }
    }

    /** Close this connection. */
    enum Close implements WorkerRequest {
        INSTANCE;

        @Override
        public Map<String, Object> encode(Generation g) {
            return Rpc.request("close").done();
        }
    }

    record Unknown(String op, Map<?, ?> fields) implements WorkerRequest {
        @Override
        public Map<String, Object> encode(Generation g) {
            return Fields.copy(fields);
        }
    }
}
