package io.jvisor.engine;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;

import java.lang.reflect.RecordComponent;
import java.util.Map;
import java.util.stream.Collectors;

/** Binds an instance's string configuration to a module's schema record. */
public final class ConfigBinding {
    private ConfigBinding() {}

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES);

    /**
     * The configuration as an instance of {@code schema}.
     *
     * @throws IllegalArgumentException naming the key and what is wrong with it
     */
    public static <R extends Record> R bind(Map<String, String> config, Class<R> schema) {
        java.util.List<String> names = java.util.Arrays.stream(schema.getRecordComponents()).map(RecordComponent::getName)
                .toList();
        for (String k : new java.util.TreeSet<>(config.keySet())) {
            if (!names.contains(k)) {
                throw new IllegalArgumentException("unknown key '" + k + "' (known: " + String.join(", ", names) + ")");
            }
        }
        for (String n : names) {
            if (!config.containsKey(n)) {
                throw new IllegalArgumentException("key '" + n + "' is missing (keys: " + String.join(", ", names) + ")");
            }
        }
        try {
            return MAPPER.convertValue(config, schema);
        } catch (IllegalArgumentException e) {
            Throwable c = e.getCause();
            String keys = java.util.Arrays.stream(schema.getRecordComponents()).map(RecordComponent::getName)
                    .collect(Collectors.joining(", "));
            if (c instanceof UnrecognizedPropertyException u) {
                throw new IllegalArgumentException("unknown key '" + u.getPropertyName() + "' (known: " + keys + ")");
            }
            if (c instanceof JsonMappingException m && !m.getPath().isEmpty()) {
                String key = m.getPath().get(m.getPath().size() - 1).getFieldName();
                String value = key == null ? null : config.get(key);
                throw new IllegalArgumentException(value == null ? "key '" + key + "' is missing (keys: " + keys + ")"
                        : "key '" + key + "': '" + value + "' is not a valid " + typeOf(schema, key));
            }
            throw new IllegalArgumentException("configuration does not fit " + schema.getSimpleName() + " (keys: "
                    + keys + "): " + e.getMessage());
        }
    }

    private static String typeOf(Class<?> schema, String key) {
        for (RecordComponent rc : schema.getRecordComponents()) {
            if (rc.getName().equals(key)) {
                return rc.getType().getSimpleName();
            }
        }
        return "value";
    }
}
