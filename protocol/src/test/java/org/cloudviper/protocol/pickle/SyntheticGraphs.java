package org.cloudviper.protocol.pickle;

import java.util.HashMap;
import java.util.Map;

/**
 * Large update-graph pickles written in Java the way CPython's pickler lays them out (MEMOIZE after
 * every object, BINGET/LONG_BINGET for repeats, SETITEMS/APPENDS in batches of 1000), so slicer
 * timings do not depend on a Python installation. PythonVerifyTest checks that Python reads them
 * as the graphs described here.
 */
final class SyntheticGraphs {
    private final PickleWriter w = new PickleWriter(1 << 20);
    private final Map<String, Integer> memo = new HashMap<>();
    private int next;

    private SyntheticGraphs() {
    }

    /** {@code chain-i: Task(chain-i, operator.add, Alias(chain-(i-1)), i)}; chain-0 adds 0 and 0. */
    static byte[] taskChain(int n) {
        SyntheticGraphs g = new SyntheticGraphs();
        g.head("dask.highlevelgraph", "MaterializedLayer");
        g.w.emptyDict().memoize();
        g.next++;
        g.w.mark();
        g.str("annotations");
        g.w.none();
        g.str("collection_annotations");
        g.w.none();
        g.str("mapping");
        g.w.emptyDict().memoize();
        g.next++;
        for (int i = 0; i < n; i++) {
            if (i % 1000 == 0) {
                if (i > 0) {
                    g.w.setItems();
                }
                g.w.mark();
            }
            int key = g.fresh("chain-" + i);
            g.task(key, i == 0 ? -1 : g.memo.get("chain-" + (i - 1)), i);
        }
        g.w.setItems();
        return g.tail();
    }

    /** client.map(operator.neg, range(n)) with keys neg-i. */
    static byte[] map(int n) {
        SyntheticGraphs g = new SyntheticGraphs();
        g.head("distributed.client", "_MapLayer");
        g.w.emptyDict().memoize();
        g.next++;
        g.w.mark();
        g.str("func");
        g.global("operator", "neg");
        g.str("iterables");
        g.w.op(']');
        g.w.memoize();
        g.next++;
        g.w.tupleStart(n);
        for (int i = 0; i < n; i++) {
            g.w.integer(i);
        }
        g.w.tupleEnd(n);
        g.w.memoize();
        g.next++;
        g.w.op('a');
        g.str("key");
        g.str("neg");
        g.str("pure");
        g.w.bool(true);
        g.str("kwargs");
        g.w.emptyDict().memoize();
        g.next++;
        g.str("annotations");
        g.w.none();
        g.str("collection_annotations");
        g.w.none();
        g.str("_cached_keys");
        g.w.op(']');
        g.w.memoize();
        g.next++;
        for (int i = 0; i < n; i++) {
            if (i % 1000 == 0) {
                if (i > 0) {
                    g.w.op('e');
                }
                g.w.mark();
            }
            g.fresh("neg-" + i);
        }
        g.w.op('e');
        return g.tail();
    }

    /** Legacy tuple tasks {@code d-i: (operator.add, "d-(i-1)", i)}; d-0 is the data 0. */
    static byte[] legacyChain(int n) {
        SyntheticGraphs g = new SyntheticGraphs();
        g.head("dask.highlevelgraph", "MaterializedLayer");
        g.w.emptyDict().memoize();
        g.next++;
        g.w.mark();
        g.str("annotations");
        g.w.none();
        g.str("collection_annotations");
        g.w.none();
        g.str("mapping");
        g.w.emptyDict().memoize();
        g.next++;
        for (int i = 0; i < n; i++) {
            if (i % 1000 == 0) {
                if (i > 0) {
                    g.w.setItems();
                }
                g.w.mark();
            }
            g.fresh("d-" + i);
            if (i == 0) {
                g.w.integer(0);
            } else {
                g.global("operator", "add");
                g.fresh("d-" + (i - 1)); // a new str object, as f"d-{i - 1}" would be
                g.w.integer(i);
                g.w.tupleEnd(3);
                g.w.memoize();
                g.next++;
            }
        }
        g.w.setItems();
        return g.tail();
    }

