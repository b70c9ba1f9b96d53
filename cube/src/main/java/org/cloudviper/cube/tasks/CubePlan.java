package org.cloudviper.cube.tasks;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.cloudviper.cube.DatasetInfo;

/**
 * The result of {@code cloudviper.imaging.plan}: the dataset's description and its channel blocks,
 * a block being the chunks that hold the same channel range (one per time range). Chunks whose
 * channel ranges overlap without being equal are refused: the partial grids of a block must cover
 * the same channels.
 *
 * <p>As a dict: {@code nchan}, {@code freq_hz}, {@code phase_centre_rad}, {@code pols}, and {@code
 * blocks}, a list ordered by channel of dicts {@code chan_start}, {@code nchan}, {@code chunks}.
 */
final class CubePlan {
    /** One channel block: its channels and its chunks, in the description's order. */
    record Block(int chanStart, int nchan, List<String> chunks) {
    }

    private CubePlan() {
    }

    /** Adds a chunk of channels chanStart..chanStart+nchan-1; {@code uri} names it in errors. */
    static void add(TreeMap<Integer, Block> blocks, String chunk, int chanStart, int nchan, String uri) {
        Block b = blocks.get(chanStart);
        if (b != null) {
            if (b.nchan() != nchan) {
                throw mismatch(uri, chanStart, nchan, b);
            }
            b.chunks().add(chunk);
            return;
        }
        Map.Entry<Integer, Block> below = blocks.lowerEntry(chanStart);
        if (below != null && below.getKey() + below.getValue().nchan() > chanStart) {
            throw mismatch(uri, chanStart, nchan, below.getValue());
        }
        Map.Entry<Integer, Block> above = blocks.higherEntry(chanStart);
        if (above != null && chanStart + nchan > above.getKey()) {
            throw mismatch(uri, chanStart, nchan, above.getValue());
        }
        List<String> chunks = new ArrayList<>();
        chunks.add(chunk);
        blocks.put(chanStart, new Block(chanStart, nchan, chunks));
    }

    private static IllegalArgumentException mismatch(String uri, int chanStart, int nchan, Block other) {
        return new IllegalArgumentException(uri + ": channels " + chanStart + ".." + (chanStart + nchan - 1)
                + " overlap channels " + other.chanStart() + ".." + (other.chanStart() + other.nchan() - 1) + " of "
                + other.chunks().get(0) + " (expected: every time range split into the same channel ranges)");
    }

    /**
     * The description a plan carries (its {@code nchan}, {@code freq_hz}, {@code phase_centre_rad},
     * {@code pols}, and the chunks of its blocks), as the task that made it read it, for tasks that check
     * their chunk against it without reading {@code _dataset.json} again.
     */
    static DatasetInfo info(Object plan, String task) {
        if (!(plan instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(task + ": plan is " + ImageParams.describe(plan)
                    + " (expected: the dict of cloudviper.imaging.plan)");
        }
        try {
            List<String> chunks = new ArrayList<>();
            for (Object b : (List<?>) m.get("blocks")) {
                for (Object c : (List<?>) ((Map<?, ?>) b).get("chunks")) {
                    chunks.add((String) c);
                }
            }
            List<String> pols = new ArrayList<>();
            for (Object p : (List<?>) m.get("pols")) {
                pols.add((String) p);
            }
            return new DatasetInfo(((Number) m.get("nchan")).intValue(), pols, doubles(m.get("freq_hz")),
                    doubles(m.get("phase_centre_rad")), chunks);
        } catch (ClassCastException | NullPointerException e) {
            throw new IllegalArgumentException(task + ": plan is not the dict of cloudviper.imaging.plan (" + e + ")", e);
        }
    }

    private static double[] doubles(Object list) {
        List<?> l = (List<?>) list;
        double[] d = new double[l.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = ((Number) l.get(i)).doubleValue();
        }
        return d;
    }

    static Map<String, Object> toMap(DatasetInfo info, TreeMap<Integer, Block> blocks) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("nchan", (long) info.nchan());
        List<Object> freq = new ArrayList<>();
        for (double f : info.freqHz()) {
            freq.add(f);
        }
        m.put("freq_hz", freq);
        m.put("phase_centre_rad", List.of(info.phaseCentreRad()[0], info.phaseCentreRad()[1]));
        m.put("pols", List.copyOf(info.pols()));
        List<Object> bl = new ArrayList<>();
        for (Block b : blocks.values()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("chan_start", (long) b.chanStart());
            x.put("nchan", (long) b.nchan());
            x.put("chunks", List.copyOf(b.chunks()));
            bl.add(x);
        }
        m.put("blocks", bl);
        return m;
    }
}
