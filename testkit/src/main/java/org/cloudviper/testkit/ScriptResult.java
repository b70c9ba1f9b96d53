package org.cloudviper.testkit;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The final JSON line of a client script. Parts recorded with {@code interop_common.part} are
 * {@code {"ok": true, "value": ..., "seconds": ...}} or {@code {"ok": false, "error": "<traceback>"}};
 * {@link #part} returns the value or fails with the Python traceback. Values are as {@link Json}
 * reads them.
 *
 * @param client the peer's name, for messages
 * @param json   the parsed line
 */
public record ScriptResult(String client, Map<String, Object> json) {

    public Object get(String key) {
        if (!json.containsKey(key)) {
            fail(client + " reported no '" + key + "': " + json);
        }
        return json.get(key);
    }

    public long getLong(String key) {
        return ((Number) get(key)).longValue();
    }

    @SuppressWarnings("unchecked")
    public List<Object> getList(String key) {
        return (List<Object>) get(key);
    }

    /** The value of a part that must have succeeded. */
    public Object part(String name) {
        Object entry = get(name);
        if (!(entry instanceof Map<?, ?> p) || !p.containsKey("ok")) {
            return fail(client + ": '" + name + "' is not a part: " + entry);
        }
        if (!Boolean.TRUE.equals(p.get("ok"))) {
            return fail(client + ": part '" + name + "' failed in Python:\n" + p.get("error"));
        }
        return p.get("value");
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> partMap(String name) {
        return (Map<String, Object>) part(name);
    }

    @SuppressWarnings("unchecked")
    public List<Object> partList(String name) {
        return (List<Object>) part(name);
    }

    public long partLong(String name) {
        return ((Number) part(name)).longValue();
    }

    /** Wall time the part took in Python, or -1. */
    public double seconds(String name) {
        return json.get(name) instanceof Map<?, ?> p && p.get("seconds") instanceof Number n ? n.doubleValue() : -1;
    }
}
