package org.cloudviper.protocol.layers;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The block arithmetic of {@code dask.blockwise.Blockwise}: which input blocks every output block
 * reads ({@code _get_coord_mapping} and the loop of {@code make_blockwise_graph} (2022.12.1) /
 * {@code _make_blockwise_graph} (2024.12.1), which agree on it). What a block's task is built from
 * differs between the generations and is left to their readers: this yields, per output block, one
 * {@link Arg} per input.
 *
 * <p>Indices are the layer's index names. An input with an index reads the block at the output
 * block's coordinates, coordinate 0 along axes it has only one block of (broadcasting), and every
 * block along a contracted index (one missing from the output), as nested lists of keys that
 * {@code concatenate=True} passes through {@code concatenate_axes}.
 */
public final class Blockwise {

    /** One input: {@code name} with its index, or a literal ({@code index == null}). */
    public record Input(Object name, List<String> index) {
    }

    /** What one input contributes to one output block. */
    public sealed interface Arg permits Literal, Block, Blocks, IoDep {
    }

    /** Input {@code input} is a literal (no index): the same value for every block. */
    public record Literal(int input) implements Arg {
    }

    /** One block: the key {@code (name, *coords)}. */
    public record Block(List<Object> key) implements Arg {
    }

    /**
     * Blocks along contracted indices: nested Lists whose leaves are keys (Lists), one level per
     * contracted axis; {@code axes} are the positions of the contracted indices in the input's index
     * ({@code concat_axes}).
     */
    public record Blocks(List<Object> nested, List<Long> axes) implements Arg {
    }

    /** An IO input ({@code io_deps}): the argument for block {@code coords} comes from it. */
    public record IoDep(String name, List<Long> coords) implements Arg {
    }

    /** Receives the output blocks in Python's order. */
    public interface BlockConsumer {
        void block(List<Object> key, List<Long> coords, List<Arg> args, List<List<Object>> dependencies);
    }

    private final String layer;
    private final String output;
    private final List<String> outIndices;
    private final List<Input> inputs;
    private final Map<String, List<Long>> numblocks;
    private final boolean concatenate;
    private final Map<String, Long> dims;
    private final List<List<Long>> outputBlocks;
    private final Set<String> ioDeps;
    private final int[][] coordMaps;
    private final List<List<Long>> concatAxes = new ArrayList<>();
    /** Output coordinates, then per contracted index its range and its broadcast list, then 0. */
    private final List<Object> dummies = new ArrayList<>();
    private final long blocks;

