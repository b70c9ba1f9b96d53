package org.cloudviper.scheduler.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.cloudviper.protocol.SubObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Copies of received values that outlive their message: a Pub's message relayed to several
 * subscribers after the message is released, an event kept in the log. Sub-objects are copied into
 * heap arrays that the garbage collector owns, so that no one has to release them (relayed values
 * are small: Dask sends large data through workers, not through these).
 */
final class Detached {
    private Detached() {
    }

    static Object copy(Object tree) {
        if (tree instanceof SubObject s) {
            List<ByteBuf> frames = new ArrayList<>(s.frames().size());
            for (ByteBuf f : s.frames()) {
                frames.add(Unpooled.wrappedBuffer(ByteBufUtil.getBytes(f)));
            }
            return new SubObject(s.kind(), Unpooled.wrappedBuffer(ByteBufUtil.getBytes(s.header())), frames);
        }
        if (tree instanceof Map<?, ?> m) {
            Map<Object, Object> r = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                r.put(copy(e.getKey()), copy(e.getValue()));
            }
            return r;
        }
        if (tree instanceof List<?> l) {
            List<Object> r = new ArrayList<>(l.size());
            for (Object o : l) {
                r.add(copy(o));
            }
            return r;
        }
        return tree;
    }
}
