package org.cloudviper.protocol.layers;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code dask.layers.DataFrameTreeReduction._construct_graph} (the same in 2022.12.1 and 2024.12.1):
 * the input partitions are reduced {@code split_every} at a time, level by level, each node
 * {@code (toolz.pipe, input_keys, concat_func, tree_node_func)} and the last one using
 * {@code finalize_func}; with {@code split_out} every output split first takes its element of each
 * input partition ({@code (getitem, (name_input, p), s)}) and keys gain the split as last part.
 *
 * @param name             output collection
 * @param nameInput        input collection
 * @param npartitionsInput input partitions
 * @param concatFunc       {@code concat_func}
 * @param treeNodeFunc     {@code tree_node_func}
 * @param finalizeFunc     {@code finalize_func}, or null for none
 * @param splitEvery       inputs per tree node
 * @param splitOut         {@code split_out}, or null; 0 counts as none, as in Python
 * @param outputPartitions the output splits to build
 * @param treeNodeName     prefix of the intermediate keys
 */
public record TreeReduction(String name, String nameInput, long npartitionsInput, Py concatFunc, Py treeNodeFunc,
                            Py finalizeFunc, long splitEvery, Long splitOut, List<Long> outputPartitions,
                            String treeNodeName) {

    static final Py PIPE = new Py.Func("toolz.functoolz", "pipe");

    /** The layer's tasks in Python's dict order. */
    public List<LayerTask> tasks(Budget budget) {
        String layer = "DataFrameTreeReduction " + name;
        if (npartitionsInput < 0) {
            throw new LayerException("graph layer " + layer + ": npartitions_input " + npartitionsInput);
        }
        if (npartitionsInput > 1 && splitEvery < 2) {
            // Python's widths loop would never end (ceil(parts / 1) == parts)
            throw new LayerException("graph layer " + layer + ": split_every " + splitEvery + " (expected: >= 2)");
        }
        boolean split = splitOut != null && splitOut != 0;
        List<Long> widths = new ArrayList<>();
        long parts = npartitionsInput;
        widths.add(parts);
        while (parts > 1) {
            parts = (parts + splitEvery - 1) / splitEvery;
            widths.add(parts);
        }
        int height = widths.size();
        long perSplit = 0;
        for (int d = 1; d < height; d++) {
            perSplit += widths.get(d);
        }
        long total = Budget.times(Math.max(perSplit, 1) + (split ? npartitionsInput : 0), outputPartitions.size());
        budget.takeTasks(layer, total);
        budget.checkInputs(layer, Math.min(splitEvery, npartitionsInput));

        List<LayerTask> out = new ArrayList<>((int) Math.min(total, 1 << 20));
        if (outputPartitions.isEmpty()) {
            return out;
        }
        String nameInputUse = nameInput;
        if (split) {
            nameInputUse += "-split";
            for (long s : outputPartitions) {
                for (long p = 0; p < npartitionsInput; p++) {
                    out.add(new LayerTask(key(split, s, nameInputUse, p),
                            Py.call(Py.GETITEM, Py.key(List.of(nameInput, p)), Py.lit(s))));
                }
            }
        }
        if (height >= 2) {
            for (long s : outputPartitions) {
                for (int depth = 1; depth < height; depth++) {
                    for (long group = 0; group < widths.get(depth); group++) {
                        long pMax = widths.get(depth - 1);
                        long lstart = splitEvery * group;
                        long lstop = Math.min(lstart + splitEvery, pMax);
                        List<Py> inputs = new ArrayList<>((int) (lstop - lstart));
                        for (long p = lstart; p < lstop; p++) {
                            inputs.add(Py.key(depth == 1 ? key(split, s, nameInputUse, p)
                                    : key(split, s, treeNodeName, p, (long) (depth - 1))));
                        }
                        if (depth == height - 1) {
                            out.add(new LayerTask(List.of(name, s), task(inputs, true)));
                        } else {
                            out.add(new LayerTask(key(split, s, treeNodeName, group, (long) depth), task(inputs, false)));
                        }
                    }
                }
            }
        } else {
            for (long s : outputPartitions) {
                List<Py> inputs = List.of(Py.key(key(split, s, nameInputUse, 0L)));
                out.add(new LayerTask(List.of(name, s), task(inputs, true)));
            }
        }
        return out;
    }

    private Py task(List<Py> inputs, boolean last) {
        Py outer = last && finalizeFunc != null ? finalizeFunc : treeNodeFunc;
        return Py.call(PIPE, Py.list(inputs), concatFunc, outer);
    }

    /** {@code _make_key}: the name parts, plus the split when split_out is set. */
    private static List<Object> key(boolean split, long s, Object... parts) {
        List<Object> k = new ArrayList<>(parts.length + 1);
        for (Object p : parts) {
            k.add(p);
        }
        if (split) {
            k.add(s);
        }
        return List.copyOf(k);
    }
}
