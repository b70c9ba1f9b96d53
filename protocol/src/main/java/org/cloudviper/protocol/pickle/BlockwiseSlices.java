package org.cloudviper.protocol.pickle;

import org.cloudviper.protocol.layers.Blockwise;
import org.cloudviper.protocol.layers.Budget;
import org.cloudviper.protocol.layers.LayerException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One pickled {@code dask.blockwise.Blockwise} layer of a Dask 2024.12.1 graph (or its subclass
 * {@code dask.layers.DataFrameIOLayer}) and the slices of its blocks.
 *
 * <p>{@code _make_blockwise_graph} builds each block's task from the layer's {@code task} template,
 * whose arguments refer to its inputs by the tokens {@code __dask_blockwise__<i>}: each token the
 * template depends on is substituted by the block's input (a key; {@code List}s of
 * {@code TaskRef}s along contracted indices, inside {@code Task(token, concatenate_axes, ...)} with
 * {@code concatenate=True}; {@code DataNode(None, value)} for a literal or an IO input's entry, or
 * the entry itself when it holds GraphNodes), and the result renamed to the block's key. A block's
 * slice is that call: {@code template.substitute({token: input, ...}, key)}, with the template and
 * the literals copied from the graph pickle and the inputs written here, so the worker unpickles the
 * very Task Python's scheduler would hold. Its dependencies are the template's, tokens replaced by
 * those of their inputs.
 */
final class BlockwiseSlices {
    static final String TOKEN = "__dask_blockwise__";
    private static final String CONCATENATE_AXES = "concatenate_axes";

    private final String layer;
    private final PickleValue template;
    /** Canonical keys the template depends on (tokens among them), in its order. */
    private final List<Object> templateDeps = new ArrayList<>();
    private final Set<String> tokens = new LinkedHashSet<>();
    private final List<PickleValue> literals = new ArrayList<>();
    private final Map<String, IoInput> ioDeps = new LinkedHashMap<>();
    private final boolean concatenate;
    private final Blockwise plan;

    BlockwiseSlices(String layer, LayerAttrs a, Budget budget) {
        this.layer = layer;
        this.template = a.value("task");
        TaskSpec.Obj t = TaskSpec.object(template);
        if (t == null || !t.is(TaskSpec.TASK_SPEC, "Task")) {
            throw new LayerException("graph layer " + layer + ": task is " + template.resolve().describe()
                    + ", not a dask._task_spec.Task");
        }
        int deps = TaskSpec.dependencies(t);
        if (deps != 0 && deps != TaskSpec.NO_DEPENDENCIES) {
            for (PickleValue d : LayerAttrs.items(template.p.value(deps).resolve())) {
                Object k = PickleValues.canonicalKey(PickleValues.toKey(d));
                templateDeps.add(k);
                if (k instanceof String s && s.startsWith(TOKEN)) {
                    tokens.add(s);
                }
            }
        }
        String output = a.str("output");
        List<String> outIndices = strings(a.value("output_indices"), "output_indices");
        List<Blockwise.Input> inputs = new ArrayList<>();
        List<PickleValue> pairs = LayerAttrs.items(a.value("indices").resolve());
        if (pairs == null) {
            throw a.bad("indices", "a tuple of (name, index) pairs");
        }
        for (PickleValue pv : pairs) {
            List<PickleValue> pair = LayerAttrs.items(pv.resolve());
            if (pair == null || pair.size() != 2) {
                throw a.bad("indices", "a tuple of (name, index) pairs");
            }
            if (pair.get(1).resolve() instanceof PickleValue.None) {
                inputs.add(new Blockwise.Input(null, null));
                literals.add(pair.get(0));
            } else {
                if (!(pair.get(0).resolve() instanceof PickleValue.Str name)) {
                    throw a.bad("indices", "indexed inputs named by str");
                }
                inputs.add(new Blockwise.Input(name.value(), strings(pair.get(1), "indices")));
                literals.add(null);
            }
        }
        Map<String, List<Long>> numblocks = new LinkedHashMap<>();
        PickleValue.PyDict nb = dict(a.value("numblocks"), a, "numblocks");
        for (int i = 0; i < nb.size(); i++) {
            numblocks.put(str(nb.key(i), "numblocks"), ints(nb.value(i), "numblocks"));
        }
        Map<String, Long> dims = null;
        if (a.optValue("_dims") != null) {
            dims = new LinkedHashMap<>();
            PickleValue.PyDict d = dict(a.value("_dims"), a, "_dims");
            for (int i = 0; i < d.size(); i++) {
                dims.put(str(d.key(i), "_dims"), integer(d.value(i), "_dims"));
            }
        }
        Map<String, Object> newAxes = new LinkedHashMap<>();
        if (a.optValue("new_axes") != null) {
            PickleValue.PyDict d = dict(a.value("new_axes"), a, "new_axes");
            for (int i = 0; i < d.size(); i++) {
                List<PickleValue> l = d.value(i).resolve() instanceof PickleValue.Tuple tt ? tt.items() : null;
                newAxes.put(str(d.key(i), "new_axes"), l != null ? l : 1L);
            }
        }
        List<List<Long>> outputBlocks = null;
        if (a.optValue("output_blocks") != null) {
            outputBlocks = new ArrayList<>();
            List<PickleValue> blocks = LayerAttrs.items(a.value("output_blocks").resolve());
            if (blocks == null) {
                throw a.bad("output_blocks", "a set of block tuples");
            }
            for (PickleValue b : blocks) {
                outputBlocks.add(ints(b, "output_blocks"));
            }
        }
        if (a.optValue("io_deps") != null) {
            PickleValue.PyDict io = dict(a.value("io_deps"), a, "io_deps");
            for (int i = 0; i < io.size(); i++) {
                String name = str(io.key(i), "io_deps");
                ioDeps.put(name, new IoInput(layer + " io_deps[" + name + "]", io.value(i)));
            }
        }
        PickleValue c = a.optValue("concatenate");
        this.concatenate = c != null && c.resolve() instanceof PickleValue.Bool b && b.value();
        this.plan = new Blockwise(layer, output, outIndices, inputs, numblocks, concatenate, newAxes, outputBlocks,
                dims, ioDeps.keySet(), budget);
    }

