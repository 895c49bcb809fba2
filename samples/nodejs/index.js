// lambdaimg's sample function for Node.js images (handler: index.handler).
// Events with "check" ask about a behaviour of AWS's runtime; the others
// exercise the response, /tmp, the read-only root, errors and the timeout.
const fs = require("fs");
const v8 = require("v8");

const checks = {
  context: (context) => {
    const timeoutMs = Number(process.env.AWS_LAMBDA_FUNCTION_TIMEOUT || 300) * 1000;
    const left = context.getRemainingTimeInMillis();
    return {
      requestId: context.awsRequestId,
      functionName: context.functionName,
      functionArn: context.invokedFunctionArn,
      memoryLimitMB: context.memoryLimitInMB,
      remaining: left > 0 && left <= timeoutMs ? "ok" : `${left} ms left, want within (0, ${timeoutMs}]`,
    };
  },
  env: () => ({
    AWS_EXECUTION_ENV: process.env.AWS_EXECUTION_ENV || "",
    NODE_PATH: process.env.NODE_PATH || "",
  }),
  layer: () => {
    try {
      return { layer: require("lambdaimg-sample-layer").name };
    } catch (e) {
      return { layer: `not found: ${e.message} (NODE_PATH ${process.env.NODE_PATH})` };
    }
  },
  wrapper: () => ({ wrapped: process.env.LAMBDAIMG_WRAPPED || "no" }),
  // AWS's runtime gives V8 an old space of 90% of the function's memory
  // and a semi-space of a twentieth: the whole heap limit lands near the
  // memory size.
  heap: () => {
    const memory = Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
    const limit = v8.getHeapStatistics().heap_size_limit / (1024 * 1024);
    if (!(memory > 0)) {
      return { heap: "AWS_LAMBDA_FUNCTION_MEMORY_SIZE is not set" };
    }
    if (limit < 0.8 * memory || limit > 1.25 * memory) {
      return { heap: `V8's heap limit is ${Math.round(limit)} MB for ${memory} MB of memory` };
    }
    return { heap: "ok" };
  },
};

exports.handler = async (event, context) => {
  if (event.check) {
    return checks[event.check](context);
  }
  if (event.fail) {
    throw new Error("failing as asked");
  }
  if (event.sleepSeconds) {
    await new Promise((resolve) => setTimeout(resolve, event.sleepSeconds * 1000));
  }
  const answer = {
    greeting: `hello ${event.name || ""}`,
    taskRoot: process.env.LAMBDA_TASK_ROOT || "",
    runtimeDir: process.env.LAMBDA_RUNTIME_DIR || "",
    handler: process.env._HANDLER || "",
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME || "",
    tmp: "ok",
  };
  try {
    fs.writeFileSync("/tmp/lambdaimg-smoke", event.name || "");
  } catch (e) {
    answer.tmp = e.message;
  }
  if (event.write) {
    fs.writeFileSync(event.write, "x");
    answer.written = event.write;
  }
  return answer;
};
