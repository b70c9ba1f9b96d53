package org.cloudviper.testkit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * JSON as the tests' Python side writes it ({@code json.dumps}: client script results, test
 * vectors, corpus metadata), read into plain Java values: objects become {@code Map<String, Object>}
 * in document order, arrays {@code List<Object>}, integers {@code Long} (beyond 64 bits
 * {@code BigInteger}), other numbers {@code Double}, including Python's {@code NaN} and
 * {@code Infinity}.
 */
public final class Json {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    private Json() {
    }

    /** Any JSON value. */
    public static Object parse(String text) {
        try {
            return widened(MAPPER.readValue(text, Object.class));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** A JSON object. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object value = parse(text);
        if (!(value instanceof Map)) {
            throw new IllegalArgumentException("expected a JSON object: " + text);
        }
        return (Map<String, Object>) value;
    }

    /** The JSON object in {@code file}. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> readObject(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return (Map<String, Object>) widened(MAPPER.readValue(in, Map.class));
        } catch (IOException e) {
            throw new UncheckedIOException(file.toString(), e);
        }
    }

    /** The JSON object in the class-path resource {@code name} (absolute, e.g. {@code /vectors/x.json}). */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> readResource(String name) {
        try (InputStream in = Json.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new NoSuchFileException("class-path resource " + name);
            }
            return (Map<String, Object>) widened(MAPPER.readValue(in, Map.class));
        } catch (IOException e) {
            throw new UncheckedIOException(name, e);
        }
    }

    /**
     * {@code value} with every {@code Integer} as a {@code Long}, in place: Jackson reads an integer
     * into the smallest of Integer, Long and BigInteger that holds it, and tests compare with Longs.
     */
    @SuppressWarnings("unchecked")
    private static Object widened(Object value) {
        if (value instanceof Integer i) {
            return i.longValue();
        }
        if (value instanceof Map<?, ?> m) {
            ((Map<Object, Object>) m).replaceAll((k, v) -> widened(v));
        } else if (value instanceof List<?> l) {
            ((List<Object>) l).replaceAll(Json::widened);
        }
        return value;
    }
}