    Blockwise plan() {
        return plan;
    }

    /** One block's slice: the template's {@code substitute} called with the block's inputs and key. */
    TaskSlice slice(SliceEmitter em, Object key, List<Blockwise.Arg> args, int layerIndex) {
        List<Sub> subs = new ArrayList<>();
        List<PickleValue> bodies = new ArrayList<>();
        bodies.add(template);
        Set<Object> deps = new LinkedHashSet<>(templateDeps);
        for (int i = 0; i < args.size(); i++) {
            String token = TOKEN + i;
            if (!tokens.contains(token)) {
                continue; // _make_blockwise_graph skips inputs the task does not depend on
            }
            deps.remove(token);
            Sub s = sub(token, args.get(i), deps);
            if (s.body != null) {
                bodies.add(s.body);
            }
            subs.add(s);
        }
        PickleWriter w = em.w;
        em.begin();
        em.prefix(bodies.toArray(new PickleValue[0]));
        w.global("builtins", "getattr");
        em.body(template);
        w.str("substitute");
        w.tupleEnd(2).reduce();
        w.emptyDict();
        if (!subs.isEmpty()) {
            w.mark();
            for (Sub s : subs) {
                w.str(s.token);
                s.write(em);
            }
            w.setItems();
        }
        w.value(key);
        w.tupleEnd(2).reduce();
        byte[] bytes = em.finish();
        int[] frames = em.buffers();
        for (int i = 0; i < frames.length; i++) {
            frames[i]++;
        }
        return new TaskSlice(key, new ArrayList<>(deps), bytes, frames, TaskSlice.Kind.BLOCKWISE, layerIndex);
    }

    /** What one token is substituted by; {@code body} is the copied value it writes, if any. */
    private abstract static class Sub {
        final String token;
        final PickleValue body;

        Sub(String token, PickleValue body) {
            this.token = token;
            this.body = body;
        }

        abstract void write(SliceEmitter em);
    }

