package org.cloudviper.protocol.layers;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code dask.layers.BroadcastJoinLayer._construct_graph} (the same in 2022.12.1 and 2024.12.1):
 * every partition of the smaller side is merged with every partition of the other side
 * ({@code (apply, _merge_chunk_wrapper, [other, bcast], merge_kwargs)}, the arguments reversed when
 * the left side is the broadcast one), and the pieces of one output partition are concatenated.
 * For a join other than inner, each partition of the other side is first split by hash.
 *
 * @param parts       {@code parts_out} in Python's iteration order
 * @param how         {@code merge_kwargs["how"]} (null if absent)
 * @param leftOn      {@code left_on} as the layer holds it
 * @param rightOn     {@code right_on} as the layer holds it
 * @param mergeKwargs the {@code merge_kwargs} dict the merge tasks get
 */
public record BroadcastJoin(String name, String lhsName, long lhsNpartitions, String rhsName, long rhsNpartitions,
                            List<Long> parts, String how, Py leftOn, Py rightOn, Py mergeKwargs) {

    static final Py SPLIT_PARTITION = new Py.LazyFunc("dask.dataframe.multi._split_partition");
    static final Py CONCAT = new Py.LazyFunc("dask.dataframe.multi._concat_wrapper");
    static final Py MERGE_CHUNK = new Py.LazyFunc("dask.dataframe.multi._merge_chunk_wrapper");

    public List<LayerTask> tasks(Budget budget) {
        String layer = "BroadcastJoinLayer " + name;
        boolean left = lhsNpartitions < rhsNpartitions; // broadcasting the left side
        String bcastName = left ? lhsName : rhsName;
        long bcastSize = left ? lhsNpartitions : rhsNpartitions;
        String otherName = left ? rhsName : lhsName;
        Py otherOn = left ? rightOn : leftOn;
        boolean inner = "inner".equals(how);
        budget.takeTasks(layer, Budget.times(parts.size(), Budget.times(bcastSize, 1) + 2));
        budget.checkInputs(layer, bcastSize);
        String interName = "inter-" + name;
        String splitName = "split-" + name;
        Map<Object, LayerTask> dsk = new LinkedHashMap<>();
        for (long i : parts) {
            if (!inner) {
                Shuffles.put(dsk, List.of(splitName, i),
                        Py.call(SPLIT_PARTITION, Py.key(List.of(otherName, i)), otherOn, Py.lit(bcastSize)));
            }
            List<Py> concat = new ArrayList<>((int) Math.max(bcastSize, 0));
            for (long j = 0; j < bcastSize; j++) {
                Py other = inner ? Py.key(List.of(otherName, i))
                        : Py.call(Py.GETITEM, Py.key(List.of(splitName, i)), Py.lit(j));
                Py bcast = Py.key(List.of(bcastName, j));
                List<Py> mergeArgs = left ? List.of(bcast, other) : List.of(other, bcast);
                List<Object> interKey = List.of(interName, i, j);
                Shuffles.put(dsk, interKey, Py.call(Py.APPLY, MERGE_CHUNK, Py.list(mergeArgs), mergeKwargs));
                concat.add(Py.key(interKey));
            }
            Shuffles.put(dsk, List.of(name, i), Py.call(CONCAT, Py.list(concat)));
        }
        return new ArrayList<>(dsk.values());
    }
}
