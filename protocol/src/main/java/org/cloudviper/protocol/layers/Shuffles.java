package org.cloudviper.protocol.layers;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The task-based shuffle layers of dask.layers, the same in 2022.12.1 and 2024.12.1:
 * {@code SimpleShuffleLayer._construct_graph} (every output partition concatenates one split of
 * every input partition) and {@code ShuffleLayer._construct_graph} (one stage of a multi-stage
 * shuffle: partitions are addressed by digit tuples, each stage regroups on one digit).
 */
public final class Shuffles {
    static final Py CONCAT = new Py.LazyFunc("dask.dataframe.core._concat");
    static final Py SHUFFLE_GROUP = new Py.LazyFunc("dask.dataframe.shuffle.shuffle_group");

    private Shuffles() {
    }

    /**
     * {@code SimpleShuffleLayer}.
     *
     * @param parts          {@code parts_out} (null or empty: {@code range(npartitions)}, as Python's
     *                       {@code parts_out or range(npartitions)})
     * @param column         {@code column}, passed to shuffle_group as it is
     * @param ignoreIndex    {@code ignore_index}, passed as it is
     * @param npartitions    output partitions (an int)
     */
    public static List<LayerTask> simple(String name, Py column, long npartitions, long npartitionsInput,
                                         Py ignoreIndex, String nameInput, List<Long> parts, Budget budget) {
        String layer = "SimpleShuffleLayer " + name;
        boolean all = parts == null || parts.isEmpty();
        budget.takeTasks(layer, Budget.times(all ? npartitions : parts.size(), npartitionsInput + 1)
                + Math.max(npartitionsInput, 0));
        budget.checkInputs(layer, npartitionsInput);
        List<Long> partsOut = all ? range(layer, npartitions) : parts;
        String splitName = "split-" + name;
        String groupName = "group-" + name;
        Map<Object, LayerTask> dsk = new LinkedHashMap<>();
        for (long partOut : partsOut) {
            List<Py> concat = new ArrayList<>((int) npartitionsInput);
            for (long partIn = 0; partIn < npartitionsInput; partIn++) {
                concat.add(Py.key(List.of(splitName, partOut, partIn)));
            }
            put(dsk, List.of(name, partOut), Py.call(CONCAT, Py.list(concat), ignoreIndex));
            for (long partIn = 0; partIn < npartitionsInput; partIn++) {
                put(dsk, List.of(splitName, partOut, partIn),
                        Py.call(Py.GETITEM, Py.key(List.of(groupName, partIn)), Py.lit(partOut)));
                List<Object> group = List.of(groupName, partIn);
                if (!dsk.containsKey(group)) {
                    Py n = Py.lit(npartitions);
                    put(dsk, group, Py.call(SHUFFLE_GROUP, Py.key(List.of(nameInput, partIn)), column, Py.lit(0L),
                            n, n, ignoreIndex, n));
                }
            }
        }
        return new ArrayList<>(dsk.values());
    }

    /**
     * {@code ShuffleLayer} (one stage).
     *
     * @param inputs      {@code inputs}: the digit tuple of every partition
     * @param parts       {@code parts_out} (null or empty: {@code range(len(inputs))})
     * @param npartitions {@code npartitions}, passed as it is (None in Dask's own stages)
     * @param metaInput   {@code meta_input}: the value of the "empty" keys stage 0 makes for digit
     *                    tuples beyond the input partitions
     */
    public static List<LayerTask> staged(String name, Py column, List<List<Long>> inputs, long stage,
                                         Py npartitions, long npartitionsInput, long nsplits, Py ignoreIndex,
                                         String nameInput, Py metaInput, List<Long> parts, Budget budget) {
        String layer = "ShuffleLayer " + name;
        boolean all = parts == null || parts.isEmpty();
        budget.takeTasks(layer, Budget.times(all ? inputs.size() : parts.size(), Budget.times(2, nsplits) + 2));
        budget.checkInputs(layer, nsplits);
        List<Long> partsOut = all ? range(layer, inputs.size()) : parts;
        Map<List<Long>, Long> inputPart = new HashMap<>();
        int width = -1;
        for (int i = 0; i < inputs.size(); i++) {
            List<Long> inp = inputs.get(i);
            if (width < 0) {
                width = inp.size();
            }
            if (inp.size() != width || stage < 0 || stage >= width) {
                throw new LayerException("graph layer " + layer + ": inputs[" + i + "] " + inp
                        + " does not have a digit for stage " + stage);
            }
            inputPart.putIfAbsent(inp, (long) i);
        }
        String splitName = "split-" + name;
        String groupName = "group-" + name;
        Map<Object, LayerTask> dsk = new LinkedHashMap<>();
        for (long part : partsOut) {
            if (part < 0 || part >= inputs.size()) {
                throw new LayerException("graph layer " + layer + ": parts_out " + part + " is not an index of inputs ("
                        + inputs.size() + ")");
            }
            List<Long> out = inputs.get((int) part);
            long idx = out.get((int) stage);
            List<List<Long>> concatInputs = new ArrayList<>((int) nsplits);
            List<Py> concat = new ArrayList<>((int) nsplits);
            for (long i = 0; i < nsplits; i++) {
                List<Long> inp = insert(out, (int) stage, i);
                concatInputs.add(inp);
                concat.add(Py.key(List.of(splitName, idx, inp)));
            }
            put(dsk, List.of(name, part), Py.call(CONCAT, Py.list(concat), ignoreIndex));
            for (List<Long> inp : concatInputs) {
                put(dsk, List.of(splitName, idx, inp), Py.call(Py.GETITEM, Py.key(List.of(groupName, inp)), Py.lit(idx)));
                List<Object> group = List.of(groupName, inp);
                if (dsk.containsKey(group)) {
                    continue;
                }
                Long p = inputPart.get(inp);
                if (p == null) {
                    throw new LayerException("graph layer " + layer + ": digit tuple " + inp + " is not in inputs");
                }
                Object inputKey;
                if (stage == 0 && p >= npartitionsInput) {
                    inputKey = List.of(groupName, inp, "empty");
                    put(dsk, inputKey, metaInput);
                } else {
                    inputKey = List.of(nameInput, p);
                }
                put(dsk, group, Py.call(SHUFFLE_GROUP, Py.key(inputKey), column, Py.lit(stage), Py.lit(nsplits),
                        Py.lit(npartitionsInput), ignoreIndex, npartitions));
            }
        }
        return new ArrayList<>(dsk.values());
    }

    /** {@code dict[key] = value}: a key set again keeps its first position and takes the new value. */
    static void put(Map<Object, LayerTask> dsk, Object key, Py task) {
        dsk.put(key, new LayerTask(key, task));
    }

    /** {@code dask.utils.insert}: a copy of {@code tup} with element {@code loc} replaced. */
    private static List<Long> insert(List<Long> tup, int loc, long value) {
        List<Long> l = new ArrayList<>(tup);
        l.set(loc, value);
        return List.copyOf(l);
    }

    static List<Long> range(String layer, long n) {
        if (n < 0 || n > Integer.MAX_VALUE) {
            throw new LayerException("graph layer " + layer + ": npartitions " + n);
        }
        List<Long> r = new ArrayList<>((int) n);
        for (long i = 0; i < n; i++) {
            r.add(i);
        }
        return r;
    }
}