    /**
     * @param outputBlocks the blocks to build ({@code output_blocks}), or null for all of them
     * @param dims         blocks per index; null to derive them as {@code _make_dims} does
     * @param newAxes      {@code new_axes}: index to its size (a Long or a List of chunk sizes)
     */
    public Blockwise(String layer, String output, List<String> outIndices, List<Input> inputs,
                     Map<String, List<Long>> numblocks, boolean concatenate, Map<String, Object> newAxes,
                     List<List<Long>> outputBlocks, Map<String, Long> dims, Set<String> ioDeps, Budget budget) {
        this.layer = layer;
        this.output = output;
        this.outIndices = List.copyOf(outIndices);
        this.inputs = List.copyOf(inputs);
        this.numblocks = numblocks;
        this.concatenate = concatenate;
        this.ioDeps = ioDeps;
        this.dims = dims != null ? dims : makeDims(newAxes);

        Set<String> blockNames = new LinkedHashSet<>();
        Set<String> allIndices = new LinkedHashSet<>();
        for (Input in : inputs) {
            if (in.index() != null) {
                if (!(in.name() instanceof String s)) {
                    throw new LayerException(where() + "an indexed input is named " + in.name() + ", not by a str");
                }
                blockNames.add(s);
                allIndices.addAll(in.index());
                if (in.index().size() > budget.limits().maxDimensions()) {
                    throw LayerException.limit(layer, "dimensions of an input index", in.index().size(),
                            budget.limits().maxDimensions());
                }
            }
        }
        if (!numblocks.keySet().equals(blockNames)) {
            throw new LayerException(where() + "numblocks names " + numblocks.keySet() + ", the indexed inputs "
                    + blockNames);
        }
        for (String i : outIndices) {
            dim(i);
        }
        if (outIndices.size() + allIndices.size() > budget.limits().maxDimensions()) {
            throw LayerException.limit(layer, "dimensions", outIndices.size() + allIndices.size(),
                    budget.limits().maxDimensions());
        }
        Set<String> out = new LinkedHashSet<>(outIndices);
        List<String> dummyIndices = new ArrayList<>();
        for (String i : allIndices) {
            if (!out.contains(i)) {
                dummyIndices.add(i);
            }
        }
        Map<String, Integer> indexPos = new HashMap<>();
        Map<String, Integer> zeroPos = new HashMap<>();
        for (int i = 0; i < outIndices.size(); i++) {
            indexPos.put(outIndices.get(i), i);
            zeroPos.put(outIndices.get(i), -1);
        }
        int nout = outIndices.size();
        for (int i = 0; i < dummyIndices.size(); i++) {
            String ind = dummyIndices.get(i);
            indexPos.put(ind, 2 * i + nout);
            zeroPos.put(ind, 2 * i + 1 + nout);
            long d = dim(ind);
            budget.checkInputs(layer, d);
            List<Long> range = new ArrayList<>((int) d);
            for (long j = 0; j < d; j++) {
                range.add(j);
            }
            long reps = concatenate ? 1 : d;
            List<Long> zeros = new ArrayList<>((int) reps);
            for (long j = 0; j < reps; j++) {
                zeros.add(0L);
            }
            dummies.add(List.copyOf(range));
            dummies.add(List.copyOf(zeros));
        }
        dummies.add(0L);
        coordMaps = new int[inputs.size()][];
        for (int a = 0; a < inputs.size(); a++) {
            Input in = inputs.get(a);
            if (in.index() == null) {
                concatAxes.add(null);
                continue;
            }
            List<Long> nb = numblocks.get((String) in.name());
            if (nb == null || nb.size() != in.index().size()) {
                throw new LayerException(where() + "input " + in.name() + " has index " + in.index() + " but numblocks "
                        + nb);
            }
            int[] cmap = new int[nb.size()];
            List<Long> axes = new ArrayList<>();
            long inputs1 = 1;
            for (int n = 0; n < nb.size(); n++) {
                String i = in.index().get(n);
                cmap[n] = nb.get(n) == 1 ? zeroPos.get(i) : indexPos.get(i);
                if (!out.contains(i)) {
                    axes.add((long) n);
                    Object c = coordinate(cmap[n]);
                    inputs1 = Budget.times(inputs1, c instanceof List<?> l ? l.size() : 1);
                }
            }
            budget.checkInputs(layer, inputs1);
            coordMaps[a] = cmap;
            concatAxes.add(List.copyOf(axes));
        }
        this.outputBlocks = outputBlocks;
        long n = 1;
        if (outputBlocks != null && !outputBlocks.isEmpty()) {
            n = outputBlocks.size();
        } else {
            for (String i : outIndices) {
                n = Budget.times(n, dim(i));
            }
        }
        budget.takeTasks(layer, n);
        this.blocks = n;
    }

    /** Output blocks (tasks) of the layer. */
    public long size() {
        return blocks;
    }

    /** Blocks per index. */
    public Map<String, Long> dims() {
        return dims;
    }

    /** Calls {@code c} for every output block, in Python's order. */
    public void forEach(BlockConsumer c) {
        if (outputBlocks != null && !outputBlocks.isEmpty()) {
            for (List<Long> coords : outputBlocks) {
                if (coords.size() != outIndices.size()) {
                    throw new LayerException(where() + "output block " + coords + " does not have "
                            + outIndices.size() + " coordinates");
                }
                block(coords, c);
            }
            return;
        }
        int n = outIndices.size();
        long[] idx = new long[n];
        for (String i : outIndices) {
            if (dim(i) == 0) {
                return;
            }
        }
        while (true) {
            List<Long> coords = new ArrayList<>(n);
            for (long v : idx) {
                coords.add(v);
            }
            block(List.copyOf(coords), c);
            int d = n - 1;
            for (; d >= 0; d--) {
                if (++idx[d] < dim(outIndices.get(d))) {
                    break;
                }
                idx[d] = 0;
            }
            if (d < 0) {
                return;
            }
        }
    }

