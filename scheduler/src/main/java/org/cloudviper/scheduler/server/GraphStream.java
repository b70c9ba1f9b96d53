package org.cloudviper.scheduler.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.cloudviper.protocol.Frames;
import org.cloudviper.protocol.MessageCodec;
import org.cloudviper.protocol.MsgpackCursor;
import org.cloudviper.protocol.ProtocolException;
import org.cloudviper.protocol.message.ClientToScheduler;
import org.cloudviper.protocol.message.Generation;
import org.cloudviper.scheduler.server.graph.HlgGraph;
import org.cloudviper.scheduler.server.graph.KeyTable;
import org.cloudviper.scheduler.server.StreamedGraph.Graph;
import org.cloudviper.scheduler.server.StreamedGraph.Raw;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a client stream's large frame 0 while it arrives ({@link org.cloudviper.protocol.netty.StreamedMessage}),
 * taking a graph apart task by task, so that neither the frame nor a value tree of every task is ever
 * held: a 2022.12 client's million-task {@code update-graph-hlg} is a ~1 GB frame 0 of
 * {@code {key: {function, args}}} entries (distributed/client.py _graph_to_futures,
 * dask/highlevelgraph.py Layer.__dask_distributed_pack__), a 2024.12 {@code update-graph} carries the
 * graph pickle and its buffers as bins of {@code graph_frames} beside a key per task in {@code keys}
 * and {@code internal_priority}.
 *
 * <p>What is taken apart as it arrives: of update-graph-hlg, the {@code dsk} and {@code dependencies}
 * of every layer whose state starts with {@code dsk} (materialized: {@link HlgStream}), {@code keys} and
 * {@code priority} (as bytes: {@link KeyTable}); of update-graph, the bins of {@code graph_frames}
 * (each copied once, into the array the graph slicer reads), {@code keys} and {@code internal_priority}
 * (as bytes). Everything else (other messages of the batch, the small fields, a layer of any other
 * kind, a task that is not plain {@code function}/{@code args} bins) is kept as its msgpack bytes and
 * decoded by {@link MessageCodec} once the message's other frames are there, so that its sub-objects
 * resolve as they would in a message read whole. Layers of other kinds then go whole to
 * {@link HlgGraph.Layers#layer}, tasks of materialized ones one by one to {@link HlgGraph.Layers#task}.
 *
 * <p>The bytes read are released as the reading passes them. An item cut by the end of what has
 * arrived is read again from its start when more comes, but only once the bytes received since
 * reach twice what the last attempt had, so an item of any size costs linear time.
 */
final class GraphStream implements AutoCloseable {
    private final MsgpackCursor in;
    private final boolean takeGraphsApart;
    /** The frame's messages in order: {@link Raw} or {@link Graph}. */
    private final List<Object> items = new ArrayList<>();
    private final ArrayDeque<StreamLevel> levels = new ArrayDeque<>();
    private boolean started;
    /** An attempt cut short waits until the frame has arrived up to here. */
    private long retryAt;
    private int sinceDiscard;
    /** Reads 2022's {@code hlg} on the same cursor and level stack. */
    private final HlgStream hlgStream;

    /**
     * @param takeGraphsApart false reads the whole frame as one value (a connection that is not a
     *                        client's stream sends no graph)
     */
    GraphStream(ByteBufAllocator alloc, long frame0Length, boolean takeGraphsApart) {
        this.in = new MsgpackCursor(alloc, frame0Length);
        this.takeGraphsApart = takeGraphsApart;
        this.hlgStream = new HlgStream(in, levels);
    }

    /** Takes the next bytes of frame 0 (and their ownership) and reads as far as they reach. */
    void piece(ByteBuf bytes) {
        in.append(bytes);
        if (!takeGraphsApart && !in.complete()) {
            return; // one value, read once it is all there
        }
        long arrived = in.position() + in.available();
        if (arrived < retryAt && !in.complete()) {
            return;
        }
        advance();
    }

    /**
     * Frame 0 has been read: decodes what was kept with the message's other frames ({@code rest},
     * not released here) and returns the messages in order, each a decoded value (whose sub-objects
     * the caller releases) or a {@link StreamedGraph}.
     */
    List<Object> end(Frames rest, Generation generation) {
        if (!in.complete()) {
            throw new ProtocolException("frame 0 ended early");
        }
        advance();
        if (!levels.isEmpty() || !started) {
            throw new ProtocolException("malformed msgpack in frame 0: a value continues past the end of the frame");
        }
        if (!in.atEnd()) {
            throw new ProtocolException("frame 0 has trailing bytes after the msgpack value");
        }
        List<Object> out = new ArrayList<>(items.size());
        try {
            for (Object item : items) {
                out.add(item instanceof Raw r ? MsgpackCursor.decodeRaw(r.msgpack(), rest.frames())
                        : StreamedGraph.read((Graph) item, rest.frames(), generation));
            }
        } catch (RuntimeException e) {
            for (Object o : out) {
                if (o instanceof StreamedGraph r) {
                    r.release();
                } else {
                    MessageCodec.release(o);
                }
            }
            throw e;
        }
        return out;
    }

    /** Whether the frame's messages were read one by one (a client's stream), else as one value. */
    boolean tookGraphsApart() {
        return takeGraphsApart;
    }

    /** How far the frame has been read, for a log line. */
    String progress() {
        return in.position() + " bytes";
    }

    @Override
    public void close() {
        in.close();
    }

    // ------------------------------------------------------------------------------------------
    // Reading item by item


    private void advance() {
        while (true) {
            int mark = in.mark();
            long at = in.position();
            try {
                if (!started) {
                    start();
                    continue;
                }
                StreamLevel l = levels.peek();
                if (l == null) {
                    return;
                }
                if (l.left == 0) {
                    levels.pop();
                    l.done();
                    continue;
                }
                if (l instanceof BinLevel b) {
                    if (!b.fill()) {
                        in.discardRead();
                        return;
                    }
                    continue;
                }
                l.item();
                l.left--;
            } catch (MsgpackCursor.Underflow u) {
                in.rewind(mark);
                in.discardRead();
                long arrived = in.position() + in.available();
                retryAt = at + 2 * (arrived - at);
                return;
            }
            if (++sinceDiscard >= 256) {
                sinceDiscard = 0;
                in.discardRead();
            }
        }
    }

    private void start() {
        if (takeGraphsApart && in.peekType() == MsgpackCursor.Type.ARRAY) {
            levels.push(new Elements(in.readArrayHeader()));
        } else {
            levels.push(new Elements(1));
        }
        started = true;
    }

    /** The messages of a batch (or the frame's one value). */
    private final class Elements extends StreamLevel {
        Elements(long n) {
            super(n);
        }

        @Override
        void item() {
            if (takeGraphsApart && in.peekType() == MsgpackCursor.Type.MAP) {
                int mark = in.mark();
                int n = in.readMapHeader();
                if (n > 0 && in.readStrIf("op")) {
                    Graph g = in.readStrIf("update-graph-hlg") ? new Graph(false)
                            : in.readStrIf("update-graph") ? new Graph(true) : null;
                    if (g != null) {
                        g.fields.put("op", g.pickled ? "update-graph" : "update-graph-hlg");
                        items.add(g);
                        levels.push(new Message(n - 1, g));
                        return;
                    }
                }
                in.rewind(mark);
            }
            items.add(new Raw(in.readRaw()));
        }
    }

    /** The fields of an update-graph(-hlg) message. */
    private final class Message extends StreamLevel {
        private final Graph g;

        Message(long n, Graph g) {
            super(n);
            this.g = g;
        }

        @Override
        void item() {
            Object key = in.readValue();
            String name = key instanceof String k ? k : "";
            Object value = switch (name) {
                case "hlg" -> g.pickled ? null : hlg();
                case "keys" -> keys();
                case "priority" -> g.pickled ? null : priority();
                case "internal_priority" -> g.pickled ? priority() : null;
                case "graph_frames" -> g.pickled ? graphFrames() : null;
                default -> null;
            };
            if (g.fields.containsKey(key)) {
                throw new ProtocolException("duplicate map key: " + brief(key));
            }
            g.fields.put(key, value != null ? value : new Raw(in.readRaw()));
        }

        private Object hlg() {
            if (in.peekType() != MsgpackCursor.Type.MAP) {
                return null;
            }
            levels.push(hlgStream.hlg(in.readMapHeader(), g));
            return StreamedGraph.HLG_READ;
        }

        private Object keys() {
            int n = keyList(in);
            if (n < 0) {
                return null;
            }
            KeyTable table = new KeyTable();
            levels.push(new TableKeys(n, table));
            return table;
        }

        /**
         * 2022's {@code priority}, 2024's {@code internal_priority}: read against the {@code keys}
         * already read (the order distributed's client sends them in), else as a map.
         */
        private Object priority() {
            if (g.fields.get("keys") instanceof KeyTable table && in.peekType() == MsgpackCursor.Type.MAP) {
                levels.push(new TablePriority(in.readMapHeader(), table));
                return table.priorities();
            }
            return priorityMap();
        }

        private Object priorityMap() {
            if (in.peekType() != MsgpackCursor.Type.MAP) {
                return null;
            }
            int n = in.readMapHeader();
            Map<Object, Object> p = new HashMap<>(Math.max(16, (int) (n / 0.75f) + 1));
            levels.push(new Priority(n, p));
            return p;
        }

        private Object graphFrames() {
            if (in.peekType() != MsgpackCursor.Type.ARRAY) {
                return null;
            }
            int n = in.readArrayHeader();
            List<Object> frames = new ArrayList<>(n);
            levels.push(new GraphFrames(n, frames));
            return frames;
        }
    }

    /** {@code keys}, kept as bytes ({@link KeyTable}). */
    private final class TableKeys extends StreamLevel {
        private final KeyTable table;

        TableKeys(long n, KeyTable table) {
            super(n);
            this.table = table;
        }

        @Override
        void item() {
            if (in.peekType() == MsgpackCursor.Type.STR) {
                int n = in.readStrBytes();
                table.add(in.strBytes(), n);
            } else {
                table.addOther(in.readValue());
            }
        }

        @Override
        void done() {
            table.seal();
        }
    }

    /** The client's order, each key looked up in the {@link KeyTable} rather than decoded. */
    private final class TablePriority extends StreamLevel {
        private final KeyTable table;

        TablePriority(long n, KeyTable table) {
            super(n);
            this.table = table;
        }

        @Override
        void item() {
            int i;
            Object key = null;
            if (in.peekType() == MsgpackCursor.Type.STR) {
                int n = in.readStrBytes();
                i = table.find(in.strBytes(), n);
                if (i < 0) {
                    key = new String(in.strBytes(), 0, n, StandardCharsets.UTF_8);
                }
            } else {
                key = in.readValue();
                i = table.indexOf(KeyTable.canonical(key));
            }
            int f = in.peek();
            Object v = in.peekType() == MsgpackCursor.Type.INTEGER && f != 0xcf ? (Object) in.readLong() : in.readValue();
            // Read whole before anything is recorded: an item cut short is read again.
            if (v instanceof Number o) {
                table.order(i, key, o.longValue());
            }
        }
    }

    private final class Priority extends StreamLevel {
        private final Map<Object, Object> priority;

        Priority(long n, Map<Object, Object> priority) {
            super(n);
            this.priority = priority;
        }

        @Override
        void item() {
            Object key = in.readValue();
            int f = in.peek();
            Object v = in.peekType() == MsgpackCursor.Type.INTEGER && f != 0xcf ? (Object) in.readLong() : in.readValue();
            if (priority.putIfAbsent(key, v) != null) {
                throw new ProtocolException("duplicate map key: " + brief(key));
            }
        }
    }

    /** 2024's {@code graph_frames}: the graph pickle and its out-of-band buffers, each a bin. */
    private final class GraphFrames extends StreamLevel {
        private final List<Object> frames;

        GraphFrames(long n, List<Object> frames) {
            super(n);
            this.frames = frames;
        }

        @Override
        void item() {
            if (in.peekType() != MsgpackCursor.Type.BIN) {
                frames.add(in.readValue());
                return;
            }
            byte[] b = new byte[in.readBinHeader()];
            frames.add(b);
            levels.push(new BinLevel(b));
        }
    }

    /** A bin copied as it arrives: the one copy of a graph pickle the scheduler makes. */
    private final class BinLevel extends StreamLevel {
        private final byte[] into;
        private int filled;

        BinLevel(byte[] into) {
            super(1);
            this.into = into;
        }

        /** Copies what has arrived; true once the bin is whole. */
        boolean fill() {
            filled += in.readPayload(into, filled, into.length - filled);
            if (filled == into.length) {
                left = 0;
                return true;
            }
            return false;
        }

        @Override
        void item() {
            throw new IllegalStateException("filled, not read");
        }
    }

    /**
     * A list of keys or the {@code {"__Set__": true, "as-list": [...]}} form of a set
     * (distributed/protocol/serialize.py msgpack_encode_default): its header read, the number of keys
     * that follow; -1 (nothing consumed) for any other value.
     */
    static int keyList(MsgpackCursor in) {
        MsgpackCursor.Type t = in.peekType();
        if (t == MsgpackCursor.Type.ARRAY) {
            return in.readArrayHeader();
        }
        if (t == MsgpackCursor.Type.MAP) {
            int mark = in.mark();
            if (in.readMapHeader() == 2 && in.readStrIf("__Set__") && in.peek() == 0xc3) {
                in.skip();
                if (in.readStrIf("as-list") && in.peekType() == MsgpackCursor.Type.ARRAY) {
                    return in.readArrayHeader();
                }
            }
            in.rewind(mark);
        }
        return -1;
    }

    static String brief(Object v) {
        String s = String.valueOf(v);
        return s.length() > 100 ? s.substring(0, 100) + "..." : s;
    }
}
