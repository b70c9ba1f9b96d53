package org.cloudviper.protocol.message;

import org.cloudviper.protocol.CompactMap;

import java.util.Map;

/**
 * Request/reply conventions (distributed/core.py): a request is {@code {op, ...fields, reply}}
 * ({@code send_recv} appends {@code reply}); {@code reply: false} asks for no answer and
 * {@code close: true} to close the connection after it. A handler's failure is answered with
 * {@link Error}.
 */
public final class Rpc {
    private Rpc() {
    }

    /** Whether the sender waits for a reply (the default). */
    public static boolean wantsReply(Map<?, ?> request) {
        return !Boolean.FALSE.equals(request.get("reply"));
    }

    /** Whether the sender asks to close the connection once this request is answered. */
    public static boolean closesAfter(Map<?, ?> request) {
        return Boolean.TRUE.equals(request.get("close"));
    }

    static Builder request(String op) {
        return new Builder(op);
    }

    /** Fields in the order Python's rpc writes them. */
    static final class Builder {
        private final Map<String, Object> m = new CompactMap<>(8);

        Builder(String op) {
            m.put("op", op);
        }

        Builder with(String field, Object value) {
            m.put(field, value);
            return this;
        }

        Map<String, Object> done() {
            m.put("reply", true);
            return m;
        }
    }

    /**
     * distributed.core.error_message: {@code status: "uncaught-error"}. {@code exception} is a
     * pickled exception (a {@code byte[]} from {@code Pickles}, raised as that type by the Python
     * peer) or plain text, which the peer raises as {@code Exception(text)} (clean_exception).
     */
    public record Error(Object exception, String exceptionText) implements DaskMessage {
        public static Error of(String text) {
            return new Error(text, text);
        }

        public static boolean is(Object reply) {
            return reply instanceof Map<?, ?> m && "uncaught-error".equals(m.get("status"));
        }

        @Override
        public Map<String, Object> encode(Generation g) {
            Map<String, Object> r = new CompactMap<>(5);
            r.put("status", "uncaught-error");
            r.put("exception", exception);
            r.put("traceback", null);
            r.put("exception_text", exceptionText);
            r.put("traceback_text", "");
            return r;
        }
    }
}