    private Sub sub(String token, Blockwise.Arg arg, Set<Object> deps) {
        if (arg instanceof Blockwise.Block b) {
            deps.add(PickleValues.canonicalKey(b.key()));
            return new Sub(token, null) {
                @Override
                void write(SliceEmitter em) {
                    em.w.value(b.key());
                }
            };
        }
        if (arg instanceof Blockwise.Blocks b) {
            addKeys(b.nested(), deps);
            return new Sub(token, null) {
                @Override
                void write(SliceEmitter em) {
                    PickleWriter w = em.w;
                    if (concatenate) {
                        w.global(TaskSpec.TASK_SPEC, "Task");
                        w.tupleStart(4).str(token).global("dask.array.core", CONCATENATE_AXES);
                        nodeList(w, b.nested());
                        w.emptyList().mark();
                        for (long x : b.axes()) {
                            w.integer(x);
                        }
                        w.appends();
                        w.tupleEnd(4).reduce();
                    } else {
                        nodeList(w, b.nested());
                    }
                }
            };
        }
        if (arg instanceof Blockwise.Literal l) {
            PickleValue v = literals.get(l.input());
            boolean node = addNodeDeps(v, deps);
            return new Sub(token, v) {
                @Override
                void write(SliceEmitter em) {
                    if (node) {
                        em.body(v);
                    } else {
                        dataNode(em, v, null);
                    }
                }
            };
        }
        Blockwise.IoDep io = (Blockwise.IoDep) arg;
        IoInput in = ioDeps.get(io.name());
        Object value = in.get(io.coords());
        if (value instanceof PickleValue v) {
            boolean parse = containsNodes(v, 0);
            if (parse) {
                addNodeDeps(v, deps);
            }
            return new Sub(token, v) {
                @Override
                void write(SliceEmitter em) {
                    if (parse) {
                        em.w.global(TaskSpec.TASK_SPEC, "parse_input");
                        em.body(v);
                        em.w.tupleEnd(1).reduce();
                    } else {
                        dataNode(em, v, null);
                    }
                }
            };
        }
        return new Sub(token, null) {
            @Override
            void write(SliceEmitter em) {
                dataNode(em, null, value);
            }
        };
    }

    /** {@code DataNode(None, value)}: a copied value, or a plain one written here. */
    private static void dataNode(SliceEmitter em, PickleValue copied, Object plain) {
        PickleWriter w = em.w;
        w.global(TaskSpec.TASK_SPEC, "DataNode");
        w.none();
        if (copied != null) {
            em.body(copied);
        } else {
            writePlain(w, plain);
        }
        w.tupleEnd(2).reduce();
    }

    /** Plain values and {@code slice(start, stop, None)} (an {@link IoInput.Slice}). */
    private static void writePlain(PickleWriter w, Object v) {
        if (v instanceof IoInput.Slice s) {
            w.global("builtins", "slice").integer(s.start()).integer(s.stop()).none().tupleEnd(3).reduce();
        } else if (v instanceof List<?> l) {
            w.tupleStart(l.size());
            for (Object o : l) {
                writePlain(w, o);
            }
            w.tupleEnd(l.size());
        } else {
            w.value(v);
        }
    }

    /** {@code _lol_product(..., as_taskref=True)}: {@code List(*children)}, leaves {@code TaskRef(key)}. */
    private static void nodeList(PickleWriter w, List<Object> nested) {
        w.global(TaskSpec.TASK_SPEC, "List");
        w.tupleStart(nested.size());
        for (Object o : nested) {
            @SuppressWarnings("unchecked")
            List<Object> l = (List<Object>) o;
            if (!l.isEmpty() && !(l.get(0) instanceof List<?>)) {
                w.global(TaskSpec.TASK_SPEC, "TaskRef");
                w.value(l);
                w.tupleEnd(1).reduce();
            } else {
                nodeList(w, l);
            }
        }
        w.tupleEnd(nested.size()).reduce();
    }

    private static void addKeys(List<Object> nested, Set<Object> deps) {
        for (Object o : nested) {
            @SuppressWarnings("unchecked")
            List<Object> l = (List<Object>) o;
            if (!l.isEmpty() && !(l.get(0) instanceof List<?>)) {
                deps.add(PickleValues.canonicalKey(l));
            } else {
                addKeys(l, deps);
            }
        }
    }

