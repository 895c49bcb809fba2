package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * lambdaimg's sample function for Java images (example.Handler::handleRequest).
 * Events with "check" ask about a behaviour of AWS's runtime; the others
 * exercise the response, /tmp, the read-only root, errors and the timeout.
 */
public class Handler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
    @Override
    public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
        Object check = event.get("check");
        if (check != null) {
            return check(String.valueOf(check), context);
        }
        if (Boolean.TRUE.equals(event.get("fail"))) {
            throw new RuntimeException("failing as asked");
        }
        Object sleep = event.get("sleepSeconds");
        if (sleep instanceof Number) {
            try {
                Thread.sleep(((Number) sleep).longValue() * 1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        String name = event.get("name") == null ? "" : String.valueOf(event.get("name"));
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("greeting", "hello " + name);
        answer.put("taskRoot", env("LAMBDA_TASK_ROOT"));
        answer.put("runtimeDir", env("LAMBDA_RUNTIME_DIR"));
        answer.put("handler", env("_HANDLER"));
        answer.put("functionName", env("AWS_LAMBDA_FUNCTION_NAME"));
        answer.put("tmp", "ok");
        try {
            Files.write(Paths.get("/tmp/lambdaimg-smoke"), name.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            answer.put("tmp", e.toString());
        }
        Object write = event.get("write");
        if (write != null) {
            try {
                Files.write(Paths.get(String.valueOf(write)), new byte[] {'x'});
            } catch (IOException e) {
                throw new RuntimeException("writing " + write + ": " + e, e);
            }
            answer.put("written", write);
        }
        return answer;
    }

    private static String env(String name) {
        String v = System.getenv(name);
        return v == null ? "" : v;
    }

    private Map<String, Object> check(String check, Context context) {
        Map<String, Object> answer = new LinkedHashMap<>();
        List<String> jvmArgs = ManagementFactory.getRuntimeMXBean().getInputArguments();
        switch (check) {
            case "context":
                long timeoutMs = Long.parseLong(System.getenv().getOrDefault("AWS_LAMBDA_FUNCTION_TIMEOUT", "300")) * 1000;
                long left = context.getRemainingTimeInMillis();
                answer.put("requestId", context.getAwsRequestId());
                answer.put("functionName", context.getFunctionName());
                answer.put("functionArn", context.getInvokedFunctionArn());
                answer.put("memoryLimitMB", context.getMemoryLimitInMB());
                answer.put("remaining", left > 0 && left <= timeoutMs ? "ok"
                        : left + " ms left, want within (0, " + timeoutMs + "]");
                break;
            case "env":
                answer.put("AWS_EXECUTION_ENV", env("AWS_EXECUTION_ENV"));
                break;
            case "layer":
                // A class of the function that uses a class from a jar in
                // /opt/java/lib, as code using a layer does: it resolves
                // only if the loader of the function's classes sees the layer.
                try {
                    answer.put("layer", LayerUser.layerName());
                } catch (NoClassDefFoundError e) {
                    answer.put("layer", "not found: " + e);
                }
                break;
            case "wrapper":
                answer.put("wrapped", System.getenv().getOrDefault("LAMBDAIMG_WRAPPED", "no"));
                break;
            case "jvm": {
                List<String> missing = new ArrayList<>();
                for (String flag : new String[] {"-XX:+UseSerialGC", "--add-opens=java.base/java.io=ALL-UNNAMED",
                        "-Djava.net.preferIPv4Stack=true", "-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1"}) {
                    if (!jvmArgs.contains(flag)) {
                        missing.add(flag);
                    }
                }
                answer.put("jvm", missing.isEmpty() ? "ok" : "missing " + missing + " in " + jvmArgs);
                break;
            }
            case "heap": {
                // AWS's runtime caps the heap at 85% of the function's memory.
                long memoryMB = Long.parseLong(System.getenv().getOrDefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "0"));
                long maxMB = Runtime.getRuntime().maxMemory() / (1024 * 1024);
                boolean flag = jvmArgs.stream().anyMatch(a -> a.startsWith("-XX:MaxHeapSize=") || a.startsWith("-Xmx"));
                if (!flag || maxMB < memoryMB * 70 / 100 || maxMB > memoryMB * 90 / 100) {
                    answer.put("heap", "max heap " + maxMB + " MB for " + memoryMB + " MB of memory, flags " + jvmArgs);
                } else {
                    answer.put("heap", "ok");
                }
                break;
            }
            default:
                throw new IllegalArgumentException("unknown check " + check);
        }
        return answer;
    }
}
