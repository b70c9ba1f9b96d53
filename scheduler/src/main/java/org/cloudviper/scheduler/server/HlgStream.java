package org.cloudviper.scheduler.server;

import org.cloudviper.protocol.MsgpackCursor;
import org.cloudviper.protocol.ProtocolException;
import org.cloudviper.protocol.message.Fields;
import org.cloudviper.protocol.message.RunSpec;
import org.cloudviper.scheduler.server.StreamedGraph.Graph;
import org.cloudviper.scheduler.server.StreamedGraph.Layer;
import org.cloudviper.scheduler.server.StreamedGraph.Raw;
import org.cloudviper.scheduler.server.graph.HlgGraph;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;

/**
 * The part of {@link GraphStream} that takes a 2022.12 {@code update-graph-hlg}'s {@code hlg} apart
 * as it arrives, on the stream's cursor and level stack: the {@code dsk} and {@code dependencies} of
 * every layer whose state starts with {@code dsk} (materialized) task by task, a task of plain
 * {@code function}/{@code args} bins read straight into a {@link RunSpec}; any other layer, task or
 * field kept as its msgpack bytes ({@link Raw}) for {@link HlgGraph.Layers#layer}.
 */
final class HlgStream {
    private final MsgpackCursor in;
    private final Deque<StreamLevel> levels;
    /** Equal functions share one array, as the message codec shares equal bins within a message. */
    private byte[] lastFunction;
    private final HashMap<ByteBuffer, byte[]> functions = new HashMap<>();

    HlgStream(MsgpackCursor in, Deque<StreamLevel> levels) {
        this.in = in;
        this.levels = levels;
    }

    /** The level that reads {@code hlg}, a map of {@code n} fields, into {@code g}. */
    StreamLevel hlg(int n, Graph g) {
        return new Hlg(n, g);
    }

    /** {@code hlg}: its {@code layers}. */
    private final class Hlg extends StreamLevel {
        private final Graph g;

        Hlg(long n, Graph g) {
            super(n);
            this.g = g;
        }

        @Override
        void item() {
            if (!in.readStrIf("layers")) {
                in.skip(); // update_graph_hlg reads nothing else of hlg
                in.skip();
                return;
            }
            if (g.layers != null || g.rawLayers != null) {
                throw new ProtocolException("duplicate map key: layers");
            }
            if (in.peekType() != MsgpackCursor.Type.ARRAY) {
                g.rawLayers = new Raw(in.readRaw());
                return;
            }
            int n = in.readArrayHeader();
            g.layers = new ArrayList<>(n);
            levels.push(new Layers(n, g.layers));
        }
    }

    private final class Layers extends StreamLevel {
        private final List<Object> layers;

        Layers(long n, List<Object> layers) {
            super(n);
            this.layers = layers;
        }

        @Override
        void item() {
            if (in.peekType() != MsgpackCursor.Type.MAP) {
                layers.add(new Raw(in.readRaw()));
                return;
            }
            Layer layer = new Layer();
            levels.push(new LayerFields(in.readMapHeader(), layer));
            layers.add(layer);
        }
    }

    /**
     * A layer's fields. A {@code state} that starts with {@code dsk} is read task by task; any other
     * makes the layer one that {@link HlgGraph.Layers#layer} gets whole.
     */
    private final class LayerFields extends StreamLevel {
        private final Layer layer;

        LayerFields(long n, Layer layer) {
            super(n);
            this.layer = layer;
        }

        @Override
        void item() {
            Object name = in.readValue();
            if (layer.fields.containsKey(name)) {
                throw new ProtocolException("duplicate map key: " + GraphStream.brief(name));
            }
            if ("state".equals(name) && in.peekType() == MsgpackCursor.Type.MAP) {
                int mark = in.mark();
                int n = in.readMapHeader();
                if (n > 0 && in.readStrIf("dsk") && in.peekType() == MsgpackCursor.Type.MAP) {
                    int tasks = in.readMapHeader();
                    layer.fields.put(name, StreamedGraph.MATERIALIZED);
                    levels.push(new StateFields(n - 1, layer));
                    levels.push(new Dsk(tasks, layer));
                    return;
                }
                in.rewind(mark);
            }
            layer.fields.put(name, new Raw(in.readRaw()));
        }
    }