    /**
     * If {@code v} is a GraphNode or TaskRef, adds its dependencies and returns true
     * ({@code _make_blockwise_graph} substitutes those as they are).
     */
    private static boolean addNodeDeps(PickleValue v, Set<Object> deps) {
        TaskSpec.Obj o = TaskSpec.object(v);
        int ref = TaskSpec.taskRefKey(o);
        if (ref != 0 && o.is(TaskSpec.TASK_SPEC, "TaskRef")) {
            deps.add(PickleValues.canonicalKey(PickleValues.toKey(v.p.value(ref))));
            return true;
        }
        int d = TaskSpec.dependencies(o);
        if (d == 0) {
            return false;
        }
        if (d != TaskSpec.NO_DEPENDENCIES) {
            for (PickleValue k : LayerAttrs.items(v.p.value(d).resolve())) {
                deps.add(PickleValues.canonicalKey(PickleValues.toKey(k)));
            }
        }
        return true;
    }

    /**
     * Whether {@code parse_input(v)} is a GraphNode: {@code v} is one (or a TaskRef), or a dict, list,
     * set or tuple that holds one; the dependencies are then added by walking the same way.
     */
    private static boolean containsNodes(PickleValue v, int depth) {
        if (depth > PickleValues.WALK_DEPTH) {
            throw new LayerException("IO input nested deeper than " + PickleValues.WALK_DEPTH);
        }
        TaskSpec.Obj o = TaskSpec.object(v);
        if (TaskSpec.dependencies(o) != 0 || (o != null && o.is(TaskSpec.TASK_SPEC, "TaskRef"))) {
            return true;
        }
        PickleValue r = v.resolve();
        if (r instanceof PickleValue.PyDict d) {
            for (int i = 0; i < d.size(); i++) {
                if (containsNodes(d.value(i), depth + 1)) {
                    return true;
                }
            }
        } else if (r instanceof PickleValue.PyList || r instanceof PickleValue.Tuple
                || (r instanceof PickleValue.PySet s && !s.isFrozen())) {
            for (PickleValue x : LayerAttrs.items(r)) {
                if (containsNodes(x, depth + 1)) {
                    return true;
                }
            }
        }
        return false;
    }

    private List<String> strings(PickleValue v, String field) {
        List<PickleValue> items = LayerAttrs.items(v.resolve());
        if (items == null) {
            throw new LayerException("graph layer " + layer + ": " + field + " is " + v.resolve().describe()
                    + " (expected: a tuple of str)");
        }
        List<String> out = new ArrayList<>(items.size());
        for (PickleValue x : items) {
            out.add(str(x, field));
        }
        return out;
    }

    private String str(PickleValue v, String field) {
        if (v.resolve() instanceof PickleValue.Str s) {
            return s.value();
        }
        throw new LayerException("graph layer " + layer + ": " + field + " holds " + v.resolve().describe()
                + " (expected: a str)");
    }

    private long integer(PickleValue v, String field) {
        if (v.resolve() instanceof PickleValue.Int i && i.fitsLong()) {
            return i.longValue();
        }
        throw new LayerException("graph layer " + layer + ": " + field + " holds " + v.resolve().describe()
                + " (expected: an int)");
    }

    private List<Long> ints(PickleValue v, String field) {
        List<PickleValue> items = LayerAttrs.items(v.resolve());
        if (items == null) {
            throw new LayerException("graph layer " + layer + ": " + field + " holds " + v.resolve().describe()
                    + " (expected: a tuple of ints)");
        }
        List<Long> out = new ArrayList<>(items.size());
        for (PickleValue x : items) {
            out.add(integer(x, field));
        }
        return List.copyOf(out);
    }

    private static PickleValue.PyDict dict(PickleValue v, LayerAttrs a, String field) {
        if (v.resolve() instanceof PickleValue.PyDict d) {
            return d;
        }
        throw a.bad(field, "a dict");
    }

    /**
     * An IO input ({@code BlockwiseDep}) and its {@code get(idx, idx)}: a copied value
     * ({@link PickleValue}) or a plain one (Lists for tuples, {@link Slice}s).
     */
    static final class IoInput {
        /** {@code slice(start, stop, None)}. */
        record Slice(long start, long stop) {
        }

        private final String where;
        private final TaskSpec.Obj o;
        private final String cls;
        private Map<Object, PickleValue> index;
        private List<List<Long>> chunks;