    private void block(List<Long> outCoords, BlockConsumer c) {
        List<Arg> args = new ArrayList<>(inputs.size());
        List<List<Object>> deps = new ArrayList<>();
        for (int a = 0; a < inputs.size(); a++) {
            Input in = inputs.get(a);
            if (in.index() == null) {
                args.add(new Literal(a));
                continue;
            }
            String name = (String) in.name();
            int[] cmap = coordMaps[a];
            List<Object> argCoords = new ArrayList<>(cmap.length);
            for (int p : cmap) {
                argCoords.add(p < outCoords.size() && p >= 0 ? outCoords.get(p) : coordinate(p));
            }
            List<Long> axes = concatAxes.get(a);
            boolean io = ioDeps.contains(name);
            if (io) {
                if (!axes.isEmpty()) {
                    throw new LayerException(where() + "IO input " + name + " is contracted along " + axes
                            + ", which Dask itself does not support");
                }
                List<Long> coords = new ArrayList<>(argCoords.size());
                for (Object o : argCoords) {
                    coords.add((Long) o);
                }
                args.add(new IoDep(name, List.copyOf(coords)));
            } else if (!axes.isEmpty()) {
                Object nested = lolProduct(List.of(name), argCoords, 0, deps);
                if (!(nested instanceof List<?> l) || l.isEmpty() || !(l.get(0) instanceof List<?>)) {
                    throw new LayerException(where() + "contracted input " + name + " yields no block list");
                }
                @SuppressWarnings("unchecked")
                List<Object> lol = (List<Object>) nested;
                args.add(new Blocks(lol, axes));
            } else {
                List<Object> key = new ArrayList<>(argCoords.size() + 1);
                key.add(name);
                key.addAll(argCoords);
                List<Object> k = List.copyOf(key);
                deps.add(k);
                args.add(new Block(k));
            }
        }
        List<Object> key = new ArrayList<>(outCoords.size() + 1);
        key.add(output);
        key.addAll(outCoords);
        c.block(List.copyOf(key), outCoords, args, deps);
    }

    /** The coordinate set entry at position p (a negative p counts from the end, as in Python). */
    private Object coordinate(int p) {
        int n = outIndices.size();
        if (p < 0) {
            return dummies.get(dummies.size() + p);
        }
        return dummies.get(p - n);
    }

    /**
     * {@code lol_product(head, values)}: the key when no value is a list, else one list level per
     * list value; every key is added to {@code deps}.
     */
    private static Object lolProduct(List<Object> head, List<Object> values, int from, List<List<Object>> deps) {
        if (from == values.size()) {
            List<Object> k = List.copyOf(head);
            deps.add(k);
            return k;
        }
        Object v = values.get(from);
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            for (Object x : l) {
                List<Object> h = new ArrayList<>(head);
                h.add(x);
                out.add(lolProduct(h, values, from + 1, deps));
            }
            return out;
        }
        List<Object> h = new ArrayList<>(head);
        h.add(v);
        return lolProduct(h, values, from + 1, deps);
    }

    private long dim(String index) {
        Long d = dims.get(index);
        if (d == null || d < 0) {
            throw new LayerException(where() + "no block count for index " + index + " (dims " + dims + ")");
        }
        return d;
    }

    /**
     * {@code _make_dims}: {@code broadcast_dimensions} over the indexed inputs (an index's block
     * counts must agree once 1s, broadcast, are set aside), then {@code new_axes} (a tuple of chunk
     * sizes counts its length, anything else 1).
     */
    private Map<String, Long> makeDims(Map<String, Object> newAxes) {
        Map<String, Set<Long>> seen = new LinkedHashMap<>();
        for (Input in : inputs) {
            if (in.index() == null || !(in.name() instanceof String s) || !numblocks.containsKey(s)) {
                continue;
            }
            List<Long> nb = numblocks.get(s);
            for (int n = 0; n < Math.min(nb.size(), in.index().size()); n++) {
                seen.computeIfAbsent(in.index().get(n), k -> new LinkedHashSet<>()).add(nb.get(n));
            }
        }
        Map<String, Long> out = new LinkedHashMap<>();
        for (Map.Entry<String, Set<Long>> e : seen.entrySet()) {
            Set<Long> v = new LinkedHashSet<>(e.getValue());
            if (v.size() > 1) {
                v.remove(1L);
            }
            if (v.size() != 1) {
                throw new LayerException(where() + "shapes do not align: " + seen);
            }
            out.put(e.getKey(), v.iterator().next());
        }
        for (Map.Entry<String, Object> e : newAxes.entrySet()) {
            out.put(e.getKey(), e.getValue() instanceof List<?> l ? (long) l.size() : 1L);
        }
        return out;
    }

    private String where() {
        return "graph layer " + layer + ": ";
    }
}