    /** The rest of a materialized state: its {@code dependencies}. */
    private final class StateFields extends StreamLevel {
        private final Layer layer;
        private boolean dependencies;

        StateFields(long n, Layer layer) {
            super(n);
            this.layer = layer;
        }

        @Override
        void item() {
            if (in.readStrIf("dsk")) {
                throw new ProtocolException("duplicate map key: dsk");
            }
            if (!in.readStrIf("dependencies")) {
                in.skip(); // a materialized layer is its dsk and dependencies; nothing else is read
                in.skip();
                return;
            }
            if (dependencies) {
                throw new ProtocolException("duplicate map key: dependencies");
            }
            // Every read comes before the flag is set: an item cut short is read again from its start.
            if (in.peekType() == MsgpackCursor.Type.MAP) {
                levels.push(new Dependencies(in.readMapHeader(), layer));
            } else {
                in.skip(); // not a map: no task has dependencies (Fields.map)
            }
            dependencies = true;
        }

        @Override
        void done() {
            layer.dependenciesRead();
        }
    }

    private final class Dsk extends StreamLevel {
        private final Layer layer;

        Dsk(long n, Layer layer) {
            super(n);
            this.layer = layer;
        }

        @Override
        void item() {
            Object key = in.readValue();
            layer.add(key, spec());
        }
    }

    private final class Dependencies extends StreamLevel {
        private final Layer layer;

        Dependencies(long n, Layer layer) {
            super(n);
            this.layer = layer;
        }

        @Override
        void item() {
            int keyAt = in.mark();
            in.skip(); // the key, decoded only for a task that names dependencies
            int n = GraphStream.keyList(in);
            if (n == 0) {
                return; // a map's tasks: one empty set each, the same as none named
            }
            int listAt = in.mark();
            in.rewind(keyAt);
            Object key = in.readValue();
            in.rewind(listAt);
            List<Object> deps;
            if (n > 0) {
                List<Object> d = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    d.add(layer.canonical(in.readValue()));
                }
                deps = d;
            } else if (in.readNilIf()) {
                deps = null;
            } else {
                deps = Fields.list(in.readValue());
            }
            layer.deps(key, deps);
        }
    }

    /**
     * A task's value: {@code {"function": bin, "args": bin[, "kwargs": bin]}} read straight into a
     * {@link RunSpec} (dumps_task, distributed/worker.py), anything else kept {@link Raw}.
     */
    private Object spec() {
        int mark = in.mark();
        if (in.peekType() == MsgpackCursor.Type.MAP) {
            int n = in.readMapHeader();
            byte[] function = null;
            byte[] args = null;
            byte[] kwargs = null;
            boolean plain = n >= 1 && n <= 3;
            for (int i = 0; plain && i < n; i++) {
                if (in.readStrIf("function") && function == null && in.peekType() == MsgpackCursor.Type.BIN) {
                    function = function();
                } else if (in.readStrIf("args") && args == null && in.peekType() == MsgpackCursor.Type.BIN) {
                    args = in.readBin();
                } else if (in.readStrIf("kwargs") && kwargs == null && in.peekType() == MsgpackCursor.Type.BIN) {
                    kwargs = in.readBin();
                } else {
                    plain = false;
                }
            }
            if (plain && function != null) {
                return new RunSpec(function, args, kwargs, null);
            }
            in.rewind(mark);
        }
        return new Raw(in.readRaw());
    }

    /** The function's bytes, shared with every earlier equal function of the message. */
    private byte[] function() {
        if (lastFunction != null) {
            byte[] same = in.readBinIfEqual(lastFunction);
            if (same != null) {
                return same;
            }
        }
        byte[] b = in.readBin();
        byte[] seen = functions.putIfAbsent(ByteBuffer.wrap(b), b);
        lastFunction = seen != null ? seen : b;
        return lastFunction;
    }
}
