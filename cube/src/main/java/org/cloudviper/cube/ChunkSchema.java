package org.cloudviper.cube;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * The schema of a chunk (docs/data-format.md) for {@code nchan} channels of {@code npol} products,
 * and the check of a schema read from an object against it. Columns other than the six are allowed
 * and ignored; the six must have exactly their types and sizes.
 */
final class ChunkSchema {
    static final String FREQ_HZ = "cloudviper.freq_hz";
    static final String CHAN_START = "cloudviper.chan_start";
    static final String POLS = "cloudviper.pols";
    static final String PHASE_CENTRE = "cloudviper.phase_centre_rad";

    private static final ArrowType F64 = new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE);
    private static final ArrowType F32 = new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE);
    private static final ArrowType BOOL = ArrowType.Bool.INSTANCE;

    /** What a chunk's schema metadata says. */
    record Metadata(int chanStart, double[] freqHz, List<String> pols, double[] phaseCentreRad) {
        int nchan() {
            return freqHz.length;
        }
    }

    private ChunkSchema() {
    }

    /** The schema a writer gives a chunk. */
    static Schema of(Metadata m) {
        int nchan = m.nchan();
        int npol = m.pols().size();
        List<Field> fields = new ArrayList<>();
        for (String name : new String[] {"u", "v", "w"}) {
            fields.add(new Field(name, FieldType.notNullable(F64), null));
        }
        fields.add(list("vis", nchan * npol * 2, F32));
        fields.add(list("weight", npol, F32));
        fields.add(list("flag", nchan * npol, BOOL));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(FREQ_HZ, DatasetInfo.jsonList(m.freqHz()));
        meta.put(CHAN_START, Integer.toString(m.chanStart()));
        meta.put(POLS, String.join(",", m.pols()));
        meta.put(PHASE_CENTRE, DatasetInfo.jsonList(m.phaseCentreRad()));
        return new Schema(fields, meta);
    }

    private static Field list(String name, int size, ArrowType item) {
        return new Field(name, FieldType.notNullable(new ArrowType.FixedSizeList(size)),
                List.of(new Field("item", FieldType.notNullable(item), null)));
    }

    /**
     * The metadata of {@code schema}, after checking its six columns against it and, when
     * {@code dataset} is given, its channels, products and phase centre against the dataset's.
     */
    static Metadata check(Schema schema, DatasetInfo dataset, String object) throws DatasetException {
        Map<String, String> meta = schema.getCustomMetadata();
        double[] freq = DatasetInfo.doubles(metadata(meta, FREQ_HZ, object), FREQ_HZ, object);
        int chanStart;
        try {
            chanStart = Integer.parseInt(metadata(meta, CHAN_START, object).trim());
        } catch (NumberFormatException e) {
            throw format(object, CHAN_START + ": " + meta.get(CHAN_START) + " (expected: an integer)");
        }
        List<String> pols = Polarizations.parse(metadata(meta, POLS, object));
        double[] centre = DatasetInfo.doubles(metadata(meta, PHASE_CENTRE, object), PHASE_CENTRE, object);
        if (freq.length == 0 || centre.length != 2 || chanStart < 0) {
            throw format(object, "schema metadata: " + freq.length + " channels, " + centre.length
                    + " phase centre values, chan_start " + chanStart + " (expected: >= 1, 2, >= 0)");
        }
        try {
            Polarizations.stokesIPair(pols);
        } catch (IllegalArgumentException e) {
            throw format(object, POLS + ": " + e.getMessage());
        }
        int nchan = freq.length;
        int npol = pols.size();
        column(schema, "u", F64, 0, null, object);
        column(schema, "v", F64, 0, null, object);
        column(schema, "w", F64, 0, null, object);
        column(schema, "vis", F32, nchan * npol * 2, "[chan][pol][re,im] of " + nchan + " x " + npol + " x 2", object);
        column(schema, "weight", F32, npol, "[pol] of " + npol, object);
        column(schema, "flag", BOOL, nchan * npol, "[chan][pol] of " + nchan + " x " + npol, object);
        if (dataset != null) {
            if (!pols.equals(dataset.pols())) {
                throw format(object, POLS + " " + pols + " but the dataset's are " + dataset.pols());
            }
            if (chanStart + nchan > dataset.nchan()) {
                throw format(object, "channels " + chanStart + ".." + (chanStart + nchan - 1) + " beyond the dataset's "
                        + dataset.nchan());
            }
            for (int c = 0; c < nchan; c++) {
                double expected = dataset.freqHz(chanStart + c);
                if (Math.abs(freq[c] - expected) > 1e-9 * expected) {
                    throw format(object, FREQ_HZ + "[" + c + "] = " + freq[c] + " Hz but the dataset's channel "
                            + (chanStart + c) + " is at " + expected + " Hz");
                }
            }
            double[] dc = dataset.phaseCentreRad();
            if (Math.abs(centre[0] - dc[0]) > 1e-12 || Math.abs(centre[1] - dc[1]) > 1e-12) {
                throw format(object, PHASE_CENTRE + " [" + centre[0] + ", " + centre[1] + "] but the dataset's is ["
                        + dc[0] + ", " + dc[1] + "]");
            }
        }
        return new Metadata(chanStart, freq, pols, centre);
    }

    private static String metadata(Map<String, String> meta, String key, String object) throws DatasetException {
        String v = meta == null ? null : meta.get(key);
        if (v == null) {
            throw format(object, "no schema metadata " + key);
        }
        return v;
    }

    private static void column(Schema schema, String name, ArrowType item, int listSize, String layout, String object)
            throws DatasetException {
        Field f;
        try {
            f = schema.findField(name);
        } catch (IllegalArgumentException e) {
            throw format(object, "no column " + name + " (columns: " + names(schema) + ")");
        }
        String expected = listSize == 0 ? describe(item) : "fixed_size_list<" + describe(item) + ">[" + listSize + "] ("
                + layout + ")";
        boolean ok;
        if (listSize == 0) {
            ok = f.getType().equals(item);
        } else {
            ok = f.getType() instanceof ArrowType.FixedSizeList l && l.getListSize() == listSize
                    && f.getChildren().size() == 1 && f.getChildren().get(0).getType().equals(item);
        }
        if (!ok) {
            throw format(object, "column " + name + " is " + describe(f) + " (expected: " + expected + ")");
        }
    }

    private static String describe(Field f) {
        if (f.getType() instanceof ArrowType.FixedSizeList l && f.getChildren().size() == 1) {
            return "fixed_size_list<" + describe(f.getChildren().get(0).getType()) + ">[" + l.getListSize() + "]";
        }
        if (f.getChildren().size() == 1) {
            return describe(f.getType()) + "<" + describe(f.getChildren().get(0).getType()) + ">";
        }
        return describe(f.getType());
    }

    private static String describe(ArrowType t) {
        if (t.equals(F64)) {
            return "double";
        }
        if (t.equals(F32)) {
            return "float";
        }
        if (t.equals(BOOL)) {
            return "bool";
        }
        // pyarrow's names, which the writer of a chunk knows
        if (t instanceof ArrowType.FloatingPoint) {
            return "halffloat";
        }
        if (t instanceof ArrowType.Int i) {
            return (i.getIsSigned() ? "int" : "uint") + i.getBitWidth();
        }
        if (t instanceof ArrowType.List) {
            return "list";
        }
        if (t instanceof ArrowType.LargeList) {
            return "large_list";
        }
        if (t instanceof ArrowType.Utf8) {
            return "string";
        }
        return t.toString();
    }

    private static String names(Schema schema) {
        StringBuilder sb = new StringBuilder();
        for (Field f : schema.getFields()) {
            sb.append(sb.length() == 0 ? "" : ", ").append(f.getName());
        }
        return sb.toString();
    }

    private static DatasetException format(String object, String message) {
        return new DatasetException(DatasetException.Kind.FORMAT, object, message);
    }
}
