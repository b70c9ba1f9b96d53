package org.cloudviper.cube.tasks;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import org.cloudviper.imaging.ImageSpec;
import org.cloudviper.imaging.Precision;
import org.cloudviper.imaging.Weighting;

/**
 * What every imaging task of one cube is told about the image, as the dict a client passes ({@code
 * image} in {@code worker/python/cloudviper/imaging.py}): {@code npix}, {@code cell_rad}, {@code
 * epsilon}, {@code precision} ("float32" or "float64"), {@code weighting} ("natural", "uniform",
 * "briggs"), {@code robust}, {@code psf}. Every task of a cube gets the same dict, so that they all
 * choose the same kernel and grid.
 */
public record ImageParams(int npix, double cellRad, double epsilon, Precision precision, String weighting,
        double robust, boolean psf) {

    public ImageParams {
        spec(npix, cellRad, epsilon, precision); // checks them
        Weighting.parse(weighting, robust);
    }

    /** The parameters of a task's {@code image} argument; a missing or mistyped key is refused by name. */
    public static ImageParams fromMap(Object value) {
        if (!(value instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("image: " + describe(value) + " (expected: a dict of npix, cell_rad,"
                    + " epsilon, precision, weighting, robust, psf)");
        }
        for (Object k : m.keySet()) {
            if (!(k instanceof String s) || !KEYS.containsKey(s)) {
                throw new IllegalArgumentException("image: unknown key " + k + " (expected: " + KEYS.keySet() + ")");
            }
        }
        String precision = string(m, "precision", "float32").toLowerCase(Locale.ROOT);
        return new ImageParams(Math.toIntExact(integer(m, "npix")), number(m, "cell_rad", Double.NaN),
                number(m, "epsilon", 1e-4), switch (precision) {
                    case "float32" -> Precision.FLOAT32;
                    case "float64" -> Precision.FLOAT64;
                    default -> throw new IllegalArgumentException("image: precision " + precision
                            + " (expected: float32 or float64)");
                }, string(m, "weighting", "natural"), number(m, "robust", 0.0),
                m.get("psf") == null ? false : bool(m.get("psf")));
    }

    private static final Map<String, String> KEYS = Map.of("npix", "int", "cell_rad", "float", "epsilon", "float",
            "precision", "str", "weighting", "str", "robust", "float", "psf", "bool");

    /** The dict a client sends: the inverse of {@link #fromMap}. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("npix", (long) npix);
        m.put("cell_rad", cellRad);
        m.put("epsilon", epsilon);
        m.put("precision", precision == Precision.FLOAT32 ? "float32" : "float64");
        m.put("weighting", weighting);
        m.put("robust", robust);
        m.put("psf", psf);
        return m;
    }

    public ImageSpec spec() {
        return spec(npix, cellRad, epsilon, precision);
    }

    public Weighting weightingRule() {
        return Weighting.parse(weighting, robust);
    }

    private static ImageSpec spec(int npix, double cellRad, double epsilon, Precision precision) {
        return ImageSpec.of(npix, cellRad, epsilon, precision);
    }

    private static long integer(Map<?, ?> m, String key) {
        Object v = m.get(key);
        if (v instanceof Long l) {
            return l;
        }
        if (v instanceof Integer i) {
            return i;
        }
        throw new IllegalArgumentException("image: " + key + " is " + describe(v) + " (expected: int)");
    }

    private static double number(Map<?, ?> m, String key, double dflt) {
        Object v = m.get(key);
        if (v == null && !Double.isNaN(dflt)) {
            return dflt;
        }
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw new IllegalArgumentException("image: " + key + " is " + describe(v) + " (expected: float)");
    }

    private static String string(Map<?, ?> m, String key, String dflt) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof String s) {
            return s;
        }
        throw new IllegalArgumentException("image: " + key + " is " + describe(v) + " (expected: str)");
    }

    private static boolean bool(Object v) {
        if (v instanceof Boolean b) {
            return b;
        }
        throw new IllegalArgumentException("image: psf is " + describe(v) + " (expected: bool)");
    }

    static String describe(Object v) {
        return v == null ? "None" : v.getClass().getSimpleName() + " " + v;
    }
}