        IoInput(String where, PickleValue v) {
            this.where = where;
            this.o = TaskSpec.object(v);
            if (o == null) {
                throw new LayerException("graph layer " + where + " is " + v.resolve().describe());
            }
            this.cls = o.className();
            switch (cls) {
                case "dask.blockwise.BlockwiseDepDict", "dask.blockwise.BlockIndex", "dask.layers.ArrayChunkShapeDep",
                        "dask.layers.ArraySliceDep", "dask.layers.ArrayBlockIdDep", "dask.layers.ArrayValuesDep" -> {
                }
                default -> throw new LayerException("graph layer " + where + ": cloudviper cannot expand the IO input "
                        + cls + " (it reads BlockwiseDepDict, BlockIndex and the ArrayBlockwiseDeps of dask.layers)");
            }
        }

        Object get(List<Long> idx) {
            switch (cls) {
                case "dask.blockwise.BlockwiseDepDict" -> {
                    PickleValue v = lookup("mapping", idx, true);
                    return v != null ? v : idx;
                }
                case "dask.layers.ArrayValuesDep" -> {
                    PickleValue v = lookup("values", idx, false);
                    return v != null ? v : idx;
                }
                case "dask.layers.ArrayChunkShapeDep" -> {
                    List<List<Long>> c = chunks();
                    List<Object> shape = new ArrayList<>();
                    for (int i = 0; i < Math.min(idx.size(), c.size()); i++) {
                        shape.add(at(c.get(i), idx.get(i)));
                    }
                    return shape;
                }
                case "dask.layers.ArraySliceDep" -> {
                    List<List<Long>> c = chunks();
                    List<Object> slices = new ArrayList<>();
                    for (int i = 0; i < Math.min(idx.size(), c.size()); i++) {
                        long j = idx.get(i);
                        long start = 0;
                        at(c.get(i), j);
                        for (int k = 0; k < j; k++) {
                            start += c.get(i).get(k);
                        }
                        slices.add(new Slice(start, start + c.get(i).get((int) j)));
                    }
                    return slices;
                }
                default -> { // BlockIndex, ArrayBlockIdDep
                    return idx;
                }
            }
        }

        /** {@code dict[idx]}; for BlockwiseDepDict also its leading {@code len(numblocks)} parts. */
        private PickleValue lookup(String field, List<Long> idx, boolean flat) {
            if (index == null) {
                PickleValue m = o.attr(field);
                if (m == null || !(m.resolve() instanceof PickleValue.PyDict d)) {
                    throw new LayerException("graph layer " + where + ": " + field + " is "
                            + (m == null ? "missing" : m.resolve().describe()) + " (expected: a dict)");
                }
                index = new HashMap<>(d.size() * 2);
                for (int i = 0; i < d.size(); i++) {
                    Object k;
                    try {
                        k = PickleValues.canonicalKey(PickleValues.toKey(d.key(i)));
                    } catch (PickleException notAKey) {
                        continue; // no block index can equal it
                    }
                    index.put(k, d.value(i)); // the last of a repeated key wins, as in a dict
                }
            }
            PickleValue v = index.get(PickleValues.canonicalKey(idx));
            if (v == null && flat) {
                PickleValue nb = o.attr("numblocks");
                List<PickleValue> n = nb == null ? null : LayerAttrs.items(nb.resolve());
                if (n != null && n.size() < idx.size()) {
                    v = index.get(PickleValues.canonicalKey(idx.subList(0, n.size())));
                }
            }
            return v;
        }

        private List<List<Long>> chunks() {
            if (chunks == null) {
                PickleValue c = o.attr("chunks");
                List<PickleValue> axes = c == null ? null : LayerAttrs.items(c.resolve());
                if (axes == null) {
                    throw new LayerException("graph layer " + where + ": " + cls + " without chunks");
                }
                chunks = new ArrayList<>();
                for (PickleValue axis : axes) {
                    List<PickleValue> sizes = LayerAttrs.items(axis.resolve());
                    List<Long> l = new ArrayList<>();
                    for (PickleValue s : sizes == null ? List.<PickleValue>of() : sizes) {
                        if (!(s.resolve() instanceof PickleValue.Int i) || !i.fitsLong()) {
                            throw new LayerException("graph layer " + where + ": chunks of " + cls + " are not ints");
                        }
                        l.add(i.longValue());
                    }
                    chunks.add(l);
                }
            }
            return chunks;
        }

        private long at(List<Long> sizes, long i) {
            if (i < 0 || i >= sizes.size()) {
                throw new LayerException("graph layer " + where + ": block " + i + " beyond the chunks of " + cls);
            }
            return sizes.get((int) i);
        }
    }
}
