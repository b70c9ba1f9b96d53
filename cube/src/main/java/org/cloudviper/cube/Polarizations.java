package org.cloudviper.cube;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Which polarization products form Stokes I: the parallel hands XX and YY (linear feeds, as ALMA's),
 * or RR and LL (circular), I = (a + b) / 2; or a single product already named I.
 */
final class Polarizations {
    private Polarizations() {
    }

    /**
     * The indices of the two products that form Stokes I in {@code pols}, or a single index twice for
     * {@code I}.
     *
     * @throws IllegalArgumentException when {@code pols} holds neither pair nor I
     */
    static int[] stokesIPair(List<String> pols) {
        if (pols.isEmpty() || pols.size() > 4) {
            throw new IllegalArgumentException("pols " + pols + " (expected: 1 to 4 products)");
        }
        for (String[] pair : new String[][] {{"XX", "YY"}, {"RR", "LL"}}) {
            int a = pols.indexOf(pair[0]);
            int b = pols.indexOf(pair[1]);
            if (a >= 0 && b >= 0) {
                return new int[] {a, b};
            }
        }
        int i = pols.indexOf("I");
        if (i >= 0) {
            return new int[] {i, i};
        }
        throw new IllegalArgumentException("pols " + pols + " (expected: XX and YY, RR and LL, or I)");
    }

    /** {@code "XX,YY"} or {@code ["XX", "YY"]}. */
    static List<String> parse(JsonNode n) {
        if (n.isTextual()) {
            return parse(n.asText());
        }
        List<String> out = new ArrayList<>();
        for (JsonNode p : n) {
            out.add(p.asText().trim());
        }
        return out;
    }

    static List<String> parse(String commaSeparated) {
        List<String> out = new ArrayList<>();
        for (String p : commaSeparated.split(",")) {
            out.add(p.trim());
        }
        return out;
    }
}
