package org.cloudviper.scheduler.server;

import io.netty.buffer.ByteBuf;
import org.cloudviper.protocol.CompactMap;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.MsgpackCursor;
import org.cloudviper.protocol.ProtocolException;
import org.cloudviper.protocol.message.ClientToScheduler;
import org.cloudviper.protocol.message.Fields;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.protocol.message.RunSpec;
import org.cloudviper.scheduler.server.graph.HlgGraph;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A graph read while it arrived ({@link GraphStream}), once the message's other frames are there:
 * {@link #message} is its record (2022: without {@code hlg}, whose layers {@link #addLayers} hands
 * to a {@link HlgGraph.Layers}; 2024: complete, with {@code graph_frames} as arrays). What the
 * stream kept as msgpack ({@link Raw}) is decoded with those frames, so that its sub-objects
 * resolve as they would in a message read whole; {@link #release} frees the sub-objects of
 * everything decoded for it, once the state has taken the update.
 */
final class StreamedGraph {
    /** A value kept as msgpack, decoded with the message's other frames at the end. */
    record Raw(byte[] msgpack) {
    }

    /** One message of the frame: a graph read while it arrived. */
    static final class Graph {
        final boolean pickled;
        /** Fields by name, in the message's order: {@link Raw} or a value read as it arrived. */
        final Map<Object, Object> fields = new LinkedHashMap<>();
        /** 2022: the layers, a {@link Layer} or a {@link Raw} whole layer each; null without {@code hlg.layers}. */
        List<Object> layers;
        /** 2022: {@code hlg.layers} that was not an array (decoded whole at the end). */
        Raw rawLayers;

        Graph(boolean pickled) {
            this.pickled = pickled;
        }
    }

    /** A materialized layer read as it arrived: its tasks, its other fields as {@link Raw}. */
    static final class Layer {
        final List<Object> keys = new ArrayList<>();
        /** A {@link RunSpec} of bins, or the task's {@link Raw} value. */
        final List<Object> specs = new ArrayList<>();
        /** Per task, its dependencies; null: none named. */
        private List<Object>[] deps;
        final Map<Object, Object> fields = new LinkedHashMap<>();
        /**
         * Key to position while the layer's dependencies are being read: open addressing over
         * {@link #keys}, a slot holding position + 1 (0 empty), at most half full. An int per slot
         * rather than a map entry and a boxed position per task.
         */
        private int[] positions = new int[16];

        void add(Object key, Object spec) {
            if (2 * (keys.size() + 1) > positions.length) {
                rehash();
            }
            int slot = slot(key);
            if (positions[slot] != 0) {
                throw new ProtocolException("duplicate map key: " + GraphStream.brief(key));
            }
            keys.add(key);
            specs.add(spec);
            positions[slot] = keys.size();
        }

        /** The slot that holds {@code key}, or the empty one where it would go. */
        private int slot(Object key) {
            int mask = positions.length - 1;
            int h = Objects.hashCode(key);
            for (int slot = (h ^ (h >>> 16)) & mask; ; slot = (slot + 1) & mask) {
                int p = positions[slot];
                if (p == 0 || Objects.equals(keys.get(p - 1), key)) {
                    return slot;
                }
            }
        }

        private void rehash() {
            int[] old = positions;
            positions = new int[old.length * 2];
            for (int p : old) {
                if (p != 0) {
                    positions[slot(keys.get(p - 1))] = p;
                }
            }
        }

        private int positionOf(Object key) {
            return positions[slot(key)] - 1;
        }

        @SuppressWarnings("unchecked")
        void deps(Object key, List<Object> d) {
            int i = positionOf(key);
            if (i < 0) {
                return; // Python's scheduler reads dependencies only for the layer's own keys
            }
            if (deps == null) {
                deps = new List[keys.size()];
            }
            deps[i] = d;
        }

        /** The layer's own instance of {@code key} if it holds the key, so that a graph's dependencies share it. */
        Object canonical(Object key) {
            int i = positionOf(key);
            return i < 0 ? key : keys.get(i);
        }

        /** The layer's keys and dependencies are read: its positions are no longer asked for. */
        void dependenciesRead() {
            positions = null;
        }

        List<Object> depsOf(int i) {
            return deps == null ? null : deps[i];
        }
    }


    /** Stands in {@link Graph#fields} for {@code hlg}, which becomes {@link Graph#layers}. */
    static final Object HLG_READ = new Object();

    /** Stands in {@link Layer#fields} for a {@code state} read task by task. */
    static final Object MATERIALIZED = new Object();

    private final ClientToScheduler message;
    private final List<Object> layers;
    private final Decoder decoder;

    private StreamedGraph(ClientToScheduler message, List<Object> layers, Decoder decoder) {
        this.message = message;
        this.layers = layers;
        this.decoder = decoder;
    }

    /** {@code g} with its kept values decoded with {@code rest}, frames 1..n of the message (not released here). */
    static StreamedGraph read(Graph g, List<ByteBuf> rest, Generation generation) {
        Decoder d = new Decoder(rest);
        try {
            return d.read(g, generation);
        } catch (RuntimeException e) {
            d.releaseAll();
            throw e;
        }
    }

    ClientToScheduler message() {
        return message;
    }

    /** 2022: adds every layer's tasks, in the message's order; call before the message's frames are released. */
    void addLayers(HlgGraph.Layers graph) {
        for (Object layer : layers) {
            if (layer instanceof Layer l && l.fields.get("state") == MATERIALIZED) {
                decoder.addMaterialized(l, graph);
            } else {
                graph.layer(layer instanceof Layer l ? decoder.whole(l)
                        : layer instanceof Raw r ? decoder.decode(r) : layer);
            }
        }
    }

    void release() {
        decoder.releaseAll();
    }

    /** Decodes {@link Raw} values with the message's other frames, keeping each to release it. */
    private static final class Decoder {
        private final List<ByteBuf> rest;
        private final List<Object> decoded = new ArrayList<>();

        Decoder(List<ByteBuf> rest) {
            this.rest = rest;
        }

        Object decode(Raw r) {
            Object v = MsgpackCursor.decodeRaw(r.msgpack(), rest);
            decoded.add(v);
            return v;
        }

        void releaseAll() {
            for (Object o : decoded) {
                MessageCodec.release(o);
            }
            decoded.clear();
        }

        StreamedGraph read(Graph g, Generation generation) {
            Map<Object, Object> m = new CompactMap<>(g.fields.size());
            for (Map.Entry<Object, Object> e : g.fields.entrySet()) {
                Object v = e.getValue();
                if (v != HLG_READ) {
                    m.put(e.getKey(), v instanceof Raw r ? decode(r) : v);
                }
            }
            ClientToScheduler message = ClientToScheduler.decode(m, generation);
            List<Object> layers = g.layers;
            if (!g.pickled && layers == null) {
                layers = Fields.list(g.rawLayers == null ? null : decode(g.rawLayers));
                if (layers == null) {
                    throw new ProtocolException("update-graph-hlg without hlg.layers");
                }
            }
            return new StreamedGraph(message, layers, this);
        }

        /** A layer whose state is not a materialized one, as the map it was sent as. */
        Map<Object, Object> whole(Layer l) {
            Map<Object, Object> layer = new CompactMap<>(l.fields.size());
            for (Map.Entry<Object, Object> e : l.fields.entrySet()) {
                layer.put(e.getKey(), decode((Raw) e.getValue()));
            }
            return layer;
        }

        void addMaterialized(Layer l, HlgGraph.Layers graph) {
            Map<?, ?> annotations = Map.of();
            for (Map.Entry<Object, Object> e : l.fields.entrySet()) {
                if ("annotations".equals(e.getKey()) && decode((Raw) e.getValue()) instanceof Map<?, ?> a) {
                    annotations = a;
                }
            }
            graph.startLayer();
            for (int i = 0; i < l.keys.size(); i++) {
                Object key = l.keys.get(i);
                Object s = l.specs.get(i);
                RunSpec spec = s instanceof RunSpec rs ? rs : HlgGraph.spec(decode((Raw) s));
                graph.task(key, spec, l.depsOf(i), HlgGraph.options(annotations, key));
            }
        }
    }
}
