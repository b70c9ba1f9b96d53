package org.cloudviper.worker.runtime;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.cloudviper.protocol.SubObject;
import org.cloudviper.testkit.Json;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Values as distributed 2022.12.1 serializes them, from {@code vectors/serde_vectors.json} (written
 * by {@code vectors/make_vectors.py} with the Debian Dask): sub-headers, frames and client pickles.
 */
final class Vectors {
    private static final Map<String, Object> ALL = load();

    private Vectors() {
    }

    private static Map<String, Object> load() {
        return Json.readResource("/vectors/serde_vectors.json");
    }

    /** The Serialized sub-object of vector {@code name}; the caller releases it. */
    static SubObject serialized(String name) {
        Map<?, ?> v = (Map<?, ?>) ALL.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no vector " + name);
        }
        List<ByteBuf> frames = new ArrayList<>();
        for (Object f : (List<?>) v.get("frames")) {
            frames.add(Unpooled.wrappedBuffer(hex((String) f)));
        }
        return new SubObject(SubObject.Kind.SERIALIZED, Unpooled.wrappedBuffer(hex((String) v.get("header"))), frames);
    }

    /** A client pickle of vector group "pickles". */
    static byte[] pickle(String name) {
        Object p = ((Map<?, ?>) ALL.get("pickles")).get(name);
        if (p == null) {
            throw new IllegalArgumentException("no pickle " + name);
        }
        return hex((String) p);
    }

    static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }
}
