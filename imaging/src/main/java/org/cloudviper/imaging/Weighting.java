package org.cloudviper.imaging;

import java.util.Locale;

/**
 * The imaging weights, as CASA defines them (casacore/msvis VisImagingWeight, "norm" robustness),
 * on a density grid of the image's own uv cells (npix x npix cells of 1 / (npix cell) wavelengths),
 * one density per channel (CASA's perchanweightdensity):
 * <ul>
 * <li>natural: W = w, the data weight;</li>
 * <li>uniform: W = w / D, D the summed data weight of the sample's cell;</li>
 * <li>Briggs: W = w / (1 + f2 D), f2 = (5 * 10^-robust)^2 / (sum over cells of D^2 / sum of w).</li>
 * </ul>
 */
public sealed interface Weighting {

    Natural NATURAL = new Natural();
    Uniform UNIFORM = new Uniform();

    static Briggs briggs(double robust) {
        return new Briggs(robust);
    }

    /** "natural", "uniform" or "briggs" (with {@code robust}). */
    static Weighting parse(String name, double robust) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "natural":
                return NATURAL;
            case "uniform":
                return UNIFORM;
            case "briggs":
            case "robust":
                return briggs(robust);
            default:
                throw new IllegalArgumentException("weighting: " + name + " (expected: natural, uniform, briggs)");
        }
    }

    /** Whether this weighting needs the weight density of all the data first. */
    default boolean needsDensity() {
        return !(this instanceof Natural);
    }

    record Natural() implements Weighting {
    }

    record Uniform() implements Weighting {
    }

    record Briggs(double robust) implements Weighting {
        public Briggs {
            if (!(robust >= -5 && robust <= 5)) {
                throw new IllegalArgumentException("robust: " + robust + " (expected: -5..5)");
            }
        }
    }
}
