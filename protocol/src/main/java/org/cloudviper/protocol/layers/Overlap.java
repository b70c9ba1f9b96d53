package org.cloudviper.protocol.layers;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code dask.layers.ArrayOverlapLayer._construct_graph} as of 2024.12.1 (2022.12.1 clients send
 * this layer materialized): around every block, the neighbouring blocks' edges are cut out with
 * {@code (getitem, neighbour, slices)} under keys with fractional coordinates ({@code i - 0.9},
 * {@code i + 0.9}), the block itself is aliased, and {@code (concatenate3, (concrete, nested keys))}
 * joins them.
 *
 * @param axes      depth per axis ({@code axes.get(i, 0)}): a Long, or a two-element List (left,
 *                  right); axes absent from the map have depth 0
 * @param dims      blocks per axis ({@code list(map(len, chunks))})
 * @param numblocks {@code numblocks}, which shapes the keys
 */
public record Overlap(String name, Map<Long, Object> axes, List<Long> dims, List<Long> numblocks, String token) {

    static final Py CONCATENATE3 = new Py.Func("dask.array.core", "concatenate3");
    static final Py CONCRETE = new Py.Func("dask.utils", "concrete");

    public List<LayerTask> tasks(Budget budget) {
        String layer = "ArrayOverlapLayer " + name;
        int nd = numblocks.size();
        if (nd == 0 || nd > budget.limits().maxDimensions() || dims.size() < nd) {
            throw new LayerException("graph layer " + layer + ": numblocks " + numblocks + " and chunks of " + dims.size()
                    + " axes do not fit");
        }
        long blocks = 1;
        for (long n : numblocks) {
            blocks = Budget.times(blocks, n);
        }
        // each block: at most 3^nd neighbour pieces plus its overlap task
        long per = 1;
        for (int i = 0; i < nd; i++) {
            per = Budget.times(per, 3);
        }
        budget.takeTasks(layer, Budget.times(blocks, per + 1));
        budget.checkInputs(layer, per);
        String getitemName = "getitem-" + token;
        String overlapName = "overlap-" + token;
        Map<Object, LayerTask> slices = new LinkedHashMap<>();
        Map<Object, LayerTask> blocksOut = new LinkedHashMap<>();
        List<List<Object>> interior = new ArrayList<>();
        if (!numblocks.contains(0L)) {
            long[] idx = new long[nd];
            for (boolean more = true; more; ) {
                expandFlat(idx, interior);
                more = false;
                for (int d = nd - 1; d >= 0 && !more; d--) {
                    if (++idx[d] < numblocks.get(d)) {
                        more = true;
                    } else {
                        idx[d] = 0;
                    }
                }
            }
        }
        for (List<Object> k : interior) {
            Py frac = fractionalSlice(k);
            if (frac == null) {
                continue;
            }
            List<Object> getitemKey = prefixed(getitemName, k);
            if (frac instanceof Py.KeyRef) {
                Shuffles.put(slices, getitemKey, Py.key(prefixed(name, k)));
                Shuffles.put(blocksOut, prefixed(overlapName, k),
                        Py.call(CONCATENATE3, Py.call(CONCRETE, expandNested(k, getitemName))));
            } else {
                Shuffles.put(slices, getitemKey, frac);
            }
        }
        for (Map.Entry<Object, LayerTask> e : blocksOut.entrySet()) {
            slices.remove(e.getKey()); // toolz.merge: the later dict wins, at its first position
            slices.put(e.getKey(), e.getValue());
        }
        return new ArrayList<>(slices.values());
    }

    private static List<Object> prefixed(String head, List<Object> coords) {
        List<Object> k = new ArrayList<>(coords.size() + 1);
        k.add(head);
        k.addAll(coords);
        return List.copyOf(k);
    }

    /** Left and right depth of axis i ({@code convert_depth(axes.get(i, 0))}). */
    private long[] depth(int i) {
        Object d = axes.get((long) i);
        if (d == null) {
            return new long[]{0, 0};
        }
        if (d instanceof List<?> l && l.size() == 2 && l.get(0) instanceof Long a && l.get(1) instanceof Long b) {
            return new long[]{a, b};
        }
        if (d instanceof Long n) {
            return new long[]{n, n};
        }
        throw new LayerException("graph layer ArrayOverlapLayer " + name + ": depth of axis " + i + " is " + d);
    }