    /** {@code x: 1, y: (neg, (neg, ... (neg, "x")))} nested {@code depth} calls deep. */
    static byte[] legacyNested(int depth) {
        SyntheticGraphs g = new SyntheticGraphs();
        g.head("dask.highlevelgraph", "MaterializedLayer");
        g.w.emptyDict().memoize();
        g.next++;
        g.w.mark();
        g.str("annotations");
        g.w.none();
        g.str("collection_annotations");
        g.w.none();
        g.str("mapping");
        g.w.emptyDict().memoize();
        g.next++;
        g.w.mark();
        g.fresh("x");
        g.w.integer(1);
        g.fresh("y");
        for (int i = 0; i < depth; i++) {
            g.global("operator", "neg");
        }
        g.str("x");
        for (int i = 0; i < depth; i++) {
            g.w.tupleEnd(2);
        }
        g.w.setItems();
        return g.tail();
    }

    /** ToPickle(HighLevelGraph(layers={"layer": <layer class>(...)})) up to the layer's NEWOBJ. */
    private void head(String layerModule, String layerClass) {
        w.proto();
        global("distributed.protocol.serialize", "ToPickle");
        w.emptyTuple().newobj().memoize();
        next++;
        w.emptyDict().memoize();
        next++;
        str("data");
        global("dask.highlevelgraph", "HighLevelGraph");
        w.emptyTuple().newobj().memoize();
        next++;
        w.emptyDict().memoize();
        next++;
        w.mark();
        str("dependencies");
        w.emptyDict().memoize();
        next++;
        str("layer");
        w.op(0x8f); // EMPTY_SET
        w.memoize();
        next++;
        w.setItem();
        str("key_dependencies");
        w.emptyDict().memoize();
        next++;
        str("layers");
        w.emptyDict().memoize();
        next++;
        str("layer");
        global(layerModule, layerClass);
        w.emptyTuple().newobj().memoize();
        next++;
    }

    private byte[] tail() {
        w.setItems().build(); // layer state
        w.setItem(); // layers["layer"]
        w.setItems().build(); // HighLevelGraph state
        w.setItem(); // {"data": graph}
        w.build().stop(); // ToPickle
        return w.toByteArray();
    }

    private void task(int key, int depKey, int i) {
        global("dask._task_spec", "Task");
        w.emptyTuple().newobj().memoize();
        next++;
        w.none();
        w.emptyDict().memoize();
        next++;
        w.mark();
        str("func");
        global("operator", "add");
        str("args");
        if (depKey < 0) {
            w.integer(0).integer(0).tupleEnd(2).memoize();
        } else {
            alias(depKey);
            w.integer(i).tupleEnd(2).memoize();
        }
        next++;
        str("kwargs");
        w.emptyDict().memoize();
        next++;
        str("_token");
        w.none();
        str("_is_coro");
        w.none();
        str("_repr");
        w.none();
        str("key");
        w.get(key);
        str("_dependencies");
        w.mark();
        if (depKey >= 0) {
            w.get(depKey);
        }
        w.frozenset().memoize();
        next++;
        w.setItems().tupleEnd(2).memoize();
        next++;
        w.build();
    }

    private void alias(int target) {
        global("dask._task_spec", "Alias");
        w.emptyTuple().newobj().memoize();
        next++;
        w.none();
        w.emptyDict().memoize();
        next++;
        w.mark();
        str("target");
        w.get(target);
        str("key");
        w.get(target);
        str("_dependencies");
        w.mark().get(target).frozenset().memoize();
        next++;
        w.setItems().tupleEnd(2).memoize();
        next++;
        w.build();
    }

    /** A str, memoized, or a reference to the same str written before (interned names). */
    private void str(String s) {
        Integer m = memo.get(s);
        if (m != null) {
            w.get(m);
            return;
        }
        fresh(s);
    }

    /** A new str object (memoized even if an equal one exists); returns its memo index. */
    private int fresh(String s) {
        w.str(s).memoize();
        memo.put(s, next);
        return next++;
    }

    private void global(String module, String name) {
        String id = "\0global " + module + "." + name;
        Integer m = memo.get(id);
        if (m != null) {
            w.get(m);
            return;
        }
        str(module);
        str(name);
        w.op(0x93).memoize(); // STACK_GLOBAL
        memo.put(id, next++);
    }
}
