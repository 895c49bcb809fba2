package example;

import java.util.Map;

/** A plain method (example.Plain::greet): no Lambda interface, a POJO in and out. */
public class Plain {
    public Map<String, String> greet(Map<String, Object> event) {
        return Map.of("form", "plain method");
    }
}