    /** The coordinates of {@code _expand_keys_around_center(k)} per axis ({@code inds}). */
    private List<List<Object>> around(long[] k) {
        List<List<Object>> args = new ArrayList<>(k.length);
        for (int i = 0; i < k.length; i++) {
            long[] d = depth(i);
            long ind = k[i];
            List<Object> rv = new ArrayList<>(3);
            if (d[0] != 0 || d[1] != 0) {
                if (ind - 0.9 > 0 && d[0] != 0) {
                    rv.add(ind - 0.9);
                }
                rv.add(ind);
                if (ind + 0.9 < dims.get(i) - 1 && d[1] != 0) {
                    rv.add(ind + 0.9);
                }
            } else {
                rv.add(ind);
            }
            args.add(rv);
        }
        return args;
    }

    /** {@code flatten(expand_key2(key))}: the neighbour coordinates of block idx, row-major. */
    private void expandFlat(long[] idx, List<List<Object>> out) {
        List<List<Object>> args = around(idx);
        product(args, 0, new ArrayList<>(), out);
    }

    private static void product(List<List<Object>> args, int i, List<Object> prefix, List<List<Object>> out) {
        if (i == args.size()) {
            out.add(List.copyOf(prefix));
            return;
        }
        for (Object v : args.get(i)) {
            prefix.add(v);
            product(args, i + 1, prefix, out);
            prefix.remove(prefix.size() - 1);
        }
    }

    /**
     * {@code expand_key2((None,) + k, name=getitem_name)}: the neighbour keys as nested lists, one
     * level per axis with a depth (axes without one keep a single element and add no level).
     */
    private Py expandNested(List<Object> k, String head) {
        long[] idx = new long[k.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = (Long) k.get(i);
        }
        List<List<Object>> args = around(idx);
        List<List<Object>> seq = new ArrayList<>();
        product(args, 0, new ArrayList<>(), seq);
        List<Integer> shape = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            long[] d = depth(i);
            shape.add(d[0] != 0 || d[1] != 0 ? args.get(i).size() : 1);
        }
        List<Py> keys = new ArrayList<>(seq.size());
        for (List<Object> c : seq) {
            keys.add(Py.key(prefixed(head, c)));
        }
        return reshape(shape, 0, keys);
    }

    /** {@code reshapelist(shape, seq)}. */
    private static Py reshape(List<Integer> shape, int from, List<Py> seq) {
        if (shape.size() - from <= 1) {
            return Py.list(seq);
        }
        int n = seq.size() / shape.get(from);
        List<Py> parts = new ArrayList<>();
        for (int i = 0; i + n <= seq.size() && n > 0; i += n) {
            parts.add(reshape(shape, from + 1, seq.subList(i, i + n)));
        }
        return Py.list(parts);
    }

    /**
     * {@code fractional_slice((name,) + k, axes)}: the key itself when every coordinate is whole
     * (a {@link Py.KeyRef}), {@code (getitem, rounded key, slices)} for a neighbour's edge, or null
     * where Python returns False (no depth on that side).
     */
    private Py fractionalSlice(List<Object> k) {
        List<Object> rounded = new ArrayList<>(k.size() + 1);
        rounded.add(name);
        List<Py> index = new ArrayList<>(k.size());
        boolean whole = true;
        for (int i = 0; i < k.size(); i++) {
            Object t = k.get(i);
            double tv = ((Number) t).doubleValue();
            long r = (long) Math.rint(tv); // Python's round(): half to even
            rounded.add(r);
            long[] d = depth(i);
            if (tv == r) {
                index.add(new Py.Slice(null, null, null));
            } else if (tv < r && d[1] != 0) {
                index.add(new Py.Slice(0L, d[1], null));
                whole = false;
            } else if (tv > r && d[0] != 0) {
                index.add(new Py.Slice(-d[0], null, null));
                whole = false;
            } else {
                return null;
            }
        }
        if (whole) {
            return Py.key(prefixed(name, k));
        }
        return Py.call(Py.GETITEM, Py.key(List.copyOf(rounded)), Py.tuple(index));
    }
}
