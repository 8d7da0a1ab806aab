package io.jvisor.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;

import java.io.PrintWriter;
import java.util.List;

/** Output formats of the commands that print resources: {@code --output table|json|yaml}. */
public enum Output {
    /** Aligned columns for people. */
    TABLE,
    /** JSON, for scripts. */
    JSON,
    /** YAML. */
    YAML;

    static final ObjectMapper JSON_MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final ObjectMapper YAML_MAPPER = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES).enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS).build());

    /** Prints {@code value} as JSON or YAML (TABLE callers print their own). */
    void print(PrintWriter out, Object value) {
        try {
            out.print(this == YAML ? YAML_MAPPER.writeValueAsString(value)
                    : JSON_MAPPER.writeValueAsString(value) + "\n");
            out.flush();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Prints rows as aligned columns, the first row being the header. */
    static void table(PrintWriter out, List<List<String>> rows) {
        if (rows.isEmpty()) {
            return;
        }
        int[] w = new int[rows.getFirst().size()];
        for (List<String> r : rows) {
            for (int i = 0; i < r.size() && i < w.length; i++) {
                w[i] = Math.max(w[i], r.get(i).length());
            }
        }
        for (List<String> r : rows) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < r.size(); i++) {
                String c = r.get(i);
                sb.append(c);
                if (i < r.size() - 1) {
                    sb.append(" ".repeat(w[i] - c.length() + 2));
                }
            }
            out.println(sb.toString().stripTrailing());
        }
        out.flush();
    }
}
