package org.cloudviper.scheduler.state;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Dask's {@code key_split} (dask/utils.py): the name of the layer a key belongs to, such as "inc" for
 * {@code inc-5a8b...} or "x" for {@code ('x-2', 1)}. Task prefixes group the dashboard's counts and
 * the Prometheus metrics labelled {@code task_prefix_name}.
 */
public final class KeyPrefix {
    private KeyPrefix() {
    }

    public static String of(Object key) {
        Object k = key;
        if (k instanceof List<?> tuple && !tuple.isEmpty()) {
            k = tuple.get(0);
        }
        if (k instanceof byte[] b) {
            k = new String(b, StandardCharsets.UTF_8);
        }
        if (!(k instanceof String s) || s.isEmpty()) {
            return "Other";
        }
        String[] words = s.split("-", -1);
        String result;
        if (words[0].isEmpty()) {
            return "Other";
        }
        if (!Character.isLetter(words[0].charAt(0))) {
            result = strip(words[0].split(",", -1)[0], "_'()\"");
        } else {
            result = words[0];
        }
        for (int i = 1; i < words.length; i++) {
            String w = words[i];
            if (isAlpha(w) && !(w.length() == 8 && isHex(w))) {
                result += "-" + w;
            } else {
                break;
            }
        }
        if (result.length() == 32 && isHex(result)) {
            return "data";
        }
        if (!result.isEmpty() && result.charAt(0) == '<') {
            String inner = strip(result, "<>").split("\\s+")[0];
            result = inner.substring(inner.lastIndexOf('.') + 1);
        }
        return result.isEmpty() ? "Other" : result;
    }

    private static boolean isAlpha(String w) {
        if (w.isEmpty()) {
            return false;
        }
        for (int i = 0; i < w.length(); i++) {
            if (!Character.isLetter(w.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isHex(String w) {
        for (int i = 0; i < w.length(); i++) {
            char c = w.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
                return false;
            }
        }
        return true;
    }

    private static String strip(String s, String chars) {
        int a = 0;
        int b = s.length();
        while (a < b && chars.indexOf(s.charAt(a)) >= 0) {
            a++;
        }
        while (b > a && chars.indexOf(s.charAt(b - 1)) >= 0) {
            b--;
        }
        return s.substring(a, b);
    }
}
