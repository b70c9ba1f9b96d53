package org.cloudviper.cube;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A dataset's description, the content of its {@code _dataset.json} (see docs/data-format.md):
 * channels, polarizations, the frequency of every channel, the phase centre, and the chunks.
 *
 * @param nchan          channels in the whole dataset
 * @param pols           the polarization products, in the order of the chunks' pol axis ("XX", "YY")
 * @param freqHz         the frequency of each channel, Hz ({@code nchan} values)
 * @param phaseCentreRad the phase centre [ra, dec], radians (J2000)
 * @param chunks         the chunk objects, relative to the dataset's prefix
 */
public record DatasetInfo(int nchan, List<String> pols, double[] freqHz, double[] phaseCentreRad, List<String> chunks) {
    /** The description's object name, beside the chunks. */
    public static final String FILE_NAME = "_dataset.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    public DatasetInfo {
        pols = List.copyOf(pols);
        chunks = List.copyOf(chunks);
        freqHz = freqHz.clone();
        phaseCentreRad = phaseCentreRad.clone();
        if (nchan < 1 || freqHz.length != nchan) {
            throw new IllegalArgumentException("nchan " + nchan + " with " + freqHz.length
                    + " frequencies (expected: nchan >= 1, one frequency per channel)");
        }
        if (phaseCentreRad.length != 2) {
            throw new IllegalArgumentException("phase_centre_rad: " + phaseCentreRad.length
                    + " values (expected: 2, [ra, dec])");
        }
        Polarizations.stokesIPair(pols);
        for (double f : freqHz) {
            if (!(f > 0) || Double.isInfinite(f)) {
                throw new IllegalArgumentException("freq_hz: " + f + " (expected: > 0)");
            }
        }
    }

    public int npol() {
        return pols.size();
    }

    /** The same description with {@code chunks} as its chunk list. */
    public DatasetInfo withChunks(List<String> chunks) {
        return new DatasetInfo(nchan, pols, freqHz, phaseCentreRad, chunks);
    }

    @Override
    public double[] freqHz() {
        return freqHz.clone();
    }

    @Override
    public double[] phaseCentreRad() {
        return phaseCentreRad.clone();
    }

    /** The frequency of channel {@code c} without copying the array. */
    public double freqHz(int c) {
        return freqHz[c];
    }

    /** {@code _dataset.json}'s bytes. */
    public byte[] toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("nchan", nchan);
        o.put("npol", pols.size());
        ArrayNode p = o.putArray("pols");
        pols.forEach(p::add);
        ArrayNode f = o.putArray("freq_hz");
        for (double x : freqHz) {
            f.add(x);
        }
        o.putArray("phase_centre_rad").add(phaseCentreRad[0]).add(phaseCentreRad[1]);
        ArrayNode c = o.putArray("chunks");
        chunks.forEach(c::add);
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(o);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Parses {@code _dataset.json}; {@code object} names it in errors. {@code pols} may be a list or
     * a comma-separated string; unknown keys are ignored.
     */
    public static DatasetInfo fromJson(byte[] json, String object) throws DatasetException {
        JsonNode o;
        try {
            o = JSON.readTree(json);
        } catch (IOException e) {
            throw new DatasetException(DatasetException.Kind.FORMAT, object, "not JSON: " + e.getMessage(), e);
        }
        if (o == null || !o.isObject()) {
            throw new DatasetException(DatasetException.Kind.FORMAT, object, "not a JSON object");
        }
        try {
            int nchan = required(o, "nchan", object).asInt();
            List<String> pols = Polarizations.parse(required(o, "pols", object));
            JsonNode npol = o.get("npol");
            if (npol != null && npol.asInt() != pols.size()) {
                throw new DatasetException(DatasetException.Kind.FORMAT, object, "npol " + npol.asInt() + " but "
                        + pols.size() + " pols " + pols);
            }
            double[] freq = doubles(required(o, "freq_hz", object), "freq_hz", object);
            double[] centre = doubles(required(o, "phase_centre_rad", object), "phase_centre_rad", object);
            List<String> chunks = new ArrayList<>();
            for (JsonNode n : required(o, "chunks", object)) {
                if (!n.isTextual() || n.asText().isEmpty()) {
                    throw new DatasetException(DatasetException.Kind.FORMAT, object, "chunks: " + n
                            + " (expected: object names relative to the dataset)");
                }
                chunks.add(n.asText());
            }
            return new DatasetInfo(nchan, pols, freq, centre, chunks);
        } catch (IllegalArgumentException e) {
            throw new DatasetException(DatasetException.Kind.FORMAT, object, e.getMessage(), e);
        }
    }

    private static JsonNode required(JsonNode o, String key, String object) throws DatasetException {
        JsonNode n = o.get(key);
        if (n == null || n.isNull()) {
            throw new DatasetException(DatasetException.Kind.FORMAT, object, "no \"" + key + "\"");
        }
        return n;
    }

    static double[] doubles(JsonNode n, String key, String object) throws DatasetException {
        if (!n.isArray()) {
            throw new DatasetException(DatasetException.Kind.FORMAT, object, key + ": " + n + " (expected: a list of numbers)");
        }
        double[] out = new double[n.size()];
        for (int i = 0; i < out.length; i++) {
            if (!n.get(i).isNumber()) {
                throw new DatasetException(DatasetException.Kind.FORMAT, object, key + "[" + i + "]: " + n.get(i)
                        + " (expected: a number)");
            }
            out[i] = n.get(i).asDouble();
        }
        return out;
    }

    static double[] doubles(String json, String key, String object) throws DatasetException {
        try {
            return doubles(JSON.readTree(json), key, object);
        } catch (IOException e) {
            throw new DatasetException(DatasetException.Kind.FORMAT, object, key + ": not JSON: " + json, e);
        }
    }

    static String jsonList(double[] values) {
        ArrayNode a = JSON.createArrayNode();
        for (double v : values) {
            a.add(v);
        }
        return a.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DatasetInfo d && nchan == d.nchan && pols.equals(d.pols) && Arrays.equals(freqHz, d.freqHz)
                && Arrays.equals(phaseCentreRad, d.phaseCentreRad) && chunks.equals(d.chunks);
    }

    @Override
    public int hashCode() {
        return (nchan * 31 + pols.hashCode()) * 31 + Arrays.hashCode(freqHz) * 7 + chunks.hashCode();
    }

    @Override
    public String toString() {
        return "DatasetInfo[nchan=" + nchan + ", pols=" + pols + ", freq=" + freqHz[0] + ".." + freqHz[nchan - 1]
                + " Hz, phaseCentreRad=" + Arrays.toString(phaseCentreRad) + ", chunks=" + chunks.size() + "]";
    }
}
